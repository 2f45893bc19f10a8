/**
 * Zero-knowledge dot-product argument of logarithmic size (docs/protocol.md §3.6): for
 * C_x = ⟨x, G⟩ + ρ_x·H (G the key's first m = 2^k generators), C_y = y·g + ρ_y·H and a public
 * vector a, it proves ⟨x, a⟩ = y without revealing x or y.
 *
 * Bulletproofs' inner-product argument (Bünz et al. 2018, §3) with blinded cross terms, as in
 * Hyrax's log-size dot-product proof (Wahby et al. 2018, §A.2): with c a challenge and Q = c·g,
 * P = C_x + c·C_y = ⟨x, G⟩ + ⟨x, a⟩·Q + ρ·H. Each round halves x, a, G:
 *   L = ⟨x_lo, G_hi⟩ + ⟨x_lo, a_hi⟩·Q + λ·H,   R = ⟨x_hi, G_lo⟩ + ⟨x_hi, a_lo⟩·Q + μ·H   (λ, μ fresh)
 *   u ← transcript;  x' = u·x_lo + u⁻¹·x_hi,  a' = u⁻¹·a_lo + u·a_hi,  G' = u⁻¹·G_lo + u·G_hi,
 *   P' = u²·L + P + u⁻²·R.
 * At length 1, P̂ = x̂·(Ĝ + â·Q) + ρ̂·H, and a Schnorr proof of knowledge of (x̂, ρ̂) ends it, so x̂
 * is never sent. The verifier expands Ĝ = Σ s_j·G_j (s_j the product of u_k^±1 along j's bits) into
 * its single MSM. The caller binds C_x, C_y and a into the transcript beforehand.
 */
import type { G1Point } from "../crypto/bn254";
import { add, batchInverse, innerProduct, mul, neg, randomFr } from "../crypto/fr";
import { ProofFormatError, type ProofReader, type ProofWriter } from "./codec";
import { type OpenScalar, type GroupProverContext, Rejection, type VerifierContext } from "./context";
import { Lin } from "./group";

export interface DotProductProof {
  L: G1Point[];
  R: G1Point[];
  A: G1Point;
  z1: bigint;
  z2: bigint;
}

function log2Exact(m: number): number {
  const k = Math.log2(m);
  if (!Number.isInteger(k) || k < 0 || k > 30) throw new RangeError(`vector length must be a power of two, got ${m}`);
  return k;
}

export function proveDotProduct(
  ctx: GroupProverContext,
  x: readonly bigint[],
  xBlind: bigint,
  a: readonly bigint[],
  y: OpenScalar,
): DotProductProof {
  const m = x.length;
  log2Exact(m);
  if (a.length !== m || m > ctx.key.size) throw new RangeError(`dot product of length ${m} with a public vector of ${a.length} and ${ctx.key.size} generators`);
  const { G, H, g } = ctx.key;
  const c = ctx.transcript.challenge("ipa/c");
  let xs = x.slice();
  let as = a.slice();
  // coef[j]: the factor of the original G_j inside the folded generator j mod len (folding stays implicit).
  const coef = new Array<bigint>(m).fill(1n);
  let blind = add(xBlind, mul(c, y.blind));
  const L: G1Point[] = [];
  const R: G1Point[] = [];
  for (let len = m; len > 1; len >>= 1) {
    const half = len >> 1;
    const lam = randomFr();
    const mu = randomFr();
    const lPoints: G1Point[] = [];
    const lScalars: bigint[] = [];
    const rPoints: G1Point[] = [];
    const rScalars: bigint[] = [];
    for (let j = 0; j < m; j++) {
      const i = j % len;
      if (i >= half) {
        lPoints.push(G[j]);
        lScalars.push(mul(xs[i - half], coef[j]));
      } else {
        rPoints.push(G[j]);
        rScalars.push(mul(xs[i + half], coef[j]));
      }
    }
    const xLo = xs.slice(0, half);
    const xHi = xs.slice(half);
    const aLo = as.slice(0, half);
    const aHi = as.slice(half);
    lPoints.push(g, H);
    lScalars.push(mul(innerProduct(xLo, aHi), c), lam);
    rPoints.push(g, H);
    rScalars.push(mul(innerProduct(xHi, aLo), c), mu);
    const Lk = ctx.engine.msm(lPoints, lScalars);
    const Rk = ctx.engine.msm(rPoints, rScalars);
    L.push(Lk);
    R.push(Rk);
    ctx.transcript.absorbPoints("ipa/LR", [Lk, Rk]);
    const u = ctx.transcript.challenge("ipa/u");
    const [uInv] = batchInverse([u]);
    const u2 = mul(u, u);
    const uInv2 = mul(uInv, uInv);
    xs = xLo.map((v, i) => add(mul(u, v), mul(uInv, xHi[i])));
    as = aLo.map((v, i) => add(mul(uInv, v), mul(u, aHi[i])));
    for (let j = 0; j < m; j++) coef[j] = mul(coef[j], j % len >= half ? u : uInv);
    blind = add(blind, add(mul(u2, lam), mul(uInv2, mu)));
  }
  // P̂ = x̂·(Ĝ + â·Q) + ρ̂·H; Schnorr on the base B = Ĝ + â·Q and H.
  const d = randomFr();
  const s = randomFr();
  const A = ctx.engine.msm([...G.slice(0, m), g, H], [...coef.map((v) => mul(v, d)), mul(mul(d, as[0]), c), s]);
  ctx.transcript.absorbPoints("ipa/A", [A]);
  const e = ctx.transcript.challenge("ipa/e");
  return { L, R, A, z1: add(d, mul(e, xs[0])), z2: add(s, mul(e, blind)) };
}

/**
 * Adds to the verifier's equations that Cx (symbolic) holds x with ⟨x, a⟩ equal to the value held
 * by Cy. `a` may be given as its fold: aHat(s) must return Σ s_j·a_j for the folding weights s.
 */
export function verifyDotProduct(
  ctx: VerifierContext,
  Cx: Lin,
  Cy: Lin,
  a: readonly bigint[] | { length: number; fold: (u: readonly bigint[], uInv: readonly bigint[]) => bigint },
  proof: DotProductProof,
  what = "dot product",
): void {
  const m = a.length;
  const rounds = log2Exact(m);
  if (m > ctx.key.size) throw new Rejection(`${what}: ${m} columns exceed the key's ${ctx.key.size} generators`);
  if (proof.L.length !== rounds || proof.R.length !== rounds) throw new Rejection(`${what}: expected ${rounds} rounds, got ${proof.L.length}`);
  const { G, H, g } = ctx.key;
  const c = ctx.transcript.challenge("ipa/c");
  const us: bigint[] = [];
  for (let k = 0; k < rounds; k++) {
    ctx.transcript.absorbPoints("ipa/LR", [proof.L[k], proof.R[k]]);
    us.push(ctx.transcript.challenge("ipa/u"));
  }
  ctx.transcript.absorbPoints("ipa/A", [proof.A]);
  const e = ctx.transcript.challenge("ipa/e");
  if (us.some((u) => u === 0n)) throw new Rejection(`${what}: zero challenge`);
  const uInv = batchInverse(us);
  // s_j = Π_k (bit (rounds−1−k) of j ? u_k : u_k⁻¹): the weight of G_j in the folded generator.
  const s = new Array<bigint>(m).fill(1n);
  for (let k = 0; k < rounds; k++) {
    const bit = rounds - 1 - k;
    for (let j = 0; j < m; j++) s[j] = mul(s[j], (j >> bit) & 1 ? us[k] : uInv[k]);
  }
  const aHat = Array.isArray(a) ? innerProduct(s, a as bigint[]) : (a as { fold: (u: readonly bigint[], v: readonly bigint[]) => bigint }).fold(us, uInv);
  const eq = new Lin();
  for (let j = 0; j < m; j++) eq.add(G[j], mul(proof.z1, s[j]));
  eq.add(g, mul(mul(proof.z1, aHat), c)).add(H, proof.z2).add(proof.A, neg(1n));
  eq.addLin(Cx, neg(e)).addLin(Cy, neg(mul(e, c)));
  for (let k = 0; k < rounds; k++) {
    eq.add(proof.L[k], neg(mul(e, mul(us[k], us[k]))));
    eq.add(proof.R[k], neg(mul(e, mul(uInv[k], uInv[k]))));
  }
  ctx.equations.require(`${what}: inner-product argument fails`, eq);
}

export const ipaCodec = {
  write(w: ProofWriter, p: DotProductProof): void {
    for (let k = 0; k < p.L.length; k++) w.point(p.L[k]).point(p.R[k]);
    w.point(p.A).scalars([p.z1, p.z2]);
  },
  read(r: ProofReader, rounds: number): DotProductProof {
    if (rounds < 0 || rounds > 30) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `inner-product argument with ${rounds} rounds`);
    const L: G1Point[] = [];
    const R: G1Point[] = [];
    for (let k = 0; k < rounds; k++) {
      L.push(r.point(`ipa.L[${k}]`));
      R.push(r.point(`ipa.R[${k}]`));
    }
    return { L, R, A: r.point("ipa.A"), z1: r.scalar("ipa.z1"), z2: r.scalar("ipa.z2") };
  },
};
