/**
 * Tensor relations proven by one ZK sumcheck each, leaving evaluation claims in a claim set
 * (docs/protocol.md §3.9). Same-shaped instances are batched into one sumcheck with powers of a
 * challenge α (FAC4DNN); stacking along extra variables is the caller's choice of tensors.
 *
 *  - identities: entry-wise polynomial identities, Σ_x eq(τ,x)·Σ_i α^i·identity_i(x) = 0; among them
 *               hadamard (A_i B_i − C_i) and binary (b_i² − b_i)
 *  - contraction: Σ_k c_k·T_k = L·R over one shared index (matmul and its transposed forms),
 *               Σ_k c_k·T_k~(r_j‖r_i) = Σ_y L~(·, y)·R~(·, y)   (Thaler 2013)
 *  - linear:    Σ_k c_k·T_k + c = 0 entry-wise, shown on the row commitments directly: with γ from
 *               the transcript, Σ_j γ^j·(Σ_k c_k·C_{k,j} + c·ΣG) = δ·H and a proof of knowledge of δ.
 */
import { FrTensor } from "../../native";
import { type G1Point, bigIntsToBytes, bytesToBigInt } from "../crypto/bn254";
import { add, fr, mul, powers } from "../crypto/fr";
import type { ProofReader, ProofWriter } from "./codec";
import { type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, evaluateCommitted, numVars } from "./hyrax";
import { type ZeroProof, proveZero, sigmaCodec, verifyZero } from "./sigma";
import { type SumcheckProof, type SumcheckStatement, type Term, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

function sameVars(list: readonly { logRows: number; logCols: number }[], what: string): number {
  if (list.length === 0) throw new RangeError(`${what}: nothing to prove`);
  const n = numVars(list[0]);
  for (const c of list) if (numVars(c) !== n) throw new RangeError(`${what}: tensors must have the same number of entries`);
  return n;
}

// ---------------------------------------------------------------- identities (zero-checks)

/** One entry-wise identity Σ_t c_t·Π_{j∈t} T_j(x) = 0 over the listed tensors (indices into them). */
export type Identity = readonly { readonly coeff: bigint; readonly factors: readonly number[] }[];

/**
 * Proves every identity at every entry with one sumcheck: τ = challenges("zerocheck/tau", n),
 * α = challenge("zerocheck/alpha"), and Σ_x eq(τ,x)·Σ_i α^i·identity_i(x) = 0. Leaves claims on
 * every tensor at the sumcheck's point.
 */
function identityStatement(n: number, tensors: number, identities: readonly Identity[], tau: bigint[], alpha: bigint[]): SumcheckStatement {
  const terms: Term[] = [];
  identities.forEach((identity, i) => identity.forEach((t) => terms.push({ coeff: mul(alpha[i], fr(t.coeff)), factors: t.factors, eq: true })));
  return { numVars: n, terms, publicFactors: new Array(tensors).fill(false), eqPoint: tau };
}

function identityChallenges(t: { challenge(name: string): bigint; challenges(name: string, n: number): bigint[] }, n: number, count: number) {
  const tau = t.challenges("zerocheck/tau", n);
  const alpha = powers(t.challenge("zerocheck/alpha"), count);
  return { tau, alpha };
}

export function proveIdentities(ctx: ProverContext, claims: ProverClaims, tensors: readonly CommittedTensor[], identities: readonly Identity[]): SumcheckProof {
  const n = sameVars(tensors.map((t) => t.commitment), "identity");
  const { tau, alpha } = identityChallenges(ctx.transcript, n, identities.length);
  const res = proveSumcheck(ctx, identityStatement(n, tensors.length, identities, tau, alpha), tensors.map((t) => t.tensor.flat()), { value: 0n, blind: 0n });
  tensors.forEach((t, j) => claims.add(t, res.point, res.evals[j]!));
  return res.proof;
}

export function verifyIdentities(ctx: VerifierContext, claims: VerifierClaims, tensors: readonly TensorCommitment[], identities: readonly Identity[], proof: SumcheckProof, what = "identity"): void {
  const n = sameVars(tensors, what);
  const { tau, alpha } = identityChallenges(ctx.transcript, n, identities.length);
  const res = verifySumcheck(ctx, identityStatement(n, tensors.length, identities, tau, alpha), new Lin(), proof, undefined, what);
  tensors.forEach((c, j) => claims.add(c, res.point, res.evals[j]!));
}

/** The proof layout of an identity check (what a reader needs; no challenges). */
export const identityLayout = (n: number, tensors: number, identities: readonly Identity[]): SumcheckStatement =>
  identityStatement(n, tensors, identities, new Array(n).fill(0n), new Array(identities.length).fill(1n));

export interface HadamardInstance<T> {
  a: T;
  b: T;
  c: T;
}

/** C_i = A_i ⊙ B_i: identities A_i·B_i − C_i over the tensors [a_0, b_0, c_0, a_1, …]. */
export const hadamardIdentities = (count: number): Identity[] =>
  Array.from({ length: count }, (_, i) => [
    { coeff: 1n, factors: [3 * i, 3 * i + 1] },
    { coeff: -1n, factors: [3 * i + 2] },
  ]);

/** b_i ∈ {0,1}: identities b_i² − b_i. */
export const binaryIdentities = (count: number): Identity[] =>
  Array.from({ length: count }, (_, i) => [
    { coeff: 1n, factors: [i, i] },
    { coeff: -1n, factors: [i] },
  ]);

export function proveHadamard(ctx: ProverContext, claims: ProverClaims, instances: HadamardInstance<CommittedTensor>[]): SumcheckProof {
  return proveIdentities(ctx, claims, instances.flatMap((i) => [i.a, i.b, i.c]), hadamardIdentities(instances.length));
}

export function verifyHadamard(ctx: VerifierContext, claims: VerifierClaims, instances: HadamardInstance<TensorCommitment>[], proof: SumcheckProof): void {
  verifyIdentities(ctx, claims, instances.flatMap((i) => [i.a, i.b, i.c]), hadamardIdentities(instances.length), proof, "hadamard");
}

export function proveBinary(ctx: ProverContext, claims: ProverClaims, bits: CommittedTensor[]): SumcheckProof {
  return proveIdentities(ctx, claims, bits, binaryIdentities(bits.length));
}

export function verifyBinary(ctx: VerifierContext, claims: VerifierClaims, bits: TensorCommitment[], proof: SumcheckProof): void {
  verifyIdentities(ctx, claims, bits, binaryIdentities(bits.length), proof, "binary");
}

// ---------------------------------------------------------------- contractions (matmul)

/**
 * One operand of C[i][j] = Σ_y L[i, y]·R[j, y]: a tensor of outerVars + innerVars variables whose
 * contracted index y is either its low variables (innerLow: a row-major matrix [outer][y]) or its
 * high ones ([y][outer]). A·B is L = A (inner low), R = B (inner high); A·Bᵀ has both inner low;
 * Aᵀ·B both inner high.
 */
export interface Operand<T> {
  readonly tensor: T;
  readonly outerVars: number;
  readonly innerLow: boolean;
}

export interface ContractionProof {
  /** Commitments to each target's value at (r_j ‖ r_i). */
  readonly values: G1Point[];
  readonly sumcheck: SumcheckProof;
}

const contractionStatement = (innerVars: number): SumcheckStatement => ({ numVars: innerVars, terms: [{ coeff: 1n, factors: [0, 1] }], publicFactors: [false, false] });

const operandPoint = (o: { innerLow: boolean }, rOuter: readonly bigint[], ry: readonly bigint[]) => (o.innerLow ? [...ry, ...rOuter] : [...rOuter, ...ry]);

function checkContraction(innerVars: number, left: Operand<TensorShape>, right: Operand<TensorShape>, targets: readonly LinearTerm<TensorShape>[]): void {
  if (numVars(left.tensor) !== left.outerVars + innerVars || numVars(right.tensor) !== right.outerVars + innerVars) throw new RangeError("contraction: operand sizes do not match");
  if (targets.length === 0 || targets.some((t) => numVars(t.tensor) !== left.outerVars + right.outerVars)) throw new RangeError("contraction: target sizes do not match");
}

/** The vector y ↦ M~ with its outer variables bound to r (a native matrix-vector product). */
function partial(o: Operand<CommittedTensor>, innerVars: number, r: readonly bigint[]): FrTensor {
  const outer = 2 ** o.outerVars;
  const inner = 2 ** innerVars;
  const e = FrTensor.eq(bigIntsToBytes(r));
  return o.innerLow ? e.reshape([1, outer]).matmul(o.tensor.tensor.reshape([outer, inner])).flat() : o.tensor.tensor.reshape([inner, outer]).matmul(e.reshape([outer, 1])).flat();
}

/**
 * Proves Σ_k c_k·T_k = C where C[i][j] = Σ_y L[i,y]·R[j,y] (Thaler's reduction): r_i, r_j from the
 * transcript, commitments to each T_k~(r_j ‖ r_i), and a sumcheck of Σ_y L~(·)·R~(·) = Σ_k c_k·T_k~.
 * C's layout is row-major [i][j]: j (the right operand's outer index) is its low variables.
 */
export function proveContraction(
  ctx: ProverContext,
  claims: ProverClaims,
  innerVars: number,
  left: Operand<CommittedTensor>,
  right: Operand<CommittedTensor>,
  targets: readonly LinearTerm<CommittedTensor>[],
): ContractionProof {
  checkContraction(innerVars, { ...left, tensor: left.tensor.commitment }, { ...right, tensor: right.tensor.commitment }, targets.map((t) => ({ ...t, tensor: t.tensor.commitment })));
  const ri = ctx.transcript.challenges("matmul/ri", left.outerVars);
  const rj = ctx.transcript.challenges("matmul/rj", right.outerVars);
  const a = partial(left, innerVars, ri);
  const b = partial(right, innerVars, rj);
  const point = [...rj, ...ri];
  const values = targets.map((t) => commitScalar(ctx, evaluateCommitted(t.tensor, point)));
  ctx.transcript.absorbPoints("matmul/value", values.map((v) => v.point));
  const claim = values.reduce((acc, v, k) => ({ value: add(acc.value, mul(fr(targets[k].coeff), v.value)), blind: add(acc.blind, mul(fr(targets[k].coeff), v.blind)) }), { value: 0n, blind: 0n });
  const res = proveSumcheck(ctx, contractionStatement(innerVars), [a, b], claim);
  targets.forEach((t, k) => claims.add(t.tensor, point, values[k]));
  claims.add(left.tensor, operandPoint(left, ri, res.point), res.evals[0]!);
  claims.add(right.tensor, operandPoint(right, rj, res.point), res.evals[1]!);
  return { values: values.map((v) => v.point), sumcheck: res.proof };
}

export function verifyContraction(
  ctx: VerifierContext,
  claims: VerifierClaims,
  innerVars: number,
  left: Operand<TensorCommitment>,
  right: Operand<TensorCommitment>,
  targets: readonly LinearTerm<TensorCommitment>[],
  proof: ContractionProof,
  what = "matmul",
): void {
  try {
    checkContraction(innerVars, left, right, targets);
  } catch (e) {
    throw new Rejection(`${what}: ${(e as Error).message}`);
  }
  if (proof.values.length !== targets.length) throw new Rejection(`${what}: one value per target`);
  const ri = ctx.transcript.challenges("matmul/ri", left.outerVars);
  const rj = ctx.transcript.challenges("matmul/rj", right.outerVars);
  ctx.transcript.absorbPoints("matmul/value", proof.values);
  const claim = new Lin();
  proof.values.forEach((v, k) => claim.add(v, fr(targets[k].coeff)));
  const res = verifySumcheck(ctx, contractionStatement(innerVars), claim, proof.sumcheck, undefined, what);
  const point = [...rj, ...ri];
  targets.forEach((t, k) => claims.add(t.tensor, point, proof.values[k]));
  claims.add(left.tensor, operandPoint(left, ri, res.point), res.evals[0]!);
  claims.add(right.tensor, operandPoint(right, rj, res.point), res.evals[1]!);
}

export const contractionCodec = {
  write(w: ProofWriter, p: ContractionProof): void {
    w.points(p.values);
    sumcheckCodec.write(w, p.sumcheck);
  },
  read: (r: ProofReader, innerVars: number, targets: number): ContractionProof => ({
    values: r.points(targets, "matmul.values"),
    sumcheck: sumcheckCodec.read(r, contractionStatement(innerVars)),
  }),
};

export interface MatmulDims {
  /** log2 of A's rows (m), of the inner dimension (k), of B's columns (n). */
  readonly logM: number;
  readonly logK: number;
  readonly logN: number;
}

/** C = A·B (row-major A: m×k, B: k×n, C: m×n). */
export function proveMatmul(ctx: ProverContext, claims: ProverClaims, d: MatmulDims, A: CommittedTensor, B: CommittedTensor, C: CommittedTensor): ContractionProof {
  return proveContraction(ctx, claims, d.logK, { tensor: A, outerVars: d.logM, innerLow: true }, { tensor: B, outerVars: d.logN, innerLow: false }, [{ coeff: 1n, tensor: C }]);
}

export function verifyMatmul(ctx: VerifierContext, claims: VerifierClaims, d: MatmulDims, A: TensorCommitment, B: TensorCommitment, C: TensorCommitment, proof: ContractionProof): void {
  verifyContraction(ctx, claims, d.logK, { tensor: A, outerVars: d.logM, innerLow: true }, { tensor: B, outerVars: d.logN, innerLow: false }, [{ coeff: 1n, tensor: C }], proof);
}

export const matmulCodec = {
  write: contractionCodec.write,
  read: (r: ProofReader, d: MatmulDims): ContractionProof => contractionCodec.read(r, d.logK, 1),
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
