/**
 * Evaluation claims and their reduction to openings (docs/protocol.md §3.8).
 *
 * Protocols leave claims "T~(z) is the value inside commitment C_y". A claim set collects them in
 * order and discharges them together:
 *  1. per tensor, k > 1 claims at points z_1…z_k become one: with α from the transcript, a sumcheck
 *     of Σ_x T(x)·W(x) = Σ_i α^i·y_i, W = Σ_i α^i·eq(z_i, ·) public (the verifier evaluates W(r) in
 *     O(k·n)), leaves the single claim T~(r);
 *  2. tensors of one shape claimed at one point share one Hyrax opening (random combination).
 * Prover and verifier must add the same claims in the same order; the order fixes the proof layout.
 */
import { FrTensor } from "../../native";
import type { G1Point } from "../crypto/bn254";
import { bigIntsToBytes } from "../crypto/bn254";
import { add, eqEval, mul, powers } from "../crypto/fr";
import { ProofFormatError, type ProofReader, type ProofWriter } from "./codec";
import { type OpenScalar, type ProverContext, Rejection, type VerifierContext } from "./context";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, hyraxCodec, numVars, proveEvaluations, verifyEvaluations } from "./hyrax";
import type { DotProductProof } from "./ipa";
import { type SumcheckProof, type SumcheckStatement, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

export interface ClaimsProof {
  /** One reduction sumcheck per tensor with more than one claim, in order of first claim. */
  readonly reductions: SumcheckProof[];
  /** One opening per (shape, point) group, in order of first claim. */
  readonly openings: DotProductProof[];
}

const reductionStatement = (n: number): SumcheckStatement => ({ numVars: n, terms: [{ coeff: 1n, factors: [0, 1] }], publicFactors: [false, true] });

function samePoint(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Groups claims for opening, preserving first-seen order: single claims of one shape at one point
 * share a group; a reduced claim (its point is fresh randomness) always opens alone.
 */
function groupByPoint<T extends { shape: { logRows: number; logCols: number }; point: readonly bigint[]; reduced: boolean }>(items: T[]): T[][] {
  const groups: T[][] = [];
  for (const it of items) {
    const g = it.reduced
      ? undefined
      : groups.find((gr) => !gr[0].reduced && gr[0].shape.logRows === it.shape.logRows && gr[0].shape.logCols === it.shape.logCols && samePoint(gr[0].point, it.point));
    if (g) g.push(it);
    else groups.push([it]);
  }
  return groups;
}

export class ProverClaims {
  private readonly entries: { tensor: CommittedTensor; claims: { point: bigint[]; value: OpenScalar }[] }[] = [];

  add(tensor: CommittedTensor, point: readonly bigint[], value: OpenScalar): void {
    if (point.length !== numVars(tensor.commitment)) throw new RangeError(`claim at a ${point.length}-coordinate point on a ${numVars(tensor.commitment)}-variable tensor`);
    let e = this.entries.find((x) => x.tensor === tensor);
    if (!e) this.entries.push((e = { tensor, claims: [] }));
    e.claims.push({ point: [...point], value });
  }

  prove(ctx: ProverContext): ClaimsProof {
    const reductions: SumcheckProof[] = [];
    const singles: { tensor: CommittedTensor; shape: CommittedTensor["commitment"]; point: bigint[]; value: OpenScalar; reduced: boolean }[] = [];
    for (const { tensor, claims } of this.entries) {
      if (claims.length === 1) {
        singles.push({ tensor, shape: tensor.commitment, point: claims[0].point, value: claims[0].value, reduced: false });
        continue;
      }
      const alpha = powers(ctx.transcript.challenge("claims/alpha"), claims.length + 1).slice(1);
      const n = numVars(tensor.commitment);
      let weights: FrTensor | undefined;
      claims.forEach((c, i) => {
        const term = FrTensor.eq(bigIntsToBytes(c.point)).scale(bigIntsToBytes([alpha[i]]));
        weights = weights ? weights.add(term) : term;
      });
      const claim = claims.reduce((acc, c, i) => ({ value: add(acc.value, mul(alpha[i], c.value.value)), blind: add(acc.blind, mul(alpha[i], c.value.blind)) }), { value: 0n, blind: 0n });
      const res = proveSumcheck(ctx, reductionStatement(n), [tensor.tensor.flat(), weights!], claim);
      reductions.push(res.proof);
      singles.push({ tensor, shape: tensor.commitment, point: res.point, value: res.evals[0]!, reduced: true });
    }
    const openings = groupByPoint(singles).map((g) => proveEvaluations(ctx, g.map((s) => s.tensor), g[0].point, g.map((s) => s.value)));
    return { reductions, openings };
  }
}

export class VerifierClaims {
  private readonly entries: { commitment: TensorCommitment; claims: { point: bigint[]; value: Lin }[] }[] = [];

  add(commitment: TensorCommitment, point: readonly bigint[], value: Lin | G1Point): void {
    if (point.length !== numVars(commitment)) throw new Rejection(`claim at a ${point.length}-coordinate point on a ${numVars(commitment)}-variable tensor`);
    let e = this.entries.find((x) => x.commitment === commitment);
    if (!e) this.entries.push((e = { commitment, claims: [] }));
    e.claims.push({ point: [...point], value: value instanceof Lin ? value : Lin.of(value) });
  }

  /** The proof layout these claims imply: which tensors need reductions, how many openings of which shape. */
  layout(): { reductions: number[]; openings: TensorCommitment[] } {
    const reductions: number[] = [];
    const singles: { shape: TensorCommitment; point: readonly bigint[]; reduced: boolean }[] = [];
    for (const { commitment, claims } of this.entries) {
      if (claims.length > 1) reductions.push(numVars(commitment));
      singles.push({ shape: commitment, point: claims[0].point, reduced: claims.length > 1 });
    }
    return { reductions, openings: groupByPoint(singles).map((g) => g[0].shape) };
  }

  verify(ctx: VerifierContext, proof: ClaimsProof, what = "claims"): void {
    let nextReduction = 0;
    const singles: { commitment: TensorCommitment; shape: TensorCommitment; point: bigint[]; value: Lin; reduced: boolean }[] = [];
    for (const { commitment, claims } of this.entries) {
      if (claims.length === 1) {
        singles.push({ commitment, shape: commitment, point: claims[0].point, value: claims[0].value, reduced: false });
        continue;
      }
      const reduction = proof.reductions[nextReduction++];
      if (!reduction) throw new Rejection(`${what}: missing claim reduction`);
      const alpha = powers(ctx.transcript.challenge("claims/alpha"), claims.length + 1).slice(1);
      const claim = new Lin();
      claims.forEach((c, i) => claim.addLin(c.value, alpha[i]));
      const res = verifySumcheck(ctx, reductionStatement(numVars(commitment)), claim, reduction, (_j, r) =>
        claims.reduce((acc, c, i) => add(acc, mul(alpha[i], eqEval(c.point, r))), 0n), `${what}: reduction`);
      singles.push({ commitment, shape: commitment, point: res.point, value: Lin.of(res.evals[0]!), reduced: true });
    }
    if (nextReduction !== proof.reductions.length) throw new Rejection(`${what}: unexpected claim reductions`);
    const groups = groupByPoint(singles);
    if (groups.length !== proof.openings.length) throw new Rejection(`${what}: expected ${groups.length} openings, got ${proof.openings.length}`);
    groups.forEach((g, i) => verifyEvaluations(ctx, g.map((s) => s.commitment), g[0].point, g.map((s) => s.value), proof.openings[i], `${what}: opening ${i}`));
  }
}

export const claimsCodec = {
  write(w: ProofWriter, p: ClaimsProof): void {
    w.u32(p.reductions.length);
    for (const r of p.reductions) sumcheckCodec.write(w, r);
    w.u32(p.openings.length);
    for (const o of p.openings) hyraxCodec.writeOpening(w, o);
  },
  /** Reads the layout `claims` implies (an opening is sized by its group's shape). */
  read(r: ProofReader, claims: VerifierClaims): ClaimsProof {
    const layout = claims.layout();
    const nr = r.u32("claims.reductions", layout.reductions.length);
    if (nr !== layout.reductions.length) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `claims: expected ${layout.reductions.length} reductions, got ${nr}`);
    const reductions = layout.reductions.map((n) => sumcheckCodec.read(r, reductionStatement(n)));
    const no = r.u32("claims.openings", layout.openings.length);
    if (no !== layout.openings.length) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `claims: expected ${layout.openings.length} openings, got ${no}`);
    return { reductions, openings: layout.openings.map((shape) => hyraxCodec.readOpening(r, shape)) };
  },
};
