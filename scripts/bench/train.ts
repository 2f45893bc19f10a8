/**
 * Training-proof benchmark (`npm run bench:train`): proving runs in windows of T steps (one stacked
 * proof per window, docs/protocol.md §4.4) against proving every step alone (windows of one), for
 *   - 64-64-4 at batch 8 (synthetic records): the shape the argument-layer issue measured with
 *     circom2 + snarkjs Groth16 (19.3 s to prove one step, 393 472 constraints, 6.4 min setup);
 *   - the MNIST MLP 784-128-10 at batch 64;
 *   - a wider 784-1024-1024-10 at batch 64 (`--wide`, slow on a CPU).
 * Per network: the amortized prove time per step, the verify time per step (native MSM, and pure
 * @noble/curves with --pure), the proof bytes per step, the process's peak RSS, and what a run of
 * --run-steps steps (1 024) would take: proof size and whole-run verify time, from the measured
 * windows (a run is that many windows of T; each costs what the measured ones cost on average).
 *
 *   npm run bench:train [-- --steps 32 --window 16 --wide --pure --run-steps 1024]
 *   npm run bench:train -- --quick      (two networks, 8 steps in one window of 8: a few minutes)
 */
import { Command } from "commander";
import { cpus } from "node:os";
import { backend, disposeTensors, tensorScope } from "../../native";
import type { Records } from "../../core/data/records";
import { mnistRecords } from "../../prover/records";
import { type Matrix, type ModelConfig, type StepTrace, trainStep } from "../../core/model/fixed";
import { nativeEngine } from "../../prover/native-engine";
import { batchInputs, prepareTraining } from "../../prover/inputs";
import { maxWindow, proveWindow, verifyWindow, windowSizes } from "../../core/training/window";

const o = new Command()
  .name("bench:train")
  .option("--steps <n>", "steps proven per network in windows", "32")
  .option("--window <T>", "window length (a power of two; capped by the network's maxWindow)", "16")
  .option("--single <n>", "steps proven one by one for the comparison row", "2")
  .option("--run-steps <n>", "the run length to extrapolate to", "1024")
  .option("--quick", "64-64-4 and MNIST, 8 steps in one window of 8, 1 single step")
  .option("--wide", "also the 784-1024-1024-10 network")
  .option("--pure", "also verify with pure @noble/curves (slow for large networks)")
  .parse()
  .opts<{ steps: string; window: string; single: string; runSteps: string; quick?: boolean; wide?: boolean; pure?: boolean }>();
const steps = o.quick ? 8 : Number(o.steps);
const window = o.quick ? 8 : Number(o.window);
const single = o.quick ? 1 : Number(o.single);
const runSteps = Number(o.runSteps);

function synthetic(count: number, features: number, classes: number, F: number): Records {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Int32Array.from({ length: count * features }, () => Math.round(rnd() * 2 ** F));
  const labels = Int32Array.from({ length: count }, (_, i) => i % classes);
  return { features, classes, x, labels, count };
}

interface Measured {
  readonly window: number;
  readonly steps: number;
  readonly proveMs: number;
  readonly verifyNativeMs: number;
  readonly verifyPureMs?: number;
  readonly bytes: number;
  readonly peakMB: number;
}

/** Proves `count` steps of a fresh run in windows of `T` (each verified), from step 0. */
function measure(c: ModelConfig, records: Records, count: number, T: number): Measured {
  const setup = prepareTraining(c, records);
  const { d, key, commitments, openings, schedule } = setup;
  let weights: Matrix[] = setup.weights;
  let W = setup.W;
  const run = new Uint8Array(32);
  let proveMs = 0;
  let verifyNativeMs = 0;
  let verifyPureMs = 0;
  let bytes = 0;
  let first = 0;
  for (const size of windowSizes(count, Math.min(T, maxWindow(d)))) {
    const traces: StepTrace[] = [];
    const indices: number[] = [];
    for (let t = first; t < first + size; t++) {
      const idx = schedule.indices(t);
      indices.push(...idx);
      const { x, y } = batchInputs(records, commitments, openings, idx, c.fracBits);
      const trace = trainStep(c, weights, x, y);
      traces.push(trace);
      weights = [...trace.next];
    }
    const { X, Y } = batchInputs(records, commitments, openings, Int32Array.from(indices), c.fracBits);
    let started = performance.now();
    const proof = tensorScope(() => proveWindow(key, d, run, first, { X, Y, W }, traces, nativeEngine));
    proveMs += performance.now() - started;
    const pub = { X: X.commitment, Y: Y.commitment, W: W.map((w) => w.commitment) };
    started = performance.now();
    if (!verifyWindow(key, d, run, first, size, pub, proof.bytes, nativeEngine).verdict.valid) throw new Error(`window at step ${first} did not verify`);
    verifyNativeMs += performance.now() - started;
    if (o.pure) {
      started = performance.now();
      if (!verifyWindow(key, d, run, first, size, pub, proof.bytes).verdict.valid) throw new Error(`window at step ${first} did not verify (pure)`);
      verifyPureMs += performance.now() - started;
    }
    bytes += proof.bytes.length;
    disposeTensors([X, Y, W]);
    W = proof.next;
    first += size;
  }
  disposeTensors(W);
  return { window: Math.min(T, maxWindow(d)), steps: count, proveMs, verifyNativeMs, verifyPureMs: o.pure ? verifyPureMs : undefined, bytes, peakMB: process.resourceUsage().maxRSS / 1024 };
}

const rows: { name: string; single: Measured; windowed: Measured }[] = [];
function bench(name: string, c: ModelConfig, records: Records) {
  const one = measure(c, records, single, 1);
  const many = measure(c, records, steps, window);
  for (const m of [one, many]) {
    const per = (v: number) => (v / m.steps).toFixed(0).padStart(6);
    console.log(
      `${name.padEnd(28)} window ${String(m.window).padStart(3)} × ${m.steps} steps: prove ${per(m.proveMs)} ms/step  verify native ${per(m.verifyNativeMs)} ms/step` +
        `${m.verifyPureMs === undefined ? "" : `  pure ${per(m.verifyPureMs)} ms/step`}  proof ${(m.bytes / m.steps / 1024).toFixed(1)} kB/step  peak RSS ${m.peakMB.toFixed(0)} MB`,
    );
  }
  rows.push({ name, single: one, windowed: many });
}

const b = backend();
console.log(`zkdl-chain training-proof benchmark — ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, backend ${b.mode} (${b.threads} threads); ${steps} steps in windows of ${window}, ${single} step(s) alone`);
bench("64-64-4, batch 8", { layers: [64, 64, 4], fracBits: 16, lrShift: 9, batch: 8, seed: "bench" }, synthetic(1024, 64, 4, 16));
bench("784-128-10, batch 64", { layers: [784, 128, 10], fracBits: 16, lrShift: 12, batch: 64, seed: "bench" }, mnistRecords(8192, 16));
if (o.wide && !o.quick) bench("784-1024-1024-10, batch 64", { layers: [784, 1024, 1024, 10], fracBits: 16, lrShift: 12, batch: 64, seed: "bench" }, mnistRecords(8192, 16));

const perStep = (m: Measured, v: number) => v / m.steps;
console.log(`\nPer step (amortized), and a run of ${runSteps} steps extrapolated from the measured windows:\n`);
console.log("| network | window | prove / step (ms) | verify / step, native (ms) | verify / step, @noble/curves (ms) | proof / step (kB) | peak RSS (MB) | run: proof (MB) | run: verify native (s) | run: verify pure (s) | prove vs window 1 | proof vs window 1 |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  for (const m of [r.single, r.windowed]) {
    const run = (v: number) => (perStep(m, v) * runSteps) / 1000;
    console.log(
      `| ${r.name} | ${m.window} | ${perStep(m, m.proveMs).toFixed(0)} | ${perStep(m, m.verifyNativeMs).toFixed(0)} | ${m.verifyPureMs === undefined ? "—" : perStep(m, m.verifyPureMs).toFixed(0)} | ${(perStep(m, m.bytes) / 1024).toFixed(1)} | ${m.peakMB.toFixed(0)}` +
        ` | ${((perStep(m, m.bytes) * runSteps) / 2 ** 20).toFixed(1)} | ${run(m.verifyNativeMs).toFixed(1)} | ${m.verifyPureMs === undefined ? "—" : run(m.verifyPureMs).toFixed(0)}` +
        ` | ${(perStep(r.single, r.single.proveMs) / perStep(m, m.proveMs)).toFixed(2)}× | ${(perStep(m, m.bytes) / perStep(r.single, r.single.bytes)).toFixed(2)} |`,
    );
  }
}
const small = rows[0].windowed;
console.log(`\n64-64-4 batch 8 against circom2 + snarkjs Groth16 (19.3 s per step, from the issue, not re-measured here): ${(19300 / perStep(small, small.proveMs)).toFixed(0)}× faster to prove (amortized), no trusted setup.`);
