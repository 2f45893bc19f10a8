/**
 * A membership query's record, as the API receives it and the SDK sends it (browser included): the
 * request schema, its validation with coded errors, and its quantization to the run's fixed point
 * (core/data/quantize.ts), exactly as the trainer quantized the records.
 */
import { quantizeFeature, quantizePixel } from "../core/data/quantize";
import { BYTES32_HEX } from "../core/crypto/hex";
import { MAX_RECORD_FEATURES, type MembershipRequest, firstIssue, membershipRequest } from "./api";

/**
 * A record the run cannot take, with a stable code (bad_record, wrong_record_size,
 * value_out_of_range): the API answers it as a 400 with that code, the SDK throws it before asking.
 */
export class RecordError extends Error {
  constructor(readonly code: "bad_record" | "wrong_record_size" | "value_out_of_range", message: string) {
    super(message);
    this.name = "RecordError";
  }
}

/**
 * The usual request, `{ "pixels": [...] }` with or without its `fingerprint`, checked in one loop
 * instead of zod's per-element checks (5% of an answer's time): it returns the body exactly when
 * `membershipRequest` would accept it, and undefined otherwise, so that zod still decides and
 * explains everything else.
 */
function plainPixels(body: unknown): MembershipRequest | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const keys = Object.keys(body);
  const { pixels, fingerprint } = body as { pixels?: unknown; fingerprint?: unknown };
  const withFingerprint = keys.length === 2 && keys.includes("fingerprint") && typeof fingerprint === "string" && BYTES32_HEX.test(fingerprint);
  if (!(keys.length === 1 || withFingerprint) || !keys.includes("pixels") || !Array.isArray(pixels) || pixels.length < 1 || pixels.length > MAX_RECORD_FEATURES) return undefined;
  for (const v of pixels) if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
  return withFingerprint ? { pixels, fingerprint: fingerprint as string } : { pixels };
}

/** quantizePixel for every byte value, per scale. */
const pixelTables = new Map<number, Int32Array>();
function pixelTable(fracBits: number): Int32Array {
  let table = pixelTables.get(fracBits);
  if (!table) pixelTables.set(fracBits, (table = Int32Array.from({ length: 256 }, (_, b) => quantizePixel(b, fracBits))));
  return table;
}

function base64Bytes(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new RecordError("bad_record", "image: not valid base64");
  }
}

/** The quantized record a request names, for a run with `features` features at scale 2^fracBits. */
export function quantizeRequest(body: MembershipRequest, features: number, fracBits: number): Int32Array {
  const values: ArrayLike<number> = body.features ?? body.pixels ?? base64Bytes(body.image!);
  if (values.length !== features) throw new RecordError("wrong_record_size", `the record has ${values.length} values; this run's records have ${features}`);
  const x = new Int32Array(features);
  if (!body.features) {
    const table = pixelTable(fracBits);
    for (let j = 0; j < features; j++) {
      const q = table[values[j]];
      if (q === undefined) throw new RecordError("bad_record", `pixel ${j} is not a byte (0…255)`);
      x[j] = q;
    }
    return x;
  }
  for (let j = 0; j < features; j++) {
    const q = quantizeFeature(values[j], fracBits);
    if (!Number.isSafeInteger(q) || Math.abs(q) >= 2 ** 31) throw new RecordError("value_out_of_range", `value ${j} does not fit the run's 32-bit fixed point`);
    x[j] = q;
  }
  return x;
}

/** The body as a membership request, or a RecordError (bad_record) naming the first problem. */
export function parseMembershipRequest(body: unknown): MembershipRequest {
  const plain = plainPixels(body);
  if (plain) return plain;
  const parsed = membershipRequest.safeParse(body);
  if (!parsed.success) {
    throw new RecordError("bad_record", firstIssue(parsed.error));
  }
  return parsed.data;
}
