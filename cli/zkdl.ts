/**
 * The `zkdl` commands that work on run folders alone: train and prove, verify, inspect
 * (docs/protocol.md §4). relayer/cli.ts adds the chain commands and runs the program. Exit codes:
 * 0 success, 1 a run that does not verify (or a check that fails), 2 bad input (a missing or malformed
 * file, a bad flag or setting).
 */
import { verifyRunFolder } from "../prover/run-folder";
import { Command, InvalidArgumentError, Option } from "commander";
import { Wallet, getAddress } from "ethers";
import { SingleBar } from "cli-progress";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Records } from "../core/data/records";
import { MNIST_TRAIN, csvRecords, mnistRecords, mnistTestRecords, RecordsFormatError } from "../prover/records";
import { FixedPointOverflow } from "../core/model/fixed";
import { nativeAccelerators } from "../prover/native-engine";
import { RunFileError } from "../core/run/formats";
import { RUN_LIMITS, manifestDigest, parseManifest, publisherOf } from "../core/run/manifest";
import { trainRun } from "../prover/train";

export const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const layersArg = (v: string) => {
  const parts = v.split(",").map((x) => Number(x.trim()));
  if (parts.length < 2 || parts.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError("layers are comma-separated positive widths, e.g. 784,128,10");
  return parts;
};

/** A fraction as a percentage with one decimal ("n/a" when absent). */
export const pct = (v?: number): string => (v === undefined ? "n/a" : `${(100 * v).toFixed(1)}%`);

export function die(message: string, code = 2): never {
  process.stderr.write(`zkdl: ${message}\n`);
  process.exit(code);
}

export function guard<T extends unknown[]>(f: (...args: T) => void | Promise<void>) {
  return async (...args: T) => {
    try {
      await f(...args);
    } catch (e) {
      if (e instanceof RunFileError || e instanceof RecordsFormatError || e instanceof RangeError || e instanceof FixedPointOverflow) die(e.message);
      throw e;
    }
  };
}

/** A --publisher flag as an address; dies with a reason if it is not one. */
function publisherFlag(flag: string): string {
  try {
    return getAddress(publisherOf(flag));
  } catch {
    die(`--publisher ${flag} is not an address (0x + 40 hex digits)`);
  }
}

/** The run's publisher: --publisher, else the address of ZKDL_PUBLISHER_KEY; dies with a reason if neither. */
function publisherAddress(flag?: string): string {
  if (flag !== undefined) return publisherFlag(flag);
  const key = process.env.ZKDL_PUBLISHER_KEY;
  if (!key) die("name the run's publisher: --publisher <address> (the account that will register it), or set ZKDL_PUBLISHER_KEY; the proof is bound to it");
  try {
    return new Wallet(key).address;
  } catch {
    die("ZKDL_PUBLISHER_KEY is not a private key (0x + 64 hex digits)");
  }
}

export const program = new Command()
  .name("zkdl")
  .description("Zero-knowledge proofs of deep-learning training (zkDL), checked against an on-chain registry.")
  .showHelpAfterError();

program
  .command("train")
  .description("train an MLP in fixed point, prove every SGD step, and write the run folder (public files + private/)")
  .option("--data <source>", "mnist, or a CSV file of f_1,…,f_d,label rows (features real, label a class 0…C−1)", "mnist")
  .option("--layers <widths>", "layer widths d_0,…,d_L (d_0 = features, d_L = classes)", layersArg, [784, 128, 10])
  .option("--batch <B>", "batch size (a power of two)", int("batch", 1, 4096), 64)
  .option("--steps <N>", "SGD steps to train and prove", int("steps", 1, RUN_LIMITS.steps), 10)
  .option("--records <N>", "records the dataset commits (MNIST: at most 8995)", int("records", 1, RUN_LIMITS.records))
  .option("--frac-bits <F>", "fixed-point scale 2^F (1…16)", int("frac-bits", 1, 16), 16)
  .option("--lr-shift <k>", "learning rate 2^-k on the batch-summed gradient (F + k in 17…32)", int("lr-shift", 0, 31), 9)
  .option("--seed <S>", "seed of the initial weights and of the batch schedule", "zkdl")
  .addOption(new Option("--publisher <address>", "the account that will register the run (bound into the proof; default: the address of ZKDL_PUBLISHER_KEY)"))
  .option("--out <dir>", "run folder to write", "runs/demo")
  .option("--force", "replace an existing run folder")
  .option("--json", "print the result as JSON")
  .action(
    guard((o: { data: string; layers: number[]; batch: number; steps: number; records?: number; fracBits: number; lrShift: number; seed: string; publisher?: string; out: string; force?: boolean; json?: boolean }) => {
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
      const bar = o.json || !process.stderr.isTTY ? undefined : new SingleBar({ format: "proving {bar} {value}/{total} steps | loss {loss} | {ms} ms/step", hideCursor: true });
      const started = performance.now();
      const result = trainRun({
        config: { layers: o.layers, fracBits: o.fracBits, lrShift: o.lrShift, batch: o.batch, seed: o.seed },
        publisher,
        steps: o.steps,
        records,
        source: o.data === "mnist" ? "mnist" : "csv",
        test,
        out: o.out,
        overwrite: o.force,
        onStage: (s) => {
          if (!o.json && !bar) process.stderr.write(`${s}…\n`);
          if (bar && s === "training and proving") bar.start(o.steps, 0, { loss: "-", ms: "-" });
        },
        onStep: ({ step, loss, proveMs }) => {
          if (bar) bar.update(step + 1, { loss: loss.toFixed(4), ms: proveMs.toFixed(0) });
          else if (!o.json) process.stderr.write(`step ${step + 1}/${o.steps}: loss ${loss.toFixed(4)}, proved in ${proveMs.toFixed(0)} ms\n`);
        },
      });
      bar?.stop();
      const summary = {
        run: result.dir,
        manifestDigest: result.manifestDigest,
        publisher: getAddress(result.manifest.publisher),
        datasetRoot: result.manifest.dataset.root,
        records: result.manifest.dataset.size,
        steps: result.manifest.training.steps,
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
          `run            ${summary.run}\nmanifest       ${summary.manifestDigest}\npublisher      ${summary.publisher}\ndataset root   ${summary.datasetRoot} (${summary.records} records)\n` +
            `steps          ${summary.steps}, final loss ${summary.finalLoss.toFixed(4)}\n` +
            `test accuracy  ${pct(summary.testAccuracy)} fixed point, ${pct(summary.floatTestAccuracy)} float64 reference\n` +
            `proof          ${summary.proofBytes} bytes, ${summary.proveMsPerStep} ms per step\n`,
        );
      }
    }),
  );

program
  .command("verify")
  .description("verify a run from its public files: every step proof, the chain of weights, the dataset root")
  .argument("<run>", "run folder")
  .option("--json", "print the verdict as JSON")
  .option("--pure", "use only @noble/curves (no native addon)")
  .option("--publisher <address>", "also require the run to be bound to this publisher (e.g. the account that registered it)")
  .action(
    guard((dir: string, o: { json?: boolean; pure?: boolean; publisher?: string }) => {
      const publisher = o.publisher === undefined ? undefined : publisherFlag(o.publisher);
      if (!existsSync(join(dir, "manifest.json"))) die(`${dir}: not a run folder (no manifest.json)`);
      const v = verifyRunFolder(dir, {
        publisher,
        ...(o.pure ? {} : nativeAccelerators),
        onStep: (r, total) => {
          if (!o.json) process.stderr.write(`step ${r.step + 1}/${total}: ${r.valid ? "valid" : "INVALID"} (${r.ms.toFixed(0)} ms)\n`);
        },
      });
      if (v.malformed && !o.json) die(v.reason!);
      if (o.json) process.stdout.write(JSON.stringify({ valid: v.valid, reason: v.reason, malformed: v.malformed, manifestDigest: v.manifestDigest, publisher: v.manifest?.publisher, steps: v.steps.length, ms: Math.round(v.ms) }) + "\n");
      else {
        process.stdout.write(
          v.valid
            ? `VALID  ${dir}\nmanifest      ${v.manifestDigest}\npublisher     ${getAddress(v.manifest!.publisher)}\ndataset root  ${v.manifest!.dataset.root}\nsteps         ${v.steps.length} verified, weights chained to ${v.manifest!.weights.final}\ntime          ${(v.ms / 1000).toFixed(2)} s\n`
            : `INVALID  ${dir}\nreason   ${v.reason}\n`,
        );
      }
      process.exitCode = v.valid ? 0 : v.malformed ? 2 : 1;
    }),
  );

program
  .command("inspect")
  .description("summarise a run folder's manifest and files (no verification)")
  .argument("<run>", "run folder")
  .option("--json", "print the manifest as JSON")
  .action(
    guard((dir: string, o: { json?: boolean }) => {
      const file = join(dir, "manifest.json");
      if (!existsSync(file)) die(`${dir}: not a run folder (no manifest.json)`);
      const m = parseManifest(file, readFileSync(file));
      if (o.json) {
        process.stdout.write(JSON.stringify({ manifestDigest: manifestDigest(m), manifest: m }, null, 2) + "\n");
        return;
      }
      const report = existsSync(join(dir, "report.json")) ? (JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as { testAccuracy?: number }) : {};
      process.stdout.write(
        `run            ${dir} (${m.format}, ${m.prover})\nmanifest       ${manifestDigest(m)}\npublisher      ${getAddress(m.publisher)}\n` +
          `model          ${m.model.layers.join("-")} (padded ${m.model.paddedLayers.join("-")}), F=${m.model.fracBits}, lr 2^-${m.model.lrShift}, batch ${m.model.batch}\n` +
          `training       ${m.training.steps} steps, seed ${JSON.stringify(m.training.seed)}\n` +
          `dataset        ${m.data.source}, ${m.dataset.size} records (features proven ${m.data.featureRange === "unit" ? "in [0, 1]" : "32-bit integers"}), root ${m.dataset.root}\n` +
          `weights        initial ${m.weights.initial}\n               final   ${m.weights.final}\n` +
          `proof bundle   ${m.bundle.bytes} bytes, digest ${m.bundle.digest}\n` +
          (report.testAccuracy !== undefined ? `test accuracy  ${(100 * report.testAccuracy).toFixed(1)}% (reported by the publisher, not proven)\n` : ""),
      );
    }),
  );
