/** Helpers for the argument-layer tests: contexts, tampering with every element of a proof, witness scans. */
import { expect } from "chai";
import { G1, bigIntToBytes, bytesToBigInt, g1FromBytes, g1ToBytes } from "../../core/crypto/bn254";
import { R } from "../../core/crypto/fr";
import { ProofFormatError, type ProofSlot } from "../../core/protocol/codec";
import type { ProverContext, VerifierContext } from "../../core/protocol/context";
import { type CommitmentKey, commitmentKey } from "../../core/protocol/generators";
import { EquationSet, nobleEngine } from "../../core/protocol/group";
import { nativeEngine, nativeGenerators } from "../../prover/native-engine";
import type { StatementVerdict } from "../../core/protocol/statements";
import { Transcript } from "../../core/protocol/transcript";

export function contexts(size: number, domain = "zkdl-chain/v1/test"): { key: CommitmentKey; prover: ProverContext; verifier: () => VerifierContext } {
  const key = commitmentKey(size, { derive: nativeGenerators });
  return {
    key,
    prover: { key, transcript: new Transcript(domain), engine: nativeEngine },
    verifier: () => ({ key, transcript: new Transcript(domain), equations: new EquationSet() }),
  };
}

/** Settles a verifier context's equations (noble engine): null = accept. */
export function settle(ctx: VerifierContext): string | null {
  return ctx.equations.settle(nobleEngine);
}

/** The proof with one element replaced by another valid encoding (scalar + 1, point + G, count + 1). */
export function tamper(bytes: Uint8Array, slot: ProofSlot): Uint8Array {
  const out = bytes.slice();
  if (slot.kind === "scalar") {
    out.set(bigIntToBytes((bytesToBigInt(bytes.subarray(slot.offset, slot.offset + 32)) + 1n) % R), slot.offset);
  } else if (slot.kind === "point") {
    out.set(g1ToBytes(g1FromBytes(bytes.subarray(slot.offset, slot.offset + 64)).add(G1.BASE)), slot.offset);
  } else {
    out[slot.offset + 3] ^= 1;
  }
  return out;
}

/** Every element of the proof, changed alone, must make the verifier reject (or refuse the bytes). */
export function expectEveryTamperRejected(bytes: Uint8Array, layout: readonly ProofSlot[], verify: (b: Uint8Array) => StatementVerdict): void {
  expect(layout.length).to.be.greaterThan(0);
  const covered = layout.reduce((n, s) => n + (s.kind === "scalar" ? 32 : s.kind === "point" ? 64 : 4), 0);
  expect(covered, "layout covers every byte").to.equal(bytes.length);
  for (const slot of layout) {
    let verdict: StatementVerdict | undefined;
    try {
      verdict = verify(tamper(bytes, slot));
    } catch (e) {
      expect(e, `${slot.kind} at ${slot.offset}`).to.be.instanceOf(ProofFormatError);
      continue;
    }
    expect(verdict.valid, `${slot.kind} at byte ${slot.offset} tampered but accepted`).to.equal(false);
  }
}

/** No 32-byte scalar slot of the proof equals any of the witness values. */
export function expectNoWitnessScalar(bytes: Uint8Array, layout: readonly ProofSlot[], witness: readonly bigint[]): void {
  const secrets = new Set(witness.map((v) => ((v % R) + R) % R));
  for (const slot of layout) {
    if (slot.kind !== "scalar") continue;
    const v = bytesToBigInt(bytes.subarray(slot.offset, slot.offset + 32));
    expect(secrets.has(v), `proof scalar at ${slot.offset} is a witness value`).to.equal(false);
  }
  // Nor anywhere unaligned: witness values as 32-byte words never occur in the bytes.
  const hexProof = Buffer.from(bytes).toString("hex");
  for (const v of secrets) if (v > 0xffffn) expect(hexProof.includes(v.toString(16).padStart(64, "0"))).to.equal(false);
}

/** Two proofs of one statement share no element (every blinded message is fresh). */
export function expectNoSharedElement(a: Uint8Array, b: Uint8Array, layout: readonly ProofSlot[]): void {
  const elements = (bytes: Uint8Array) =>
    new Set(layout.filter((s) => s.kind !== "u32").map((s) => Buffer.from(bytes.subarray(s.offset, s.offset + (s.kind === "scalar" ? 32 : 64))).toString("hex")));
  const ea = elements(a);
  for (const e of elements(b)) expect(ea.has(e), "a proof element repeats across proofs").to.equal(false);
}

export function expectFormatError(f: () => unknown, code?: string): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a ProofFormatError").to.be.instanceOf(ProofFormatError);
  if (code) expect((caught as ProofFormatError).code).to.equal(code);
}

/** The verifier refuses: an invalid verdict, or bytes that do not even parse for this statement. */
export function expectRefused(f: () => StatementVerdict): void {
  let verdict: StatementVerdict;
  try {
    verdict = f();
  } catch (e) {
    expect(e).to.be.instanceOf(ProofFormatError);
    return;
  }
  expect(verdict.valid).to.equal(false);
}
