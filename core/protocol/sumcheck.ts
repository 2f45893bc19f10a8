/**
 * Zero-knowledge sumcheck with committed round polynomials (docs/protocol.md §3.7; Hyrax §4,
 * Wahby et al. 2018), for polynomials of the form
 *
 *   F(x) = Σ_t c_t · eq(τ, x)^[t uses eq] · Π_{j ∈ t} M_j(x),   x ∈ {0,1}^n,
 *
 * with up to four MLE factors per term (five with eq): Hadamard relations, inner products and
 * matrix products (Thaler's reduction), the binary check b² − b, and any linear combination of these
 * over stacked instances (FAC4DNN batching: stack same-shaped tensors along extra variables).
 *
 * The claim Σ_x F(x) is a commitment. Round i binds variable i (the lowest remaining bit, as the
 * native fold does). Its polynomial s_i(X) = Σ_k a_k X^k is sent as commitments to a_0, a_2, …, a_d;
 * the commitment to a_1 is derived as C_claim − 2·C_{a_0} − Σ_{k≥2} C_{a_k}, which forces
 * s_i(0) + s_i(1) = claim without a proof. The next claim is Σ_k r_i^k·C_{a_k}. At the end the
 * prover commits to every committed factor's value M_j(r), proves each term's product chain with
 * proofs of product, and proves that the final claim equals Σ_t c_t·eq(τ, r)·Π M_j(r) with a proof
 * of equality. Public factors (closed forms the verifier evaluates itself) need no commitment.
 */
import type { G1Point } from "../crypto/bn254";
import { bigIntsToBytes, bytesToBigInt, bytesToBigInts } from "../crypto/bn254";
import { add, eqEval, evalPoly, fr, interpolate, mul, neg, powers, sub } from "../crypto/fr";
import type { Tensor } from "./backend";
import type { ProofReader, ProofWriter } from "./codec";
import { type CommittedScalar, type OpenScalar, type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import { Lin } from "./group";
import { type ProductProof, type ZeroProof, proveProduct, proveZero, sigmaCodec, verifyProduct, verifyZero } from "./sigma";

export const MAX_TERM_FACTORS = 4;

export interface Term {
  readonly coeff: bigint;
  /** Indices into the factor list (repeats allowed: b·b). */
  readonly factors: readonly number[];
  /** Whether the term carries the eq(τ, x) factor. */
  readonly eq?: boolean;
}

/** What prover and verifier agree on before the sumcheck starts. */
export interface SumcheckStatement {
  readonly numVars: number;
  readonly terms: readonly Term[];
  /** Per factor: true when the verifier evaluates it itself (public), false when it is committed. */
  readonly publicFactors: readonly boolean[];
  /** τ, required when a term uses eq. */
  readonly eqPoint?: readonly bigint[];
}

export interface SumcheckProof {
  /** Per round: commitments to a_0, a_2, …, a_d. */
  readonly rounds: G1Point[][];
  /** Commitments to M_j(r) for each committed factor, in factor order. */
  readonly evals: G1Point[];
  /** Commitments to the partial products of each term's committed factors (first-use order). */
  readonly products: G1Point[];
  readonly productProofs: ProductProof[];
  readonly final: ZeroProof;
}

export function degreeOf(s: SumcheckStatement): number {
  return Math.max(...s.terms.map((t) => t.factors.length + (t.eq ? 1 : 0)));
}

function checkStatement(s: SumcheckStatement): void {
  if (!Number.isInteger(s.numVars) || s.numVars < 0 || s.numVars > 40) throw new RangeError(`sumcheck over ${s.numVars} variables`);
  if (s.terms.length === 0) throw new RangeError("sumcheck without terms");
  for (const t of s.terms) {
    if (t.factors.length > MAX_TERM_FACTORS) throw new RangeError(`a term has at most ${MAX_TERM_FACTORS} factors`);
    if (t.factors.length === 0 && !t.eq) throw new RangeError("a term needs a factor or eq");
    for (const j of t.factors) if (!(j >= 0 && j < s.publicFactors.length)) throw new RangeError(`term factor ${j} out of range`);
    if (t.eq && s.eqPoint?.length !== s.numVars) throw new RangeError("a term uses eq but the eq point does not match the variables");
  }
}

/**
 * The product chains the final step proves: for each term, the committed factors in order; chain
 * prefixes are shared between terms ("0", "0,1", …), each longer one costing one proof of product.
 */
function productPlan(s: SumcheckStatement): { key: string; prev: string; factor: number }[] {
  const plan: { key: string; prev: string; factor: number }[] = [];
  const seen = new Set<string>();
  for (const t of s.terms) {
    const committed = t.factors.filter((j) => !s.publicFactors[j]);
    for (let i = 1; i < committed.length; i++) {
      const key = committed.slice(0, i + 1).join(",");
      if (seen.has(key)) continue;
      seen.add(key);
      plan.push({ key, prev: committed.slice(0, i).join(","), factor: committed[i] });
    }
  }
  return plan;
}

/** Per term: the public scalar c_t·eq(τ,r)·Π(public values), and the chain key of its committed part ("" if none). */
function termWeights(s: SumcheckStatement, r: readonly bigint[], publicValue: (j: number) => bigint): { weight: bigint; key: string }[] {
  const eqVal = s.eqPoint ? eqEval(s.eqPoint, r) : 0n;
  return s.terms.map((t) => {
    let w = t.eq ? mul(t.coeff, eqVal) : t.coeff;
    for (const j of t.factors) if (s.publicFactors[j]) w = mul(w, publicValue(j));
    return { weight: w, key: t.factors.filter((j) => !s.publicFactors[j]).join(",") };
  });
}

export interface SumcheckProverResult {
  readonly proof: SumcheckProof;
  /** The random point r (variable order). */
  readonly point: bigint[];
  /** M_j(r) for every factor; for committed factors with their commitment (the claims left to open). */
  readonly values: bigint[];
  readonly evals: (CommittedScalar | null)[];
}

/**
 * Proves Σ_x F(x) = claim.value, where `claim` is the opening of the claim's commitment. Factors are
 * the engine's tensors of 2^numVars entries (public ones too: the prover needs their tables).
 */
export function proveSumcheck(ctx: ProverContext, s: SumcheckStatement, factors: readonly Tensor[], claim: OpenScalar): SumcheckProverResult {
  checkStatement(s);
  if (factors.length !== s.publicFactors.length) throw new RangeError("one tensor per factor");
  for (const f of factors) if (f.length !== 2 ** s.numVars) throw new RangeError(`factor of ${f.length} entries in a ${s.numVars}-variable sumcheck`);
  const d = degreeOf(s);
  ctx.transcript.absorbU32s("sumcheck/shape", [s.numVars, d, s.terms.length]);
  let tables = factors.map((f) => f.flat());
  let eqTable = s.eqPoint ? ctx.engine.eq(bigIntsToBytes(s.eqPoint)) : undefined;
  let current = claim;
  const rounds: G1Point[][] = [];
  const point: bigint[] = [];
  for (let i = 0; i < s.numVars; i++) {
    const coeffs = new Array<bigint>(d + 1).fill(0n);
    for (const t of s.terms) {
      const list = t.factors.map((j) => tables[j]);
      if (t.eq) list.push(eqTable!);
      const termCoeffs = interpolate(bytesToBigInts(ctx.engine.sumcheckRound(list)));
      termCoeffs.forEach((c, k) => (coeffs[k] = add(coeffs[k], mul(t.coeff, c))));
    }
    const sent = [0, ...Array.from({ length: d - 1 }, (_, k) => k + 2)].map((k) => commitScalar(ctx, coeffs[k]));
    // a_1's commitment is derived: its blinding is what makes C_claim − 2C_0 − ΣC_k consistent.
    let blind1 = sub(current.blind, mul(2n, sent[0].blind));
    for (let k = 1; k < sent.length; k++) blind1 = sub(blind1, sent[k].blind);
    const blinds = [sent[0].blind, blind1, ...sent.slice(1).map((c) => c.blind)];
    const pts = sent.map((c) => c.point);
    rounds.push(pts);
    ctx.transcript.absorbPoints("sumcheck/round", pts);
    const r = ctx.transcript.challenge("sumcheck/r");
    point.push(r);
    const rk = powers(r, d + 1);
    current = { value: evalPoly(coeffs, r), blind: blinds.reduce((acc, b, k) => add(acc, mul(rk[k], b)), 0n) };
    const rb = bigIntsToBytes([r]);
    // A round's tables are garbage once folded: freed now (they are a quarter of a training step's
    // peak memory), all but the caller's own factors.
    const folded = tables.map((t) => t.fold(rb));
    tables.forEach((t, j) => t !== factors[j] && t.dispose());
    tables = folded;
    const eqFolded = eqTable?.fold(rb);
    eqTable?.dispose();
    eqTable = eqFolded;
  }
  const values = tables.map((t) => bytesToBigInt(t.toBytes()));
  const evals = values.map((v, j) => (s.publicFactors[j] ? null : commitScalar(ctx, v)));
  const evalPoints = evals.filter((e): e is CommittedScalar => e !== null).map((e) => e.point);
  ctx.transcript.absorbPoints("sumcheck/evals", evalPoints);
  // Product chains.
  const chain = new Map<string, OpenScalar & { point?: G1Point }>();
  evals.forEach((e, j) => e && chain.set(String(j), e));
  const products: G1Point[] = [];
  const productProofs: ProductProof[] = [];
  for (const step of productPlan(s)) {
    const x = chain.get(step.prev)!;
    const y = evals[step.factor]!;
    const z = commitScalar(ctx, mul(x.value, y.value));
    ctx.transcript.absorbPoints("sumcheck/product", [z.point]);
    productProofs.push(proveProduct(ctx, x, y, z));
    products.push(z.point);
    chain.set(step.key, z);
  }
  // Final: the last claim equals Σ_t weight_t · chain_t (chain "" = the constant 1, blinding 0).
  let expectedBlind = 0n;
  for (const { weight, key } of termWeights(s, point, (j) => values[j])) {
    if (key !== "") expectedBlind = add(expectedBlind, mul(weight, chain.get(key)!.blind));
  }
  const final = proveZero(ctx, sub(current.blind, expectedBlind));
  return { proof: { rounds, evals: evalPoints, products, productProofs, final }, point, values, evals };
}

export interface SumcheckVerifierResult {
  readonly point: bigint[];
  /** Commitments to M_j(r) for committed factors (null for public ones): claims the caller must open. */
  readonly evals: (G1Point | null)[];
}

/**
 * Checks the sumcheck against the claim's commitment (symbolic), adding its group equations to the
 * context. `publicValue(j, r)` evaluates public factor j at r.
 */
export function verifySumcheck(
  ctx: VerifierContext,
  s: SumcheckStatement,
  claim: Lin,
  proof: SumcheckProof,
  publicValue: (j: number, r: readonly bigint[]) => bigint = () => {
    throw new Rejection("sumcheck has public factors but no evaluator");
  },
  what = "sumcheck",
): SumcheckVerifierResult {
  checkStatement(s);
  const d = degreeOf(s);
  const plan = productPlan(s);
  const committed = s.publicFactors.filter((p) => !p).length;
  if (proof.rounds.length !== s.numVars || proof.rounds.some((r) => r.length !== d)) throw new Rejection(`${what}: wrong number of round commitments`);
  if (proof.evals.length !== committed || proof.products.length !== plan.length || proof.productProofs.length !== plan.length) {
    throw new Rejection(`${what}: wrong number of final commitments`);
  }
  ctx.transcript.absorbU32s("sumcheck/shape", [s.numVars, d, s.terms.length]);
  let current = claim;
  const point: bigint[] = [];
  for (const pts of proof.rounds) {
    ctx.transcript.absorbPoints("sumcheck/round", pts);
    const r = ctx.transcript.challenge("sumcheck/r");
    point.push(r);
    // claim' = r·claim + (1 − 2r)·C_0 + Σ_{k≥2} (r^k − r)·C_k
    const rk = powers(r, d + 1);
    const next = current.scaled(r).add(pts[0], sub(1n, mul(2n, r)));
    for (let k = 2; k <= d; k++) next.add(pts[k - 1], sub(rk[k], r));
    current = next;
  }
  ctx.transcript.absorbPoints("sumcheck/evals", proof.evals);
  const evals: (G1Point | null)[] = [];
  const chain = new Map<string, G1Point>();
  let next = 0;
  s.publicFactors.forEach((isPublic, j) => {
    const e = isPublic ? null : proof.evals[next++];
    evals.push(e);
    if (e) chain.set(String(j), e);
  });
  plan.forEach((step, i) => {
    ctx.transcript.absorbPoints("sumcheck/product", [proof.products[i]]);
    verifyProduct(ctx, Lin.of(chain.get(step.prev)!), evals[step.factor]!, Lin.of(proof.products[i]), proof.productProofs[i], `${what}: product ${step.key}`);
    chain.set(step.key, proof.products[i]);
  });
  const publicCache = new Map<number, bigint>();
  const pub = (j: number) => {
    if (!publicCache.has(j)) publicCache.set(j, fr(publicValue(j, point)));
    return publicCache.get(j)!;
  };
  const expected = new Lin();
  for (const { weight, key } of termWeights(s, point, pub)) {
    if (key === "") expected.add(ctx.key.g, weight);
    else expected.add(chain.get(key)!, weight);
  }
  verifyZero(ctx, new Lin().addLin(current).addLin(expected, neg(1n)), proof.final, `${what}: final claim`);
  return { point, evals };
}

export const sumcheckCodec = {
  write(w: ProofWriter, p: SumcheckProof): void {
    for (const r of p.rounds) w.points(r);
    w.points(p.evals);
    p.products.forEach((z, i) => {
      w.point(z);
      sigmaCodec.writeProduct(w, p.productProofs[i]);
    });
    sigmaCodec.writeZero(w, p.final);
  },
  read(r: ProofReader, s: SumcheckStatement): SumcheckProof {
    checkStatement(s);
    const d = degreeOf(s);
    const rounds = Array.from({ length: s.numVars }, (_, i) => r.points(d, `sumcheck.round[${i}]`));
    const evals = r.points(s.publicFactors.filter((p) => !p).length, "sumcheck.evals");
    const products: G1Point[] = [];
    const productProofs: ProductProof[] = [];
    for (let i = 0; i < productPlan(s).length; i++) {
      products.push(r.point(`sumcheck.product[${i}]`));
      productProofs.push(sigmaCodec.readProduct(r));
    }
    return { rounds, evals, products, productProofs, final: sigmaCodec.readZero(r) };
  },
};

