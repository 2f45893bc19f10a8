/**
 * Training a run: records → dataset commitments and tree → fixed-point SGD, every step proven →
 * the run folder (docs/protocol.md §4.5), written atomically by prover/run-folder.ts (under
 * DIR.partial-XXXXXX, renamed at the end), so a crash never leaves a half-written run where a finished one is
 * expected.
 */
import { InputError } from "../core/errors";
import { disposeTensors, tensorScope } from "../native";
import { type Records, featureMatrix } from "../core/data/records";
import { datasetTree } from "../core/dataset/commitments";
import { type ModelConfig, checkConfig, paddedLayers, predict, trainStep } from "../core/model/fixed";
import { floatPredict, floatStep, toFloat } from "./float";
import { batchInputs, prepareTraining } from "./inputs";
import { nativeEngine } from "./native-engine";
import { proveStep } from "../core/training/window";
import { encodeBundle, encodeDataset, encodeOpenings, encodeRecords, encodeWeights } from "../core/run/formats";
import { RUN_FILES } from "../core/run/files";
import { refuseOverwrite, writeRunFolder } from "./run-folder";
import { MANIFEST_FORMAT, type Manifest, PROVER_VERSION, RUN_LIMITS, digestHex, publisherOf, manifestBytes, manifestDigest, runBinding, weightsDigest } from "../core/run/manifest";
import { toHex } from "../core/crypto/bn254";
import type { DEFAULT_LABEL } from "../core/protocol/generators";
import type { FeatureRange } from "../core/training/circuit";

export interface TrainOptions {
  readonly config: ModelConfig;
  /** The publisher's address (the account that will register the run): bound into every step proof. */
  readonly publisher: string;
  /** What the features are proven to be; by default the tightest range the records fit. */
  readonly featureRange?: FeatureRange;
  readonly steps: number;
  readonly records: Records;
  readonly source: "mnist" | "csv";
  /** Held-out records for the accuracy report (optional). */
  readonly test?: Records;
  readonly out: string;
  /** Replace an existing folder at `out` (otherwise an existing one is an error). */
  readonly overwrite?: boolean;
  /** Called after each proven step. */
  readonly onStep?: (info: { step: number; steps: number; loss: number; proveMs: number; bytes: number }) => void;
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
  const datasetBytes = encodeDataset(commitments);
  const statement = {
    publisher: publisherOf(o.publisher),
    model: { layers: [...c.layers], paddedLayers: p, fracBits: c.fracBits, lrShift: c.lrShift, batch: c.batch, activation: "relu" as const, loss: "squared-error" as const },
    training: { steps: o.steps, seed: c.seed, init: "he-uniform/zkdl-chain/v1/init" as const, schedule: "zkdl-chain/v1/batches" as const },
    data: { source: o.source, records: o.records.count, features: c.layers[0], classes: c.layers[L], featureRange: d.featureRange },
    generators: { label: key.label as typeof DEFAULT_LABEL, size: key.size, id: toHex(key.id) },
    dataset: { size: o.records.count, root: tree.root, commitments: RUN_FILES.dataset, commitmentsDigest: digestHex(datasetBytes), tree: RUN_FILES.tree },
  };
  const run = runBinding(statement);
  // Initial weights: seeded, committed with zero blinding (anyone recomputes them).
  let { weights, W } = setup;
  let floatWeights = weights.map((m) => toFloat(c, m));
  const initial = W.map((w) => w.commitment);
  const stepProofs: Uint8Array[] = [];
  const stepDigests: string[] = [];
  let loss = 0;
  let proveMs = 0;
  o.onStage?.("training and proving");
  for (let t = 0; t < o.steps; t++) {
    const idx = schedule.indices(t);
    const { x, y, X, Y } = batchInputs(o.records, commitments, openings, idx, c.fracBits);
    const trace = trainStep(c, weights, x, y);
    const started = performance.now();
    // The step's native tensors are freed when it is proven, all but the next weights it returns.
    const proof = tensorScope(() => proveStep(key, d, run, t, { X, Y, W }, trace, nativeEngine));
    const ms = performance.now() - started;
    proveMs += ms;
    stepProofs.push(proof.bytes);
    disposeTensors([X, Y, W]); // this step's inputs; the next step's W is proof.next
    W = proof.next;
    stepDigests.push(weightsDigest(W.map((w) => w.commitment)));
    weights = [...trace.next];
    loss = trace.loss;
    if (o.test) floatWeights = floatStep(c, floatWeights, toFloat(c, x), toFloat(c, y)).next;
    o.onStep?.({ step: t, steps: o.steps, loss, proveMs: ms, bytes: proof.bytes.length });
  }
  const bundle = encodeBundle({ initial, steps: stepProofs });
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    prover: PROVER_VERSION,
    ...statement,
    weights: { initial: weightsDigest(initial), final: stepDigests[stepDigests.length - 1], steps: stepDigests },
    bundle: { file: RUN_FILES.proof, digest: digestHex(bundle), bytes: bundle.length },
  };
  let report: RunReport = { finalLoss: loss, proveMsPerStep: proveMs / o.steps, proofBytes: bundle.length };
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
