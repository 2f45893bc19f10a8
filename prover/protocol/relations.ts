/**
 * Tensor relations proven by one ZK sumcheck each, leaving evaluation claims in a claim set
 * (docs/protocol.md §3.9). Same-shaped instances are batched into one sumcheck with powers of a
 * challenge α (FAC4DNN); stacking along extra variables is the caller's choice of tensors.
 *
 *  - hadamard:  C_i = A_i ⊙ B_i      Σ_x eq(τ,x)·Σ_i α^i (A_i B_i − C_i)(x) = 0
 *  - binary:    b_i ∈ {0,1}          Σ_x eq(τ,x)·Σ_i α^i (b_i² − b_i)(x) = 0
 *  - matmul:    C = A·B (m×k·k×n)    C~(r_j‖r_i) = Σ_y A~(y‖r_i)·B~(r_j‖y)   (Thaler 2013)
 *  - linear:    Σ_k c_k·T_k + c = 0 entry-wise, shown on the row commitments directly: with γ from
 *               the transcript, Σ_j γ^j·(Σ_k c_k·C_{k,j} + c·ΣG) = δ·H and a proof of knowledge of δ.
 */
import { FrTensor } from "../../native";
import { type G1Point, bigIntsToBytes, bytesToBigInt } from "../crypto/bn254";
import { add, mul, neg, powers } from "../crypto/fr";
import type { ProofReader, ProofWriter } from "./codec";
import { type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, numVars } from "./hyrax";
import { type ZeroProof, proveZero, sigmaCodec, verifyZero } from "./sigma";
import { type SumcheckProof, type SumcheckStatement, type Term, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

function sameVars(list: readonly { logRows: number; logCols: number }[], what: string): number {
  if (list.length === 0) throw new RangeError(`${what}: nothing to prove`);
  const n = numVars(list[0]);
  for (const c of list) if (numVars(c) !== n) throw new RangeError(`${what}: tensors must have the same number of entries`);
  return n;
}

// ---------------------------------------------------------------- zero-checks (hadamard, binary)

function zeroCheckStatement(n: number, tau: bigint[], alpha: bigint[], kind: "hadamard" | "binary"): SumcheckStatement {
  const terms: Term[] = [];
  alpha.forEach((a, i) => {
    if (kind === "hadamard") terms.push({ coeff: a, factors: [3 * i, 3 * i + 1], eq: true }, { coeff: neg(a), factors: [3 * i + 2], eq: true });
    else terms.push({ coeff: a, factors: [i, i], eq: true }, { coeff: neg(a), factors: [i], eq: true });
  });
  const k = kind === "hadamard" ? 3 * alpha.length : alpha.length;
  return { numVars: n, terms, publicFactors: new Array(k).fill(false), eqPoint: tau };
}

function zeroCheckChallenges(t: { challenge(name: string): bigint; challenges(name: string, n: number): bigint[] }, n: number, count: number) {
  const tau = t.challenges("zerocheck/tau", n);
  const alpha = powers(t.challenge("zerocheck/alpha"), count);
  return { tau, alpha };
}

function proveZeroCheck(ctx: ProverContext, claims: ProverClaims, tensors: CommittedTensor[], count: number, kind: "hadamard" | "binary"): SumcheckProof {
  const n = sameVars(tensors.map((t) => t.commitment), kind);
  const { tau, alpha } = zeroCheckChallenges(ctx.transcript, n, count);
  const res = proveSumcheck(ctx, zeroCheckStatement(n, tau, alpha, kind), tensors.map((t) => t.tensor.flat()), { value: 0n, blind: 0n });
  tensors.forEach((t, j) => claims.add(t, res.point, res.evals[j]!));
  return res.proof;
}

function verifyZeroCheck(ctx: VerifierContext, claims: VerifierClaims, commitments: TensorCommitment[], count: number, kind: "hadamard" | "binary", proof: SumcheckProof): void {
  const n = sameVars(commitments, kind);
  const { tau, alpha } = zeroCheckChallenges(ctx.transcript, n, count);
  const res = verifySumcheck(ctx, zeroCheckStatement(n, tau, alpha, kind), new Lin(), proof, undefined, kind);
  commitments.forEach((c, j) => claims.add(c, res.point, res.evals[j]!));
}

export interface HadamardInstance<T> {
  a: T;
  b: T;
  c: T;
}

export function proveHadamard(ctx: ProverContext, claims: ProverClaims, instances: HadamardInstance<CommittedTensor>[]): SumcheckProof {
  return proveZeroCheck(ctx, claims, instances.flatMap((i) => [i.a, i.b, i.c]), instances.length, "hadamard");
}

export function verifyHadamard(ctx: VerifierContext, claims: VerifierClaims, instances: HadamardInstance<TensorCommitment>[], proof: SumcheckProof): void {
  verifyZeroCheck(ctx, claims, instances.flatMap((i) => [i.a, i.b, i.c]), instances.length, "hadamard", proof);
}

export function proveBinary(ctx: ProverContext, claims: ProverClaims, bits: CommittedTensor[]): SumcheckProof {
  return proveZeroCheck(ctx, claims, bits, bits.length, "binary");
}

export function verifyBinary(ctx: VerifierContext, claims: VerifierClaims, bits: TensorCommitment[], proof: SumcheckProof): void {
  verifyZeroCheck(ctx, claims, bits, bits.length, "binary", proof);
}

/** The statement's form (variables, degree, terms) without its challenges: what a proof reader needs. */
export const zeroCheckLayout = (n: number, count: number, kind: "hadamard" | "binary") =>
  zeroCheckStatement(n, new Array(n).fill(0n), new Array(count).fill(1n), kind);

// ---------------------------------------------------------------- matmul

export interface MatmulDims {
  /** log2 of A's rows (m), of the inner dimension (k), of B's columns (n). */
  readonly logM: number;
  readonly logK: number;
  readonly logN: number;
}

export interface MatmulProof {
  /** Commitment to C~(r_j ‖ r_i). */
  readonly value: G1Point;
  readonly sumcheck: SumcheckProof;
}

const matmulStatement = (logK: number): SumcheckStatement => ({ numVars: logK, terms: [{ coeff: 1n, factors: [0, 1] }], publicFactors: [false, false] });

function checkDims(d: MatmulDims, a: { logRows: number; logCols: number }, b: typeof a, c: typeof a): void {
  if (numVars(a) !== d.logM + d.logK || numVars(b) !== d.logK + d.logN || numVars(c) !== d.logM + d.logN) {
    throw new RangeError(`matmul: tensor sizes do not match ${2 ** d.logM}×${2 ** d.logK} · ${2 ** d.logK}×${2 ** d.logN}`);
  }
}

export function proveMatmul(ctx: ProverContext, claims: ProverClaims, d: MatmulDims, A: CommittedTensor, B: CommittedTensor, C: CommittedTensor): MatmulProof {
  checkDims(d, A.commitment, B.commitment, C.commitment);
  const ri = ctx.transcript.challenges("matmul/ri", d.logM);
  const rj = ctx.transcript.challenges("matmul/rj", d.logN);
  const m = 2 ** d.logM;
  const k = 2 ** d.logK;
  const n = 2 ** d.logN;
  // a(y) = A~(y ‖ r_i) = eq(r_i)ᵀ·A,  b(y) = B~(r_j ‖ y) = B·eq(r_j).
  const a = FrTensor.eq(bigIntsToBytes(ri)).reshape([1, m]).matmul(A.tensor.reshape([m, k]));
  const b = B.tensor.reshape([k, n]).matmul(FrTensor.eq(bigIntsToBytes(rj)).reshape([n, 1]));
  const value = commitScalar(ctx, bytesToBigInt(a.innerProduct(b)));
  ctx.transcript.absorbPoints("matmul/value", [value.point]);
  const res = proveSumcheck(ctx, matmulStatement(d.logK), [a.flat(), b.flat()], value);
  claims.add(C, [...rj, ...ri], value);
  claims.add(A, [...res.point, ...ri], res.evals[0]!);
  claims.add(B, [...rj, ...res.point], res.evals[1]!);
  return { value: value.point, sumcheck: res.proof };
}

export function verifyMatmul(ctx: VerifierContext, claims: VerifierClaims, d: MatmulDims, A: TensorCommitment, B: TensorCommitment, C: TensorCommitment, proof: MatmulProof): void {
  try {
    checkDims(d, A, B, C);
  } catch (e) {
    throw new Rejection((e as Error).message);
  }
  const ri = ctx.transcript.challenges("matmul/ri", d.logM);
  const rj = ctx.transcript.challenges("matmul/rj", d.logN);
  ctx.transcript.absorbPoints("matmul/value", [proof.value]);
  const res = verifySumcheck(ctx, matmulStatement(d.logK), Lin.of(proof.value), proof.sumcheck, undefined, "matmul");
  claims.add(C, [...rj, ...ri], proof.value);
  claims.add(A, [...res.point, ...ri], res.evals[0]!);
  claims.add(B, [...rj, ...res.point], res.evals[1]!);
}

export const matmulCodec = {
  write(w: ProofWriter, p: MatmulProof): void {
    w.point(p.value);
    sumcheckCodec.write(w, p.sumcheck);
  },
  read: (r: ProofReader, d: MatmulDims): MatmulProof => ({ value: r.point("matmul.value"), sumcheck: sumcheckCodec.read(r, matmulStatement(d.logK)) }),
};

// ---------------------------------------------------------------- linear relations on commitments

export interface LinearTerm<T> {
  coeff: bigint;
  tensor: T;
}

/** Proves Σ_k coeff_k·T_k + constant = 0 entry-wise, for tensors of one shape. */
export function proveLinear(ctx: ProverContext, terms: LinearTerm<CommittedTensor>[], constant = 0n): ZeroProof {
  const shape = terms[0]?.tensor.commitment;
  if (!shape || terms.some((t) => t.tensor.commitment.logRows !== shape.logRows || t.tensor.commitment.logCols !== shape.logCols)) {
    throw new RangeError("linear relation: tensors must share a shape");
  }
  ctx.transcript.absorbScalars("linear/coeffs", [...terms.map((t) => t.coeff), constant]);
  const gamma = powers(ctx.transcript.challenge("linear/gamma"), 1 << shape.logRows);
  let delta = 0n;
  for (const t of terms) gamma.forEach((g, j) => (delta = add(delta, mul(mul(g, t.coeff), t.tensor.blinds[j]))));
  return proveZero(ctx, delta);
}

export function verifyLinear(ctx: VerifierContext, terms: LinearTerm<TensorCommitment>[], proof: ZeroProof, constant = 0n, what = "linear relation"): void {
  const shape = terms[0]?.tensor;
  if (!shape || terms.some((t) => t.tensor.logRows !== shape.logRows || t.tensor.logCols !== shape.logCols)) throw new Rejection(`${what}: tensors must share a shape`);
  ctx.transcript.absorbScalars("linear/coeffs", [...terms.map((t) => t.coeff), constant]);
  const gamma = powers(ctx.transcript.challenge("linear/gamma"), 1 << shape.logRows);
  const D = new Lin();
  for (const t of terms) t.tensor.rows.forEach((row, j) => D.add(row, mul(gamma[j], t.coeff)));
  if (constant !== 0n) {
    // The constant tensor c·1 is the row c·Σ_i G_i in every row.
    const cg = mul(constant, gamma.reduce((a, b) => add(a, b), 0n));
    for (let i = 0; i < 1 << shape.logCols; i++) D.add(ctx.key.G[i], cg);
  }
  verifyZero(ctx, D, proof, what);
}

export const linearCodec = { write: sigmaCodec.writeZero, read: sigmaCodec.readZero };
