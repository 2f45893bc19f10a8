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
import { type G1Point, bigIntsToBytes } from "../crypto/bn254";
import { add, fr, mul, powers } from "../crypto/fr";
import type { ProverEngine, Tensor } from "./backend";
import type { ProofReader, ProofWriter } from "./codec";
import { type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, evaluateCommitted, numVars, sameShape } from "./hyrax";
import { type ZeroProof, proveZero, sigmaCodec, verifyZero } from "./sigma";
import { type SumcheckProof, type SumcheckStatement, type Term, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

function sameVars(list: readonly { logRows: number; logCols: number }[], what: string): number {
  if (list.length === 0) throw new RangeError(`${what}: nothing to prove`);
  const n = numVars(list[0]);
  for (const c of list) if (numVars(c) !== n) throw new RangeError(`${what}: tensors must have the same number of entries`);
  return n;
}

// ---------------------------------------------------------------- identities (zero-checks)

/**
 * One entry-wise identity Σ_t c_t·Π_{j∈t} T_j(x) = 0 over the listed tensors (indices into them).
 * Indices past the committed tensors name public factors: tables both sides know (e.g. a padding
 * mask), which the prover folds like any factor and the verifier evaluates itself at the end.
 */
export type Identity = readonly { readonly coeff: bigint; readonly factors: readonly number[] }[];

/** A public factor of an identity check, on the verifier's side: its MLE at a point. */
export type PublicEvaluator = (r: readonly bigint[]) => bigint;

/**
 * Proves every identity at every entry with one sumcheck: τ = challenges("zerocheck/tau", n),
 * α = challenge("zerocheck/alpha"), and Σ_x eq(τ,x)·Σ_i α^i·identity_i(x) = 0. Leaves claims on
 * every committed tensor at the sumcheck's point.
 */
function identityStatement(n: number, tensors: number, publics: number, identities: readonly Identity[], tau: bigint[], alpha: bigint[]): SumcheckStatement {
  const terms: Term[] = [];
  identities.forEach((identity, i) => identity.forEach((t) => terms.push({ coeff: mul(alpha[i], fr(t.coeff)), factors: t.factors, eq: true })));
  return { numVars: n, terms, publicFactors: [...new Array<boolean>(tensors).fill(false), ...new Array<boolean>(publics).fill(true)], eqPoint: tau };
}

function identityChallenges(t: { challenge(name: string): bigint; challenges(name: string, n: number): bigint[] }, n: number, count: number) {
  const tau = t.challenges("zerocheck/tau", n);
  const alpha = powers(t.challenge("zerocheck/alpha"), count);
  return { tau, alpha };
}

export function proveIdentities(ctx: ProverContext, claims: ProverClaims, tensors: readonly CommittedTensor[], identities: readonly Identity[], publics: readonly Tensor[] = []): SumcheckProof {
  const n = sameVars(tensors.map((t) => t.commitment), "identity");
  const { tau, alpha } = identityChallenges(ctx.transcript, n, identities.length);
  const statement = identityStatement(n, tensors.length, publics.length, identities, tau, alpha);
  const res = proveSumcheck(ctx, statement, [...tensors.map((t) => t.tensor.flat()), ...publics], { value: 0n, blind: 0n });
  tensors.forEach((t, j) => claims.add(t, res.point, res.evals[j]!));
  return res.proof;
}

export function verifyIdentities(
  ctx: VerifierContext,
  claims: VerifierClaims,
  tensors: readonly TensorCommitment[],
  identities: readonly Identity[],
  proof: SumcheckProof,
  what = "identity",
  publics: readonly PublicEvaluator[] = [],
): void {
  const n = sameVars(tensors, what);
  const { tau, alpha } = identityChallenges(ctx.transcript, n, identities.length);
  const statement = identityStatement(n, tensors.length, publics.length, identities, tau, alpha);
  const res = verifySumcheck(ctx, statement, new Lin(), proof, (j, r) => publics[j - tensors.length](r), what);
  tensors.forEach((c, j) => claims.add(c, res.point, res.evals[j]!));
}

/** The proof layout of an identity check (what a reader needs; no challenges). */
export const identityLayout = (n: number, tensors: number, identities: readonly Identity[], publics = 0): SumcheckStatement =>
  identityStatement(n, tensors, publics, identities, new Array(n).fill(0n), new Array(identities.length).fill(1n));

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
  /** Commitments to each target's value at its (r_j ‖ r_i), contraction by contraction. */
  readonly values: G1Point[];
  readonly sumcheck: SumcheckProof;
}

/** One contraction: Σ_k c_k·T_k = L·R. */
export interface Contraction<T> {
  readonly left: Operand<T>;
  readonly right: Operand<T>;
  readonly targets: readonly LinearTerm<T>[];
}

/** Σ_l α^l·Σ_y L_l(…y…)·R_l(…y…): factors L_0, R_0, L_1, R_1, … */
const contractionStatement = (innerVars: number, alpha: readonly bigint[]): SumcheckStatement => ({
  numVars: innerVars,
  terms: alpha.map((a, l) => ({ coeff: a, factors: [2 * l, 2 * l + 1] })),
  publicFactors: alpha.flatMap(() => [false, false]),
});

const operandPoint = (o: { innerLow: boolean }, rOuter: readonly bigint[], ry: readonly bigint[]) => (o.innerLow ? [...ry, ...rOuter] : [...rOuter, ...ry]);

function checkContraction(innerVars: number, c: Contraction<TensorShape>): void {
  if (numVars(c.left.tensor) !== c.left.outerVars + innerVars || numVars(c.right.tensor) !== c.right.outerVars + innerVars) throw new RangeError("contraction: operand sizes do not match");
  if (c.targets.length === 0 || c.targets.some((t) => numVars(t.tensor) !== c.left.outerVars + c.right.outerVars)) throw new RangeError("contraction: target sizes do not match");
}

/** The vector y ↦ M~ with its outer variables bound to r (the engine's matrix-vector product). */
function partial(engine: ProverEngine, o: Operand<CommittedTensor>, innerVars: number, r: readonly bigint[]): Tensor {
  const outer = 2 ** o.outerVars;
  const inner = 2 ** innerVars;
  const e = engine.eq(bigIntsToBytes(r));
  return o.innerLow ? e.reshape([1, outer]).matmul(o.tensor.tensor.reshape([outer, inner])).flat() : o.tensor.tensor.reshape([inner, outer]).matmul(e.reshape([outer, 1])).flat();
}

const shapeOf = (c: Contraction<CommittedTensor>): Contraction<TensorShape> => ({
  left: { ...c.left, tensor: c.left.tensor.commitment },
  right: { ...c.right, tensor: c.right.tensor.commitment },
  targets: c.targets.map((t) => ({ ...t, tensor: t.tensor.commitment })),
});

/**
 * Proves one or more contractions sharing the inner dimension with one sumcheck (FAC4DNN batching
 * across layers): for each, r_i, r_j from the transcript and commitments to each target's value at
 * (r_j ‖ r_i); then (for more than one) α = challenge("matmul/alpha") and a sumcheck of
 * Σ_y Σ_l α^l·L_l~(·)·R_l~(·) = Σ_l α^l·Σ_k c_k·T_k~ (Thaler's reduction). C's layout is row-major
 * [i][j]: j (the right operand's outer index) is its low variables.
 */
export function proveContractions(ctx: ProverContext, claims: ProverClaims, innerVars: number, list: readonly Contraction<CommittedTensor>[]): ContractionProof {
  if (list.length === 0) throw new RangeError("no contraction to prove");
  list.forEach((c) => checkContraction(innerVars, shapeOf(c)));
  const prepared = list.map((c) => {
    const ri = ctx.transcript.challenges("matmul/ri", c.left.outerVars);
    const rj = ctx.transcript.challenges("matmul/rj", c.right.outerVars);
    const point = [...rj, ...ri];
    const values = c.targets.map((t) => commitScalar(ctx, evaluateCommitted(ctx, t.tensor, point)));
    ctx.transcript.absorbPoints("matmul/value", values.map((v) => v.point));
    return { c, ri, rj, point, values };
  });
  const alpha = list.length === 1 ? [1n] : powers(ctx.transcript.challenge("matmul/alpha"), list.length);
  let claim = { value: 0n, blind: 0n };
  prepared.forEach(({ c, values }, l) =>
    values.forEach((v, k) => {
      const w = mul(alpha[l], fr(c.targets[k].coeff));
      claim = { value: add(claim.value, mul(w, v.value)), blind: add(claim.blind, mul(w, v.blind)) };
    }),
  );
  const factors = prepared.flatMap(({ c, ri, rj }) => [partial(ctx.engine, c.left, innerVars, ri), partial(ctx.engine, c.right, innerVars, rj)]);
  const res = proveSumcheck(ctx, contractionStatement(innerVars, alpha), factors, claim);
  prepared.forEach(({ c, ri, rj, point, values }, l) => {
    c.targets.forEach((t, k) => claims.add(t.tensor, point, values[k]));
    claims.add(c.left.tensor, operandPoint(c.left, ri, res.point), res.evals[2 * l]!);
    claims.add(c.right.tensor, operandPoint(c.right, rj, res.point), res.evals[2 * l + 1]!);
  });
  return { values: prepared.flatMap((p) => p.values.map((v) => v.point)), sumcheck: res.proof };
}

export function verifyContractions(ctx: VerifierContext, claims: VerifierClaims, innerVars: number, list: readonly Contraction<TensorCommitment>[], proof: ContractionProof, what = "matmul"): void {
  try {
    if (list.length === 0) throw new RangeError("no contraction");
    list.forEach((c) => checkContraction(innerVars, c));
  } catch (e) {
    throw new Rejection(`${what}: ${(e as Error).message}`);
  }
  if (proof.values.length !== list.reduce((n, c) => n + c.targets.length, 0)) throw new Rejection(`${what}: one value per target`);
  let next = 0;
  const prepared = list.map((c) => {
    const ri = ctx.transcript.challenges("matmul/ri", c.left.outerVars);
    const rj = ctx.transcript.challenges("matmul/rj", c.right.outerVars);
    const values = proof.values.slice(next, (next += c.targets.length));
    ctx.transcript.absorbPoints("matmul/value", values);
    return { c, ri, rj, point: [...rj, ...ri], values };
  });
  const alpha = list.length === 1 ? [1n] : powers(ctx.transcript.challenge("matmul/alpha"), list.length);
  const claim = new Lin();
  prepared.forEach(({ c, values }, l) => values.forEach((v, k) => claim.add(v, mul(alpha[l], fr(c.targets[k].coeff)))));
  const res = verifySumcheck(ctx, contractionStatement(innerVars, alpha), claim, proof.sumcheck, undefined, what);
  prepared.forEach(({ c, ri, rj, point, values }, l) => {
    c.targets.forEach((t, k) => claims.add(t.tensor, point, values[k]));
    claims.add(c.left.tensor, operandPoint(c.left, ri, res.point), res.evals[2 * l]!);
    claims.add(c.right.tensor, operandPoint(c.right, rj, res.point), res.evals[2 * l + 1]!);
  });
}

export function proveContraction(ctx: ProverContext, claims: ProverClaims, innerVars: number, left: Operand<CommittedTensor>, right: Operand<CommittedTensor>, targets: readonly LinearTerm<CommittedTensor>[]): ContractionProof {
  return proveContractions(ctx, claims, innerVars, [{ left, right, targets }]);
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
  verifyContractions(ctx, claims, innerVars, [{ left, right, targets }], proof, what);
}

export const contractionCodec = {
  write(w: ProofWriter, p: ContractionProof): void {
    w.points(p.values);
    sumcheckCodec.write(w, p.sumcheck);
  },
  /** `targets[l]` = the number of targets of contraction l. */
  read: (r: ProofReader, innerVars: number, targets: readonly number[]): ContractionProof => ({
    values: r.points(targets.reduce((a, b) => a + b, 0), "matmul.values"),
    sumcheck: sumcheckCodec.read(r, contractionStatement(innerVars, targets.map(() => 1n))),
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
  read: (r: ProofReader, d: MatmulDims): ContractionProof => contractionCodec.read(r, d.logK, [1]),
};

// ---------------------------------------------------------------- linear relations on commitments

export interface LinearTerm<T> {
  coeff: bigint;
  tensor: T;
}

/** Proves Σ_k coeff_k·T_k + constant = 0 entry-wise, for tensors of one shape. */
export function proveLinear(ctx: ProverContext, terms: LinearTerm<CommittedTensor>[], constant = 0n): ZeroProof {
  const shape = terms[0]?.tensor.commitment;
  if (!shape || terms.some((t) => !sameShape(t.tensor.commitment, shape))) {
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
  if (!shape || terms.some((t) => !sameShape(t.tensor, shape))) throw new Rejection(`${what}: tensors must share a shape`);
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
