/**
 * What the protocols need from outside core/, as interfaces the caller plugs in.
 *
 * Why: everything under core/ (the protocols and the run verifier) must run in a browser as well as
 * in Node, so it imports no Node module and nothing from native/ or prover/. The prover's heavy
 * arithmetic lives in the native core (C++/CUDA tensors, MSMs, generator derivation, row-wise
 * Keccak); the prover plugs it in here (prover/native-engine.ts: `nativeEngine`, `nativeGenerators`,
 * `nativeKeccakRows`), as the MSM engine always was. A verifier needs none of it: its defaults are
 * pure TypeScript (@noble/curves, @noble/hashes), and the same native pieces only make it faster.
 *
 * Each protocol keeps its prove and verify sides in one file (one transcript order per file); the
 * prove side reaches tensors only through `ProverContext.engine` (a ProverEngine).
 */
import { type G1Point, g1FromBytes, g1ToBytes } from "../crypto/bn254";
import type { MsmEngine } from "./group";

/**
 * A tensor over Fr held by the prover's engine: operations return new tensors; only toBytes/toInts
 * copy data out. Its multilinear extension puts bit k of the flat (row-major) index on variable k.
 * Field elements in and out are 32-byte canonical big-endian. These are exactly the methods the
 * protocols call (the native FrTensor implements them).
 */
export interface Tensor {
  readonly shape: number[];
  readonly length: number;
  toBytes(): Uint8Array;
  /** Signed integers (x > (r−1)/2 reads as x − r); throws past int64. */
  toInts(): BigInt64Array;
  add(o: Tensor): Tensor;
  /** Element-wise (Hadamard) product. */
  mul(o: Tensor): Tensor;
  scale(scalar: Uint8Array): Tensor;
  sum(): Uint8Array;
  innerProduct(o: Tensor): Uint8Array;
  /** The same entries under another shape. */
  reshape(shape: number[]): Tensor;
  /** The entries as a flat vector (this tensor when it already is one). */
  flat(): Tensor;
  /** Binds variable 0 to r: out[i] = a[2i] + r·(a[2i+1] − a[2i]). */
  fold(r: Uint8Array): Tensor;
  /** Every element inverted; throws if one is zero. */
  batchInverse(): Tensor;
  /**
   * (m×k)·(k×n) → [m, n]; batched when either side is 3-D: [T,m,k]·[T,k,n], [m,k]·[T,k,n] or
   * [T,m,k]·[k,n] → [T, m, n], a 2-D side shared by every batch entry (contractions over stacked
   * steps bind one eq vector against each step's matrix).
   */
  matmul(o: Tensor): Tensor;
  /**
   * Hyrax row commitments of this rows×cols tensor, C_j = Σ_i T[j,i]·G_i + ρ_j·H, as rows×64 bytes
   * (`generators` cols×64 bytes, `h` 64 bytes, `blindings` rows×32 bytes).
   */
  commitRows(generators: Uint8Array, h: Uint8Array, blindings: Uint8Array): Uint8Array;
  /** Frees the tensor's memory now. */
  dispose(): void;
}

/** The prover's engine: MSMs (as a verifier's engine) plus the tensors the prove sides compute with. */
export interface ProverEngine extends MsmEngine {
  /** From n×32 bytes of canonical Fr elements; shape defaults to [n]. */
  fromBytes(bytes: Uint8Array, shape?: number[]): Tensor;
  /** From signed integers, negatives as r − |v|. */
  fromInts(values: Int32Array | BigInt64Array, shape?: number[]): Tensor;
  /** eq(z, x) for all x in {0,1}^k, for a point z of k coordinates (k×32 bytes). */
  eq(point: Uint8Array): Tensor;
  /**
   * The sumcheck round polynomial over variable 0 of Σ_x Π_j f_j(x) for 1 to 5 same-length factors
   * (tensors of this engine): its evaluations s(0), …, s(D), (D+1)×32 bytes.
   */
  sumcheckRound(factors: readonly Tensor[]): Uint8Array;
  /** The flat concatenation of tensors of this engine (the first one's entries first). */
  concat(parts: readonly Tensor[]): Tensor;
  /** A GKR tree's leaves (length entries): per block q = β + values[b], p = numerators[b] (1 where null), then (0, 1). */
  fractionLeaves(values: readonly Tensor[], numerators: readonly (Tensor | null)[], beta: Uint8Array, length: number): { p: Tensor; q: Tensor };
  /** One layer up a GKR tree of fractions: p'[i] = p[2i]·q[2i+1] + p[2i+1]·q[2i], q'[i] = q[2i]·q[2i+1]. */
  fractionLayer(p: Tensor, q: Tensor): { p: Tensor; q: Tensor };
  /** A GKR layer sumcheck's factors from the layer below: [pE + λ·qE, qO, pO, qE] (E, O: even and odd entries). */
  gkrFactors(p: Tensor, q: Tensor, lambda: Uint8Array): [Tensor, Tensor, Tensor, Tensor];
}

/** A generator set's first n points (docs/protocol.md §2.3), derived elsewhere (e.g. the native core). */
export interface DerivedGenerators {
  readonly G: readonly G1Point[];
  readonly H: G1Point;
  readonly g: G1Point;
}

/** Derives the first n generators of the set `label`; must give the same points as the TypeScript derivation. */
export type GeneratorDeriver = (label: string, n: number) => DerivedGenerators;

/** Keccak-256 of each `row`-byte row of `data`, concatenated (e.g. the native kernel on all cores). */
export type KeccakRows = (data: Uint8Array, row: number) => Uint8Array;

// ------------------------------------------------------------------------------ point encodings

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

/** Decodes a 64-byte encoding (an engine's output), remembering it. */
export function pointFromBytes(bytes: Uint8Array): G1Point {
  const p = g1FromBytes(bytes);
  encoded.set(p, bytes);
  return p;
}

/** The points' encodings, concatenated (n×64 bytes). */
export function concatPoints(points: readonly G1Point[]): Uint8Array {
  const out = new Uint8Array(64 * points.length);
  points.forEach((p, i) => out.set(pointBytes(p), 64 * i));
  return out;
}
