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
 * Trees. Every looked-up tensor and the table are blocks of leaves, packed largest first into at
 * most MAX_TREES trees (`lookupTrees`): a tensor's block has leaves (p, q) = (1, β + A(x)), the
 * table's (−m_j, β + T_j), and the leaves past the blocks are the neutral (0, 1). The whole lookup
 * is then Σ_trees Σ_leaves p/q = 0. A tree's layer j has j variables; entry x of layer j is the
 * fraction sum of entries 2x and 2x + 1 of layer j + 1:
 *
 *   p_j(x) = p_{j+1}(0,x)·q_{j+1}(1,x) + p_{j+1}(1,x)·q_{j+1}(0,x),   q_j(x) = q_{j+1}(0,x)·q_{j+1}(1,x)
 *
 * (variable 0 of layer j + 1 is the pairing one). The prover commits each tree's root (P, Q) and
 * shows Σ P/Q = 0 with proofs of product and one of equality. Then, layer by layer from the roots,
 * one sumcheck per layer over all trees still descending (batched with powers of λ), each tree
 * contributing λ^{2k}·eq(r, x)·[(pE + λ·qE)·qO + pO·qE] (E, O: the even and odd halves of layer
 * j + 1), reduces the claims on layer j at r to claims on layer j + 1 at (μ, r′). A tree that reaches
 * its leaves is checked there: the prover commits each block's value at the leaf point's low
 * variables (A~, or m~), which become claims on the tensors (and m), and shows p and q to be the
 * blocks' sum weighted by eq(high variables, the block's place), plus the padding's.
 *
 * Values wider than one table are split into limbs (`splitLimbs`): the limbs are committed and
 * range-checked, and their recomposition A = lo + Σ_k 2^(bits·k)·L_k is a linear relation.
 */
import { type G1Point, bigIntsToBytes, bytesToBigInt } from "../crypto/bn254";
import { add, eqEval, fr, mul, neg, powers, sub } from "../crypto/fr";
import type { ProverEngine, Tensor } from "./backend";
import { ProofFormatError, type ProofReader, type ProofWriter } from "./codec";
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
  /** Commitments to each block's value at the leaf point (A~, or m~ for the table), block by block. */
  readonly values: G1Point[];
  /** p and q at the leaf point are the blocks' weighted sum (proofs of equality). */
  readonly p: ZeroProof;
  readonly q: ZeroProof;
}

export interface LookupProof {
  readonly multiplicities: TensorCommitment;
  /** Per tree: P ‖ Q. */
  readonly roots: G1Point[];
  /** Σ_trees P/Q = 0: the committed products of the accumulation, then their proofs. */
  readonly products: G1Point[];
  readonly productProofs: ProductProof[];
  /** The accumulated numerator is zero. */
  readonly sum: ZeroProof;
  /** One sumcheck per layer, from the roots down (layer j has j variables). */
  readonly layers: SumcheckProof[];
  /** Per tree, in the order the trees reach their leaves (depth, then tree order). */
  readonly leaves: LeafProof[];
}

function checkRange(range: Range): void {
  if (!Number.isInteger(range.bits) || range.bits < 1 || range.bits > MAX_TABLE_BITS) throw new RangeError(`table bits must be 1 to ${MAX_TABLE_BITS}`);
}

/** A verifier's refusal of a range it cannot check (its table's size sizes the key and the trees): before any work. */
export function refuseUncheckableRange(range: Range): void {
  try {
    checkRange(range);
  } catch (e) {
    throw new ProofFormatError("ZKDL_PROOF_SHAPE", `lookup: ${(e as Error).message}`);
  }
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

/** The table's place among a tree's blocks (a looked-up tensor's is its index). */
export const TABLE_BLOCK = -1;

/** A run of a tree's leaves: one looked-up tensor (or the table), 2^vars leaves from `offset`. */
export interface Block {
  /** Index of the looked-up tensor, or TABLE_BLOCK. */
  readonly member: number;
  readonly vars: number;
  /** A multiple of 2^vars: the block's leaves are the tree's x with x's high bits = offset / 2^vars. */
  readonly offset: number;
}

/** A tree of the GKR: blocks packed from leaf 0, neutral leaves (0, 1) past them. */
export interface Tree {
  readonly blocks: readonly Block[];
  /** The layers below the root (at least one). */
  readonly depth: number;
}

/**
 * At most this many trees per lookup. Each tree costs the proof a few points per layer (its
 * sumcheck evaluations and products), and the prover its padding: one tree wastes up to half its
 * leaves, two waste at most a quarter of the entries' total.
 */
export const MAX_TREES = 2;

const floorLog2 = (n: number): number => {
  let k = 0;
  while (2 ** (k + 1) <= n) k++;
  return k;
};
const ceilLog2 = (n: number): number => (n <= 1 ? 0 : floorLog2(n - 1) + 1);

/**
 * The trees of a lookup: every looked-up tensor and the table as blocks, largest first (ties: the
 * tensors in order, then the table), packed into trees of 2^depth leaves. Every tree but the last
 * is the largest power of two within the entries left, filled exactly (blocks are powers of two,
 * largest first, so offsets stay aligned and the sums land on the power); the last holds the rest,
 * padded to a power of two.
 */
export function lookupTrees(shapes: readonly TensorShape[], bits: number): Tree[] {
  // Sizes are powers of two of at most 2^40 entries (the packing loops on their logarithms).
  const sane = (n: number) => Number.isInteger(n) && n >= 0 && n <= 40;
  if (!sane(bits) || !shapes.every((s) => sane(numVars(s)))) throw new RangeError("lookup trees: sizes must be 2^0 to 2^40 entries");
  const blocks = [...shapes.map((s, i) => ({ member: i, vars: numVars(s) })), { member: TABLE_BLOCK, vars: bits }].sort(
    (a, b) => b.vars - a.vars || Number(a.member === TABLE_BLOCK) - Number(b.member === TABLE_BLOCK) || a.member - b.member,
  );
  let rest = blocks.reduce((n, b) => n + 2 ** b.vars, 0);
  const trees: Tree[] = [];
  let at = 0;
  while (at < blocks.length) {
    const depth = Math.max(1, trees.length === MAX_TREES - 1 ? ceilLog2(rest) : floorLog2(rest));
    const packed: Block[] = [];
    let filled = 0;
    while (at < blocks.length && filled + 2 ** blocks[at].vars <= 2 ** depth) {
      packed.push({ ...blocks[at], offset: filled });
      filled += 2 ** blocks[at++].vars;
    }
    rest -= filled;
    trees.push({ blocks: packed, depth });
  }
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

/** eq(z_high, offset / 2^vars): the weight of a block's leaves in the tree's MLE at z (its low vars are the block's). */
const blockWeight = (z: readonly bigint[], b: Block): bigint => {
  const high = z.slice(b.vars);
  const prefix = b.offset / 2 ** b.vars;
  return eqEval(high, Array.from({ length: high.length }, (_, k) => BigInt(Math.floor(prefix / 2 ** k) % 2)));
};

const linear = (terms: readonly [bigint, OpenScalar][]): OpenScalar =>
  terms.reduce((acc, [c, s]) => ({ value: add(acc.value, mul(c, s.value)), blind: add(acc.blind, mul(c, s.blind)) }), { value: 0n, blind: 0n });

// ---------------------------------------------------------------- prover

/** A tree's layers: layers[j] = (p_j, q_j), j = 0 (the root) … depth (the leaves). */
function buildLayers(engine: ProverEngine, leaves: { p: Tensor; q: Tensor }, depth: number): { p: Tensor; q: Tensor }[] {
  const layers = new Array<{ p: Tensor; q: Tensor }>(depth + 1);
  layers[depth] = leaves;
  for (let j = depth - 1; j >= 0; j--) layers[j] = engine.fractionLayer(layers[j + 1].p, layers[j + 1].q);
  return layers;
}

/** A tree's leaves (p, q): (1, β + A) for a tensor's block, (−m, β + T) for the table's, (0, 1) past the blocks. */
function treeLeaves(engine: ProverEngine, tree: Tree, tensors: readonly Tensor[], minusM: Tensor, table: Tensor, beta: bigint): { p: Tensor; q: Tensor } {
  return engine.fractionLeaves(
    tree.blocks.map((b) => (b.member === TABLE_BLOCK ? table : tensors[b.member])),
    tree.blocks.map((b) => (b.member === TABLE_BLOCK ? minusM : null)),
    bigIntsToBytes([beta]),
    2 ** tree.depth,
  );
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
  const minusM = m.tensor.scale(bigIntsToBytes([neg(1n)]));
  const layers = trees.map((tree) => buildLayers(engine, treeLeaves(engine, tree, tensors.map((t) => t.tensor), minusM, table, beta), tree.depth));
  for (const t of [table, minusM]) t.dispose();
  const scalar = (t: Tensor) => bytesToBigInt(t.toBytes());
  const roots = layers.map((l) => ({ p: commitScalar(ctx, scalar(l[0].p)), q: commitScalar(ctx, scalar(l[0].q)) }));
  transcript.absorbPoints("lookup/roots", roots.flatMap((r) => [r.p.point, r.q.point]));

  // Σ_trees P/Q = 0: accumulate (a, b) ← (a·Q_i + P_i·b, b·Q_i), then a = 0.
  const products: G1Point[] = [];
  const productProofs: ProductProof[] = [];
  const product = (x: OpenScalar, y: CommittedScalar): CommittedScalar => {
    const z = commitScalar(ctx, mul(x.value, y.value));
    products.push(z.point);
    transcript.absorbPoints("lookup/product", [z.point]);
    productProofs.push(proveProduct(ctx, x, y, z));
    return z;
  };
  let a: OpenScalar = roots[0].p;
  let b: CommittedScalar = roots[0].q;
  for (let i = 1; i < trees.length; i++) {
    const aq = product(a, roots[i].q);
    const pb = product(roots[i].p, b);
    if (i < trees.length - 1) b = product(b, roots[i].q);
    a = linear([
      [1n, aq],
      [1n, pb],
    ]);
  }
  const sum = proveZero(ctx, a.blind);

  // The descent: claims (p, q) on every tree's layer j at the common point r.
  let current: { p: OpenScalar; q: OpenScalar }[] = roots;
  let point: bigint[] = [];
  const layerProofs: SumcheckProof[] = [];
  const leafProofs: LeafProof[] = new Array(trees.length);
  const maxDepth = Math.max(...trees.map((t) => t.depth));
  for (let j = 0; j < maxDepth; j++) {
    const active = trees.map((t, i) => i).filter((i) => trees[i].depth > j);
    const lambda = transcript.challenge("lookup/layer/lambda");
    const factors = active.flatMap((i) => engine.gkrFactors(layers[i][j + 1].p, layers[i][j + 1].q, bigIntsToBytes([lambda])));
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
      for (const t of [layers[i][j + 1].p, layers[i][j + 1].q]) t.dispose();
    }
  }
  return {
    multiplicities: m.commitment,
    roots: roots.flatMap((r) => [r.p.point, r.q.point]),
    products,
    productProofs,
    sum,
    layers: layerProofs,
    leaves: leafOrder(trees).map((i) => leafProofs[i]),
  };
}

/**
 * A tree's leaf check at z: the leaves' MLEs are Σ_blocks w_b·(block's MLE at z's low vars) plus
 * the padding's (p = 0, q = 1: weight 1 − Σ w_b), w_b = eq(z_high, b's place). The prover commits
 * each block's value (A~, or m~ for the table) and shows both sums with proofs of equality.
 */
function proveLeaves(ctx: ProverContext, claims: ProverClaims, tree: Tree, tensors: readonly CommittedTensor[], m: CommittedTensor, range: Range, beta: bigint, z: readonly bigint[], at: { p: OpenScalar; q: OpenScalar }): LeafProof {
  const values = tree.blocks.map((b) => commitScalar(ctx, evaluateCommitted(ctx, b.member === TABLE_BLOCK ? m : tensors[b.member], z.slice(0, b.vars))));
  ctx.transcript.absorbPoints("lookup/leaf", values.map((v) => v.point));
  let pBlind = at.p.blind;
  let qBlind = at.q.blind;
  tree.blocks.forEach((b, k) => {
    const w = blockWeight(z, b);
    if (b.member === TABLE_BLOCK) pBlind = add(pBlind, mul(w, values[k].blind));
    else qBlind = sub(qBlind, mul(w, values[k].blind));
    claims.add(b.member === TABLE_BLOCK ? m : tensors[b.member], z.slice(0, b.vars), values[k]);
  });
  return { values: values.map((v) => v.point), p: proveZero(ctx, pBlind), q: proveZero(ctx, qBlind) };
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
  if (proof.roots.length !== 2 * trees.length || proof.products.length !== shape.products || proof.productProofs.length !== shape.products) throw new Rejection(`${what}: wrong number of roots or products`);
  if (proof.layers.length !== shape.layers || proof.leaves.length !== trees.length) throw new Rejection(`${what}: wrong number of layers or leaf checks`);
  const { transcript } = ctx;
  transcript.absorbU32s("lookup/range", [range.bits]).absorbScalars("lookup/lo", [fr(range.lo)]);
  absorbCommitment(transcript, "lookup/m", proof.multiplicities);
  const beta = transcript.challenge("lookup/beta");
  transcript.absorbPoints("lookup/roots", proof.roots);
  const roots = trees.map((_, i) => ({ p: proof.roots[2 * i], q: proof.roots[2 * i + 1] }));

  let next = 0;
  const product = (x: Lin, y: G1Point): G1Point => {
    const k = next++;
    const z = proof.products[k];
    transcript.absorbPoints("lookup/product", [z]);
    verifyProduct(ctx, x, y, Lin.of(z), proof.productProofs[k], `${what}: fraction sum, product ${k}`);
    return z;
  };
  let a = Lin.of(roots[0].p);
  let b = roots[0].q;
  for (let i = 1; i < trees.length; i++) {
    const aq = product(a, roots[i].q);
    const pb = product(Lin.of(roots[i].p), b);
    if (i < trees.length - 1) b = product(Lin.of(b), roots[i].q);
    a = Lin.of(aq).add(pb);
  }
  verifyZero(ctx, a, proof.sum, `${what}: fraction sum`);

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
  if (leaf.values.length !== tree.blocks.length) throw new Rejection(`${what}: malformed leaf check`);
  ctx.transcript.absorbPoints("lookup/leaf", leaf.values);
  // p~(z) = Σ_tensors w_b − w_T·m~ and q~(z) = Σ_tensors w_b·(β + A~) + w_T·(β + T~) + (1 − Σ w_b):
  // at − (the sum) must be a multiple of H, for p and for q.
  const P = new Lin().addLin(at.p);
  const Q = new Lin().addLin(at.q);
  let padding = 1n;
  tree.blocks.forEach((b, k) => {
    const w = blockWeight(z, b);
    const low = z.slice(0, b.vars);
    padding = sub(padding, w);
    if (b.member === TABLE_BLOCK) {
      P.add(leaf.values[k], w);
      Q.add(g, neg(mul(w, add(beta, tableValue(range, low)))));
      claims.add(m, low, leaf.values[k]);
    } else {
      P.add(g, neg(w));
      Q.add(g, neg(mul(w, beta))).add(leaf.values[k], neg(w));
      claims.add(tensors[b.member], low, leaf.values[k]);
    }
  });
  Q.add(g, neg(padding));
  verifyZero(ctx, P, leaf.p, `${what}: leaves (p)`);
  verifyZero(ctx, Q, leaf.q, `${what}: leaves (q)`);
}

/** How many committed products the fraction sum of the trees' roots takes (3 per tree past the first, 2 for the last) and how many layers. */
function layout(trees: readonly Tree[]): { products: number; layers: number } {
  return { products: Math.max(0, 3 * trees.length - 4), layers: Math.max(...trees.map((t) => t.depth)) };
}

const dummyLayer = (j: number, active: number) => layerStatement(j, active, 1n, new Array<bigint>(j).fill(0n));

export const lookupCodec = {
  write(w: ProofWriter, p: LookupProof): void {
    hyraxCodec.writeCommitment(w, p.multiplicities);
    w.points(p.roots);
    w.points(p.products);
    p.productProofs.forEach((pp) => sigmaCodec.writeProduct(w, pp));
    sigmaCodec.writeZero(w, p.sum);
    p.layers.forEach((s) => sumcheckCodec.write(w, s));
    for (const leaf of p.leaves) {
      w.points(leaf.values);
      sigmaCodec.writeZero(w, leaf.p);
      sigmaCodec.writeZero(w, leaf.q);
    }
  },
  /** Refuses a range it cannot check before reading, and m of another shape before decoding its rows. */
  read(r: ProofReader, tensors: readonly TensorCommitment[], range: Range): LookupProof {
    refuseUncheckableRange(range);
    const multiplicities = hyraxCodec.readCommitment(r, "lookup.m", tableShape(range.bits));
    const trees = lookupTrees(tensors, range.bits);
    const shape = layout(trees);
    const roots = r.points(2 * trees.length, "lookup.roots");
    const products = r.points(shape.products, "lookup.products");
    const productProofs = Array.from({ length: shape.products }, () => sigmaCodec.readProduct(r));
    const sum = sigmaCodec.readZero(r);
    const layers = Array.from({ length: shape.layers }, (_, j) => sumcheckCodec.read(r, dummyLayer(j, trees.filter((t) => t.depth > j).length)));
    const leaves = leafOrder(trees).map((i): LeafProof => ({ values: r.points(trees[i].blocks.length, `lookup.leaf[${i}].values`), p: sigmaCodec.readZero(r), q: sigmaCodec.readZero(r) }));
    return { multiplicities, roots, products, productProofs, sum, layers, leaves };
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
