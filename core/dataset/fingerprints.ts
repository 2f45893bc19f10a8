/**
 * Record fingerprints (docs/protocol.md §4.3, "Fingerprints"; their tree: §5.3).
 *
 * Record j's fingerprint point is the Pedersen commitment of its feature row with zero blinding,
 *   P_j = Σ_k x_j[k]·G_k   (the same generators as its hiding commitment Cx_j = P_j + ρ_j·H),
 * and its fingerprint the 32-byte f_j = keccak256(P_j as 64 bytes). Anyone holding a record computes
 * its fingerprint from the manifest's key alone; the sorted tree of the dataset's fingerprints
 * (./fingerprint-tree.ts) then proves that a record is NOT in the dataset.
 *
 * The fingerprints are bound to the hiding commitments by one batched Σ-proof for the whole dataset,
 * that each P_j has no H component and that each Cx_j − P_j is a multiple of H:
 *   transcript "zkdl-chain/v1/fingerprints": absorb "key" (set id), "shape" (u32 N, u32 n),
 *     "Cx" (N points), "P" (N points); γ = challenge "gamma"; weights γ_j = γ^j;
 *   a = Σ_j γ_j·x_j (n scalars), r = Σ_j γ_j·ρ_j;
 *   prover: t ∈ F^n, s random; T = Σ_k t_k·G_k, S = s·H; absorb "T", "S"; e = challenge "e";
 *     z_k = t_k + e·a_k, z_H = s + e·r;
 *   verifier: Σ_k z_k·G_k = T + e·Σ_j γ_j·P_j  and  z_H·H = S + e·Σ_j γ_j·(Cx_j − P_j).
 * Soundness (§4.3): write P_j = Σ_k p_jk·G_k + π_j·H and Cx_j = Σ_k c_jk·G_k + κ_j·H (the prover's
 * representations). An accepting proof with e from two challenges yields Σ_j γ^j·π_j = 0 and
 * Σ_j γ^j·(c_jk − p_jk) = 0 for every k, or a discrete-log relation among the generators; with γ
 * drawn after every P_j and Cx_j is fixed, a non-zero polynomial of degree < N vanishes at γ with
 * probability < N/r, so P_j is exactly the zero-blinding commitment of Cx_j's row. The proof is
 * honest-verifier zero-knowledge (t and s mask a and r), and reveals only the fingerprints, which are
 * deterministic by design: a guessed record can be tested against them (as the membership route
 * allows anyway), an unguessable one cannot be found from them.
 */
import { type G1Point, bigIntsToBytes, bytesToBigInts } from "../crypto/bn254";
import { add, fr, mul, neg, randomFr } from "../crypto/fr";
import type { ProverEngine } from "../protocol/backend";
import { ProofFormatError, type ProofReader, type ProofWriter } from "../protocol/codec";
import type { CommitmentKey } from "../protocol/generators";
import { type EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { Transcript } from "../protocol/transcript";
import { commitmentDigest } from "./commitments";

export const FINGERPRINT_DOMAIN = "zkdl-chain/v1/fingerprints";

/** The batched proof that the fingerprint points are the hiding commitments without their blindings. */
export interface FingerprintProof {
  readonly T: G1Point;
  readonly S: G1Point;
  /** One response per feature column (n = the padded row width). */
  readonly z: readonly bigint[];
  readonly zH: bigint;
}

/**
 * A record's row over the generators, Σ_k x[k]·G_k, kept symbolic: its commitment without blinding
 * (the fingerprint point; the record opening of ./membership.ts checks Cx minus it).
 */
export function recordRow(key: CommitmentKey, x: ArrayLike<number>): Lin {
  if (x.length > key.size) throw new RangeError(`a record of ${x.length} features needs ${x.length} generators; the key has ${key.size}`);
  const row = new Lin();
  for (let k = 0; k < x.length; k++) {
    if (!Number.isSafeInteger(x[k])) throw new RangeError(`feature ${k} is not an integer`);
    if (x[k] !== 0) row.add(key.G[k], fr(BigInt(x[k])));
  }
  return row;
}

/** Record j's fingerprint point Σ_k x[k]·G_k (`engine`: any MSM engine; @noble/curves by default). */
export const fingerprintPoint = (key: CommitmentKey, x: ArrayLike<number>, engine: MsmEngine = nobleEngine): G1Point => recordRow(key, x).evaluate(engine);

/** The 32-byte fingerprint of a fingerprint point: keccak256 of its 64-byte encoding (0x-hex), as a commitment's digest. */
export const fingerprintOf: (point: G1Point) => string = commitmentDigest;

function transcriptFor(key: CommitmentKey, cols: number, cx: readonly G1Point[], P: readonly G1Point[]): { transcript: Transcript; weights: bigint[] } {
  if (cx.length !== P.length || cx.length === 0) throw new RangeError(`${cx.length} commitments and ${P.length} fingerprint points`);
  if (cols > key.size) throw new RangeError(`rows of ${cols} columns need ${cols} generators; the key has ${key.size}`);
  const transcript = new Transcript(FINGERPRINT_DOMAIN).absorb("key", key.id).absorbU32s("shape", [cx.length, cols]).absorbPoints("Cx", cx).absorbPoints("P", P);
  const gamma = transcript.challenge("gamma");
  const weights = new Array<bigint>(cx.length);
  weights[0] = 1n;
  for (let j = 1; j < weights.length; j++) weights[j] = mul(weights[j - 1], gamma);
  return { transcript, weights };
}

export interface FingerprintWitness {
  /** The records' feature rows, N × cols (padding columns zero). */
  readonly rows: Int32Array;
  readonly cols: number;
  /** ρ_j of every Cx_j. */
  readonly blinds: readonly bigint[];
}

/** Proves the fingerprints (with the prover's engine: a = Σγ_j·x_j is one native vector-matrix product). */
export function proveFingerprints(key: CommitmentKey, cx: readonly G1Point[], P: readonly G1Point[], w: FingerprintWitness, engine: ProverEngine): FingerprintProof {
  const { transcript, weights } = transcriptFor(key, w.cols, cx, P);
  const N = cx.length;
  if (w.rows.length !== N * w.cols || w.blinds.length !== N) throw new RangeError("the witness does not match the commitments");
  const gamma = engine.fromBytes(bigIntsToBytes(weights), [1, N]);
  const rows = engine.fromInts(w.rows, [N, w.cols]);
  const combined = gamma.matmul(rows);
  const a = bytesToBigInts(combined.toBytes());
  for (const t of [gamma, rows, combined]) t.dispose();
  let r = 0n;
  for (let j = 0; j < N; j++) r = add(r, mul(weights[j], w.blinds[j]));
  const t = Array.from({ length: w.cols }, randomFr);
  const s = randomFr();
  const T = engine.msm(key.G.slice(0, w.cols), t);
  const S = engine.msm([key.H], [s]);
  transcript.absorbPoints("T", [T]).absorbPoints("S", [S]);
  const e = transcript.challenge("e");
  return { T, S, z: t.map((tk, k) => add(tk, mul(e, a[k]))), zH: add(s, mul(e, r)) };
}

/**
 * Adds the proof's two equations to `equations` (settled by the caller with its other checks) for
 * rows of `cols` columns (the manifest's padded input width); throws ProofFormatError for a proof
 * of another width.
 */
export function verifyFingerprints(key: CommitmentKey, cols: number, cx: readonly G1Point[], P: readonly G1Point[], proof: FingerprintProof, equations: EquationSet): void {
  if (proof.z.length !== cols) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `the fingerprint proof has ${proof.z.length} responses for rows of ${cols} columns`);
  const { transcript, weights } = transcriptFor(key, cols, cx, P);
  transcript.absorbPoints("T", [proof.T]).absorbPoints("S", [proof.S]);
  const e = transcript.challenge("e");
  const ne = neg(e);
  const onG = new Lin().add(proof.T, neg(1n));
  proof.z.forEach((z, k) => onG.add(key.G[k], z));
  const onH = Lin.of(key.H, proof.zH).add(proof.S, neg(1n));
  for (let j = 0; j < P.length; j++) {
    const c = mul(ne, weights[j]);
    onG.add(P[j], c);
    onH.add(cx[j], c).add(P[j], neg(c));
  }
  equations.require("the fingerprint points are not the dataset commitments without their blindings (ΣγP is not a known combination of the G_j alone)", onG);
  equations.require("the fingerprint points are not the dataset commitments without their blindings (Cx − P is not ρ·H)", onH);
}

export const fingerprintCodec = {
  write: (w: ProofWriter, p: FingerprintProof) => w.point(p.T).point(p.S).scalars(p.z).scalar(p.zH),
  /** `cols`: the padded row width the manifest fixes (the proof carries one response per column). */
  read: (r: ProofReader, cols: number): FingerprintProof => ({ T: r.point("fingerprint proof T"), S: r.point("fingerprint proof S"), z: r.scalars(cols, "fingerprint proof z"), zH: r.scalar("fingerprint proof zH") }),
  /** Its encoded size for rows of `cols` columns. */
  bytes: (cols: number) => 128 + 32 * (cols + 1),
};

