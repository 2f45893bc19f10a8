/**
 * The native core's MSM as an engine for the protocols: the prover's default, and the verifier's
 * optional accelerator (it gives the same verdicts as the pure @noble/curves engine).
 */
import * as native from "../native";
import { type G1Point, bigIntToBytes, bigIntsToBytes, g1FromBytes, g1ToBytes } from "../core/crypto/bn254";
import type { MsmEngine } from "../core/protocol/group";

const encoded = new WeakMap<G1Point, Uint8Array>();

/** The 64-byte encoding, cached per point object (generators and commitments are reused often). */
export function pointBytes(p: G1Point): Uint8Array {
  let bytes = encoded.get(p);
  if (!bytes) {
    bytes = g1ToBytes(p);
    encoded.set(p, bytes);
  }
  return bytes;
}

/** Decodes native output, remembering its encoding. */
export function pointFromNative(bytes: Uint8Array): G1Point {
  const p = g1FromBytes(bytes);
  encoded.set(p, bytes);
  return p;
}

export function concatPoints(points: readonly G1Point[]): Uint8Array {
  const out = new Uint8Array(64 * points.length);
  points.forEach((p, i) => out.set(pointBytes(p), 64 * i));
  return out;
}

const fixedBases = new WeakMap<G1Point, native.FixedBase>();

/**
 * Precomputes a point's multiples, so that the engine's single-point multiplications by it take ~33
 * additions: for the blinding generator H, which every Σ-protocol commitment multiplies alone.
 */
export function precomputeFixedBase(p: G1Point): void {
  if (!fixedBases.has(p)) fixedBases.set(p, native.fixedBase(pointBytes(p)));
}

export const nativeEngine: MsmEngine = {
  name: "native",
  msm(points, scalars) {
    if (points.length !== scalars.length) throw new RangeError("msm: points and scalars differ in length");
    const fixed = points.length === 1 ? fixedBases.get(points[0]) : undefined;
    if (fixed) return pointFromNative(fixed.mul(bigIntToBytes(scalars[0])));
    return pointFromNative(native.msm(concatPoints(points), bigIntsToBytes(scalars)));
  },
};
