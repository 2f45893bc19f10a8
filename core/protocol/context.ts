/**
 * What every protocol step carries: the commitment key, the shared transcript, and for the prover
 * engine (MSMs and tensors), for the verifier the pending equations. Also the committed-scalar type
 * (Pedersen: v·g + ρ·H), the one place a scalar commitment is formed.
 */
import type { G1Point } from "../crypto/bn254";
import { randomFr } from "../crypto/fr";
import type { CommitmentKey } from "./generators";
import type { ProverEngine } from "./backend";
import { EquationSet, Lin, type MsmEngine } from "./group";
import type { Transcript } from "./transcript";

/** What the group-only provers (Σ-protocols, the dot-product argument, scalar commitments) need: MSMs. */
export interface GroupProverContext {
  readonly key: CommitmentKey;
  readonly transcript: Transcript;
  readonly engine: MsmEngine;
}

export interface ProverContext extends GroupProverContext {
  /** MSMs and tensors (core/protocol/backend.ts): the native core in the prover. */
  readonly engine: ProverEngine;
}

export interface VerifierContext {
  readonly key: CommitmentKey;
  readonly transcript: Transcript;
  readonly equations: EquationSet;
}

/** Raised inside a verifier for a check that fails outside the group equations; becomes a verdict. */
export class Rejection extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "Rejection";
  }
}

/** A prover's committed scalar: C = value·g + blind·H. */
export interface CommittedScalar {
  readonly value: bigint;
  readonly blind: bigint;
  readonly point: G1Point;
}

export function commitScalar(ctx: GroupProverContext, value: bigint, blind = randomFr()): CommittedScalar {
  return { value, blind, point: ctx.engine.msm([ctx.key.g, ctx.key.H], [value, blind]) };
}

/** A Pedersen vector commitment ⟨x, G⟩ + blind·H over the key's first x.length generators. */
export function commitVector(ctx: GroupProverContext, x: readonly bigint[], blind = randomFr()): { blind: bigint; point: G1Point } {
  if (x.length > ctx.key.size) throw new RangeError(`a vector of ${x.length} needs ${x.length} generators; the key has ${ctx.key.size}`);
  return { blind, point: ctx.engine.msm([...ctx.key.G.slice(0, x.length), ctx.key.H], [...x, blind]) };
}

/**
 * A prover-side scalar commitment that exists only as a linear combination of others (a derived
 * round coefficient, a claim built homomorphically): its value and blinding, never a point.
 */
export interface OpenScalar {
  readonly value: bigint;
  readonly blind: bigint;
}

/** The verifier's view of a public constant as a commitment with zero blinding: v·g. */
export function publicScalar(key: CommitmentKey, value: bigint): Lin {
  return Lin.of(key.g, value);
}
