/**
 * Verifying a run from its public files alone (docs/protocol.md §4.6), cheapest checks first: the
 * manifest (canonical, its schema, the publisher if one is expected); the files' sizes against it,
 * then their digests; the dataset root rebuilt from the commitments, and dataset-tree.json's; every
 * window proof (T consecutive steps as one instance) on the batches the schedule picks for its steps,
 * from the previous window's weights, each window's weights digest; and, once the first window has
 * verified, the initial commitments against the seeded weights. Every
 * refusal is a verdict; only a bug or the machine (a RangeError when memory runs out) throws. Needs
 * no native addon (pass prover/native-engine.ts's nativeAccelerators to accelerate).
 */
import { fr, mul, neg, randomFr } from "../crypto/fr";
import { batchCommitment, datasetLeaves, fingerprintTree } from "../dataset/commitments";
import { BatchSchedule } from "../dataset/schedule";
import { CompactDatasetTree } from "../dataset/tree";
import { SentinelFingerprintError } from "../dataset/fingerprint-tree";
import { verifyFingerprints } from "../dataset/fingerprints";
import { type ModelConfig, initialLayerWeights } from "../model/fixed";
import type { GeneratorDeriver, KeccakRows } from "../protocol/backend";
import { type CommitmentKey, commitmentKey } from "../protocol/generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { type TensorCommitment, sameShape } from "../protocol/hyrax";
import { weightShape } from "../training/circuit";
import { checkWindow, windowSizes } from "../training/window";
import { EncodingError } from "../crypto/bn254";
import { ProofFormatError } from "../protocol/codec";
import { Rejection } from "../protocol/context";
import { type StepDims, stepDims } from "../training/circuit";
import { datasetFileBytes, decodeBundle, decodeDataset, decodeDatasetTree } from "./formats";
import { RUN_FILES, RunFileError } from "./files";
import { type Manifest, configOf, digestHex, manifestDigest, parseManifest, runBinding, weightsDigest } from "./manifest";

/**
 * Windows whose group equations one MSM settles (docs/protocol.md §4.6): a run of 1 024 MNIST steps
 * in windows of 32 settles in 3 MSMs instead of 32 (the generators' terms merge, and one large
 * Pippenger is cheaper per point than many small ones: pure verification 109 → 69 s). Bounded so
 * that a browser holds at most this many windows' equations (0.7 GB RSS for that run, pure).
 */
export const SETTLE_BATCH = 16;
/**
 * … and at most this many bytes of window proofs: a batch holds its windows' equations (about their
 * proofs' points, plus the derived rows) until it settles, so the memory a hostile bundle of a few
 * large windows can make a verifier hold stays near one window's, as without batching.
 */
export const SETTLE_BATCH_BYTES = 32 * 2 ** 20;

/** One window's verification: window `window` proves steps first … first + steps − 1. */
export interface WindowReport {
  readonly window: number;
  readonly first: number;
  readonly steps: number;
  readonly valid: boolean;
  readonly reason?: string;
  readonly ms: number;
}

/** The steps the reported windows cover (a valid run's: all of them; an invalid one's up to its failing window). */
export const stepsVerified = (windows: readonly WindowReport[]): number => windows.reduce((n, w) => n + w.steps, 0);

/** How a window is named in reasons and progress: "window 1 (steps 4–5)", "window 2 (step 6)". */
export const windowName = (w: Pick<WindowReport, "window" | "first" | "steps">): string =>
  `window ${w.window} (${w.steps === 1 ? `step ${w.first}` : `steps ${w.first}–${w.first + w.steps - 1}`})`;

export interface RunVerdict {
  readonly valid: boolean;
  readonly reason?: string;
  /** Set when the reason is a missing or malformed file: its path. */
  readonly malformed?: string;
  readonly manifestDigest?: string;
  readonly manifest?: Manifest;
  /** The windows verified, in order (the last one the failing one, for an invalid run that got that far). */
  readonly windows: WindowReport[];
  readonly ms: number;
}

export interface VerifyRunOptions {
  /** MSM engine of the final checks (default @noble/curves; e.g. nativeEngine: same verdicts, faster). */
  readonly engine?: MsmEngine;
  /** Derives the generator set (default TypeScript; e.g. nativeGenerators). */
  readonly generators?: GeneratorDeriver;
  /** Hashes the dataset tree's rows (default @noble/hashes; e.g. nativeKeccakRows). */
  readonly keccakRows?: KeccakRows;
  /** The account the run is registered by (e.g. from the chain): the manifest must name it. */
  readonly publisher?: string;
  /** How many windows (default SETTLE_BATCH) and proof bytes (default SETTLE_BATCH_BYTES) one MSM settles at most. */
  readonly settleBatch?: { readonly windows?: number; readonly bytes?: number };
  /**
   * Called for each window once it is verified, in order; `total` is the run's window count. Windows
   * are settled in batches (SETTLE_BATCH), so the calls come a batch at a time.
   */
  readonly onWindow?: (r: WindowReport, total: number) => void;
}

/** Where a run's public files come from: a run folder, or a public bundle unpacked in memory. */
export interface RunFiles {
  /** How a file is named in messages (its path). */
  path(name: string): string;
  /** The file's bytes; throws RunFileError if it is missing or cannot be read. */
  read(name: string): Uint8Array;
}

/**
 * Answers a verdict for everything a run's files can hold — a missing or malformed file (`malformed`
 * names it), a configuration the prover cannot produce, a proof that does not verify — and throws
 * only for a bug of its own. Sizes are checked against the manifest (whose schema bounds them) before
 * anything is hashed, derived or verified. `files` are a run folder's (prover/run-folder.ts), a
 * downloaded public bundle's (unpackPublicBundle), or any other RunFiles.
 */
export function verifyRunFiles(files: RunFiles, o: VerifyRunOptions = {}): RunVerdict {
  const started = performance.now();
  const windows: WindowReport[] = [];
  let m: Manifest | undefined;
  const verdict = (valid: boolean, reason?: string, malformed?: string): RunVerdict => ({
    valid,
    ...(reason === undefined ? {} : { reason }),
    ...(malformed === undefined ? {} : { malformed }),
    manifest: m,
    manifestDigest: m ? manifestDigest(m) : undefined,
    windows,
    ms: performance.now() - started,
  });
  try {
    m = parseManifest(files.path(RUN_FILES.manifest), files.read(RUN_FILES.manifest));
    const failure = checkRun(files, m, windows, o);
    return failure === null ? verdict(true) : verdict(false, failure);
  } catch (e) {
    if (e instanceof RunFileError) return verdict(false, e.message, e.file);
    // A refusal from below (an encoding, a proof element, a rejected statement) is a verdict too.
    // Anything else — a RangeError among them, which V8 also throws when memory runs out — is not
    // about the run: it propagates, and an attestor skips the run rather than call it invalid.
    if (e instanceof ProofFormatError || e instanceof EncodingError || e instanceof Rejection) return verdict(false, `refused: ${e.message}`);
    throw e;
  }
}

/**
 * The initial weights are the seeded ones: Σ_j γ_j·C_j = Σ_i (γᵀW)_i·G_i per layer (γ random, zero
 * blinding), one layer's weights in memory at a time.
 */
function checkInitialWeights(config: ModelConfig, d: StepDims, key: CommitmentKey, initial: readonly TensorCommitment[], engine: MsmEngine): string | null {
  const eqs = new EquationSet();
  for (let l = 0; l < initial.length; l++) {
    const c = initial[l];
    const shape = weightShape(d.logDims[l] + d.logDims[l + 1]);
    if (!sameShape(c, shape)) return `initial W${l + 1} has the wrong shape`;
    const cols = 1 << c.logCols;
    const gamma = c.rows.map(() => randomFr());
    const lin = new Lin();
    c.rows.forEach((row, j) => lin.add(row, gamma[j]));
    const combo = new Array<bigint>(cols).fill(0n);
    const data = initialLayerWeights(config, l).data;
    c.rows.forEach((_, j) => {
      for (let i = 0; i < cols; i++) if (data[j * cols + i] !== 0) combo[i] += mul(gamma[j], fr(BigInt(data[j * cols + i])));
    });
    combo.forEach((v, i) => lin.add(key.G[i], neg(fr(v))));
    eqs.require(`initial W${l + 1} is not the seeded initialisation`, lin);
  }
  return eqs.settle(engine);
}

/** Why the run does not verify, or null; throws RunFileError for a missing or malformed file. */
function checkRun(files: RunFiles, m: Manifest, reports: WindowReport[], o: VerifyRunOptions): string | null {
  const engine = o.engine ?? nobleEngine;
  if (o.publisher !== undefined && o.publisher.toLowerCase() !== m.publisher) return `the manifest names publisher ${m.publisher}, not ${o.publisher.toLowerCase()}`;
  const config = configOf(m);
  const d = stepDims(config, m.data.featureRange);
  const L = m.model.layers.length - 1;
  const p = m.model.paddedLayers;

  // Sizes first: everything below is bounded by the manifest, whose schema bounds it in turn.
  const datasetBytes = files.read(m.dataset.commitments);
  const datasetSize = datasetFileBytes(m.dataset.size, p[0]);
  if (datasetBytes.length !== datasetSize) return `dataset.bin holds ${datasetBytes.length} bytes; ${m.dataset.size} records of ${p[0]} padded features take ${datasetSize}`;
  const bundleBytes = files.read(m.bundle.file);
  if (bundleBytes.length !== m.bundle.bytes) return `proof.bin holds ${bundleBytes.length} bytes; the manifest says ${m.bundle.bytes}`;

  if (digestHex(datasetBytes) !== m.dataset.commitmentsDigest) return "dataset.bin does not match the manifest's digest";
  const dataset = decodeDataset(files.path(m.dataset.commitments), datasetBytes);
  if (dataset.cx.length !== m.dataset.size) return `dataset.bin holds ${dataset.cx.length} records; the manifest says ${m.dataset.size}`;
  if (dataset.featureCols !== p[0] || dataset.labelCols !== p[L]) return "dataset rows are not as wide as the padded input and output layers";
  if (digestHex(bundleBytes) !== m.bundle.digest) return "proof.bin does not match the manifest's digest";
  const bundle = decodeBundle(files.path(m.bundle.file), bundleBytes, d.logDims.slice(1).map((n, l) => weightShape(d.logDims[l] + n)));
  if (bundle.initial.length !== L) return `the bundle has ${bundle.initial.length} initial weight commitments for ${L} layers`;
  const sizes = windowSizes(m.training.steps, m.training.window);
  if (bundle.windows.length !== sizes.length) return `the bundle has ${bundle.windows.length} window proofs; ${m.training.steps} steps in windows of ${m.training.window} make ${sizes.length}`;
  const firsts: number[] = [];
  sizes.reduce((first, T) => (firsts.push(first), first + T), 0);
  const name = (w: number) => windowName({ window: w, first: firsts[w], steps: sizes[w] });
  // Each window proves the steps the schedule gives it, and window proofs of one length share a
  // layout, hence a byte length.
  const firstOfLength = new Map<number, number>();
  for (let w = 0; w < sizes.length; w++) {
    if (bundle.windows[w].steps !== sizes[w]) return `${name(w)}: its proof is of ${bundle.windows[w].steps} steps, not ${sizes[w]}`;
    const same = firstOfLength.get(sizes[w]) ?? (firstOfLength.set(sizes[w], w), w);
    const [a, b] = [bundle.windows[w].proof.length, bundle.windows[same].proof.length];
    if (a !== b) return `${name(w)}: its proof is ${a} bytes, ${name(same)}'s ${b}`;
  }

  // The root over flat buffers (with the native keccak when given: seconds at 2^20 records).
  const root = CompactDatasetTree.build(datasetLeaves(dataset), o.keccakRows).root;
  if (root !== m.dataset.root) return `the dataset commitments rebuild root ${root}, not the manifest's ${m.dataset.root}`;
  const treeRoot = decodeDatasetTree(files.path(m.dataset.tree), files.read(m.dataset.tree)).root;
  if (treeRoot !== m.dataset.root) return `dataset-tree.json has root ${treeRoot}, not the manifest's`;
  // The fingerprint tree is exactly the sorted, distinct fingerprints of these points (§5.3): rebuilt here.
  let fingerprintRoot;
  try {
    fingerprintRoot = fingerprintTree(dataset, o.keccakRows).root;
  } catch (e) {
    if (e instanceof SentinelFingerprintError) return `the fingerprint tree cannot be built: ${e.message}`;
    throw e;
  }
  if (fingerprintRoot !== m.dataset.fingerprintRoot) return `the record fingerprints rebuild fingerprint root ${fingerprintRoot}, not the manifest's ${m.dataset.fingerprintRoot}`;
  if (weightsDigest(bundle.initial) !== m.weights.initial) return "the initial weight commitments do not match the manifest's digest";

  // The schema checked the generator set's label, size and id; derive it only now.
  const key = commitmentKey(m.generators.size, { label: m.generators.label, derive: o.generators });
  // The fingerprint points are the feature commitments without their blindings (§4.3): one MSM.
  const fingerprintChecks = new EquationSet();
  verifyFingerprints(key, p[0], dataset.cx, dataset.fingerprints, dataset.fingerprintProof, fingerprintChecks);
  const fingerprintFailure = fingerprintChecks.settle(engine);
  if (fingerprintFailure !== null) return fingerprintFailure;

  const run = runBinding(m);
  const schedule = new BatchSchedule(m.data.records, m.model.batch, m.training.seed);
  let W: TensorCommitment[] = bundle.initial;
  // Windows' group equations are settled a batch at a time, one MSM each (the first window alone,
  // before the initial weights are seeded); a window is reported when its batch settles.
  let batch: { w: number; equations: EquationSet; ms: number; bytes: number }[] = [];
  const report = (w: number, ms: number, reason?: string): WindowReport => {
    const base = { window: w, first: firsts[w], steps: sizes[w], ms };
    const r: WindowReport = reason === undefined ? { ...base, valid: true } : { ...base, valid: false, reason };
    reports.push(r);
    o.onWindow?.(r, sizes.length);
    return r;
  };
  const settle = (): string | null => {
    const pending = batch;
    batch = [];
    if (pending.length === 0) return null;
    const started = performance.now();
    const failed = EquationSet.settleAll(pending.map((b) => b.equations), engine);
    const share = (performance.now() - started) / pending.length;
    for (let k = 0; k < pending.length; k++) {
      const r = report(pending[k].w, pending[k].ms + share, failed?.index === k ? failed.reason : undefined);
      if (!r.valid) return `${name(r.window)}: ${r.reason}`;
    }
    return null;
  };
  for (let w = 0; w < sizes.length; w++) {
    const windowStart = performance.now();
    const first = firsts[w];
    const T = sizes[w];
    // The window's batches stacked in step order: the schedule's indices of steps first … first + T − 1.
    const idx = schedule.windowIndices(first, T);
    const X = batchCommitment(dataset.cx, idx, p[0]);
    const Y = batchCommitment(dataset.cy, idx, p[L]);
    let result;
    try {
      result = checkWindow(key, d, run, first, T, { X, Y, W }, bundle.windows[w].proof);
    } catch (e) {
      if (!(e instanceof ProofFormatError || e instanceof EncodingError)) throw e;
      result = { verdict: { valid: false as const, reason: `malformed window proof: ${e.message}` }, next: [], equations: new EquationSet() };
    }
    if (!result.verdict.valid) {
      const earlier = settle();
      if (earlier !== null) return earlier;
      report(w, performance.now() - windowStart, result.verdict.reason);
      return `${name(w)}: ${result.verdict.reason}`;
    }
    batch.push({ w, equations: result.equations, ms: performance.now() - windowStart, bytes: bundle.windows[w].proof.length });
    W = result.next;
    if (weightsDigest(W) !== m.weights.windows[w]) return settle() ?? `${name(w)}: its weights do not match the manifest's digest for that window`;
    const pendingBytes = batch.reduce((n, b) => n + b.bytes, 0);
    if (w === 0 || batch.length >= (o.settleBatch?.windows ?? SETTLE_BATCH) || pendingBytes >= (o.settleBatch?.bytes ?? SETTLE_BATCH_BYTES) || w === sizes.length - 1) {
      const failure = settle();
      if (failure !== null) return failure;
    }
    // Seeding the initial weights costs about as much as the model is large: only once a window proof
    // for a model of that size has verified.
    if (w === 0) {
      const failure = checkInitialWeights(config, d, key, bundle.initial, engine);
      if (failure) return failure;
    }
  }
  return null;
}
