/**
 * logUp range checks without committed inverses (docs/protocol.md §3.10): zkLLM's tlookup over the
 * table T_j = lo + j, j < 2^bits, with Haböck's logarithmic-derivative identity
 *
 *   Σ_i Σ_x 1/(β + A_i(x)) = Σ_j m_j/(β + T_j)           (m_j = how often lo + j occurs)
 *
 * proven by a GKR over binary trees of fractions (Papini–Haböck, "Improving logarithmic derivative
 * lookups using GKR", 2023), so that the prover commits nothing as large as a looked-up tensor: only
 * the multiplicities m (table-sized, small integers, committed before β) and a few scalars per layer.
 *
 * Instances. Looked-up tensors of one variable count n are stacked (k of them, κ = ⌈log2 k⌉ new high
 * variables s) into one tree whose leaves are (p, q) = (1, β + A_s(x)) for s < k and the neutral
 * (0, 1) past them; the table is one more tree with leaves (m_j, β + T_j). A tree's layer j has j
 * variables; entry x of layer j is the fraction sum of entries 2x and 2x + 1 of layer j + 1:
 *
 *   p_j(x) = p_{j+1}(0,x)·q_{j+1}(1,x) + p_{j+1}(1,x)·q_{j+1}(0,x),   q_j(x) = q_{j+1}(0,x)·q_{j+1}(1,x)
 *
 * (variable 0 of layer j + 1 is the pairing one). The prover commits each tree's root (P, Q) and
 * shows Σ_tensors P/Q = P_table/Q_table with proofs of product. Then, layer by layer from the roots,
 * one sumcheck per layer over all trees still descending (batched with powers of λ), each tree
 * contributing λ^{2k}·eq(r, x)·[(pE + λ·qE)·qO + pO·qE] (E, O: the even and odd halves of layer
 * j + 1), reduces the claims on layer j at r to claims on layer j + 1 at (μ, r′). A tree that reaches
 * its leaves is checked there: p against its public value, q against β + A_s(x) through claims on the
 * tensors (or β + T, public), the table's p is a claim on m.
 *
 * Values wider than one table are split into limbs (`splitLimbs`): the limbs are committed and
 * range-checked, and their recomposition A = lo + Σ_k 2^(bits·k)·L_k is a linear relation.
 */
import { type G1Point, bigIntsToBytes, bytesToBigInt } from "../crypto/bn254";
import { add, eqEval, fr, mul, neg, powers, sub } from "../crypto/fr";
import type { ProverEngine, Tensor } from "./backend";
import type { ProofReader, ProofWriter } from "./codec";
import { type CommittedScalar, type OpenScalar, type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, absorbCommitment, commitTensor, constantTensor, evaluateCommitted, hyraxCodec, numVars, sameShape } from "./hyrax";
import { type ProductProof, type ZeroProof, proveProduct, proveZero, sigmaCodec, verifyProduct, verifyZero } from "./sigma";
import { type SumcheckProof, type SumcheckStatement, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

export const MAX_TABLE_BITS = 20;

export interface Range {
  /** Lowest value in the range (may be negative: an element r − |lo|). */
  readonly lo: bigint;
  /** The table has 2^bits entries: lo … lo + 2^bits − 1. */
  readonly bits: number;
}

/** The check of one tree at its leaves. */
export interface LeafProof {
  /** Tensor trees of more than one tensor: commitments to each tensor's value at the leaf point. */
  readonly values: G1Point[];
  /** p against its public value (tensor trees only; the table's p is a claim on m). */
  readonly p: ZeroProof | null;
  /** q against β + A (stacked trees and the table; a single tensor's q is a claim on it). */
  readonly q: ZeroProof | null;
}

export interface LookupProof {
  readonly multiplicities: TensorCommitment;
  /** Per tree (tensor trees in order, then the table): P ‖ Q. */
  readonly roots: G1Point[];
  /** Σ_tensors P/Q = P_table/Q_table: the committed products, then the proofs (one more: the last reuses a product). */
  readonly products: G1Point[];
  readonly productProofs: ProductProof[];
  /** One sumcheck per layer, from the roots down (layer j has j variables). */
  readonly layers: SumcheckProof[];
  /** Per tree, in the order the trees reach their leaves (depth, then tree order). */
  readonly leaves: LeafProof[];
}

function checkRange(range: Range): void {
  if (!Number.isInteger(range.bits) || range.bits < 1 || range.bits > MAX_TABLE_BITS) throw new RangeError(`table bits must be 1 to ${MAX_TABLE_BITS}`);
}

/**
 * The multiplicities m are committed as 2^TABLE_ROW_BITS wide rows at most: few row commitments in
 * the proof and few, large MSMs for the prover; the price is a key as wide as the table.
 */
export const TABLE_ROW_BITS = 4;

export function tableShape(bits: number): { logRows: number; logCols: number } {
  const logRows = Math.min(TABLE_ROW_BITS, Math.floor(bits / 2));
  return { logRows, logCols: bits - logRows };
}

/** T~(r) for T_j = lo + j: lo + Σ_k 2^k·r_k. */
export function tableValue(range: Range, r: readonly bigint[]): bigint {
  let acc = fr(range.lo);
  r.forEach((rk, k) => (acc = add(acc, mul(1n << BigInt(k), rk))));
  return acc;
}

/** A tree of the GKR: the tensors of one variable count stacked (`members`), or the table. */
export interface Tree {
  /** Indices of the looked-up tensors it stacks; empty for the table. */
  readonly members: readonly number[];
  /** Variables of one member (the table: its bits). */
  readonly vars: number;
  /** ⌈log2 members⌉: the stacking variables, above a member's. */
  readonly stackVars: number;
  /** vars + stackVars: the layers below the root. */
  readonly depth: number;
}

/** The trees of a lookup: tensors grouped by variable count (first-seen order), then the table. */
export function lookupTrees(shapes: readonly TensorShape[], bits: number): Tree[] {
  const byVars = new Map<number, number[]>();
  shapes.forEach((s, i) => byVars.set(numVars(s), [...(byVars.get(numVars(s)) ?? []), i]));
  const trees: Tree[] = [...byVars].map(([vars, members]) => {
    // A lone one-entry tensor still gets a stacking variable (and a neutral leaf): every tree has a layer below its root.
    const stackVars = Math.max(Math.ceil(Math.log2(members.length)), vars === 0 ? 1 : 0);
    return { members, vars, stackVars, depth: vars + stackVars };
  });
  trees.push({ members: [], vars: bits, stackVars: 0, depth: bits });
  return trees;
}

/** The order trees reach their leaves: by depth, ties in tree order. */
const leafOrder = (trees: readonly Tree[]) => trees.map((t, i) => ({ t, i })).sort((a, b) => a.t.depth - b.t.depth || a.i - b.i).map((x) => x.i);

/**
 * Layer j's sumcheck for `active` trees: factors (X_k, qO_k, pO_k, qE_k) per tree with
 * X = pE + λ·qE, and Σ_x eq(r, x)·Σ_k λ^{2k}·(X_k·qO_k + pO_k·qE_k) = Σ_k λ^{2k}·(P_k + λ·Q_k).
 * Folding pE into X saves one proof of product per tree and layer: pE = X − λ·qE is derived.
 */
const layerStatement = (vars: number, active: number, lambda: bigint, point: readonly bigint[]): SumcheckStatement => {
  const weights = powers(mul(lambda, lambda), active);
  return {
    numVars: vars,
    terms: weights.flatMap((w, k) => [
      { coeff: w, factors: [4 * k, 4 * k + 1], eq: true },
      { coeff: w, factors: [4 * k + 2, 4 * k + 3], eq: true },
    ]),
    publicFactors: new Array<boolean>(4 * active).fill(false),
    eqPoint: point,
  };
};

/** The multiplicity of lo + j among the entries; throws if an entry is outside the range. */
export function multiplicities(tensors: readonly Tensor[], range: Range): Int32Array {
  // A count is an Int32: refuse rather than wrap (2^31 entries is far past any prover's memory anyway).
  if (tensors.reduce((n, t) => n + t.length, 0) >= 2 ** 31) throw new RangeError("a lookup of 2^31 entries or more");
  const counts = new Int32Array(1 << range.bits);
  const size = BigInt(counts.length);
  for (const t of tensors) {
    let values: BigInt64Array;
    try {
      values = t.toInts();
    } catch {
      throw new RangeError(`an entry is outside [${range.lo}, ${range.lo} + 2^${range.bits})`);
    }
    for (let i = 0; i < values.length; i++) {
      const j = values[i] - range.lo;
      if (j < 0n || j >= size) throw new RangeError(`entry ${i} = ${values[i]} is outside [${range.lo}, ${range.lo} + 2^${range.bits})`);
      counts[Number(j)]++;
    }
  }
  return counts;
}

function tableTensor(engine: ProverEngine, range: Range): Tensor {
  const lo = BigInt.asIntN(64, range.lo);
  if (lo !== range.lo) throw new RangeError("table start must fit in 64 bits");
  return engine.fromInts(BigInt64Array.from({ length: 1 << range.bits }, (_, j) => lo + BigInt(j)));
}

/** Σ_{s<k} eq(z_s, s): the MLE at z_s of the indicator of the first k of 2^κ stacked members. */
const stackWeights = (zs: readonly bigint[], k: number): bigint[] => Array.from({ length: k }, (_, s) => eqEval(zs, Array.from({ length: zs.length }, (_, b) => BigInt((s >> b) & 1))));

const linear = (terms: readonly [bigint, OpenScalar][]): OpenScalar =>
  terms.reduce((acc, [c, s]) => ({ value: add(acc.value, mul(c, s.value)), blind: add(acc.blind, mul(c, s.blind)) }), { value: 0n, blind: 0n });

// ---------------------------------------------------------------- prover

/** A tree's layers: layers[j] = (p_j, q_j), j = 0 (the root) … depth (the leaves). */
function buildLayers(leaves: { p: Tensor; q: Tensor }, depth: number): { p: Tensor; q: Tensor }[] {
  const layers = new Array<{ p: Tensor; q: Tensor }>(depth + 1);
  layers[depth] = leaves;
  const zero = bigIntsToBytes([0n]);
  const one = bigIntsToBytes([1n]);
  for (let j = depth - 1; j >= 0; j--) {
    const below = layers[j + 1];
    const [pE, pO, qE, qO] = [below.p.fold(zero), below.p.fold(one), below.q.fold(zero), below.q.fold(one)];
    const a = pE.mul(qO);
    const b = pO.mul(qE);
    layers[j] = { p: a.add(b), q: qE.mul(qO) };
    for (const t of [pE, pO, qE, qO, a, b]) t.dispose();
  }
  return layers;
}

/** The leaves (p, q) of a stacked tensor tree: (1, β + A_s) for each member, (0, 1) past them. */
function tensorLeaves(engine: ProverEngine, members: readonly Tensor[], tree: Tree, beta: bigint): { p: Tensor; q: Tensor } {
  const size = 2 ** tree.vars;
  const pad = 2 ** tree.stackVars - members.length;
  const shift = constantTensor(engine, beta, size);
  const q = members.map((a) => {
    const flat = a.flat();
    const shifted = flat.add(shift);
    if (flat !== a) flat.dispose();
    return shifted;
  });
  shift.dispose();
  const p = members.map(() => constantTensor(engine, 1n, size));
  for (let i = 0; i < pad; i++) {
    q.push(constantTensor(engine, 1n, size));
    p.push(constantTensor(engine, 0n, size));
  }
  if (q.length === 1) return { p: p[0], q: q[0] };
  const out = { p: engine.concat(p), q: engine.concat(q) };
  for (const t of [...p, ...q]) t.dispose();
  return out;
}

/**
 * Proves every entry of every tensor lies in the range. `counts` overrides the multiplicities (tests
 * use it to play a cheating prover).
 */
export function proveRange(ctx: ProverContext, claims: ProverClaims, tensors: readonly CommittedTensor[], range: Range, counts?: Int32Array): LookupProof {
  checkRange(range);
  if (tensors.length === 0) throw new RangeError("range check of no tensors");
  const { engine, transcript } = ctx;
  const m = commitTensor(ctx, engine.fromInts(counts ?? multiplicities(tensors.map((t) => t.tensor), range)), tableShape(range.bits));
  transcript.absorbU32s("lookup/range", [range.bits]).absorbScalars("lookup/lo", [fr(range.lo)]);
  absorbCommitment(transcript, "lookup/m", m.commitment);
  const beta = transcript.challenge("lookup/beta");

  const trees = lookupTrees(tensors.map((t) => t.commitment), range.bits);
  const table = tableTensor(engine, range);
  const layers = trees.map((tree) => {
    if (tree.members.length > 0) return buildLayers(tensorLeaves(engine, tree.members.map((i) => tensors[i].tensor), tree, beta), tree.depth);
    const shift = constantTensor(engine, beta, table.length);
    const leaves = { p: m.tensor.flat(), q: table.add(shift) };
    shift.dispose();
    return buildLayers(leaves, tree.depth);
  });
  const scalar = (t: Tensor) => bytesToBigInt(t.toBytes());
  const roots = layers.map((l) => ({ p: commitScalar(ctx, scalar(l[0].p)), q: commitScalar(ctx, scalar(l[0].q)) }));
  transcript.absorbPoints("lookup/roots", roots.flatMap((r) => [r.p.point, r.q.point]));

  // Σ_tensors P/Q = P_T/Q_T: accumulate (a, b) ← (a·Q_i + P_i·b, b·Q_i), then a·Q_T = P_T·b.
  const products: G1Point[] = [];
  const productProofs: ProductProof[] = [];
  const prove = (x: OpenScalar, y: CommittedScalar, z: OpenScalar) => productProofs.push(proveProduct(ctx, x, y, z));
  const product = (x: OpenScalar, y: CommittedScalar): CommittedScalar => {
    const z = commitScalar(ctx, mul(x.value, y.value));
    products.push(z.point);
    transcript.absorbPoints("lookup/product", [z.point]);
    prove(x, y, z);
    return z;
  };
  let a: OpenScalar = roots[0].p;
  let b: CommittedScalar = roots[0].q;
  for (let i = 1; i < trees.length - 1; i++) {
    const aq = product(a, roots[i].q);
    const pb = product(roots[i].p, b);
    b = product(b, roots[i].q);
    a = linear([
      [1n, aq],
      [1n, pb],
    ]);
  }
  const tableRoot = roots[trees.length - 1];
  prove(a, tableRoot.q, product(tableRoot.p, b));

  // The descent: claims (p, q) on every tree's layer j at the common point r.
  let current: { p: OpenScalar; q: OpenScalar }[] = roots;
  let point: bigint[] = [];
  const layerProofs: SumcheckProof[] = [];
  const leafProofs: LeafProof[] = new Array(trees.length);
  const zero = bigIntsToBytes([0n]);
  const one = bigIntsToBytes([1n]);
  const maxDepth = Math.max(...trees.map((t) => t.depth));
  for (let j = 0; j < maxDepth; j++) {
    const active = trees.map((t, i) => i).filter((i) => trees[i].depth > j);
    const lambda = transcript.challenge("lookup/layer/lambda");
    const factors: Tensor[] = [];
    for (const i of active) {
      const below = layers[i][j + 1];
      const [pE, pO, qE, qO] = [below.p.fold(zero), below.p.fold(one), below.q.fold(zero), below.q.fold(one)];
      const lq = qE.scale(bigIntsToBytes([lambda]));
      factors.push(pE.add(lq), qO, pO, qE);
      pE.dispose();
      lq.dispose();
    }
    const weights = powers(mul(lambda, lambda), active.length);
    const claim = linear(active.flatMap((i, k): [bigint, OpenScalar][] => [
      [weights[k], current[i].p],
      [mul(weights[k], lambda), current[i].q],
    ]));
    const res = proveSumcheck(ctx, layerStatement(j, active.length, lambda, point), factors, claim);
    for (const f of factors) f.dispose();
    layerProofs.push(res.proof);
    const mu = transcript.challenge("lookup/layer/mu");
    point = [mu, ...res.point];
    const next = [...current];
    active.forEach((i, k) => {
      const [X, qO, pO, qE] = [0, 1, 2, 3].map((f) => res.evals[4 * k + f]!);
      const pE = linear([
        [1n, X],
        [neg(lambda), qE],
      ]);
      next[i] = {
        p: linear([
          [sub(1n, mu), pE],
          [mu, pO],
        ]),
        q: linear([
          [sub(1n, mu), qE],
          [mu, qO],
        ]),
      };
      for (const t of [layers[i][j].p, layers[i][j].q]) t.dispose();
    });
    current = next;
    for (const i of active.filter((i) => trees[i].depth === j + 1)) {
      leafProofs[i] = proveLeaves(ctx, claims, trees[i], tensors, m, range, beta, point, current[i]);
      const leaves = layers[i][j + 1];
      if (leaves.p !== m.tensor) leaves.p.dispose();
      leaves.q.dispose();
    }
  }
  table.dispose();
  return {
    multiplicities: m.commitment,
    roots: roots.flatMap((r) => [r.p.point, r.q.point]),
    products,
    productProofs,
    layers: layerProofs,
    leaves: leafOrder(trees).map((i) => leafProofs[i]),
  };
}

function proveLeaves(ctx: ProverContext, claims: ProverClaims, tree: Tree, tensors: readonly CommittedTensor[], m: CommittedTensor, range: Range, beta: bigint, z: readonly bigint[], at: { p: OpenScalar; q: OpenScalar }): LeafProof {
  if (tree.members.length === 0) {
    // p is m~(z): a claim on m. q = β + T~(z) is public.
    claims.add(m, z, at.p);
    return { values: [], p: null, q: proveZero(ctx, at.q.blind) };
  }
  // p~(z) = Σ_{s<k} eq(z_s, s) is public; q~(z) = Σ_{s<k} e_s·(β + A_s~(z_x)) + (1 − Σ e_s).
  const pProof = proveZero(ctx, at.p.blind);
  if (tree.members.length === 1 && tree.stackVars === 0) {
    claims.add(tensors[tree.members[0]], z, { value: sub(at.q.value, beta), blind: at.q.blind });
    return { values: [], p: pProof, q: null };
  }
  const zx = z.slice(0, tree.vars);
  const e = stackWeights(z.slice(tree.vars), tree.members.length);
  const values = tree.members.map((i) => commitScalar(ctx, evaluateCommitted(ctx, tensors[i], zx)));
  ctx.transcript.absorbPoints("lookup/leaf", values.map((v) => v.point));
  const qProof = proveZero(ctx, sub(at.q.blind, values.reduce((acc, v, s) => add(acc, mul(e[s], v.blind)), 0n)));
  tree.members.forEach((i, s) => claims.add(tensors[i], zx, values[s]));
  return { values: values.map((v) => v.point), p: pProof, q: qProof };
}

// ---------------------------------------------------------------- verifier

export function verifyRange(ctx: VerifierContext, claims: VerifierClaims, tensors: readonly TensorCommitment[], range: Range, proof: LookupProof, what = "range check"): void {
  try {
    checkRange(range);
  } catch (e) {
    throw new Rejection(`${what}: ${(e as Error).message}`);
  }
  if (tensors.length === 0) throw new Rejection(`${what}: no tensors`);
  if (!sameShape(proof.multiplicities, tableShape(range.bits))) throw new Rejection(`${what}: the multiplicities have the wrong shape`);
  const trees = lookupTrees(tensors, range.bits);
  const shape = layout(trees);
  if (proof.roots.length !== 2 * trees.length || proof.products.length !== shape.products || proof.productProofs.length !== shape.products + 1) throw new Rejection(`${what}: wrong number of roots or products`);
  if (proof.layers.length !== shape.layers || proof.leaves.length !== trees.length) throw new Rejection(`${what}: wrong number of layers or leaf checks`);
  const { transcript } = ctx;
  transcript.absorbU32s("lookup/range", [range.bits]).absorbScalars("lookup/lo", [fr(range.lo)]);
  absorbCommitment(transcript, "lookup/m", proof.multiplicities);
  const beta = transcript.challenge("lookup/beta");
  transcript.absorbPoints("lookup/roots", proof.roots);
  const roots = trees.map((_, i) => ({ p: proof.roots[2 * i], q: proof.roots[2 * i + 1] }));

  let nextPoint = 0;
  let nextProof = 0;
  const prove = (x: Lin, y: G1Point, z: G1Point) => {
    const k = nextProof++;
    verifyProduct(ctx, x, y, Lin.of(z), proof.productProofs[k], `${what}: fraction sum, product ${k}`);
  };
  const product = (x: Lin, y: G1Point): G1Point => {
    const z = proof.products[nextPoint++];
    transcript.absorbPoints("lookup/product", [z]);
    prove(x, y, z);
    return z;
  };
  let a = Lin.of(roots[0].p);
  let b = roots[0].q;
  for (let i = 1; i < trees.length - 1; i++) {
    const aq = product(a, roots[i].q);
    const pb = product(Lin.of(roots[i].p), b);
    b = product(Lin.of(b), roots[i].q);
    a = Lin.of(aq).add(pb);
  }
  const tableRoot = roots[trees.length - 1];
  prove(a, tableRoot.q, product(Lin.of(tableRoot.p), b));

  let current: { p: Lin; q: Lin }[] = roots.map((r) => ({ p: Lin.of(r.p), q: Lin.of(r.q) }));
  let point: bigint[] = [];
  const order = leafOrder(trees);
  let leafAt = 0;
  const maxDepth = Math.max(...trees.map((t) => t.depth));
  for (let j = 0; j < maxDepth; j++) {
    const active = trees.map((_, i) => i).filter((i) => trees[i].depth > j);
    const lambda = transcript.challenge("lookup/layer/lambda");
    const weights = powers(mul(lambda, lambda), active.length);
    const claim = new Lin();
    active.forEach((i, k) => claim.addLin(current[i].p, weights[k]).addLin(current[i].q, mul(weights[k], lambda)));
    const res = verifySumcheck(ctx, layerStatement(j, active.length, lambda, point), claim, proof.layers[j], undefined, `${what}: layer ${j}`);
    const mu = transcript.challenge("lookup/layer/mu");
    point = [mu, ...res.point];
    const nextClaims = [...current];
    active.forEach((i, k) => {
      const [X, qO, pO, qE] = [0, 1, 2, 3].map((f) => res.evals[4 * k + f]!);
      const pE = Lin.of(X).add(qE, neg(lambda));
      nextClaims[i] = { p: pE.scaled(sub(1n, mu)).add(pO, mu), q: Lin.of(qE, sub(1n, mu)).add(qO, mu) };
    });
    current = nextClaims;
    for (const i of active.filter((i) => trees[i].depth === j + 1)) {
      if (order[leafAt] !== i) throw new Rejection(`${what}: leaf checks out of order`);
      verifyLeaves(ctx, claims, trees[i], tensors, proof.multiplicities, range, beta, point, current[i], proof.leaves[leafAt++], what);
    }
  }
}

function verifyLeaves(ctx: VerifierContext, claims: VerifierClaims, tree: Tree, tensors: readonly TensorCommitment[], m: TensorCommitment, range: Range, beta: bigint, z: readonly bigint[], at: { p: Lin; q: Lin }, leaf: LeafProof, what: string): void {
  const { g } = ctx.key;
  const expectValues = tree.members.length === 1 && tree.stackVars === 0 ? 0 : tree.members.length;
  if (leaf.values.length !== expectValues || (leaf.p === null) !== (tree.members.length === 0) || (leaf.q === null) !== (tree.members.length > 0 && expectValues === 0)) {
    throw new Rejection(`${what}: malformed leaf check`);
  }
  if (tree.members.length === 0) {
    claims.add(m, z, at.p);
    verifyZero(ctx, new Lin().addLin(at.q).add(g, neg(add(beta, tableValue(range, z)))), leaf.q!, `${what}: table leaves`);
    return;
  }
  const e = stackWeights(z.slice(tree.vars), tree.members.length);
  const stacked = e.reduce((acc, v) => add(acc, v), 0n);
  verifyZero(ctx, new Lin().addLin(at.p).add(g, neg(stacked)), leaf.p!, `${what}: tensor leaves (p)`);
  if (expectValues === 0) {
    claims.add(tensors[tree.members[0]], z, new Lin().addLin(at.q).add(g, neg(beta)));
    return;
  }
  const zx = z.slice(0, tree.vars);
  ctx.transcript.absorbPoints("lookup/leaf", leaf.values);
  // q~(z) − Σ e_s·v_s − (β·Σe + 1 − Σe) must be a multiple of H.
  const D = new Lin().addLin(at.q).add(g, neg(add(mul(beta, stacked), sub(1n, stacked))));
  leaf.values.forEach((v, s) => D.add(v, neg(e[s])));
  verifyZero(ctx, D, leaf.q!, `${what}: tensor leaves (q)`);
  tree.members.forEach((i, s) => claims.add(tensors[i], zx, leaf.values[s]));
}

/**
 * How many committed products (three per tensor tree past the first, one for P_T·b; the last proof,
 * a·Q_T = P_T·b, reuses that commitment) and layers the trees imply.
 */
function layout(trees: readonly Tree[]): { products: number; layers: number } {
  return { products: 3 * (trees.length - 2) + 1, layers: Math.max(...trees.map((t) => t.depth)) };
}

const dummyLayer = (j: number, active: number) => layerStatement(j, active, 1n, new Array<bigint>(j).fill(0n));

export const lookupCodec = {
  write(w: ProofWriter, p: LookupProof): void {
    hyraxCodec.writeCommitment(w, p.multiplicities);
    w.points(p.roots);
    w.points(p.products);
    p.productProofs.forEach((pp) => sigmaCodec.writeProduct(w, pp));
    p.layers.forEach((s) => sumcheckCodec.write(w, s));
    for (const leaf of p.leaves) {
      w.points(leaf.values);
      if (leaf.p) sigmaCodec.writeZero(w, leaf.p);
      if (leaf.q) sigmaCodec.writeZero(w, leaf.q);
    }
  },
  read(r: ProofReader, tensors: readonly TensorCommitment[], range: Range): LookupProof {
    const multiplicities = hyraxCodec.readCommitment(r, "lookup.m");
    const trees = lookupTrees(tensors, range.bits);
    const shape = layout(trees);
    const roots = r.points(2 * trees.length, "lookup.roots");
    const products = r.points(shape.products, "lookup.products");
    const productProofs = Array.from({ length: shape.products + 1 }, () => sigmaCodec.readProduct(r));
    const layers = Array.from({ length: shape.layers }, (_, j) => sumcheckCodec.read(r, dummyLayer(j, trees.filter((t) => t.depth > j).length)));
    const leaves = leafOrder(trees).map((i): LeafProof => {
      const tree = trees[i];
      const single = tree.members.length === 1 && tree.stackVars === 0;
      const values = tree.members.length === 0 || single ? [] : r.points(tree.members.length, `lookup.leaf[${i}].values`);
      const p = tree.members.length > 0 ? sigmaCodec.readZero(r) : null;
      const q = tree.members.length === 0 || !single ? sigmaCodec.readZero(r) : null;
      return { values, p, q };
    });
    return { multiplicities, roots, products, productProofs, layers, leaves };
  },
};

/** Splits integer entries (two's complement below 2^62, shifted by lo) into `count` limbs of `bits` bits. */
export function splitLimbs(values: BigInt64Array, range: { lo: bigint; bits: number; count: number }): Int32Array[] {
  const limbs = Array.from({ length: range.count }, () => new Int32Array(values.length));
  const mask = (1n << BigInt(range.bits)) - 1n;
  const top = 1n << BigInt(range.bits * range.count);
  values.forEach((v, i) => {
    let rest = v - range.lo;
    if (rest < 0n || rest >= top) throw new RangeError(`entry ${i} = ${v} is outside [${range.lo}, ${range.lo} + 2^${range.bits * range.count})`);
    for (let k = 0; k < range.count; k++) {
      limbs[k][i] = Number(rest & mask);
      rest >>= BigInt(range.bits);
    }
  });
  return limbs;
}

/** The recomposition coefficients of A − lo − Σ_k 2^(bits·k)·L_k = 0 as linear-relation terms. */
export function limbCoefficients(bits: number, count: number): bigint[] {
  return powers(1n << BigInt(bits), count).map(neg);
}
