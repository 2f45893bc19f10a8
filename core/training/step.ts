/**
 * The proof of one SGD step (docs/protocol.md §4.4): that the committed weights Wn are the fixed-point
 * SGD update of the committed weights W on the batch whose rows X, Y are the dataset's record
 * commitments. Both sides interpret the same circuit (`circuit.ts`).
 *
 * Transcript (domain zkdl-chain/v1/train-step): generators id; "run" (the run's binding digest);
 * "step" = [t]; "dims" = [log B, F, k, log d_0 … log d_L]; the public inputs X, Y, W<l>; then the
 * proof: Wn<l> (public outputs), every witness commitment in circuit order, each relation's proof in
 * circuit order, the range lookup over all lookup tensors, and the claims' reductions and openings.
 */
import { eqPrefixSum, fr, inv, mul, sub } from "../crypto/fr";
import type { GeneratorDeriver, ProverEngine, Tensor } from "../protocol/backend";
import { ProofReader, ProofWriter } from "../protocol/codec";
import { type ProverContext, Rejection, type VerifierContext } from "../protocol/context";
import { ProverClaims, VerifierClaims, claimsCodec } from "../protocol/claims";
import { type CommitmentKey, commitmentKey } from "../protocol/generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { type CommittedTensor, type TensorCommitment, type TensorShape, absorbCommitment, commitTensor, sameShape, shiftCommitted, shiftedCommitment } from "../protocol/hyrax";
import { lookupCodec, proveRange, tableShape, verifyRange } from "../protocol/lookup";
import { contractionCodec, identityLayout, linearCodec, proveContractions, proveIdentities, proveLinear, verifyContractions, verifyIdentities, verifyLinear } from "../protocol/relations";
import type { StatementVerdict } from "../protocol/statements";
import { sumcheckCodec } from "../protocol/sumcheck";
import { Transcript } from "../protocol/transcript";
import { type Matrix, type StepTrace, matrixInts } from "../model/fixed";
import { type ColumnMask, FEATURE_RANGES, type StepDims, stepCircuit } from "./circuit";
import { InputError } from "../errors";

export const STEP_DOMAIN = "zkdl-chain/v1/train-step";
const TABLE = { lo: 0n, bits: 16 };

/** How many generators a step of these dimensions needs (the widest row of any tensor, and the lookup table). */
export function stepKeySize(d: StepDims): number {
  const circuit = stepCircuit(d);
  return Math.max(...[...circuit.shapes.values(), tableShape(TABLE.bits)].map((s) => 1 << s.logCols));
}

/** The key a step of these dimensions needs (`derive`: e.g. the prover's nativeGenerators; default TypeScript). */
export function stepKey(d: StepDims, derive?: GeneratorDeriver): CommitmentKey {
  return commitmentKey(stepKeySize(d), { derive });
}

function absorbStatement(t: Transcript, key: CommitmentKey, run: Uint8Array, step: number, d: StepDims): void {
  t.absorb("generators", key.id).absorb("run", run).absorbU32s("step", [step]);
  t.absorbU32s("dims", [d.logB, d.fracBits, d.lrShift, d.features, d.classes, FEATURE_RANGES.indexOf(d.featureRange), ...d.logDims]);
}

/** The public column mask of an identity check: 1 in every column ≥ from (a tensor of `shape`). */
function maskTable(engine: ProverEngine, shape: TensorShape, mask: ColumnMask): Tensor {
  const cols = 1 << shape.logCols;
  return engine.fromInts(Int32Array.from({ length: cols << shape.logRows }, (_, i) => (i % cols >= mask.from ? 1 : 0)));
}

/** Its MLE at r: the column variables are r's low ones, and the row part of eq sums to 1. */
const maskValue = (shape: TensorShape, mask: ColumnMask) => (r: readonly bigint[]) => sub(1n, eqPrefixSum(r.slice(0, shape.logCols), mask.from));

/**
 * Every row of a tensor sums to `total` iff (whp over r) T~((½,…,½) ‖ r) = total/2^cols: the mean of
 * row r's entries, since Σ_i eq(r, i) = 1. The claim has a public value (zero blinding).
 */
function rowSumClaim(t: Transcript, shape: TensorShape, total: bigint): { point: bigint[]; value: bigint } {
  const r = t.challenges("rowsums/r", shape.logRows);
  const half = inv(2n);
  return { point: [...new Array<bigint>(shape.logCols).fill(half), ...r], value: mul(fr(total), inv(fr(1n << BigInt(shape.logCols)))) };
}

// ---------------------------------------------------------------- witness values

const TWO16 = 2 ** 16;

/** Entries of v + offset split into 16-bit limbs; throws if one is outside [0, 2^32). */
function limbs(name: string, v: Matrix, offset: (i: number) => number): [Float64Array, Float64Array] {
  const l0 = new Float64Array(v.data.length);
  const l1 = new Float64Array(v.data.length);
  for (let i = 0; i < l0.length; i++) {
    const w = v.data[i] + offset(i);
    if (!(w >= 0 && w < 2 ** 32)) throw new InputError(`${name}: entry ${i} = ${v.data[i]} is outside the range the circuit proves`);
    l0[i] = w % TWO16;
    l1[i] = Math.floor(w / TWO16);
  }
  return [l0, l1];
}

/** Every named tensor's integer entries, from the trace of a step. */
export function witnessValues(d: StepDims, trace: StepTrace): Map<string, Float64Array> {
  const L = d.logDims.length - 1;
  const m = new Map<string, Float64Array>();
  m.set("Y", trace.y.data).set("G", trace.gl.data);
  const withLimbs = (name: string, v: Matrix, offset: (i: number) => number) => {
    m.set(name, v.data);
    const [l0, l1] = limbs(name, v, offset);
    m.set(`${name}L0`, l0).set(`${name}L1`, l1);
  };
  if (d.featureRange === "unit") {
    // X = L0 + 2^F·L1 with L0 < 2^F and L1 ∈ {0, 1}: features in [0, 2^F].
    const one = 2 ** d.fracBits;
    m.set("X", trace.x.data).set("XL0", trace.x.data.map((v, i) => {
      if (!(v >= 0 && v <= one)) throw new RangeError(`X: entry ${i} = ${v} is outside [0, 2^F], the run's feature range "unit" (use "int32")`);
      return v === one ? 0 : v;
    }));
    m.set("XL1", trace.x.data.map((v) => (v === one ? 1 : 0)));
  } else withLimbs("X", trace.x, () => 2 ** 31);
  for (let l = 1; l <= L; l++) {
    const f = trace.forward[l - 1];
    m.set(`W${l}`, trace.weights[l - 1].data).set(`Wn${l}`, trace.next[l - 1].data).set(`R${l}`, f.remainder.data);
    if (l < L) {
      m.set(`S${l}`, f.sign.data).set(`A${l}`, f.a.data);
      withLimbs(`Z${l}`, f.z, (i) => f.sign.data[i] * 2 ** 32);
    } else withLimbs(`Z${l}`, f.z, () => 2 ** 31);
    const b = trace.backward[l - 1];
    if (l < L) m.set(`GZ${l}`, b.gz.data);
    if (l > 1) {
      withLimbs(`GA${l - 1}`, b.gaPrev!, () => 2 ** 31);
      m.set(`RG${l - 1}`, b.gaPrevRemainder!.data);
    }
    m.set(`U${l}`, b.update.data).set(`U${l}L0`, b.update.data.map((v, i) => {
      if (!(v >= -(2 ** 15) && v < 2 ** 15)) throw new InputError(`U${l}: entry ${i} = ${v} exceeds the per-step update range [−2^15, 2^15) (raise --lr-shift)`);
      return v + 2 ** 15;
    }));
    withLimbs(`RU${l}`, b.updateRemainder, () => 2 ** (d.fracBits + d.lrShift - 1));
  }
  return m;
}


// ---------------------------------------------------------------- prover

export interface StepInputs {
  readonly X: CommittedTensor;
  readonly Y: CommittedTensor;
  /** W<l> for l = 1…L. */
  readonly W: readonly CommittedTensor[];
}

export interface StepProof {
  readonly bytes: Uint8Array;
  /** Wn<l>: the next step's W<l>. */
  readonly next: CommittedTensor[];
}

export function proveStep(key: CommitmentKey, d: StepDims, run: Uint8Array, step: number, inputs: StepInputs, trace: StepTrace, engine: ProverEngine): StepProof {
  return proveStepWitness(key, d, run, step, inputs, witnessValues(d, trace), engine);
}

/** The prover over explicit witness values (named as in the circuit); tests use it to play a cheating prover. */
export function proveStepWitness(key: CommitmentKey, d: StepDims, run: Uint8Array, step: number, inputs: StepInputs, values: ReadonlyMap<string, Float64Array>, engine: ProverEngine): StepProof {
  const circuit = stepCircuit(d);
  const transcript = new Transcript(STEP_DOMAIN);
  const ctx: ProverContext = { key, transcript, engine };
  absorbStatement(transcript, key, run, step, d);
  const tensors = new Map<string, CommittedTensor>();
  const L = d.logDims.length - 1;
  tensors.set("X", inputs.X).set("Y", inputs.Y);
  inputs.W.forEach((w, l) => tensors.set(`W${l + 1}`, w));
  for (const name of circuit.publicInputs) absorbCommitment(transcript, name, tensors.get(name)!.commitment);
  const w = new ProofWriter();
  const commit = (name: string) => {
    const ct = commitTensor(ctx, engine.fromInts(matrixInts(values.get(name)!)), circuit.shapes.get(name)!);
    tensors.set(name, ct);
    w.points(ct.commitment.rows);
    absorbCommitment(transcript, name, ct.commitment);
  };
  for (const name of circuit.publicOutputs) commit(name);
  for (const name of circuit.witness) commit(name);
  const get = (name: string) => tensors.get(name)!;
  const claims = new ProverClaims();
  for (const rel of circuit.relations) {
    if (rel.kind === "contraction") {
      const list = rel.items.map((c) => ({ left: { ...c.left, tensor: get(c.left.name) }, right: { ...c.right, tensor: get(c.right.name) }, targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: get(t.name) })) }));
      contractionCodec.write(w, proveContractions(ctx, claims, rel.innerVars, list));
    } else if (rel.kind === "identities") {
      const shape = circuit.shapes.get(rel.tensors[0])!;
      sumcheckCodec.write(w, proveIdentities(ctx, claims, rel.tensors.map(get), rel.identities, rel.masks.map((mk) => maskTable(engine, shape, mk))));
    } else if (rel.kind === "rowsums") {
      const t = get(rel.name);
      const { point, value } = rowSumClaim(transcript, t.commitment, rel.total);
      claims.add(t, point, { value, blind: 0n });
    } else {
      linearCodec.write(w, proveLinear(ctx, rel.terms.map((t) => ({ coeff: fr(t.coeff), tensor: get(t.name) })), fr(rel.constant)));
    }
  }
  const looked = circuit.lookups.map((lk) => shiftCommitted(ctx, get(lk.name), lk.shift));
  lookupCodec.write(w, proveRange(ctx, claims, looked, TABLE));
  claimsCodec.write(w, claims.prove(ctx));
  return { bytes: w.bytes(), next: Array.from({ length: L }, (_, l) => get(`Wn${l + 1}`)) };
}

// ---------------------------------------------------------------- verifier

export interface StepPublic {
  readonly X: TensorCommitment;
  readonly Y: TensorCommitment;
  readonly W: readonly TensorCommitment[];
}

export interface StepVerdict {
  readonly verdict: StatementVerdict;
  /** The Wn<l> commitments the proof carries (the next step's W). */
  readonly next: TensorCommitment[];
}

function readRows(r: ProofReader, name: string, shape: TensorShape): TensorCommitment {
  return { ...shape, rows: r.points(1 << shape.logRows, name) };
}

/** Verifies a step proof from public data; malformed bytes throw ProofFormatError. */
export function verifyStep(key: CommitmentKey, d: StepDims, run: Uint8Array, step: number, pub: StepPublic, bytes: Uint8Array, engine: MsmEngine = nobleEngine): StepVerdict {
  const circuit = stepCircuit(d);
  const transcript = new Transcript(STEP_DOMAIN);
  const ctx: VerifierContext = { key, transcript, equations: new EquationSet() };
  absorbStatement(transcript, key, run, step, d);
  const L = d.logDims.length - 1;
  const commitments = new Map<string, TensorCommitment>();
  commitments.set("X", pub.X).set("Y", pub.Y);
  pub.W.forEach((w, l) => commitments.set(`W${l + 1}`, w));
  for (const name of circuit.publicInputs) {
    const c = commitments.get(name);
    const s = circuit.shapes.get(name)!;
    if (!c || !sameShape(c, s) || c.rows.length !== 1 << s.logRows) {
      return { verdict: { valid: false, reason: `public input ${name} does not have the circuit's shape` }, next: [] };
    }
    absorbCommitment(transcript, name, c);
  }
  const r = new ProofReader(bytes);
  const read = (name: string) => {
    const c = readRows(r, name, circuit.shapes.get(name)!);
    commitments.set(name, c);
    absorbCommitment(transcript, name, c);
  };
  for (const name of circuit.publicOutputs) read(name);
  for (const name of circuit.witness) read(name);
  const next = Array.from({ length: L }, (_, l) => commitments.get(`Wn${l + 1}`)!);
  const get = (name: string) => commitments.get(name)!;
  try {
    const claims = new VerifierClaims();
    for (const rel of circuit.relations) {
      if (rel.kind === "contraction") {
        const p = contractionCodec.read(r, rel.innerVars, rel.items.map((c) => c.targets.length));
        const list = rel.items.map((c) => ({ left: { ...c.left, tensor: get(c.left.name) }, right: { ...c.right, tensor: get(c.right.name) }, targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: get(t.name) })) }));
        verifyContractions(ctx, claims, rel.innerVars, list, p, rel.label);
      } else if (rel.kind === "rowsums") {
        const c = get(rel.name);
        const { point, value } = rowSumClaim(transcript, c, rel.total);
        claims.add(c, point, Lin.of(key.g, value));
      } else if (rel.kind === "identities") {
        const shape = circuit.shapes.get(rel.tensors[0])!;
        const p = sumcheckCodec.read(r, identityLayout(shape.logRows + shape.logCols, rel.tensors.length, rel.identities, rel.masks.length));
        verifyIdentities(ctx, claims, rel.tensors.map(get), rel.identities, p, rel.label, rel.masks.map((mk) => maskValue(shape, mk)));
      } else {
        verifyLinear(ctx, rel.terms.map((t) => ({ coeff: fr(t.coeff), tensor: get(t.name) })), linearCodec.read(r), fr(rel.constant), rel.label);
      }
    }
    const looked = circuit.lookups.map((lk) => shiftedCommitment(key, get(lk.name), lk.shift));
    verifyRange(ctx, claims, looked, TABLE, lookupCodec.read(r, looked, TABLE), "range checks");
    claims.verify(ctx, claimsCodec.read(r, claims));
    r.end();
  } catch (e) {
    if (e instanceof Rejection) return { verdict: { valid: false, reason: e.message }, next };
    throw e;
  }
  const failed = ctx.equations.settle(engine);
  return { verdict: failed === null ? { valid: true } : { valid: false, reason: failed }, next };
}

