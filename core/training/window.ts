/**
 * The proof of a window of T = 2^k consecutive SGD steps (docs/protocol.md §4.4): that the committed
 * weights after the window are the fixed-point SGD updates, step after step, of the committed weights
 * before it, on the batches whose rows X, Y are the dataset's record commitments. The window is one
 * stacked instance: every tensor of the step circuit stacked along k step variables (`stepCircuit(d,
 * k)`), so one sumcheck per relation, one lookup, one claim reduction and opening per tensor shape
 * cover all T steps. A step proof is the window of one step.
 *
 * The weight chain: no weights after the first are sent. The stacked W is derived from the window's
 * starting weights and the committed updates U, row by row: W^(t+1) = W^(t) − U^(t), commitments and
 * blindings alike (Hyrax rows are additive), so step t's next weights are step t + 1's weights, and
 * the SGD update holds, by construction; the window's output, W^(T), is derived the same way.
 *
 * Transcript (domain zkdl-chain/v1/train-window): generators id; "run" (the run's binding digest);
 * "window" = [first step, k]; "dims" = [log B, F, k_lr, features, classes, range, log d_0 … log d_L];
 * the public inputs X, Y (stacked) and the starting W<l>; then the proof: every witness commitment in circuit order, each relation's proof in circuit order, the range lookup over
 * all lookup tensors, and the claims' reductions and openings.
 */
import { G1, type G1Point, bigIntsToBytes } from "../crypto/bn254";
import { add, eqPrefixSum, fr, inv, mul, sub } from "../crypto/fr";
import type { GeneratorDeriver, ProverEngine, Tensor } from "../protocol/backend";
import { ProofReader, ProofWriter } from "../protocol/codec";
import { type ProverContext, Rejection, type VerifierContext } from "../protocol/context";
import { ProverClaims, VerifierClaims, claimsCodec } from "../protocol/claims";
import { type CommitmentKey, commitmentKey } from "../protocol/generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { type CommittedTensor, MAX_VARS, type TensorCommitment, type TensorShape, absorbCommitment, commitTensor, constantTensor, numVars, sameShape, shiftCommitted, shiftedCommitment } from "../protocol/hyrax";
import { lookupCodec, proveRange, tableShape, verifyRange } from "../protocol/lookup";
import { contractionCodec, identityLayout, proveContractions, proveIdentities, verifyContractions, verifyIdentities } from "../protocol/relations";
import type { StatementVerdict } from "../protocol/statements";
import { sumcheckCodec } from "../protocol/sumcheck";
import { Transcript } from "../protocol/transcript";
import { type Matrix, type StepTrace, matrixInts } from "../model/fixed";
import { type ColumnMask, type DerivedSpec, FEATURE_RANGES, type StepDims, stepCircuit } from "./circuit";
import { InputError } from "../errors";

export const WINDOW_DOMAIN = "zkdl-chain/v1/train-window";
const TABLE = { lo: 0n, bits: 16 };

/**
 * The longest window (2^10 steps) of any network. A network's own bound (`maxWindow`) can be lower:
 * its stacked tensors have log2 T more variables than a step's and must stay within MAX_VARS.
 */
export const MAX_WINDOW = 1024;

/**
 * The longest window these dimensions allow: a power of two T ≤ MAX_WINDOW such that every stacked
 * tensor keeps at most MAX_VARS variables (T ≤ 2^(MAX_VARS − n) for a step tensor of 2^n entries).
 */
export function maxWindow(d: StepDims): number {
  const widest = Math.max(...[...stepCircuit(d).shapes.values()].map(numVars));
  return Math.min(MAX_WINDOW, 2 ** Math.max(0, MAX_VARS - widest));
}

/**
 * The window lengths of a run of `steps` steps: full windows of `window` steps, then the rest as
 * decreasing powers of two (a window is a power of two: its steps are whole stacking variables).
 */
export function windowSizes(steps: number, window: number): number[] {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError("a run has at least one step");
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW || (window & (window - 1)) !== 0) throw new RangeError(`a window is a power of two from 1 to ${MAX_WINDOW} steps`);
  const sizes = new Array<number>(Math.floor(steps / window)).fill(window);
  for (let rest = steps % window, p = window >> 1; rest > 0; p >>= 1) if (rest >= p) (sizes.push(p), (rest -= p));
  return sizes;
}

/**
 * How many generators the windows of these dimensions need: the widest row of any tensor of the
 * longest window (wide stacks widen with the window, up to 2^WIDE_COLS), and the lookup table's. One
 * key per network, whatever the window's length.
 */
export function windowKeySize(d: StepDims): number {
  const circuit = stepCircuit(d, Math.log2(maxWindow(d)));
  return Math.max(...[...circuit.shapes.values(), tableShape(TABLE.bits)].map((s) => 1 << s.logCols));
}

/** The key a window of these dimensions needs (`derive`: e.g. the prover's nativeGenerators; default TypeScript). */
export function windowKey(d: StepDims, derive?: GeneratorDeriver): CommitmentKey {
  return commitmentKey(windowKeySize(d), { derive });
}

function absorbStatement(t: Transcript, key: CommitmentKey, run: Uint8Array, first: number, logSteps: number, d: StepDims): void {
  t.absorb("generators", key.id).absorb("run", run).absorbU32s("window", [first, logSteps]);
  t.absorbU32s("dims", [d.logB, d.fracBits, d.lrShift, d.features, d.classes, FEATURE_RANGES.indexOf(d.featureRange), ...d.logDims]);
}

/** The public column mask of an identity check over 2^n entries: 1 in every logical column ≥ from. */
function maskTable(engine: ProverEngine, n: number, mask: ColumnMask): Tensor {
  const cols = 1 << mask.logCols;
  return engine.fromInts(Int32Array.from({ length: 1 << n }, (_, i) => (i % cols >= mask.from ? 1 : 0)));
}

/** Its MLE at r: the logical column variables are r's low ones, and the rest of eq sums to 1. */
const maskValue = (mask: ColumnMask) => (r: readonly bigint[]) => sub(1n, eqPrefixSum(r.slice(0, mask.logCols), mask.from));

/**
 * Every row of a tensor sums to `total` iff (whp over r) T~((½,…,½) ‖ r) = total/2^cols: the mean of
 * row r's entries, since Σ_i eq(r, i) = 1. The claim has a public value (zero blinding).
 */
function rowSumClaim(t: Transcript, shape: TensorShape, total: bigint): { point: bigint[]; value: bigint } {
  const r = t.challenges("rowsums/r", shape.logRows);
  const half = inv(2n);
  return { point: [...new Array<bigint>(shape.logCols).fill(half), ...r], value: mul(fr(total), inv(fr(1n << BigInt(shape.logCols)))) };
}

/**
 * A derived tensor's commitment, Σ_k c_k·C_k + c·ΣG row by row (docs/protocol.md §4.4): its value is
 * the combination by construction, so no relation is proven. The coefficients are small signed
 * integers (1, 2^16, −2^32): multiplied as such, not as field elements of 254 bits.
 */
function derivedCommitment(key: CommitmentKey, spec: DerivedSpec, terms: readonly TensorCommitment[]): TensorCommitment {
  const shape = terms[0];
  if (terms.some((t) => !sameShape(t, shape))) throw new RangeError(`${spec.name} is derived from tensors of different shapes`);
  const times = (p: G1Point, c: bigint) => (c < 0n ? p.multiplyUnsafe(-c).negate() : p.multiplyUnsafe(c));
  const rows = shape.rows.map((_, j) => spec.terms.reduce((acc, t, k) => acc.add(times(terms[k].rows[j], t.coeff)), G1.ZERO));
  return shiftedCommitment(key, { logRows: shape.logRows, logCols: shape.logCols, rows }, spec.constant);
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
    b.update.data.forEach((v, i) => {
      if (!(v >= -(2 ** 15) && v < 2 ** 15)) throw new InputError(`U${l}: entry ${i} = ${v} exceeds the per-step update range [−2^15, 2^15) (raise --lr-shift)`);
    });
    m.set(`U${l}`, b.update.data);
    withLimbs(`RU${l}`, b.updateRemainder, () => 2 ** (d.fracBits + d.lrShift - 1));
  }
  return m;
}


// ---------------------------------------------------------------- prover

export interface WindowInputs {
  /** The window's batches as stacked dataset rows: step first's B records, then step first + 1's, … */
  readonly X: CommittedTensor;
  readonly Y: CommittedTensor;
  /** W<l> for l = 1…L: the weights before the window's first step. */
  readonly W: readonly CommittedTensor[];
}

export interface WindowProof {
  readonly bytes: Uint8Array;
  /** The weights after the window: the next window's W<l>. */
  readonly next: CommittedTensor[];
}

/** Witness values of a window: each name's per-step values, step after step. */
export function windowValues(d: StepDims, traces: readonly StepTrace[]): Map<string, Float64Array> {
  const perStep = traces.map((t) => witnessValues(d, t));
  const out = new Map<string, Float64Array>();
  for (const name of perStep[0].keys()) {
    const parts = perStep.map((m) => m.get(name)!);
    const all = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of parts) (all.set(a, at), (at += a.length));
    out.set(name, all);
  }
  return out;
}

/** log2 of a window's step count; throws unless it is a power of two within MAX_WINDOW. */
function logStepsOf(steps: number): number {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_WINDOW || (steps & (steps - 1)) !== 0) throw new RangeError(`a window is a power of two from 1 to ${MAX_WINDOW} steps, not ${steps}`);
  return Math.log2(steps);
}

/**
 * The weight chain of one layer over a window: W^(0) = start, W^(t+1) = W^(t) − U^(t), row by row
 * (`rows` rows per step). Works on row commitments and on blindings alike: returns the stacked
 * W^(0) … W^(T−1) and the window's output W^(T).
 */
function weightChain<V>(start: readonly V[], updates: readonly V[], rows: number, steps: number, minus: (a: V, b: V) => V): { stacked: V[]; next: V[] } {
  const stacked: V[] = [];
  let current = [...start];
  for (let t = 0; t < steps; t++) {
    stacked.push(...current);
    current = current.map((v, j) => minus(v, updates[t * rows + j]));
  }
  return { stacked, next: current };
}

export function proveWindow(key: CommitmentKey, d: StepDims, run: Uint8Array, first: number, inputs: WindowInputs, traces: readonly StepTrace[], engine: ProverEngine): WindowProof {
  return proveWindowWitness(key, d, run, first, traces.length, inputs, windowValues(d, traces), engine);
}

/**
 * The prover over explicit (stacked) witness values named as in the circuit; tests use it to play a
 * cheating prover. W<l> and Wn<l> in `values` are the stacked weights before and after each step
 * (the commitments to both are derived from the starting weights and U<l>, whatever Wn<l> holds).
 */
export function proveWindowWitness(key: CommitmentKey, d: StepDims, run: Uint8Array, first: number, steps: number, inputs: WindowInputs, values: ReadonlyMap<string, Float64Array>, engine: ProverEngine): WindowProof {
  const logSteps = logStepsOf(steps);
  const circuit = stepCircuit(d, logSteps);
  const transcript = new Transcript(WINDOW_DOMAIN);
  const ctx: ProverContext = { key, transcript, engine };
  absorbStatement(transcript, key, run, first, logSteps, d);
  const L = d.logDims.length - 1;
  const tensors = new Map<string, CommittedTensor>();
  for (const [name, t] of [["X", inputs.X], ["Y", inputs.Y]] as const) {
    if (!sameShape(t.commitment, circuit.shapes.get(name)!)) throw new RangeError(`${name} must stack the window's ${steps} batches`);
    tensors.set(name, t);
    absorbCommitment(transcript, name, t.commitment);
  }
  inputs.W.forEach((w, l) => absorbCommitment(transcript, `W${l + 1}`, w.commitment));
  const w = new ProofWriter();
  const commit = (name: string) => {
    const ct = commitTensor(ctx, engine.fromInts(matrixInts(values.get(name)!)), circuit.shapes.get(name)!);
    tensors.set(name, ct);
    w.points(ct.commitment.rows);
    absorbCommitment(transcript, name, ct.commitment);
  };
  for (const name of circuit.witness) commit(name);
  for (const dv of circuit.derived) {
    const terms = dv.terms.map((t) => ({ coeff: t.coeff, tensor: tensors.get(t.name)! }));
    let tensor = constantTensor(engine, dv.constant, terms[0].tensor.tensor.length, terms[0].tensor.tensor.shape);
    for (const t of terms) {
      const scaled = t.tensor.tensor.scale(bigIntsToBytes([fr(t.coeff)]));
      const sum = tensor.add(scaled);
      for (const x of [tensor, scaled]) x.dispose();
      tensor = sum;
    }
    const blinds = terms[0].tensor.blinds.map((_, j) => terms.reduce((acc, t) => add(acc, mul(fr(t.coeff), t.tensor.blinds[j])), 0n));
    tensors.set(dv.name, { tensor, commitment: derivedCommitment(key, dv, terms.map((t) => t.tensor.commitment)), blinds });
  }
  const next: CommittedTensor[] = [];
  for (let l = 1; l <= L; l++) {
    const start = inputs.W[l - 1];
    const u = tensors.get(`U${l}`)!;
    const rows = 1 << start.commitment.logRows;
    const cols = 1 << start.commitment.logCols;
    const points = weightChain(start.commitment.rows, u.commitment.rows, rows, steps, (a, b) => a.subtract(b));
    const blinds = weightChain(start.blinds, u.blinds, rows, steps, sub);
    tensors.set(`W${l}`, {
      tensor: engine.fromInts(matrixInts(values.get(`W${l}`)!), [rows * steps, cols]),
      commitment: { ...circuit.shapes.get(`W${l}`)!, rows: points.stacked },
      blinds: blinds.stacked,
    });
    const after = values.get(`Wn${l}`)!;
    next.push({
      tensor: engine.fromInts(matrixInts(after.subarray((steps - 1) * rows * cols)), [rows, cols]),
      commitment: { logRows: start.commitment.logRows, logCols: start.commitment.logCols, rows: points.next },
      blinds: blinds.next,
    });
  }
  const get = (name: string) => tensors.get(name)!;
  const claims = new ProverClaims();
  for (const rel of circuit.relations) {
    if (rel.kind === "contraction") {
      const list = rel.items.map((c) => ({ left: { ...c.left, tensor: get(c.left.name) }, right: { ...c.right, tensor: get(c.right.name) }, targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: get(t.name) })) }));
      contractionCodec.write(w, proveContractions(ctx, claims, { innerVars: rel.innerVars, batchVars: rel.batchVars }, list));
    } else if (rel.kind === "identities") {
      const n = numVars(circuit.shapes.get(rel.tensors[0])!);
      sumcheckCodec.write(w, proveIdentities(ctx, claims, rel.tensors.map(get), rel.identities, rel.masks.map((mk) => maskTable(engine, n, mk))));
    } else {
      const t = get(rel.name);
      const { point, value } = rowSumClaim(transcript, t.commitment, rel.total);
      claims.add(t, point, { value, blind: 0n });
    }
  }
  const looked = circuit.lookups.map((lk) => shiftCommitted(ctx, get(lk.name), lk.shift));
  lookupCodec.write(w, proveRange(ctx, claims, looked, TABLE));
  claimsCodec.write(w, claims.prove(ctx));
  return { bytes: w.bytes(), next };
}

// ---------------------------------------------------------------- verifier

export interface WindowPublic {
  /** The window's batches as stacked dataset rows (step first's records, then step first + 1's, …). */
  readonly X: TensorCommitment;
  readonly Y: TensorCommitment;
  /** The weights before the window's first step. */
  readonly W: readonly TensorCommitment[];
}

export interface WindowVerdict {
  readonly verdict: StatementVerdict;
  /** The weights after the window, as the proof commits them (the next window's W). */
  readonly next: TensorCommitment[];
}

function readRows(r: ProofReader, name: string, shape: TensorShape): TensorCommitment {
  return { ...shape, rows: r.points(1 << shape.logRows, name) };
}

/** Verifies a window proof of `steps` steps from `first` on public data; malformed bytes throw ProofFormatError. */
export function verifyWindow(key: CommitmentKey, d: StepDims, run: Uint8Array, first: number, steps: number, pub: WindowPublic, bytes: Uint8Array, engine: MsmEngine = nobleEngine): WindowVerdict {
  const checked = checkWindow(key, d, run, first, steps, pub, bytes);
  if (!checked.verdict.valid) return { verdict: checked.verdict, next: checked.next };
  const failed = checked.equations.settle(engine);
  return { verdict: failed === null ? { valid: true } : { valid: false, reason: failed }, next: checked.next };
}

/** A window proof read and checked, all but its group equations (`equations`, not yet settled). */
export interface WindowCheck extends WindowVerdict {
  readonly equations: EquationSet;
}

/**
 * verifyWindow without the final group check: the proof's group equations are returned unsettled,
 * so a run verifier can settle several windows' with one MSM (docs/protocol.md §4.6). The window is
 * valid iff `verdict` is and `equations` settle.
 */
export function checkWindow(key: CommitmentKey, d: StepDims, run: Uint8Array, first: number, steps: number, pub: WindowPublic, bytes: Uint8Array): WindowCheck {
  const equations = new EquationSet();
  const refused = (reason: string): WindowCheck => ({ verdict: { valid: false, reason }, next: [], equations });
  let logSteps: number;
  try {
    logSteps = logStepsOf(steps);
    if (steps > maxWindow(d)) throw new RangeError(`a window of ${steps} steps exceeds this network's longest, ${maxWindow(d)}`);
  } catch (e) {
    return refused((e as Error).message);
  }
  const circuit = stepCircuit(d, logSteps);
  const one = stepCircuit(d);
  const transcript = new Transcript(WINDOW_DOMAIN);
  const ctx: VerifierContext = { key, transcript, equations };
  absorbStatement(transcript, key, run, first, logSteps, d);
  const L = d.logDims.length - 1;
  const commitments = new Map<string, TensorCommitment>();
  const fits = (c: TensorCommitment | undefined, s: TensorShape) => c !== undefined && sameShape(c, s) && c.rows.length === 1 << s.logRows;
  for (const [name, c] of [["X", pub.X], ["Y", pub.Y]] as const) {
    if (!fits(c, circuit.shapes.get(name)!)) return refused(`public input ${name} does not stack the window's batches`);
    commitments.set(name, c);
    absorbCommitment(transcript, name, c);
  }
  for (let l = 1; l <= L; l++) {
    if (!fits(pub.W[l - 1], one.shapes.get(`W${l}`)!)) return refused(`public input W${l} does not have the circuit's shape`);
    absorbCommitment(transcript, `W${l}`, pub.W[l - 1]);
  }
  if (pub.W.length !== L) return refused(`${pub.W.length} starting weights for ${L} layers`);
  const r = new ProofReader(bytes);
  const read = (name: string) => {
    const c = readRows(r, name, circuit.shapes.get(name)!);
    commitments.set(name, c);
    absorbCommitment(transcript, name, c);
  };
  for (const name of circuit.witness) read(name);
  for (const dv of circuit.derived) commitments.set(dv.name, derivedCommitment(key, dv, dv.terms.map((t) => commitments.get(t.name)!)));
  const next: TensorCommitment[] = [];
  for (let l = 1; l <= L; l++) {
    const start = pub.W[l - 1];
    const points = weightChain(start.rows, commitments.get(`U${l}`)!.rows, 1 << start.logRows, steps, (a, b) => a.subtract(b));
    commitments.set(`W${l}`, { ...circuit.shapes.get(`W${l}`)!, rows: points.stacked });
    next.push({ logRows: start.logRows, logCols: start.logCols, rows: points.next });
  }
  const get = (name: string) => commitments.get(name)!;
  try {
    const claims = new VerifierClaims();
    for (const rel of circuit.relations) {
      if (rel.kind === "contraction") {
        const p = contractionCodec.read(r, { innerVars: rel.innerVars, batchVars: rel.batchVars }, rel.items.map((c) => c.targets.length));
        const list = rel.items.map((c) => ({ left: { ...c.left, tensor: get(c.left.name) }, right: { ...c.right, tensor: get(c.right.name) }, targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: get(t.name) })) }));
        verifyContractions(ctx, claims, { innerVars: rel.innerVars, batchVars: rel.batchVars }, list, p, rel.label);
      } else if (rel.kind === "rowsums") {
        const c = get(rel.name);
        const { point, value } = rowSumClaim(transcript, c, rel.total);
        claims.add(c, point, Lin.of(key.g, value));
      } else {
        const n = numVars(circuit.shapes.get(rel.tensors[0])!);
        const p = sumcheckCodec.read(r, identityLayout(n, rel.tensors.length, rel.identities, rel.masks.length));
        verifyIdentities(ctx, claims, rel.tensors.map(get), rel.identities, p, rel.label, rel.masks.map(maskValue));
      }
    }
    const looked = circuit.lookups.map((lk) => shiftedCommitment(key, get(lk.name), lk.shift));
    verifyRange(ctx, claims, looked, TABLE, lookupCodec.read(r, looked, TABLE), "range checks");
    claims.verify(ctx, claimsCodec.read(r, claims));
    r.end();
  } catch (e) {
    if (e instanceof Rejection) return { verdict: { valid: false, reason: e.message }, next, equations };
    throw e;
  }
  return { verdict: { valid: true }, next, equations };
}
