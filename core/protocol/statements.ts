/**
 * Stand-alone proofs of the argument layer's statements (docs/protocol.md §3.11): each one binds its
 * public statement into a fresh transcript (domain, generator-set id, shapes, commitments), runs the
 * protocol, discharges the claims it leaves, and encodes the proof canonically. The verifiers read
 * only public data, need no native addon (the default engine is @noble/curves; pass the prover's
 * `nativeEngine` and `nativeGenerators` to accelerate), and answer with a verdict; malformed bytes
 * throw ProofFormatError. The provers take their engine (core/protocol/backend.ts) in ProveOptions.
 *
 *   evaluation  T~(z) is the value inside a (sent) commitment
 *   matmul      C = A·B
 *   hadamard    C_i = A_i ⊙ B_i for every instance (one batched sumcheck)
 *   binary      every entry of every b_i is 0 or 1
 *   range       every entry lies in [lo, lo + 2^bits)  (logUp)
 *   wideRange   every entry lies in [lo, lo + 2^(bits·limbs)): committed limbs, their recomposition,
 *               and one range check of all limbs
 */
import type { G1Point } from "../crypto/bn254";
import { fr } from "../crypto/fr";
import type { GeneratorDeriver, ProverEngine, Tensor } from "./backend";
import { ProofFormatError, ProofReader, type ProofSlot, ProofWriter } from "./codec";
import { type CommittedScalar, type ProverContext, Rejection, type VerifierContext, commitScalar } from "./context";
import { ProverClaims, VerifierClaims, claimsCodec } from "./claims";
import { type CommitmentKey, commitmentKey } from "./generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "./group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, absorbCommitment, commitTensor, evaluateCommitted, hyraxCodec, numVars, proveEvaluations, shapeFor, verifyEvaluations } from "./hyrax";
import { type Range, limbCoefficients, refuseUncheckableRange, tableShape, lookupCodec, proveRange, splitLimbs, verifyRange } from "./lookup";
import { type HadamardInstance, type MatmulDims, linearCodec, matmulCodec, proveBinary, proveHadamard, proveLinear, proveMatmul, verifyBinary, verifyHadamard, verifyLinear, verifyMatmul, identityLayout, hadamardIdentities, binaryIdentities } from "./relations";
import { sumcheckCodec } from "./sumcheck";
import { Transcript } from "./transcript";

export type StatementVerdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

export interface VerifyOptions {
  /** MSM engine for the final check: @noble/curves by default; `nativeEngine` gives the same verdicts faster. */
  engine?: MsmEngine;
  /** Derives the generators elsewhere (e.g. `nativeGenerators`: same points, faster); default pure TypeScript. */
  generators?: GeneratorDeriver;
  /** Generator label the proof was made with (default zkdl-chain/v1/hyrax). */
  label?: string;
}

export interface ProveOptions {
  /** Where the prover computes: MSMs and tensors (`nativeEngine`). */
  engine: ProverEngine;
  /** Derives the generators elsewhere (`nativeGenerators`); default pure TypeScript. */
  generators?: GeneratorDeriver;
  /** Generator label (default zkdl-chain/v1/hyrax). */
  label?: string;
}

export const DOMAIN = "zkdl-chain/v1/";

const layouts = new WeakMap<Uint8Array, readonly ProofSlot[]>();

/** The element layout of a proof produced in this process (tests tamper with every element). */
export function proofLayout(proof: Uint8Array): readonly ProofSlot[] {
  const layout = layouts.get(proof);
  if (!layout) throw new RangeError("not a proof produced by this process");
  return layout;
}

function finish(w: ProofWriter): Uint8Array {
  const bytes = w.bytes();
  layouts.set(bytes, w.layout);
  return bytes;
}

function keySize(shapes: readonly TensorShape[]): number {
  return Math.max(1, ...shapes.map((s) => 1 << s.logCols));
}

function proverContext(domain: string, shapes: readonly TensorShape[], opts: ProveOptions): ProverContext {
  const key = commitmentKey(keySize(shapes), { label: opts.label, derive: opts.generators });
  const transcript = new Transcript(DOMAIN + domain).absorb("generators", key.id);
  return { key, transcript, engine: opts.engine };
}

function verifierContext(domain: string, shapes: readonly TensorShape[], opts: VerifyOptions): VerifierContext {
  const key = commitmentKey(keySize(shapes), { label: opts.label, derive: opts.generators });
  const transcript = new Transcript(DOMAIN + domain).absorb("generators", key.id);
  return { key, transcript, equations: new EquationSet() };
}

function settle(ctx: VerifierContext, opts: VerifyOptions, body: () => void): StatementVerdict {
  try {
    body();
  } catch (e) {
    if (e instanceof Rejection) return { valid: false, reason: e.message };
    throw e;
  }
  const failed = ctx.equations.settle(opts.engine ?? nobleEngine);
  return failed === null ? { valid: true } : { valid: false, reason: failed };
}

function checkShapeList(shapes: readonly TensorShape[]): void {
  for (const s of shapes) {
    if (!Number.isInteger(s.logRows) || !Number.isInteger(s.logCols) || s.logRows < 0 || s.logCols < 0 || numVars(s) > 30) {
      throw new ProofFormatError("ZKDL_PROOF_SHAPE", "tensor shape out of range");
    }
  }
}

/** Commits a tensor for use in these statements (rows × cols by the default split). */
export function commit(tensor: Tensor, opts: ProveOptions): CommittedTensor {
  const shape = shapeFor(Math.log2(tensor.length));
  return commitTensor(proverContext("commit", [shape], opts), tensor, shape);
}

/** Runs the verifier's reading of a proof and insists every byte was used. */
function reading(bytes: Uint8Array, f: (r: ProofReader) => void): () => void {
  return () => {
    const r = new ProofReader(bytes);
    f(r);
    r.end();
  };
}

// ------------------------------------------------------------------------------ evaluation

export interface EvaluationProof {
  readonly bytes: Uint8Array;
  /** The commitment to T~(z) the proof carries (its first element). */
  readonly value: G1Point;
}

export function proveEvaluation(t: CommittedTensor, z: readonly bigint[], opts: ProveOptions): Uint8Array {
  const ctx = proverContext("evaluation", [t.commitment], opts);
  absorbCommitment(ctx.transcript, "tensor", t.commitment);
  const value: CommittedScalar = commitScalar(ctx, evaluateCommitted(ctx, t, z));
  ctx.transcript.absorbPoints("value", [value.point]);
  const w = new ProofWriter().point(value.point);
  hyraxCodec.writeOpening(w, proveEvaluations(ctx, [t], z, [value]));
  return finish(w);
}

export function verifyEvaluation(c: TensorCommitment, z: readonly bigint[], bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  checkShapeList([c]);
  const ctx = verifierContext("evaluation", [c], opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    absorbCommitment(ctx.transcript, "tensor", c);
    const value = r.point("value");
    ctx.transcript.absorbPoints("value", [value]);
    verifyEvaluations(ctx, [c], z, [Lin.of(value)], hyraxCodec.readOpening(r, c));
  }));
}

// ------------------------------------------------------------------------------ matmul

export function proveMatmulStatement(d: MatmulDims, A: CommittedTensor, B: CommittedTensor, C: CommittedTensor, opts: ProveOptions): Uint8Array {
  const ctx = proverContext("matmul", [A.commitment, B.commitment, C.commitment], opts);
  ctx.transcript.absorbU32s("dims", [d.logM, d.logK, d.logN]);
  for (const [name, t] of [["A", A], ["B", B], ["C", C]] as const) absorbCommitment(ctx.transcript, name, t.commitment);
  const claims = new ProverClaims();
  const w = new ProofWriter();
  matmulCodec.write(w, proveMatmul(ctx, claims, d, A, B, C));
  claimsCodec.write(w, claims.prove(ctx));
  return finish(w);
}

export function verifyMatmulStatement(d: MatmulDims, A: TensorCommitment, B: TensorCommitment, C: TensorCommitment, bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  checkShapeList([A, B, C]);
  const ctx = verifierContext("matmul", [A, B, C], opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    ctx.transcript.absorbU32s("dims", [d.logM, d.logK, d.logN]);
    for (const [name, t] of [["A", A], ["B", B], ["C", C]] as const) absorbCommitment(ctx.transcript, name, t);
    const claims = new VerifierClaims();
    verifyMatmul(ctx, claims, d, A, B, C, matmulCodec.read(r, d));
    claims.verify(ctx, claimsCodec.read(r, claims));
  }));
}

// ------------------------------------------------------------------------------ hadamard / binary

export function proveHadamardStatement(instances: HadamardInstance<CommittedTensor>[], opts: ProveOptions): Uint8Array {
  const all = instances.flatMap((i) => [i.a, i.b, i.c]);
  const ctx = proverContext("hadamard", all.map((t) => t.commitment), opts);
  all.forEach((t, i) => absorbCommitment(ctx.transcript, `t${i}`, t.commitment));
  const claims = new ProverClaims();
  const w = new ProofWriter();
  sumcheckCodec.write(w, proveHadamard(ctx, claims, instances));
  claimsCodec.write(w, claims.prove(ctx));
  return finish(w);
}

export function verifyHadamardStatement(instances: HadamardInstance<TensorCommitment>[], bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  const all = instances.flatMap((i) => [i.a, i.b, i.c]);
  checkShapeList(all);
  if (all.length === 0) throw new ProofFormatError("ZKDL_PROOF_SHAPE", "no instances");
  const ctx = verifierContext("hadamard", all, opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    all.forEach((t, i) => absorbCommitment(ctx.transcript, `t${i}`, t));
    const claims = new VerifierClaims();
    const proof = sumcheckCodec.read(r, identityLayout(numVars(all[0]), all.length, hadamardIdentities(instances.length)));
    verifyHadamard(ctx, claims, instances, proof);
    claims.verify(ctx, claimsCodec.read(r, claims));
  }));
}

export function proveBinaryStatement(bits: CommittedTensor[], opts: ProveOptions): Uint8Array {
  const ctx = proverContext("binary", bits.map((t) => t.commitment), opts);
  bits.forEach((t, i) => absorbCommitment(ctx.transcript, `b${i}`, t.commitment));
  const claims = new ProverClaims();
  const w = new ProofWriter();
  sumcheckCodec.write(w, proveBinary(ctx, claims, bits));
  claimsCodec.write(w, claims.prove(ctx));
  return finish(w);
}

export function verifyBinaryStatement(bits: TensorCommitment[], bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  checkShapeList(bits);
  if (bits.length === 0) throw new ProofFormatError("ZKDL_PROOF_SHAPE", "no tensors");
  const ctx = verifierContext("binary", bits, opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    bits.forEach((t, i) => absorbCommitment(ctx.transcript, `b${i}`, t));
    const claims = new VerifierClaims();
    verifyBinary(ctx, claims, bits, sumcheckCodec.read(r, identityLayout(numVars(bits[0]), bits.length, binaryIdentities(bits.length))));
    claims.verify(ctx, claimsCodec.read(r, claims));
  }));
}

// ------------------------------------------------------------------------------ range

const rangeShapes = (tensors: readonly TensorShape[], bits: number) => [...tensors, tableShape(bits)];

export function proveRangeStatement(tensors: CommittedTensor[], range: Range, opts: ProveOptions & { counts?: Int32Array }): Uint8Array {
  const ctx = proverContext("range", rangeShapes(tensors.map((t) => t.commitment), range.bits), opts);
  tensors.forEach((t, i) => absorbCommitment(ctx.transcript, `t${i}`, t.commitment));
  const claims = new ProverClaims();
  const w = new ProofWriter();
  lookupCodec.write(w, proveRange(ctx, claims, tensors, range, opts.counts));
  claimsCodec.write(w, claims.prove(ctx));
  return finish(w);
}

export function verifyRangeStatement(tensors: TensorCommitment[], range: Range, bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  checkShapeList(tensors);
  refuseUncheckableRange(range);
  if (tensors.length === 0) throw new ProofFormatError("ZKDL_PROOF_SHAPE", "no tensors");
  const ctx = verifierContext("range", rangeShapes(tensors, range.bits), opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    tensors.forEach((t, i) => absorbCommitment(ctx.transcript, `t${i}`, t));
    const claims = new VerifierClaims();
    verifyRange(ctx, claims, tensors, range, lookupCodec.read(r, tensors, range));
    claims.verify(ctx, claimsCodec.read(r, claims));
  }));
}

// ------------------------------------------------------------------------------ wide range (limbs)

export interface WideRange {
  readonly lo: bigint;
  /** Bits per limb (the table size is 2^bits). */
  readonly bits: number;
  readonly limbs: number;
}

/** `values` are the tensor's entries as signed integers (what the prover knows). */
export function proveWideRangeStatement(t: CommittedTensor, values: BigInt64Array, range: WideRange, opts: ProveOptions): Uint8Array {
  const ctx = proverContext("wide-range", [t.commitment, tableShape(range.bits)], opts);
  absorbCommitment(ctx.transcript, "tensor", t.commitment);
  const limbs = splitLimbs(values, { lo: range.lo, bits: range.bits, count: range.limbs }).map((l) => commitTensor(ctx, ctx.engine.fromInts(l), t.commitment));
  limbs.forEach((l, k) => absorbCommitment(ctx.transcript, `limb${k}`, l.commitment));
  const w = new ProofWriter();
  limbs.forEach((l) => w.points(l.commitment.rows));
  const coeffs = limbCoefficients(range.bits, range.limbs);
  linearCodec.write(w, proveLinear(ctx, [{ coeff: 1n, tensor: t }, ...limbs.map((l, k) => ({ coeff: coeffs[k], tensor: l }))], fr(-range.lo)));
  const claims = new ProverClaims();
  lookupCodec.write(w, proveRange(ctx, claims, limbs, { lo: 0n, bits: range.bits }));
  claimsCodec.write(w, claims.prove(ctx));
  return finish(w);
}

export function verifyWideRangeStatement(c: TensorCommitment, range: WideRange, bytes: Uint8Array, opts: VerifyOptions = {}): StatementVerdict {
  checkShapeList([c]);
  refuseUncheckableRange(range);
  if (!Number.isInteger(range.limbs) || range.limbs < 1 || range.limbs > 16) throw new ProofFormatError("ZKDL_PROOF_SHAPE", "1 to 16 limbs");
  const ctx = verifierContext("wide-range", [c, tableShape(range.bits)], opts);
  return settle(ctx, opts, reading(bytes, (r) => {
    absorbCommitment(ctx.transcript, "tensor", c);
    const limbs: TensorCommitment[] = Array.from({ length: range.limbs }, (_, k) => ({ logRows: c.logRows, logCols: c.logCols, rows: r.points(1 << c.logRows, `limb[${k}]`) }));
    limbs.forEach((l, k) => absorbCommitment(ctx.transcript, `limb${k}`, l));
    const coeffs = limbCoefficients(range.bits, range.limbs);
    verifyLinear(ctx, [{ coeff: 1n, tensor: c }, ...limbs.map((l, k) => ({ coeff: coeffs[k], tensor: l }))], linearCodec.read(r), fr(-range.lo), "limb recomposition");
    const claims = new VerifierClaims();
    verifyRange(ctx, claims, limbs, { lo: 0n, bits: range.bits }, lookupCodec.read(r, limbs, { lo: 0n, bits: range.bits }));
    claims.verify(ctx, claimsCodec.read(r, claims));
  }));
}

export type { CommittedTensor, TensorCommitment, Range, MatmulDims, HadamardInstance, CommitmentKey };
