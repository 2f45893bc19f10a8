/**
 * logUp range checks (docs/protocol.md §3.10): zkLLM's tlookup over the table T_j = lo + j,
 * j < 2^bits. For looked-up tensors A_1…A_t (every entry in [lo, lo + 2^bits)) and multiplicities m
 * (m_j = how often lo + j occurs among all entries):
 *
 *   Σ_i Σ_x 1/(β + A_i(x)) = Σ_j m_j/(β + T_j)           (Haböck, "Multivariate lookups based on
 *                                                          logarithmic derivatives", 2022)
 *
 * The prover commits m, then (after β) one inverse tensor per group of one or two same-shaped
 * looked-up tensors, u_g = 1/Π_{i∈g}(β + A_i), and w = 1/(β + T), and the group sums
 * S_g = Σ_x Σ_{i∈g} 1/(β + A_i(x)) as scalars. One sumcheck per group proves u_g·Π(β + A_i) = 1
 * everywhere and the sum (`tensorStatement`); one over the table proves
 *   Σ_j [eq(τ,j)·(w·T + β·w)(j) + α'·(m·w)(j)] = 1 + α'·Σ_i S_i,
 * with T~(r) = lo + Σ_k 2^k·r_k evaluated by the verifier in closed form. The table and the tensors
 * have their own variable counts, so a table larger or smaller than the tensors is fine. The
 * remaining claims on u_i, A_i, w, m go to the claim set.
 *
 * Values wider than one table are split into limbs (`splitLimbs`): the limbs are committed and
 * range-checked, and their recomposition A = lo + Σ_k 2^(bits·k)·L_k is a linear relation.
 */
import { type G1Point, bytesToBigInt } from "../crypto/bn254";
import { add, fr, mul, neg, powers } from "../crypto/fr";
import type { ProverEngine, Tensor } from "./backend";
import type { ProofReader, ProofWriter } from "./codec";
import { type CommittedScalar, type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import type { ProverClaims, VerifierClaims } from "./claims";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, absorbCommitment, commitTensor, constantTensor, hyraxCodec, numVars, sameShape } from "./hyrax";
import { type SumcheckProof, type SumcheckStatement, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

export const MAX_TABLE_BITS = 20;

export interface Range {
  /** Lowest value in the range (may be negative: an element r − |lo|). */
  readonly lo: bigint;
  /** The table has 2^bits entries: lo … lo + 2^bits − 1. */
  readonly bits: number;
}

export interface LookupProof {
  readonly multiplicities: TensorCommitment;
  readonly inverses: TensorCommitment[];
  readonly tableInverse: TensorCommitment;
  readonly sums: G1Point[];
  readonly tensorChecks: SumcheckProof[];
  readonly tableCheck: SumcheckProof;
}

function checkRange(range: Range): void {
  if (!Number.isInteger(range.bits) || range.bits < 1 || range.bits > MAX_TABLE_BITS) throw new RangeError(`table bits must be 1 to ${MAX_TABLE_BITS}`);
}

/**
 * The tensor side for a group of one or two same-shaped tensors, u = 1/Π_i(β + A_i):
 *   one:  Σ_x [eq(τ,x)·(u·A + β·u) + α·u] = 1 + α·S
 *   two:  Σ_x [eq(τ,x)·u·(β + A_1)(β + A_2) + α·u·(2β + A_1 + A_2)] = 1 + α·S
 * (S = Σ_x Σ_i 1/(β + A_i(x)) in both). Pairing halves the full-width inverse commitments.
 */
const tensorStatement = (n: number, group: number, tau: bigint[], beta: bigint, alpha: bigint): SumcheckStatement =>
  group === 1
    ? {
        numVars: n,
        terms: [
          { coeff: 1n, factors: [0, 1], eq: true },
          { coeff: beta, factors: [0], eq: true },
          { coeff: alpha, factors: [0] },
        ],
        publicFactors: [false, false],
        eqPoint: tau,
      }
    : {
        numVars: n,
        terms: [
          { coeff: 1n, factors: [0, 1, 2], eq: true },
          { coeff: beta, factors: [0, 1], eq: true },
          { coeff: beta, factors: [0, 2], eq: true },
          { coeff: mul(beta, beta), factors: [0], eq: true },
          { coeff: mul(2n, mul(alpha, beta)), factors: [0] },
          { coeff: alpha, factors: [0, 1] },
          { coeff: alpha, factors: [0, 2] },
        ],
        publicFactors: [false, false, false],
        eqPoint: tau,
      };

/** Pairs same-shaped tensors in order (each with the next unpaired one of its shape); the rest stay single. */
export function lookupGroups(shapes: readonly { logRows: number; logCols: number }[]): number[][] {
  const used = new Array(shapes.length).fill(false);
  const groups: number[][] = [];
  for (let i = 0; i < shapes.length; i++) {
    if (used[i]) continue;
    used[i] = true;
    const j = shapes.findIndex((s, k) => k > i && !used[k] && sameShape(s, shapes[i]));
    if (j >= 0) {
      used[j] = true;
      groups.push([i, j]);
    } else groups.push([i]);
  }
  return groups;
}

const tableStatement = (bits: number, tau: bigint[], beta: bigint, alpha: bigint): SumcheckStatement => ({
  numVars: bits,
  terms: [
    { coeff: 1n, factors: [0, 1], eq: true },
    { coeff: beta, factors: [0], eq: true },
    { coeff: alpha, factors: [2, 0] },
  ],
  publicFactors: [false, true, false],
  eqPoint: tau,
});

/**
 * The table-side tensors (m, w) are committed as 2^TABLE_ROW_BITS wide rows at most: few row
 * commitments in the proof and few, large MSMs for the prover; the price is a key as wide as the table.
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

function tableTensor(engine: ProverEngine, range: Range): Tensor {
  const lo = BigInt.asIntN(64, range.lo);
  if (lo !== range.lo) throw new RangeError("table start must fit in 64 bits");
  return engine.fromInts(BigInt64Array.from({ length: 1 << range.bits }, (_, j) => lo + BigInt(j)));
}

/** Multiplicities of lo + j among the entries; throws if an entry is outside the range. */
export function multiplicities(tensors: readonly Tensor[], range: Range): Int32Array {
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

/**
 * Proves every entry of every tensor lies in the range. `counts` overrides the multiplicities (tests
 * use it to play a cheating prover).
 */
export function proveRange(ctx: ProverContext, claims: ProverClaims, tensors: readonly CommittedTensor[], range: Range, counts?: Int32Array): LookupProof {
  checkRange(range);
  if (tensors.length === 0) throw new RangeError("range check of no tensors");
  const m = commitTensor(ctx, ctx.engine.fromInts(counts ?? multiplicities(tensors.map((t) => t.tensor), range)), tableShape(range.bits));
  ctx.transcript.absorbU32s("lookup/range", [range.bits]).absorbScalars("lookup/lo", [fr(range.lo)]);
  absorbCommitment(ctx.transcript, "lookup/m", m.commitment);
  const beta = ctx.transcript.challenge("lookup/beta");

  const groups = lookupGroups(tensors.map((t) => t.commitment));
  const shifted = tensors.map((t) => t.tensor.flat().add(constantTensor(ctx.engine, beta, t.tensor.length)));
  const inverses = groups.map((g) => {
    const denominator = g.length === 1 ? shifted[g[0]] : shifted[g[0]].mul(shifted[g[1]]);
    return commitTensor(ctx, denominator.batchInverse(), tensors[g[0]].commitment);
  });
  const table = tableTensor(ctx.engine, range);
  const tableInv = commitTensor(ctx, table.add(constantTensor(ctx.engine, beta, table.length)).batchInverse(), tableShape(range.bits));
  // S_g = Σ_x Σ_{i∈g} 1/(β + A_i(x)) = Σ_x u_g·(numerator): 1 for one tensor, (β + A_1) + (β + A_2) for two.
  const sums: CommittedScalar[] = groups.map((g, k) =>
    commitScalar(ctx, bytesToBigInt(g.length === 1 ? inverses[k].tensor.sum() : inverses[k].tensor.flat().innerProduct(shifted[g[0]].add(shifted[g[1]])))),
  );
  inverses.forEach((u, i) => absorbCommitment(ctx.transcript, `lookup/u${i}`, u.commitment));
  absorbCommitment(ctx.transcript, "lookup/w", tableInv.commitment);
  ctx.transcript.absorbPoints("lookup/sums", sums.map((s) => s.point));
  const tensorChecks = groups.map((g, k) => {
    const n = numVars(tensors[g[0]].commitment);
    const tau = ctx.transcript.challenges("lookup/tau", n);
    const alpha = ctx.transcript.challenge("lookup/alpha");
    const claim = { value: add(1n, mul(alpha, sums[k].value)), blind: mul(alpha, sums[k].blind) };
    const res = proveSumcheck(ctx, tensorStatement(n, g.length, tau, beta, alpha), [inverses[k].tensor.flat(), ...g.map((i) => tensors[i].tensor.flat())], claim);
    claims.add(inverses[k], res.point, res.evals[0]!);
    g.forEach((i, j) => claims.add(tensors[i], res.point, res.evals[1 + j]!));
    return res.proof;
  });
  const tau = ctx.transcript.challenges("lookup/tau", range.bits);
  const alpha = ctx.transcript.challenge("lookup/alpha");
  const total = sums.reduce((acc, s) => ({ value: add(acc.value, s.value), blind: add(acc.blind, s.blind) }), { value: 0n, blind: 0n });
  const res = proveSumcheck(ctx, tableStatement(range.bits, tau, beta, alpha), [tableInv.tensor.flat(), table, m.tensor.flat()], {
    value: add(1n, mul(alpha, total.value)),
    blind: mul(alpha, total.blind),
  });
  claims.add(tableInv, res.point, res.evals[0]!);
  claims.add(m, res.point, res.evals[2]!);
  return {
    multiplicities: m.commitment,
    inverses: inverses.map((u) => u.commitment),
    tableInverse: tableInv.commitment,
    sums: sums.map((s) => s.point),
    tensorChecks,
    tableCheck: res.proof,
  };
}

export function verifyRange(ctx: VerifierContext, claims: VerifierClaims, tensors: readonly TensorCommitment[], range: Range, proof: LookupProof, what = "range check"): void {
  try {
    checkRange(range);
  } catch (e) {
    throw new Rejection(`${what}: ${(e as Error).message}`);
  }
  const tableDims = tableShape(range.bits);
  if (!sameShape(proof.multiplicities, tableDims) || !sameShape(proof.tableInverse, tableDims)) throw new Rejection(`${what}: table commitments have the wrong shape`);
  const groups = lookupGroups(tensors);
  if (proof.inverses.length !== groups.length || proof.inverses.some((u, k) => !sameShape(u, tensors[groups[k][0]]))) throw new Rejection(`${what}: inverse commitments do not match the tensors`);
  if (proof.sums.length !== groups.length || proof.tensorChecks.length !== groups.length) throw new Rejection(`${what}: wrong number of sums`);
  ctx.transcript.absorbU32s("lookup/range", [range.bits]).absorbScalars("lookup/lo", [fr(range.lo)]);
  absorbCommitment(ctx.transcript, "lookup/m", proof.multiplicities);
  const beta = ctx.transcript.challenge("lookup/beta");
  proof.inverses.forEach((u, i) => absorbCommitment(ctx.transcript, `lookup/u${i}`, u));
  absorbCommitment(ctx.transcript, "lookup/w", proof.tableInverse);
  ctx.transcript.absorbPoints("lookup/sums", proof.sums);
  groups.forEach((g, k) => {
    const n = numVars(tensors[g[0]]);
    const tau = ctx.transcript.challenges("lookup/tau", n);
    const alpha = ctx.transcript.challenge("lookup/alpha");
    const claim = Lin.of(ctx.key.g).add(proof.sums[k], alpha);
    const res = verifySumcheck(ctx, tensorStatement(n, g.length, tau, beta, alpha), claim, proof.tensorChecks[k], undefined, `${what}: tensors ${g.join(",")}`);
    claims.add(proof.inverses[k], res.point, res.evals[0]!);
    g.forEach((i, j) => claims.add(tensors[i], res.point, res.evals[1 + j]!));
  });
  const tau = ctx.transcript.challenges("lookup/tau", range.bits);
  const alpha = ctx.transcript.challenge("lookup/alpha");
  const claim = Lin.of(ctx.key.g);
  for (const s of proof.sums) claim.add(s, alpha);
  const res = verifySumcheck(ctx, tableStatement(range.bits, tau, beta, alpha), claim, proof.tableCheck, (_j, r) => tableValue(range, r), `${what}: table`);
  claims.add(proof.tableInverse, res.point, res.evals[0]!);
  claims.add(proof.multiplicities, res.point, res.evals[2]!);
}

export const lookupCodec = {
  write(w: ProofWriter, p: LookupProof): void {
    hyraxCodec.writeCommitment(w, p.multiplicities);
    p.inverses.forEach((u) => hyraxCodec.writeCommitment(w, u));
    hyraxCodec.writeCommitment(w, p.tableInverse);
    w.points(p.sums);
    p.tensorChecks.forEach((s) => sumcheckCodec.write(w, s));
    sumcheckCodec.write(w, p.tableCheck);
  },
  read(r: ProofReader, tensors: readonly TensorCommitment[], range: Range): LookupProof {
    const multiplicities = hyraxCodec.readCommitment(r, "lookup.m");
    const groups = lookupGroups(tensors);
    const inverses = groups.map((_, i) => hyraxCodec.readCommitment(r, `lookup.u[${i}]`));
    const tableInverse = hyraxCodec.readCommitment(r, "lookup.w");
    const sums = r.points(groups.length, "lookup.sums");
    const zeros = (n: number) => new Array<bigint>(n).fill(0n);
    const tensorChecks = groups.map((g) => sumcheckCodec.read(r, tensorStatement(numVars(tensors[g[0]]), g.length, zeros(numVars(tensors[g[0]])), 0n, 0n)));
    const tableCheck = sumcheckCodec.read(r, tableStatement(range.bits, zeros(range.bits), 0n, 0n));
    return { multiplicities, inverses, tableInverse, sums, tensorChecks, tableCheck };
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

