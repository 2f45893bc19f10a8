/**
 * Verifying a run from its public files alone (docs/protocol.md §4.6): the manifest is canonical;
 * dataset.bin matches its digest and rebuilds the manifest's root, which dataset-tree.json (an
 * OpenZeppelin dump) also has; proof.bin matches its digest; the initial weight commitments are the
 * seeded initial weights with zero blinding; every step proof verifies on the batch the schedule
 * picks, starting from the previous step's weights; and the per-step and final weight digests match.
 * Needs no native addon (pass the native engine to accelerate).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fr, mul, neg, randomFr } from "../crypto/fr";
import { datasetTree, batchCommitment } from "../dataset/commitments";
import { BatchSchedule } from "../dataset/schedule";
import { loadDatasetTree } from "../dataset/tree";
import { initialWeights } from "../model/fixed";
import { commitmentKey } from "../protocol/generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { type TensorCommitment, sameShape } from "../protocol/hyrax";
import { weightShape } from "../training/circuit";
import { verifyStep } from "../training/step";
import { decodeBundle, decodeDataset, RunFileError } from "./formats";
import { type Manifest, digestHex, manifestDigest, parseManifest, runBinding, weightsDigest } from "./manifest";
import { stepDims } from "../training/inputs";

export interface StepReport {
  readonly step: number;
  readonly valid: boolean;
  readonly reason?: string;
  readonly ms: number;
}

export interface RunVerdict {
  readonly valid: boolean;
  readonly reason?: string;
  readonly manifestDigest?: string;
  readonly manifest?: Manifest;
  readonly steps: StepReport[];
  readonly ms: number;
}

export interface VerifyRunOptions {
  readonly engine?: MsmEngine;
  readonly nativeGenerators?: boolean;
  readonly onStep?: (r: StepReport, total: number) => void;
}

/** Where a run's public files come from: a run folder, or a public bundle unpacked in memory. */
export interface RunFiles {
  /** How a file is named in messages (its path). */
  path(name: string): string;
  /** The file's bytes; throws RunFileError if it is missing. */
  read(name: string): Uint8Array;
}

export function folderFiles(dir: string): RunFiles {
  return {
    path: (name) => join(dir, name),
    read(name) {
      const file = join(dir, name);
      if (!existsSync(file)) throw new RunFileError(file, "missing");
      return readFileSync(file);
    },
  };
}

/**
 * Throws RunFileError for a missing or malformed file; answers a verdict for everything else.
 * `source` is a run folder or any other RunFiles (a downloaded public bundle).
 */
export function verifyRun(source: string | RunFiles, o: VerifyRunOptions = {}): RunVerdict {
  const files = typeof source === "string" ? folderFiles(source) : source;
  const started = performance.now();
  const steps: StepReport[] = [];
  const fail = (reason: string, m?: Manifest): RunVerdict => ({ valid: false, reason, manifest: m, manifestDigest: m ? manifestDigest(m) : undefined, steps, ms: performance.now() - started });
  const m = parseManifest(files.path("manifest.json"), files.read("manifest.json"));
  const engine = o.engine ?? nobleEngine;
  if (m.model.paddedLayers.length !== m.model.layers.length) return fail("manifest: paddedLayers and layers differ in length", m);
  const config = { layers: m.model.layers, fracBits: m.model.fracBits, lrShift: m.model.lrShift, batch: m.model.batch, seed: m.training.seed };
  const d = stepDims(config);
  if (d.logDims.some((v, i) => 2 ** v !== m.model.paddedLayers[i])) return fail("manifest: paddedLayers are not the layers padded to powers of two", m);

  const datasetBytes = files.read(m.dataset.commitments);
  if (digestHex(datasetBytes) !== m.dataset.commitmentsDigest) return fail("dataset.bin does not match the manifest's digest", m);
  const dataset = decodeDataset(files.path(m.dataset.commitments), datasetBytes);
  if (dataset.cx.length !== m.dataset.size || m.dataset.size !== m.data.records) return fail(`dataset.bin holds ${dataset.cx.length} records; the manifest says ${m.dataset.size}`, m);
  if (dataset.featureCols !== m.model.paddedLayers[0] || dataset.labelCols !== m.model.paddedLayers[m.model.paddedLayers.length - 1]) return fail("dataset rows are not as wide as the padded input and output layers", m);
  const root = datasetTree(dataset).root;
  if (root !== m.dataset.root) return fail(`the dataset commitments rebuild root ${root}, not the manifest's ${m.dataset.root}`, m);
  let treeJson: unknown;
  try {
    treeJson = JSON.parse(new TextDecoder().decode(files.read(m.dataset.tree)));
  } catch (e) {
    throw new RunFileError(files.path(m.dataset.tree), `not JSON (${(e as Error).message})`);
  }
  let treeRoot: string;
  try {
    treeRoot = loadDatasetTree(treeJson).root;
  } catch (e) {
    throw new RunFileError(files.path(m.dataset.tree), (e as Error).message);
  }
  if (treeRoot !== m.dataset.root) return fail(`dataset-tree.json has root ${treeRoot}, not the manifest's`, m);

  const bundleBytes = files.read(m.bundle.file);
  if (digestHex(bundleBytes) !== m.bundle.digest || bundleBytes.length !== m.bundle.bytes) return fail("proof.bin does not match the manifest's digest", m);
  const bundle = decodeBundle(files.path(m.bundle.file), bundleBytes);
  const L = m.model.layers.length - 1;
  if (bundle.initial.length !== L) return fail(`the bundle has ${bundle.initial.length} initial weight commitments for ${L} layers`, m);
  if (bundle.steps.length !== m.training.steps || m.weights.steps.length !== m.training.steps) return fail(`the bundle has ${bundle.steps.length} step proofs; the manifest says ${m.training.steps}`, m);

  const key = commitmentKey(m.generators.size, { label: m.generators.label, source: o.nativeGenerators ? "native" : "ts" });
  if ("0x" + Buffer.from(key.id).toString("hex") !== m.generators.id) return fail("manifest: generator-set id does not match its label and size", m);

  // The initial weights are the seeded ones: check Σ_j γ_j·C_j = Σ_i (γᵀW)_i·G_i per layer (γ random).
  if (weightsDigest(bundle.initial) !== m.weights.initial) return fail("the initial weight commitments do not match the manifest's digest", m);
  const w0 = initialWeights(config);
  const eqs = new EquationSet();
  for (let l = 0; l < L; l++) {
    const c = bundle.initial[l];
    const shape = weightShape(d.logDims[l] + d.logDims[l + 1]);
    if (!sameShape(c, shape)) return fail(`initial W${l + 1} has the wrong shape`, m);
    const cols = 1 << c.logCols;
    const gamma = c.rows.map(() => randomFr());
    const lin = new Lin();
    c.rows.forEach((row, j) => lin.add(row, gamma[j]));
    const combo = new Array<bigint>(cols).fill(0n);
    const data = w0[l].data;
    c.rows.forEach((_, j) => {
      for (let i = 0; i < cols; i++) if (data[j * cols + i] !== 0) combo[i] += mul(gamma[j], fr(BigInt(data[j * cols + i])));
    });
    combo.forEach((v, i) => lin.add(key.G[i], neg(fr(v))));
    eqs.require(`initial W${l + 1} is not the seeded initialisation`, lin);
  }
  const initialFailure = eqs.settle(engine);
  if (initialFailure) return fail(initialFailure, m);

  const run = runBinding(m);
  const schedule = new BatchSchedule(m.data.records, m.model.batch, m.training.seed);
  let W: TensorCommitment[] = bundle.initial;
  const p = m.model.paddedLayers;
  for (let t = 0; t < bundle.steps.length; t++) {
    const stepStart = performance.now();
    const idx = schedule.indices(t);
    const X = batchCommitment(dataset.cx, idx, p[0]);
    const Y = batchCommitment(dataset.cy, idx, p[L]);
    let verdict;
    try {
      verdict = verifyStep(key, d, run, t, { X, Y, W }, bundle.steps[t], engine);
    } catch (e) {
      const r: StepReport = { step: t, valid: false, reason: `malformed step proof: ${(e as Error).message}`, ms: performance.now() - stepStart };
      steps.push(r);
      o.onStep?.(r, bundle.steps.length);
      return fail(`step ${t}: ${r.reason}`, m);
    }
    const r: StepReport = verdict.verdict.valid
      ? { step: t, valid: true, ms: performance.now() - stepStart }
      : { step: t, valid: false, reason: verdict.verdict.reason, ms: performance.now() - stepStart };
    steps.push(r);
    o.onStep?.(r, bundle.steps.length);
    if (!r.valid) return fail(`step ${t}: ${r.reason}`, m);
    W = verdict.next;
    if (weightsDigest(W) !== m.weights.steps[t]) return fail(`step ${t}: its weights do not match the manifest's digest for that step`, m);
  }
  if (m.weights.steps[m.weights.steps.length - 1] !== m.weights.final) return fail("the final weights digest is not the last step's", m);
  return { valid: true, manifest: m, manifestDigest: manifestDigest(m), steps, ms: performance.now() - started };
}
