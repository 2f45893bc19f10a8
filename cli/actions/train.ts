/** `zkdl train`: records → fixed-point SGD, the steps proven a window at a time → the run folder (prover/train.ts). */
import { SingleBar } from "cli-progress";
import { existsSync } from "node:fs";
import type { Records } from "../../core/data/records";
import { MNIST_TRAIN, csvRecords, mnistRecords, mnistTestRecords } from "../../prover/records";
import { trainRun } from "../../prover/train";
import { die } from "../exit";
import { checksumAddress, pct, stepSpan } from "../format";
import { publisherAddress } from "./publisher";

export interface TrainFlags {
  data: string;
  layers: number[];
  batch: number;
  steps: number;
  window?: number;
  records?: number;
  fracBits: number;
  lrShift: number;
  seed: string;
  publisher?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

export function train(o: TrainFlags): void {
  const publisher = publisherAddress(o.publisher);
  let records: Records;
  let test: Records | undefined;
  if (o.data === "mnist") {
    records = mnistRecords(o.records ?? Math.min(MNIST_TRAIN, Math.max(1024, o.batch)), o.fracBits);
    test = mnistTestRecords(o.fracBits);
  } else {
    if (!existsSync(o.data)) die(`${o.data}: no such file (use --data mnist or a CSV file)`);
    records = csvRecords(o.data, o.fracBits);
    if (o.records !== undefined) {
      if (o.records > records.count) die(`${o.data} has ${records.count} records; --records ${o.records} asks for more`);
      records = { ...records, count: o.records, x: records.x.subarray(0, o.records * records.features), labels: records.labels.subarray(0, o.records) };
    }
  }
  const bar = o.json || !process.stderr.isTTY ? undefined : new SingleBar({ format: "training and proving {bar} {value}/{total} steps | loss {loss} | window {window} | {ms} ms/step proving", hideCursor: true });
  const started = performance.now();
  const result = trainRun({
    config: { layers: o.layers, fracBits: o.fracBits, lrShift: o.lrShift, batch: o.batch, seed: o.seed },
    publisher,
    steps: o.steps,
    window: o.window,
    records,
    source: o.data === "mnist" ? "mnist" : "csv",
    test,
    out: o.out,
    overwrite: o.force,
    onStage: (s) => {
      if (!o.json && !bar) process.stderr.write(`${s}…\n`);
      if (bar && s === "training and proving") bar.start(o.steps, 0, { loss: "-", ms: "-", window: "-" });
    },
    // The bar moves as steps are trained; a window's proof follows its last step.
    onStep: ({ step, loss }) => bar?.update(step + 1, { loss: loss.toFixed(4) }),
    onWindow: ({ window, windows, first, steps, loss, proveMs }) => {
      if (bar) bar.update(first + steps, { loss: loss.toFixed(4), ms: (proveMs / steps).toFixed(0), window: `${window + 1}/${windows}` });
      else if (!o.json) process.stderr.write(`window ${window + 1}/${windows} (${stepSpan(first, steps)} of ${o.steps}): loss ${loss.toFixed(4)}, proved in ${proveMs.toFixed(0)} ms\n`);
    },
  });
  bar?.stop();
  const summary = {
    run: result.dir,
    manifestDigest: result.manifestDigest,
    publisher: checksumAddress(result.manifest.publisher),
    datasetRoot: result.manifest.dataset.root,
    fingerprintRoot: result.manifest.dataset.fingerprintRoot,
    records: result.manifest.dataset.size,
    steps: result.manifest.training.steps,
    window: result.manifest.training.window,
    windows: result.manifest.weights.windows.length,
    finalLoss: result.report.finalLoss,
    testAccuracy: result.report.testAccuracy,
    floatTestAccuracy: result.report.floatTestAccuracy,
    proveMsPerStep: Math.round(result.report.proveMsPerStep),
    proofBytes: result.report.proofBytes,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  if (o.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else {
    process.stdout.write(
      `run            ${summary.run}\nmanifest       ${summary.manifestDigest}\npublisher      ${summary.publisher}\ndataset root   ${summary.datasetRoot} (${summary.records} records)\nfingerprints   ${summary.fingerprintRoot} (the root of non-membership)\n` +
        `steps          ${summary.steps} in ${summary.windows} window${summary.windows === 1 ? "" : "s"} of at most ${summary.window}, final loss ${summary.finalLoss.toFixed(4)}\n` +
        `test accuracy  ${pct(summary.testAccuracy)} fixed point, ${pct(summary.floatTestAccuracy)} float64 reference\n` +
        `proof          ${summary.proofBytes} bytes, ${summary.proveMsPerStep} ms per step (proving time over the steps)\n`,
    );
  }
}
