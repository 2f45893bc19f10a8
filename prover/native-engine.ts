/**
 * The native core plugged into core/'s protocols (core/protocol/backend.ts): the prover's engine
 * (MSMs and FrTensors), its generator derivation and its row-wise Keccak. The prover needs the
 * engine; a verifier may pass any of them to accelerate (same verdicts as the pure TypeScript path).
 */
import * as native from "../native";
import { FrTensor } from "../native";
import { type G1Point, bigIntToBytes, bigIntsToBytes } from "../core/crypto/bn254";
import { type GeneratorDeriver, type KeccakRows, type ProverEngine, type Tensor, concatPoints, pointBytes, pointFromBytes } from "../core/protocol/backend";

/** Decodes native output, remembering its encoding. */
export const pointFromNative = pointFromBytes;

/** Fixed-base tables by the point's encoding (so equal points from either derivation share one), and per object. */
const fixedByValue = new Map<string, native.FixedBase>();
const fixedByObject = new WeakMap<G1Point, native.FixedBase>();
const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function fixedBaseOf(p: G1Point): native.FixedBase | undefined {
  let f = fixedByObject.get(p);
  if (!f && fixedByValue.size > 0) {
    f = fixedByValue.get(hexOf(pointBytes(p)));
    if (f) fixedByObject.set(p, f);
  }
  return f;
}

/**
 * Precomputes a point's multiples, so that the engine's single-point multiplications by it (or by an
 * equal point) take ~33 additions: for the blinding generator H, which every Σ-protocol commitment
 * multiplies alone.
 */
export function precomputeFixedBase(p: G1Point): void {
  const hex = hexOf(pointBytes(p));
  if (!fixedByValue.has(hex)) fixedByValue.set(hex, native.fixedBase(pointBytes(p)));
  fixedByObject.set(p, fixedByValue.get(hex)!);
}

function frTensor(t: Tensor): FrTensor {
  if (!(t instanceof FrTensor)) throw new TypeError("the native engine computes with its own tensors (FrTensor)");
  return t;
}

export const nativeEngine: ProverEngine = {
  name: "native",
  msm(points, scalars) {
    if (points.length !== scalars.length) throw new RangeError("msm: points and scalars differ in length");
    // A few bases that all have tables (g and H: every committed scalar, v·g + ρ·H) go through them.
    const fixed = points.length <= 4 ? points.map(fixedBaseOf) : [];
    if (fixed.length > 0 && fixed.every((f) => f !== undefined)) {
      const parts = fixed.map((f, i) => f!.mul(bigIntToBytes(scalars[i])));
      return pointFromNative(parts.reduce((acc, p) => native.g1Add(acc, p)));
    }
    return pointFromNative(native.msm(concatPoints(points), bigIntsToBytes(scalars)));
  },
  fromBytes: (bytes, shape) => FrTensor.fromBytes(bytes, shape),
  fromInts: (values, shape) => FrTensor.fromInts(values, shape),
  eq: (point) => FrTensor.eq(point),
  sumcheckRound: (factors) => FrTensor.sumcheckRound(factors.map(frTensor)),
  concat: (parts) => FrTensor.concat(parts.map(frTensor)),
  fractionLeaves: (values, numerators, beta, length) => FrTensor.fractionLeaves(values.map(frTensor), numerators.map((n) => (n === null ? null : frTensor(n))), beta, length),
  fractionLayer: (p, q) => FrTensor.fractionLayer(frTensor(p), frTensor(q)),
  gkrFactors: (p, q, lambda) => FrTensor.gkrFactors(frTensor(p), frTensor(q), lambda),
};

/**
 * Generator sets derived by the native core on all cores (the same points as core's TypeScript
 * derivation; tests check it). H and g get fixed-base tables: every committed scalar is v·g + ρ·H, and every
 * Σ-protocol commitment multiplies H alone.
 */
export const nativeGenerators: GeneratorDeriver = (label, n) => {
  const set = native.generators(label, n);
  const H = pointFromNative(set.h);
  const g = pointFromNative(set.base);
  precomputeFixedBase(H);
  precomputeFixedBase(g);
  return { G: Array.from({ length: n }, (_, i) => pointFromNative(set.g.slice(64 * i, 64 * i + 64))), H, g };
};

/** Row-wise Keccak-256 on all cores (the dataset tree over 2^20 records in seconds). */
export const nativeKeccakRows: KeccakRows = (data, row) => native.keccak256Rows(data, row);

/** Every native accelerator a verifier takes (verifyRunFiles, verifyRunFolder, the attestor): same verdicts, faster. */
export const nativeAccelerators = { engine: nativeEngine, generators: nativeGenerators, keccakRows: nativeKeccakRows } as const;

/** nativeKeccakRows when the addon loads here, else undefined (the caller then hashes with @noble/hashes). */
export function nativeKeccakRowsIfLoaded(): KeccakRows | undefined {
  try {
    native.keccak256Rows(new Uint8Array(32), 32);
    return nativeKeccakRows;
  } catch {
    return undefined;
  }
}
