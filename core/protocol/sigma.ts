/**
 * Σ-protocols over Pedersen commitments, made non-interactive with the shared transcript
 * (docs/protocol.md §3.5). The statement's commitments must already be bound by the transcript
 * (absorbed, or derived from absorbed data); each proof absorbs its own first message before its
 * challenge. All are honest-verifier zero-knowledge and special-sound (Schnorr; Wahby et al.,
 * "Doubly-efficient zkSNARKs without trusted setup" (Hyrax), §4 and Appendix A).
 */
import { type G1Point } from "../crypto/bn254";
import { add, mul, randomFr, sub, neg } from "../crypto/fr";
import type { ProofReader, ProofWriter } from "./codec";
import type { CommittedScalar, OpenScalar, GroupProverContext, VerifierContext } from "./context";
import { Lin } from "./group";

/** Knowledge of (v, ρ) with C = v·g + ρ·H. */
export interface OpeningProof {
  A: G1Point;
  z1: bigint;
  z2: bigint;
}

export function proveOpening(ctx: GroupProverContext, c: OpenScalar): OpeningProof {
  const k1 = randomFr();
  const k2 = randomFr();
  const A = ctx.engine.msm([ctx.key.g, ctx.key.H], [k1, k2]);
  ctx.transcript.absorbPoints("sigma/open/A", [A]);
  const e = ctx.transcript.challenge("sigma/open/e");
  return { A, z1: add(k1, mul(e, c.value)), z2: add(k2, mul(e, c.blind)) };
}

export function verifyOpening(ctx: VerifierContext, C: Lin, proof: OpeningProof, what = "opening"): void {
  ctx.transcript.absorbPoints("sigma/open/A", [proof.A]);
  const e = ctx.transcript.challenge("sigma/open/e");
  // z1·g + z2·H = A + e·C
  ctx.equations.require(
    `${what}: proof of opening fails`,
    new Lin().add(ctx.key.g, proof.z1).add(ctx.key.H, proof.z2).add(proof.A, neg(1n)).addLin(C, neg(e)),
  );
}

/**
 * Knowledge of δ with D = δ·H: D commits to zero. With D = C1 − C2 this is the proof of equality
 * (both commit to the same value); with D a random combination of row differences, a linear relation
 * between tensor commitments.
 */
export interface ZeroProof {
  A: G1Point;
  z: bigint;
}

export function proveZero(ctx: GroupProverContext, delta: bigint): ZeroProof {
  const k = randomFr();
  const A = ctx.engine.msm([ctx.key.H], [k]);
  ctx.transcript.absorbPoints("sigma/zero/A", [A]);
  const e = ctx.transcript.challenge("sigma/zero/e");
  return { A, z: add(k, mul(e, delta)) };
}

export function verifyZero(ctx: VerifierContext, D: Lin, proof: ZeroProof, what = "equality"): void {
  ctx.transcript.absorbPoints("sigma/zero/A", [proof.A]);
  const e = ctx.transcript.challenge("sigma/zero/e");
  // z·H = A + e·D
  ctx.equations.require(`${what}: proof of equality fails`, new Lin().add(ctx.key.H, proof.z).add(proof.A, neg(1n)).addLin(D, neg(e)));
}

/** C1 and C2 commit to the same value. */
export function proveEquality(ctx: GroupProverContext, c1: OpenScalar, c2: OpenScalar): ZeroProof {
  return proveZero(ctx, sub(c1.blind, c2.blind));
}

export function verifyEquality(ctx: VerifierContext, C1: Lin, C2: Lin, proof: ZeroProof, what = "equality"): void {
  verifyZero(ctx, new Lin().addLin(C1).addLin(C2, neg(1n)), proof, what);
}

/** X, Y, Z commit to x, y, z with z = x·y. */
export interface ProductProof {
  alpha: G1Point;
  beta: G1Point;
  delta: G1Point;
  z1: bigint;
  z2: bigint;
  z3: bigint;
  z4: bigint;
  z5: bigint;
}

export function proveProduct(ctx: GroupProverContext, x: OpenScalar, y: CommittedScalar, z: OpenScalar): ProductProof {
  const { g, H } = ctx.key;
  const b = [randomFr(), randomFr(), randomFr(), randomFr(), randomFr()];
  const alpha = ctx.engine.msm([g, H], [b[0], b[1]]);
  const beta = ctx.engine.msm([g, H], [b[2], b[3]]);
  const delta = ctx.engine.msm([y.point, H], [b[0], b[4]]);
  ctx.transcript.absorbPoints("sigma/product", [alpha, beta, delta]);
  const e = ctx.transcript.challenge("sigma/product/e");
  return {
    alpha,
    beta,
    delta,
    z1: add(b[0], mul(e, x.value)),
    z2: add(b[1], mul(e, x.blind)),
    z3: add(b[2], mul(e, y.value)),
    z4: add(b[3], mul(e, y.blind)),
    // Z − x·Y = (ρ_z − x·ρ_y)·H when z = x·y.
    z5: add(b[4], mul(e, sub(z.blind, mul(x.value, y.blind)))),
  };
}

/** Y must be a sent point (it is a base in the third check); X and Z may be symbolic. */
export function verifyProduct(ctx: VerifierContext, X: Lin, Y: G1Point, Z: Lin, p: ProductProof, what = "product"): void {
  const { g, H } = ctx.key;
  ctx.transcript.absorbPoints("sigma/product", [p.alpha, p.beta, p.delta]);
  const e = ctx.transcript.challenge("sigma/product/e");
  const m1 = neg(1n);
  const ne = neg(e);
  ctx.equations.require(`${what}: proof of product fails (first factor)`, new Lin().add(g, p.z1).add(H, p.z2).add(p.alpha, m1).addLin(X, ne));
  ctx.equations.require(`${what}: proof of product fails (second factor)`, new Lin().add(g, p.z3).add(H, p.z4).add(p.beta, m1).add(Y, ne));
  ctx.equations.require(`${what}: proof of product fails (product)`, new Lin().add(Y, p.z1).add(H, p.z5).add(p.delta, m1).addLin(Z, ne));
}

export const sigmaCodec = {
  writeOpening: (w: ProofWriter, p: OpeningProof) => w.point(p.A).scalars([p.z1, p.z2]),
  readOpening: (r: ProofReader): OpeningProof => ({ A: r.point("opening.A"), z1: r.scalar("opening.z1"), z2: r.scalar("opening.z2") }),
  writeZero: (w: ProofWriter, p: ZeroProof) => w.point(p.A).scalar(p.z),
  readZero: (r: ProofReader): ZeroProof => ({ A: r.point("equality.A"), z: r.scalar("equality.z") }),
  writeProduct: (w: ProofWriter, p: ProductProof) => w.points([p.alpha, p.beta, p.delta]).scalars([p.z1, p.z2, p.z3, p.z4, p.z5]),
  readProduct: (r: ProofReader): ProductProof => {
    const [alpha, beta, delta] = r.points(3, "product.commitments");
    const [z1, z2, z3, z4, z5] = r.scalars(5, "product.responses");
    return { alpha, beta, delta, z1, z2, z3, z4, z5 };
  },
};
