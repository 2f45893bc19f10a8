/**
 * Tensor relations proven by one ZK sumcheck each, leaving evaluation claims in a claim set
 * (docs/protocol.md §3.9). Same-shaped instances are batched into one sumcheck with powers of a
 * challenge α (FAC4DNN); stacking along extra variables is the caller's choice of tensors.
 *
 *  - identities: entry-wise polynomial identities, Σ_x eq(τ,x)·Σ_i α^i·identity_i(x) = 0; among them
 *               hadamard (A_i B_i − C_i) and binary (b_i² − b_i)
 *  - contraction: Σ_k c_k·T_k = L·R over one shared index (matmul and its transposed forms),
 *               Σ_k c_k·T_k~(r_j‖r_i) = Σ_y L~(·, y)·R~(·, y)   (Thaler 2013); for a window of
 *               steps stacked on the highest variables, per step t, combined at a random r_t:
 *               Σ_k c_k·T_k~(r_j‖r_i‖r_t) = Σ_{y,t} eq(r_t, t)·L~(·, y, t)·R~(·, y, t)
 *  - linear:    Σ_k c_k·T_k + c = 0 entry-wise, shown on the row commitments directly: with γ from
 *               the transcript, Σ_j γ^j·(Σ_k c_k·C_{k,j} + c·ΣG) = δ·H and a proof of knowledge of δ.
 */
import { type G1Point, bigIntsToBytes } from "../crypto/bn254";
import { add, eqEval, fr, mul, powers } from "../crypto/fr";
import type { ProverEngine, Tensor } from "./backend";
import type { ProofReader, ProofWriter } from "./codec";
import { type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, constantTensor, evaluateCommitted, numVars, sameShape } from "./hyrax";
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
 * Aᵀ·B both inner high. In a group with batchVars = b > 0 every tensor holds 2^b such instances,
 * one per step t, on its highest b variables (flat index = t·(per-step size) + per-step index).
 */
export interface Operand<T> {
  readonly tensor: T;
  readonly outerVars: number;
  readonly innerLow: boolean;
}

export interface ContractionProof {
  /** Commitments to each target's value at its (r_j ‖ r_i ‖ r_t), contraction by contraction. */
  readonly values: G1Point[];
  readonly sumcheck: SumcheckProof;
}

/** One contraction: Σ_k c_k·T_k = L·R (for every step t: Σ_k c_k·T_k[t] = L[t]·R[t]). */
export interface Contraction<T> {
  readonly left: Operand<T>;
  readonly right: Operand<T>;
  readonly targets: readonly LinearTerm<T>[];
}

/**
 * The variables every contraction of a group shares: the contracted index y (innerVars) and the
 * step index t (batchVars, the highest variables of every tensor of the group; 0 = one instance).
 * A plain number is innerVars without steps (what a single training step proves).
 */
export type ContractionVars = number | { readonly innerVars: number; readonly batchVars?: number };

interface GroupVars {
  readonly innerVars: number;
  readonly batchVars: number;
}

function groupVars(v: ContractionVars): GroupVars {
  const { innerVars, batchVars = 0 } = typeof v === "number" ? { innerVars: v } : v;
  if (!Number.isInteger(innerVars) || innerVars < 0) throw new RangeError(`contraction: innerVars must be a non-negative integer, got ${innerVars}`);
  if (!Number.isInteger(batchVars) || batchVars < 0) throw new RangeError(`contraction: batchVars must be a non-negative integer, got ${batchVars}`);
  return { innerVars, batchVars };
}

/**
 * Σ_{y,t} Σ_l α^l·L_l(…y…t)·R_l(…y…t)·E(y,t): factors L_0, R_0, L_1, R_1, …, then (steps only) the
 * public E(y,t) = eq(r_t, t), which picks the steps' combination Σ_t eq(r_t, t)·(L[t]·R[t]) that the
 * targets' values at r_t stand for. Without steps there is no E: the statement is the one-instance
 * one, so step proofs keep their layout.
 */
function contractionStatement(v: GroupVars, alpha: readonly bigint[]): SumcheckStatement {
  if (v.batchVars === 0) {
    return { numVars: v.innerVars, terms: alpha.map((a, l) => ({ coeff: a, factors: [2 * l, 2 * l + 1] })), publicFactors: alpha.flatMap(() => [false, false]) };
  }
  const step = 2 * alpha.length;
  return {
    numVars: v.innerVars + v.batchVars,
    terms: alpha.map((a, l) => ({ coeff: a, factors: [2 * l, 2 * l + 1, step] })),
    publicFactors: [...alpha.flatMap(() => [false, false]), true],
  };
}

/** An operand's point from its outer point and the sumcheck's point (y' low, then t' on top). */
function operandPoint(o: { innerLow: boolean }, v: GroupVars, rOuter: readonly bigint[], point: readonly bigint[]): bigint[] {
  const ry = point.slice(0, v.innerVars);
  const rt = point.slice(v.innerVars);
  return o.innerLow ? [...ry, ...rOuter, ...rt] : [...rOuter, ...ry, ...rt];
}

function checkContraction(v: GroupVars, c: Contraction<TensorShape>): void {
  if (numVars(c.left.tensor) !== c.left.outerVars + v.innerVars + v.batchVars || numVars(c.right.tensor) !== c.right.outerVars + v.innerVars + v.batchVars) {
    throw new RangeError("contraction: operand sizes do not match");
  }
  if (c.targets.length === 0 || c.targets.some((t) => numVars(t.tensor) !== c.left.outerVars + c.right.outerVars + v.batchVars)) throw new RangeError("contraction: target sizes do not match");
}

/**
 * The table (y, t) ↦ M~ with its outer variables bound to r, y low and t high (the engine's matrix
 * products). [t][outer][y] (inner low) binds the middle axis: one row vector times each step's
 * matrix, a batched product; [t][y][outer] (inner high) is one matrix of 2^b·2^innerVars rows times
 * the column eq(r). Without steps these are the plain vector-matrix products.
 */
function partial(engine: ProverEngine, o: Operand<CommittedTensor>, v: GroupVars, r: readonly bigint[]): Tensor {
  const outer = 2 ** o.outerVars;
  const inner = 2 ** v.innerVars;
  const steps = 2 ** v.batchVars;
  const e = engine.eq(bigIntsToBytes(r));
  const eqOuter = e.reshape(o.innerLow ? [1, outer] : [outer, 1]);
  const matrix = o.tensor.tensor.reshape(o.innerLow ? (v.batchVars === 0 ? [outer, inner] : [steps, outer, inner]) : [steps * inner, outer]);
  const product = o.innerLow ? eqOuter.matmul(matrix) : matrix.matmul(eqOuter);
  const table = product.flat();
  // The intermediates (one a copy of the whole operand) are freed now rather than at a later GC: a
  // long synchronous prover must dispose (native/src/addon.cpp). Never the operand itself.
  for (const t of [e, eqOuter, matrix, product]) if (t !== table && t !== o.tensor.tensor) t.dispose();
  return table;
}

/** E(y, t) = eq(r_t, t) for every y: each entry of eq(r_t) repeated 2^innerVars times (t high). */
function stepWeights(engine: ProverEngine, v: GroupVars, rt: readonly bigint[]): Tensor {
  const inner = 2 ** v.innerVars;
  const e = engine.eq(bigIntsToBytes(rt));
  const column = e.reshape([2 ** v.batchVars, 1]);
  const ones = constantTensor(engine, 1n, inner, [1, inner]);
  const product = column.matmul(ones);
  const table = product.flat();
  for (const t of [e, column, ones, product]) if (t !== table) t.dispose();
  return table;
}

const shapeOf = (c: Contraction<CommittedTensor>): Contraction<TensorShape> => ({
  left: { ...c.left, tensor: c.left.tensor.commitment },
  right: { ...c.right, tensor: c.right.tensor.commitment },
  targets: c.targets.map((t) => ({ ...t, tensor: t.tensor.commitment })),
});

/** The group's shared step point r_t: drawn once, before the first contraction's r_i, and only with steps. */
const stepPoint = (t: { challenges(name: string, n: number): bigint[] }, v: GroupVars): bigint[] => (v.batchVars > 0 ? t.challenges("matmul/rt", v.batchVars) : []);

/**
 * Proves one or more contractions sharing the inner dimension (and the steps) with one sumcheck
 * (FAC4DNN batching across layers): with steps, r_t = challenges("matmul/rt", batchVars) first; for
 * each contraction r_i, r_j from the transcript and commitments to each target's value at
 * (r_j ‖ r_i ‖ r_t); then (for more than one) α = challenge("matmul/alpha") and a sumcheck of
 * Σ_{y,t} eq(r_t, t)·Σ_l α^l·L_l~(·)·R_l~(·) = Σ_l α^l·Σ_k c_k·T_k~ (Thaler's reduction, per step,
 * combined over the steps by eq(r_t, ·)). C's layout is row-major [t][i][j]: j (the right operand's
 * outer index) is its low variables, t its highest.
 */
export function proveContractions(ctx: ProverContext, claims: ProverClaims, vars: ContractionVars, list: readonly Contraction<CommittedTensor>[]): ContractionProof {
  if (list.length === 0) throw new RangeError("no contraction to prove");
  const v = groupVars(vars);
  list.forEach((c) => checkContraction(v, shapeOf(c)));
  const rt = stepPoint(ctx.transcript, v);
  const prepared = list.map((c) => {
    const ri = ctx.transcript.challenges("matmul/ri", c.left.outerVars);
    const rj = ctx.transcript.challenges("matmul/rj", c.right.outerVars);
    const point = [...rj, ...ri, ...rt];
    const values = c.targets.map((t) => commitScalar(ctx, evaluateCommitted(ctx, t.tensor, point)));
    ctx.transcript.absorbPoints("matmul/value", values.map((x) => x.point));
    return { c, ri, rj, point, values };
  });
  const alpha = list.length === 1 ? [1n] : powers(ctx.transcript.challenge("matmul/alpha"), list.length);
  let claim = { value: 0n, blind: 0n };
  prepared.forEach(({ c, values }, l) =>
    values.forEach((x, k) => {
      const w = mul(alpha[l], fr(c.targets[k].coeff));
      claim = { value: add(claim.value, mul(w, x.value)), blind: add(claim.blind, mul(w, x.blind)) };
    }),
  );
  const factors = prepared.flatMap(({ c, ri, rj }) => [partial(ctx.engine, c.left, v, ri), partial(ctx.engine, c.right, v, rj)]);
  if (v.batchVars > 0) factors.push(stepWeights(ctx.engine, v, rt));
  const res = proveSumcheck(ctx, contractionStatement(v, alpha), factors, claim);
  // The tables are this function's own (the sumcheck frees only its folded copies).
  for (const f of factors) f.dispose();
  prepared.forEach(({ c, ri, rj, point, values }, l) => {
    c.targets.forEach((t, k) => claims.add(t.tensor, point, values[k]));
    claims.add(c.left.tensor, operandPoint(c.left, v, ri, res.point), res.evals[2 * l]!);
    claims.add(c.right.tensor, operandPoint(c.right, v, rj, res.point), res.evals[2 * l + 1]!);
  });
  return { values: prepared.flatMap((p) => p.values.map((x) => x.point)), sumcheck: res.proof };
}

export function verifyContractions(ctx: VerifierContext, claims: VerifierClaims, vars: ContractionVars, list: readonly Contraction<TensorCommitment>[], proof: ContractionProof, what = "matmul"): void {
  let v: GroupVars;
  try {
    v = groupVars(vars);
    if (list.length === 0) throw new RangeError("no contraction");
    list.forEach((c) => checkContraction(v, c));
  } catch (e) {
    throw new Rejection(`${what}: ${(e as Error).message}`);
  }
  if (proof.values.length !== list.reduce((n, c) => n + c.targets.length, 0)) throw new Rejection(`${what}: one value per target`);
  const rt = stepPoint(ctx.transcript, v);
  let next = 0;
  const prepared = list.map((c) => {
    const ri = ctx.transcript.challenges("matmul/ri", c.left.outerVars);
    const rj = ctx.transcript.challenges("matmul/rj", c.right.outerVars);
    const values = proof.values.slice(next, (next += c.targets.length));
    ctx.transcript.absorbPoints("matmul/value", values);
    return { c, ri, rj, point: [...rj, ...ri, ...rt], values };
  });
  const alpha = list.length === 1 ? [1n] : powers(ctx.transcript.challenge("matmul/alpha"), list.length);
  const claim = new Lin();
  prepared.forEach(({ c, values }, l) => values.forEach((x, k) => claim.add(x, mul(alpha[l], fr(c.targets[k].coeff)))));
  // The only public factor (with steps) is E; at the sumcheck's point (y', t') it is eq(r_t, t').
  const res = verifySumcheck(ctx, contractionStatement(v, alpha), claim, proof.sumcheck, (_j, r) => eqEval(rt, r.slice(v.innerVars)), what);
  prepared.forEach(({ c, ri, rj, point, values }, l) => {
    c.targets.forEach((t, k) => claims.add(t.tensor, point, values[k]));
    claims.add(c.left.tensor, operandPoint(c.left, v, ri, res.point), res.evals[2 * l]!);
    claims.add(c.right.tensor, operandPoint(c.right, v, rj, res.point), res.evals[2 * l + 1]!);
  });
}

export function proveContraction(ctx: ProverContext, claims: ProverClaims, vars: ContractionVars, left: Operand<CommittedTensor>, right: Operand<CommittedTensor>, targets: readonly LinearTerm<CommittedTensor>[]): ContractionProof {
  return proveContractions(ctx, claims, vars, [{ left, right, targets }]);
}

export function verifyContraction(
  ctx: VerifierContext,
  claims: VerifierClaims,
  vars: ContractionVars,
  left: Operand<TensorCommitment>,
  right: Operand<TensorCommitment>,
  targets: readonly LinearTerm<TensorCommitment>[],
  proof: ContractionProof,
  what = "matmul",
): void {
  verifyContractions(ctx, claims, vars, [{ left, right, targets }], proof, what);
}

export const contractionCodec = {
  write(w: ProofWriter, p: ContractionProof): void {
    w.points(p.values);
    sumcheckCodec.write(w, p.sumcheck);
  },
  /** `targets[l]` = the number of targets of contraction l; `vars` as the group was proven with. */
  read: (r: ProofReader, vars: ContractionVars, targets: readonly number[]): ContractionProof => ({
    values: r.points(targets.reduce((a, b) => a + b, 0), "matmul.values"),
    sumcheck: sumcheckCodec.read(r, contractionStatement(groupVars(vars), targets.map(() => 1n))),
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
