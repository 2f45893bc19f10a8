/**
 * Evaluation claims and their reduction to openings (docs/protocol.md §3.8).
 *
 * Protocols leave claims "T~(z) is the value inside commitment C_y". A claim set collects them in
 * order and discharges them together, per commitment shape (first-seen order):
 *  - if every claim of the shape is at one point, one batched Hyrax opening covers them all;
 *  - otherwise, with α from the transcript and claim c (tensor k_c, point z_c, value y_c) weighted
 *    by α^c, one sumcheck of Σ_x Σ_k T_k(x)·W_k(x) = Σ_c α^c·y_c, W_k = Σ_{c: k_c = k} α^c·eq(z_c, ·)
 *    public (the verifier evaluates W_k(r) in O(claims·n)), leaves every tensor of the shape claimed at
 *    one common point r, and one batched opening follows.
 * So a proof has at most one reduction and one opening per distinct tensor shape. Prover and
 * verifier must add the same claims in the same order; the order fixes the proof layout.
 */
import type { G1Point } from "../crypto/bn254";
import { bigIntsToBytes } from "../crypto/bn254";
import { add, eqEval, mul, powers } from "../crypto/fr";
import { ProofFormatError, type ProofReader, type ProofWriter } from "./codec";
import { type OpenScalar, type ProverContext, Rejection, type VerifierContext } from "./context";
import { Lin } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, hyraxCodec, numVars, proveEvaluations, sameShape, verifyEvaluations } from "./hyrax";
import type { Tensor } from "./backend";
import type { DotProductProof } from "./ipa";
import { type SumcheckProof, type SumcheckStatement, proveSumcheck, sumcheckCodec, verifySumcheck } from "./sumcheck";

export interface ClaimsProof {
  /** One reduction sumcheck per shape whose claims are at more than one point, in shape order. */
  readonly reductions: SumcheckProof[];
  /** One opening per shape, in shape order. */
  readonly openings: DotProductProof[];
}

/** Σ_k T_k·W_k over n variables for `tensors` tensors (factors T_0, W_0, T_1, W_1, …; W public). */
const reductionStatement = (n: number, tensors: number): SumcheckStatement => ({
  numVars: n,
  terms: Array.from({ length: tensors }, (_, k) => ({ coeff: 1n, factors: [2 * k, 2 * k + 1] })),
  publicFactors: Array.from({ length: 2 * tensors }, (_, j) => j % 2 === 1),
});

const samePoint = (a: readonly bigint[], b: readonly bigint[]) => a.length === b.length && a.every((v, i) => v === b[i]);

interface Claim<V> {
  readonly point: bigint[];
  readonly value: V;
}

/** Claims grouped by shape (first-seen order), tensors in first-seen order within a group. */
class ClaimGroups<T, V> {
  readonly groups: { shape: TensorShape; tensors: { tensor: T; claims: Claim<V>[] }[] }[] = [];

  add(tensor: T, shape: TensorShape, point: readonly bigint[], value: V): void {
    let g = this.groups.find((x) => sameShape(x.shape, shape));
    if (!g) this.groups.push((g = { shape, tensors: [] }));
    let e = g.tensors.find((x) => x.tensor === tensor);
    if (!e) g.tensors.push((e = { tensor, claims: [] }));
    e.claims.push({ point: [...point], value });
  }

  static needsReduction<T, V>(g: { tensors: { tensor: T; claims: Claim<V>[] }[] }): boolean {
    const first = g.tensors[0].claims[0].point;
    return g.tensors.some((e) => e.claims.some((c) => !samePoint(c.point, first)));
  }
}

export class ProverClaims {
  private readonly claims = new ClaimGroups<CommittedTensor, OpenScalar>();

  add(tensor: CommittedTensor, point: readonly bigint[], value: OpenScalar): void {
    if (point.length !== numVars(tensor.commitment)) throw new RangeError(`claim at a ${point.length}-coordinate point on a ${numVars(tensor.commitment)}-variable tensor`);
    this.claims.add(tensor, tensor.commitment, point, value);
  }

  prove(ctx: ProverContext): ClaimsProof {
    const reductions: SumcheckProof[] = [];
    const openings: DotProductProof[] = [];
    for (const g of this.claims.groups) {
      if (!ClaimGroups.needsReduction(g)) {
        const point = g.tensors[0].claims[0].point;
        const pairs = g.tensors.flatMap((e) => e.claims.map((c) => ({ tensor: e.tensor, value: c.value })));
        openings.push(proveEvaluations(ctx, pairs.map((p) => p.tensor), point, pairs.map((p) => p.value)));
        continue;
      }
      const total = g.tensors.reduce((n, e) => n + e.claims.length, 0);
      const alpha = powers(ctx.transcript.challenge("claims/alpha"), total + 1).slice(1);
      let c = 0;
      let claim = { value: 0n, blind: 0n };
      const factors: Tensor[] = [];
      // Many claims of a shape share a point (one relation's sumcheck leaves all its tensors at one):
      // each point's eq table is computed once.
      const eqTables = new Map<string, Tensor>();
      const eqAt = (point: readonly bigint[]) => {
        const key = point.join(",");
        let eq = eqTables.get(key);
        if (!eq) eqTables.set(key, (eq = ctx.engine.eq(bigIntsToBytes(point))));
        return eq;
      };
      for (const e of g.tensors) {
        let weights: Tensor | undefined;
        for (const cl of e.claims) {
          const term = eqAt(cl.point).scale(bigIntsToBytes([alpha[c]]));
          if (weights) {
            const sum = weights.add(term);
            for (const t of [weights, term]) t.dispose();
            weights = sum;
          } else weights = term;
          claim = { value: add(claim.value, mul(alpha[c], cl.value.value)), blind: add(claim.blind, mul(alpha[c], cl.value.blind)) };
          c++;
        }
        factors.push(e.tensor.tensor.flat(), weights!);
      }
      for (const eq of eqTables.values()) eq.dispose();
      const res = proveSumcheck(ctx, reductionStatement(numVars(g.shape), g.tensors.length), factors, claim);
      // The weights and flat copies are this loop's own (the sumcheck frees only its folded copies).
      factors.forEach((f, i) => {
        if (f !== g.tensors[i >> 1].tensor.tensor) f.dispose();
      });
      reductions.push(res.proof);
      openings.push(proveEvaluations(ctx, g.tensors.map((e) => e.tensor), res.point, g.tensors.map((_, k) => res.evals[2 * k]!)));
    }
    return { reductions, openings };
  }
}

export class VerifierClaims {
  private readonly claims = new ClaimGroups<TensorCommitment, Lin>();

  add(commitment: TensorCommitment, point: readonly bigint[], value: Lin | G1Point): void {
    if (point.length !== numVars(commitment)) throw new Rejection(`claim at a ${point.length}-coordinate point on a ${numVars(commitment)}-variable tensor`);
    this.claims.add(commitment, commitment, point, value instanceof Lin ? value : Lin.of(value));
  }

  /** The proof layout these claims imply: per reduced shape its variables and tensor count; per shape one opening. */
  layout(): { reductions: { vars: number; tensors: number }[]; openings: TensorShape[] } {
    return {
      reductions: this.claims.groups.filter((g) => ClaimGroups.needsReduction(g)).map((g) => ({ vars: numVars(g.shape), tensors: g.tensors.length })),
      openings: this.claims.groups.map((g) => g.shape),
    };
  }

  verify(ctx: VerifierContext, proof: ClaimsProof, what = "claims"): void {
    let nextReduction = 0;
    this.claims.groups.forEach((g, i) => {
      const opening = proof.openings[i];
      if (!opening) throw new Rejection(`${what}: missing opening`);
      if (!ClaimGroups.needsReduction(g)) {
        const point = g.tensors[0].claims[0].point;
        const pairs = g.tensors.flatMap((e) => e.claims.map((c) => ({ tensor: e.tensor, value: c.value })));
        verifyEvaluations(ctx, pairs.map((p) => p.tensor), point, pairs.map((p) => p.value), opening, `${what}: opening ${i}`);
        return;
      }
      const reduction = proof.reductions[nextReduction++];
      if (!reduction) throw new Rejection(`${what}: missing claim reduction`);
      const total = g.tensors.reduce((n, e) => n + e.claims.length, 0);
      const alpha = powers(ctx.transcript.challenge("claims/alpha"), total + 1).slice(1);
      const claim = new Lin();
      const weightClaims: { point: bigint[]; alpha: bigint }[][] = [];
      let c = 0;
      for (const e of g.tensors) {
        const list: { point: bigint[]; alpha: bigint }[] = [];
        for (const cl of e.claims) {
          claim.addLin(cl.value, alpha[c]);
          list.push({ point: cl.point, alpha: alpha[c] });
          c++;
        }
        weightClaims.push(list);
      }
      const res = verifySumcheck(ctx, reductionStatement(numVars(g.shape), g.tensors.length), claim, reduction, (j, r) =>
        weightClaims[(j - 1) / 2].reduce((acc, w) => add(acc, mul(w.alpha, eqEval(w.point, r))), 0n), `${what}: reduction ${i}`);
      verifyEvaluations(ctx, g.tensors.map((e) => e.tensor), res.point, g.tensors.map((_, k) => Lin.of(res.evals[2 * k]!)), opening, `${what}: opening ${i}`);
    });
    if (nextReduction !== proof.reductions.length || proof.openings.length !== this.claims.groups.length) throw new Rejection(`${what}: unexpected reductions or openings`);
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
    const reductions = layout.reductions.map((x) => sumcheckCodec.read(r, reductionStatement(x.vars, x.tensors)));
    const no = r.u32("claims.openings", layout.openings.length);
    if (no !== layout.openings.length) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `claims: expected ${layout.openings.length} openings, got ${no}`);
    return { reductions, openings: layout.openings.map((shape) => hyraxCodec.readOpening(r, shape)) };
  },
};
