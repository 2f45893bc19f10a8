/**
 * Training-proof benchmark (`npm run bench:train`): per SGD step, the time to prove, to verify
 * (native MSM and pure @noble/curves) and the proof size, for
 *   - 64-64-4 at batch 8 (synthetic records): the shape the argument-layer issue measured with
 *     circom2 + snarkjs Groth16 (19.3 s to prove one step, 393 472 constraints, 6.4 min setup);
 *   - the MNIST MLP 784-128-10 at batch 64;
 *   - a wider 784-1024-1024-10 at batch 64 (`--wide`, slow on a CPU).
 * Each row is the median over several consecutive steps of one run (each step proven and verified),
 * with the process's peak RSS at the end of the row (rows run in order, in one process, so a row's
 * peak includes the rows above it) and how much that peak rose from the end of the row's first step
 * to its last (a prover whose memory grows with the step count shows it there).
 *
 *   npm run bench:train [-- --steps 3 --wide --pure]
 */
import { Command } from "commander";
import { cpus } from "node:os";
import { backend, disposeTensors, tensorScope } from "../../native";
import type { Records } from "../../core/data/records";
import { mnistRecords } from "../../prover/records";
import { type ModelConfig, trainStep } from "../../core/model/fixed";
import { nativeEngine } from "../../prover/native-engine";
import { batchInputs, prepareTraining } from "../../prover/inputs";
import { proveStep, verifyStep } from "../../core/training/window";

const o = new Command()
  .name("bench:train")
  .option("--steps <n>", "steps per network (median reported)", "3")
  .option("--wide", "also the 784-1024-1024-10 network")
  .option("--pure", "also verify with pure @noble/curves (slow for large networks)")
  .parse()
  .opts<{ steps: string; wide?: boolean; pure?: boolean }>();
const steps = Number(o.steps);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function synthetic(count: number, features: number, classes: number, F: number): Records {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Int32Array.from({ length: count * features }, () => Math.round(rnd() * 2 ** F));
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  return { features, classes, x, labels, count };
}

function bench(name: string, c: ModelConfig, records: Records) {
  const setup = prepareTraining(c, records);
  const { d, key, commitments, openings, schedule } = setup;
  let { weights, W } = setup;
  const prove: number[] = [];
  const vNative: number[] = [];
  const vPure: number[] = [];
  const peaks: number[] = [];
  let bytes = 0;
  const run = new Uint8Array(32);
  for (let t = 0; t < steps; t++) {
    const idx = schedule.indices(t);
    const { x, y, X, Y } = batchInputs(records, commitments, openings, idx, c.fracBits);
    const trace = trainStep(c, weights, x, y);
    let started = performance.now();
    const proof = tensorScope(() => proveStep(key, d, run, t, { X, Y, W }, trace, nativeEngine));
    prove.push(performance.now() - started);
    const pub = { X: X.commitment, Y: Y.commitment, W: W.map((w) => w.commitment) };
    started = performance.now();
    if (!verifyStep(key, d, run, t, pub, proof.bytes, nativeEngine).verdict.valid) throw new Error(`${name}: step ${t} did not verify`);
    vNative.push(performance.now() - started);
    if (o.pure) {
      started = performance.now();
      if (!verifyStep(key, d, run, t, pub, proof.bytes).verdict.valid) throw new Error(`${name}: step ${t} did not verify (pure)`);
      vPure.push(performance.now() - started);
    }
    bytes = proof.bytes.length;
    weights = [...trace.next];
    disposeTensors([X, Y, W]);
    W = proof.next;
    peaks.push(process.resourceUsage().maxRSS / 1024);
  }
  disposeTensors(W);
  const peakMB = process.resourceUsage().maxRSS / 1024;
  const growthMB = peaks[peaks.length - 1] - peaks[0];
  const row = { name, prove: median(prove), verifyNative: median(vNative), verifyPure: o.pure ? median(vPure) : undefined, bytes, peakMB, growthMB };
  console.log(
    `${name.padEnd(26)} prove ${row.prove.toFixed(0).padStart(7)} ms  verify native ${row.verifyNative.toFixed(0).padStart(5)} ms${row.verifyPure === undefined ? "" : `  pure ${row.verifyPure.toFixed(0)} ms`}  proof ${(bytes / 1024).toFixed(1)} kB` +
      `  peak RSS ${peakMB.toFixed(0)} MB (+${growthMB.toFixed(0)} MB after step 1)`,
  );
  return row;
}

const b = backend();
console.log(`zkdl-chain training-proof benchmark — ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, backend ${b.mode} (${b.threads} threads), median of ${steps} steps`);
const rows = [
  bench("64-64-4, batch 8", { layers: [64, 64, 4], fracBits: 16, lrShift: 9, batch: 8, seed: "bench" }, synthetic(256, 64, 4, 16)),
  bench("784-128-10, batch 64", { layers: [784, 128, 10], fracBits: 16, lrShift: 9, batch: 64, seed: "bench" }, mnistRecords(1024, 16)),
];
if (o.wide) rows.push(bench("784-1024-1024-10, batch 64", { layers: [784, 1024, 1024, 10], fracBits: 16, lrShift: 9, batch: 64, seed: "bench" }, mnistRecords(1024, 16)));
console.log("\n| network | prove / step (ms) | verify, native MSM (ms) | verify, @noble/curves (ms) | proof / step (kB) | peak RSS (MB) | peak rise after step 1 (MB) |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.name} | ${r.prove.toFixed(0)} | ${r.verifyNative.toFixed(0)} | ${r.verifyPure === undefined ? "—" : r.verifyPure.toFixed(0)} | ${(r.bytes / 1024).toFixed(1)} | ${r.peakMB.toFixed(0)} | +${r.growthMB.toFixed(0)} |`);
}
const small = rows[0];
console.log(`\n64-64-4 batch 8 against circom2 + snarkjs Groth16 (19.3 s per step, from the issue, not re-measured here): ${(19300 / small.prove).toFixed(0)}× faster to prove, no trusted setup.`);
