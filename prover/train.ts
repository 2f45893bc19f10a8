/**
 * Training a run: records → dataset commitments and tree → fixed-point SGD, step by step, the steps
 * proven a window at a time (T consecutive steps as one stacked instance) → the run folder
 * (docs/protocol.md §4.5), written atomically by prover/run-folder.ts (under DIR.partial-XXXXXX,
 * renamed at the end), so a crash never leaves a half-written run where a finished one is expected.
 */
import { InputError } from "../core/errors";
import { disposeTensors, tensorScope } from "../native";
import { type Records, featureMatrix } from "../core/data/records";
import { datasetTree, fingerprintTree } from "../core/dataset/commitments";
import { type Matrix, type ModelConfig, type StepTrace, checkConfig, matrix, paddedLayers, predict, trainStep } from "../core/model/fixed";
import { floatPredict, floatStep, toFloat } from "./float";
import { batchMatrices, commitBatch, prepareTraining } from "./inputs";
import { nativeEngine, nativeKeccakRows } from "./native-engine";
import { MAX_WINDOW, maxWindow, proveWindow, windowSizes } from "../core/training/window";
import { encodeBundle, encodeDataset, encodeOpenings, encodeRecords, encodeWeights } from "../core/run/formats";
import { RUN_FILES } from "../core/run/files";
import { refuseOverwrite, writeRunFolder } from "./run-folder";
import { MANIFEST_FORMAT, type Manifest, PROVER_VERSION, RUN_LIMITS, digestHex, isWindowLength, publisherOf, manifestBytes, manifestDigest, runBinding, weightsDigest } from "../core/run/manifest";
import { toHex } from "../core/crypto/bn254";
import type { DEFAULT_LABEL } from "../core/protocol/generators";
import { type FeatureRange, type StepDims, featureRangeOf, stepCircuit, stepDims } from "../core/training/circuit";

/**
 * The default window length (docs/protocol.md §4.5): the largest power of two T ≤ DEFAULT_WINDOW_CAP
 * (and ≤ the run's steps, and ≤ maxWindow(d), the network's longest window) with T × (entries of
 * every tensor one step commits) × 32 bytes × WINDOW_MEMORY_FACTOR ≤ WINDOW_MEMORY_BUDGET, at least 1. The factor stands for what the prover holds
 * besides the witness itself (the stacked tensors, sumcheck and lookup tables, MLE folds, the native
 * copies) — an estimate, not a bound; pass `window` to choose another.
 */
export const WINDOW_MEMORY_BUDGET = 8 * 2 ** 30;
/** Measured (docs/benchmarks.md): MNIST windows of 16 and 32 peak at 3.5 and 6.8 GB, about 7× their entries' 32 bytes. */
export const WINDOW_MEMORY_FACTOR = 8;
export const DEFAULT_WINDOW_CAP = 64;

/** Field elements of every tensor one step commits (its witness, inputs and outputs). */
export function stepWitnessEntries(d: StepDims): number {
  let n = 0;
  for (const s of stepCircuit(d).shapes.values()) n += 2 ** (s.logRows + s.logCols);
  return n;
}

/** The window a run of `steps` steps of these dimensions gets unless told otherwise (the rule above). */
export function defaultWindow(d: StepDims, steps: number): number {
  const perStep = stepWitnessEntries(d) * 32 * WINDOW_MEMORY_FACTOR;
  let T = 1;
  while (2 * T <= Math.min(DEFAULT_WINDOW_CAP, steps, maxWindow(d)) && 2 * T * perStep <= WINDOW_MEMORY_BUDGET) T *= 2;
  return T;
}

/** Rows from … from + count − 1 of m. */
const rowsOf = (m: Matrix, from: number, count: number): Matrix => matrix(count, m.cols, m.data.slice(from * m.cols, (from + count) * m.cols));

export interface TrainOptions {
  readonly config: ModelConfig;
  /** The publisher's address (the account that will register the run): bound into every window proof. */
  readonly publisher: string;
  /** What the features are proven to be; by default the tightest range the records fit. */
  readonly featureRange?: FeatureRange;
  readonly steps: number;
  /**
   * The window length T: steps are proven T at a time (the rest in decreasing powers of two); a power
   * of two from 1 to MAX_WINDOW. Default: defaultWindow (a memory rule).
   */
  readonly window?: number;
  readonly records: Records;
  readonly source: "mnist" | "csv";
  /** Held-out records for the accuracy report (optional). */
  readonly test?: Records;
  readonly out: string;
  /** Replace an existing folder at `out` (otherwise an existing one is an error). */
  readonly overwrite?: boolean;
  /** Called after each step is trained (its window is proven once its last step is). */
  readonly onStep?: (info: { step: number; steps: number; loss: number }) => void;
  /** Called after each proven window: window `window` of `windows`, steps first … first + steps − 1; `loss` is its last step's. */
  readonly onWindow?: (info: { window: number; windows: number; first: number; steps: number; loss: number; proveMs: number; bytes: number }) => void;
  readonly onStage?: (stage: string) => void;
}

export interface TrainResult {
  readonly manifest: Manifest;
  readonly manifestDigest: string;
  readonly dir: string;
  readonly report: RunReport;
}

export interface RunReport {
  readonly testAccuracy?: number;
  readonly floatTestAccuracy?: number;
  readonly finalLoss: number;
  /** The window length the run was proven with. */
  readonly window: number;
  /** Proving time over the run's steps (a window's proof time shared among its steps). */
  readonly proveMsPerStep: number;
  readonly proofBytes: number;
}


/** Trains, proves and writes a run, after checking that the records and the publisher fit the model. */
export function trainRun(o: TrainOptions): TrainResult {
  const c = o.config;
  checkConfig(c);
  refuseOverwrite(o.out, o.overwrite);
  const L = c.layers.length - 1;
  if (o.records.features !== c.layers[0]) throw new InputError(`the records have ${o.records.features} features; the first layer is ${c.layers[0]} wide`);
  if (o.records.classes > c.layers[L]) throw new InputError(`the records have ${o.records.classes} classes; the last layer is ${c.layers[L]} wide`);
  if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > RUN_LIMITS.steps) throw new InputError(`steps must be an integer from 1 to ${RUN_LIMITS.steps}`);
  if (o.records.count < c.batch || o.records.count > RUN_LIMITS.records) throw new InputError(`a batch of ${c.batch} needs ${c.batch} to ${RUN_LIMITS.records} records (have ${o.records.count})`);
  if (o.window !== undefined) {
    if (!isWindowLength(o.window)) throw new InputError(`window must be a power of two from 1 to ${MAX_WINDOW} (got ${o.window})`);
    const longest = maxWindow(stepDims(c, o.featureRange ?? featureRangeOf(o.records, c.fracBits)));
    if (o.window > longest) throw new InputError(`a window of ${o.window} steps is longer than this network allows (${longest}: its stacked tensors would pass 2^30 entries)`);
  }
  publisherOf(o.publisher);
  return proveRun(o);
}

/**
 * Trains, proves and writes a run as told, without checking the records against the model: the
 * prover of a run whose records may lie (wider rows, extra classes) — tests use it to play a
 * cheating publisher. Use trainRun.
 */
export function proveRun(o: TrainOptions): TrainResult {
  const c = o.config;
  const p = paddedLayers(c);
  const L = p.length - 1;
  o.onStage?.("generators and dataset commitments");
  const setup = prepareTraining(c, o.records, o.featureRange);
  const { d, key, commitments, openings, schedule } = setup;
  const tree = datasetTree(commitments);
  const fingerprints = fingerprintTree(commitments, nativeKeccakRows);
  const datasetBytes = encodeDataset(commitments);
  const window = o.window ?? defaultWindow(d, o.steps);
  const sizes = windowSizes(o.steps, window);
  const statement = {
    publisher: publisherOf(o.publisher),
    model: { layers: [...c.layers], paddedLayers: p, fracBits: c.fracBits, lrShift: c.lrShift, batch: c.batch, activation: "relu" as const, loss: "squared-error" as const },
    training: { steps: o.steps, window, seed: c.seed, init: "he-uniform/zkdl-chain/v1/init" as const, schedule: "zkdl-chain/v1/batches" as const },
    data: { source: o.source, records: o.records.count, features: c.layers[0], classes: c.layers[L], featureRange: d.featureRange },
    generators: { label: key.label as typeof DEFAULT_LABEL, size: key.size, id: toHex(key.id) },
    dataset: { size: o.records.count, root: tree.root, fingerprintRoot: fingerprints.root, commitments: RUN_FILES.dataset, commitmentsDigest: digestHex(datasetBytes), tree: RUN_FILES.tree },
  };
  const run = runBinding(statement);
  // Initial weights: seeded, committed with zero blinding (anyone recomputes them).
  let { weights, W } = setup;
  let floatWeights = weights.map((m) => toFloat(c, m));
  const initial = W.map((w) => w.commitment);
  const windowProofs: { steps: number; proof: Uint8Array }[] = [];
  const windowDigests: string[] = [];
  let loss = 0;
  let proveMs = 0;
  o.onStage?.("training and proving");
  let first = 0;
  for (let w = 0; w < sizes.length; w++) {
    const T = sizes[w];
    // The window's batches stacked in step order; each step trains on its B rows.
    const idx = schedule.windowIndices(first, T);
    const { x, y } = batchMatrices(o.records, commitments, idx, c.fracBits);
    const traces: StepTrace[] = [];
    for (let s = 0; s < T; s++) {
      const xs = rowsOf(x, s * c.batch, c.batch);
      const ys = rowsOf(y, s * c.batch, c.batch);
      const trace = trainStep(c, weights, xs, ys);
      traces.push(trace);
      weights = [...trace.next];
      loss = trace.loss;
      if (o.test) floatWeights = floatStep(c, floatWeights, toFloat(c, xs), toFloat(c, ys)).next;
      o.onStep?.({ step: first + s, steps: o.steps, loss });
    }
    const { X, Y } = commitBatch(x, y, commitments, openings, idx);
    const started = performance.now();
    // The window's native tensors are freed when it is proven, all but the next weights it returns.
    const proof = tensorScope(() => proveWindow(key, d, run, first, { X, Y, W }, traces, nativeEngine));
    const ms = performance.now() - started;
    proveMs += ms;
    windowProofs.push({ steps: T, proof: proof.bytes });
    disposeTensors([X, Y, W]); // this window's inputs; the next window's W is proof.next
    W = proof.next;
    windowDigests.push(weightsDigest(W.map((t) => t.commitment)));
    o.onWindow?.({ window: w, windows: sizes.length, first, steps: T, loss, proveMs: ms, bytes: proof.bytes.length });
    first += T;
  }
  const bundle = encodeBundle({ initial, windows: windowProofs });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    prover: PROVER_VERSION,
    ...statement,
    weights: { initial: weightsDigest(initial), final: windowDigests[windowDigests.length - 1], windows: windowDigests },
    bundle: { file: RUN_FILES.proof, digest: digestHex(bundle), bytes: bundle.length },
  };
  let report: RunReport = { finalLoss: loss, window, proveMsPerStep: proveMs / o.steps, proofBytes: bundle.length };
  if (o.test) {
    const all = Int32Array.from({ length: o.test.count }, (_, i) => i);
    const tx = featureMatrix(o.test, all, p[0]);
    const acc = (pred: number[]) => pred.filter((v, i) => v === o.test!.labels[i]).length / o.test!.count;
    report = { ...report, testAccuracy: acc(predict(c, weights, tx)), floatTestAccuracy: acc(floatPredict(c, floatWeights, toFloat(c, tx))) };
  }
  o.onStage?.("writing the run");
  writeRunFolder(
    o.out,
    {
      manifest: manifestBytes(manifest),
      dataset: datasetBytes,
      tree: JSON.stringify(tree.dump(), null, 2) + "\n",
      proof: bundle,
      report: JSON.stringify(report, null, 2) + "\n",
      openings: () => encodeOpenings(openings),
      records: () => encodeRecords(o.records),
      weights: () => encodeWeights({ weights, blinds: W.map((w) => [...w.blinds]) }),
    },
    { overwrite: o.overwrite },
  );
  return { manifest, manifestDigest: manifestDigest(manifest), dir: o.out, report };
}
