/**
 * BN254 on @noble/curves: the canonical byte encodings (docs/protocol.md) and the try-and-increment
 * hash to G1, written once. @noble/curves has no bn254 encoding or hash-to-curve, by design.
 *
 * - Fr: 32 bytes big-endian, value < r.
 * - G1: 64 bytes x‖y big-endian (EVM precompile layout), coordinates < q, on the curve; the identity
 *   is 64 zero bytes.
 */
import { bn254 } from "@noble/curves/bn254.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";

export const Fr = bn254.fields.Fr;
export const Fq = bn254.fields.Fp;
export const G1 = bn254.G1.Point;
export type G1Point = InstanceType<typeof G1>;

/** Thrown for bytes that are not a valid encoding; `code` matches the native core's codes. */
export class EncodingError extends Error {
  constructor(
    readonly code: "ZKDL_INVALID_LENGTH" | "ZKDL_NON_CANONICAL" | "ZKDL_NOT_ON_CURVE" | "ZKDL_INVALID_ARGUMENT",
    message: string,
  ) {
    super(message);
    this.name = "EncodingError";
  }
}

/** Bytes as 0x-prefixed lowercase hex (digests, encodings in JSON). No Buffer: this runs in browsers too. */
export const toHex = (bytes: Uint8Array): string => "0x" + bytesToHex(bytes);

/** 0x-prefixed (or bare) hex as bytes; throws on odd length or a non-hex digit. Callers validate the length. */
export const fromHex = (hex: string): Uint8Array => hexToBytes(hex.replace(/^0x/, ""));

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function bigIntToBytes(v: bigint, length = 32): Uint8Array {
  if (v < 0n || v >= 1n << BigInt(8 * length)) throw new RangeError(`${v} does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Integers as consecutive fixed-width big-endian words (n×32 bytes by default): the layout of field-element arrays. */
export function bigIntsToBytes(values: readonly bigint[], length = 32): Uint8Array {
  const out = new Uint8Array(length * values.length);
  values.forEach((v, i) => out.set(bigIntToBytes(v, length), length * i));
  return out;
}

/** n×`length` big-endian words back to integers: the inverse of bigIntsToBytes. */
export function bytesToBigInts(bytes: Uint8Array, length = 32): bigint[] {
  if (bytes.length % length !== 0) throw new EncodingError("ZKDL_INVALID_LENGTH", `${bytes.length} bytes is not a whole number of ${length}-byte words`);
  return Array.from({ length: bytes.length / length }, (_, i) => bytesToBigInt(bytes.subarray(length * i, length * i + length)));
}

export function frToBytes(v: bigint): Uint8Array {
  return bigIntToBytes(Fr.create(v));
}

export function frFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new EncodingError("ZKDL_INVALID_LENGTH", `Fr element must be 32 bytes, got ${bytes.length}`);
  const v = bytesToBigInt(bytes);
  if (v >= Fr.ORDER) throw new EncodingError("ZKDL_NON_CANONICAL", "Fr element is not below the modulus");
  return v;
}

export function g1ToBytes(p: G1Point): Uint8Array {
  const out = new Uint8Array(64);
  if (p.equals(G1.ZERO)) return out;
  const { x, y } = p.toAffine();
  out.set(bigIntToBytes(x), 0);
  out.set(bigIntToBytes(y), 32);
  return out;
}

export function g1FromBytes(bytes: Uint8Array): G1Point {
  if (bytes.length !== 64) throw new EncodingError("ZKDL_INVALID_LENGTH", `G1 point must be 64 bytes, got ${bytes.length}`);
  if (bytes.every((b) => b === 0)) return G1.ZERO;
  const x = bytesToBigInt(bytes.subarray(0, 32));
  const y = bytesToBigInt(bytes.subarray(32));
  if (x >= Fq.ORDER || y >= Fq.ORDER) throw new EncodingError("ZKDL_NON_CANONICAL", "G1 coordinate is not below the field modulus");
  if (Fq.sqr(y) !== Fq.add(Fq.mul(Fq.sqr(x), x), 3n)) {
    throw new EncodingError("ZKDL_NOT_ON_CURVE", "G1 point is not on the curve y^2 = x^3 + 3");
  }
  return G1.fromAffine({ x, y });
}

const SQRT_EXP = (Fq.ORDER + 1n) / 4n;
const HALF_Q = (Fq.ORDER - 1n) / 2n;

/**
 * Try-and-increment hash to G1: for ctr = 0, 1, …, x = keccak256(u8(len dst) ‖ dst ‖ msg ‖ u32be(ctr))
 * mod q; if x³ + 3 is a square, y = (x³ + 3)^((q+1)/4) taking the root ≤ (q−1)/2. The native core
 * implements the same (native/src/hash_to_curve.cpp).
 */
export function hashToG1(dst: Uint8Array, msg: Uint8Array): G1Point {
  if (dst.length < 1 || dst.length > 255) throw new EncodingError("ZKDL_INVALID_ARGUMENT", "hash-to-curve domain tag must be 1 to 255 bytes");
  const buf = new Uint8Array(1 + dst.length + msg.length + 4);
  buf[0] = dst.length;
  buf.set(dst, 1);
  buf.set(msg, 1 + dst.length);
  const view = new DataView(buf.buffer);
  for (let ctr = 0; ctr < 2 ** 32; ctr++) {
    view.setUint32(buf.length - 4, ctr);
    const x = Fq.create(bytesToBigInt(keccak_256(buf)));
    const rhs = Fq.add(Fq.mul(Fq.sqr(x), x), 3n);
    let y = Fq.pow(rhs, SQRT_EXP);
    if (Fq.sqr(y) !== rhs) continue;
    if (y > HALF_Q) y = Fq.neg(y);
    return G1.fromAffine({ x, y });
  }
  throw new Error("hash-to-curve found no point");
}
