/**
 * A membership query's record, as the API receives it and the SDK sends it (browser included): the
 * request schema, its validation with coded errors, and its quantization to the run's fixed point
 * (prover/data/quantize.ts), exactly as the trainer quantized the records.
 */
import { z } from "zod";
import { quantizeFeature, quantizePixel } from "../core/data/quantize";

/** An error meant for the client: a status, a stable code and a sentence. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const MAX_FEATURES = 1 << 16;

/** The membership request: exactly one representation of the record. */
export const membershipRequest = z
  .object({
    pixels: z.array(z.number().int().min(0).max(255)).min(1).max(MAX_FEATURES).optional().describe("8-bit pixel values (0…255), row-major; quantized as round(p·2^F/255) like the MNIST loader"),
    image: z.string().max(4 * MAX_FEATURES).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64").optional().describe("the same pixels as raw 8-bit bytes, base64"),
    features: z.array(z.number().finite()).min(1).max(MAX_FEATURES).optional().describe("real feature values; quantized as round(v·2^F) like the CSV loader"),
  })
  .strict()
  .refine((b) => [b.pixels, b.image, b.features].filter((v) => v !== undefined).length === 1, "give exactly one of pixels, image, features");

export type MembershipRequest = z.infer<typeof membershipRequest>;

/**
 * The usual request, `{ "pixels": [...] }`, checked in one loop instead of zod's per-element checks
 * (5% of an answer's time): it returns the body exactly when `membershipRequest` would accept it, and
 * undefined otherwise, so that zod still decides and explains everything else.
 */
function plainPixels(body: unknown): MembershipRequest | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const keys = Object.keys(body);
  const pixels = (body as { pixels?: unknown }).pixels;
  if (keys.length !== 1 || keys[0] !== "pixels" || !Array.isArray(pixels) || pixels.length < 1 || pixels.length > MAX_FEATURES) return undefined;
  for (const v of pixels) if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
  return { pixels };
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
    throw new ApiError(400, "bad_record", "image: not valid base64");
  }
}

/** The quantized record a request names, for a run with `features` features at scale 2^fracBits. */
export function quantizeRequest(body: MembershipRequest, features: number, fracBits: number): Int32Array {
  const values: ArrayLike<number> = body.features ?? body.pixels ?? base64Bytes(body.image!);
  if (values.length !== features) throw new ApiError(400, "wrong_record_size", `the record has ${values.length} values; this run's records have ${features}`);
  const x = new Int32Array(features);
  if (!body.features) {
    const table = pixelTable(fracBits);
    for (let j = 0; j < features; j++) {
      const q = table[values[j]];
      if (q === undefined) throw new ApiError(400, "bad_record", `pixel ${j} is not a byte (0…255)`);
      x[j] = q;
    }
    return x;
  }
  for (let j = 0; j < features; j++) {
    const q = quantizeFeature(values[j], fracBits);
    if (!Number.isSafeInteger(q) || Math.abs(q) >= 2 ** 31) throw new ApiError(400, "value_out_of_range", `value ${j} does not fit the run's 32-bit fixed point`);
    x[j] = q;
  }
  return x;
}

/** The body as a membership request, or an ApiError (400 bad_record) naming the first problem. */
export function parseMembershipRequest(body: unknown): MembershipRequest {
  const plain = plainPixels(body);
  if (plain) return plain;
  const parsed = membershipRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError(400, "bad_record", `${issue.path.join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}
