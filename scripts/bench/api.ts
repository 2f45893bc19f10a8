/**
 * API benchmark (`npm run bench:api`):
 *   1. Membership endpoint: `zkdl serve` in its own process over a 10 000-record run (784 features),
 *      loaded by autocannon on loopback with member records (each answer carries a fresh Schnorr
 *      proof and a Merkle proof); requests/s and p50/p99 latency, median of several runs.
 *   2. Dataset tree: CompactDatasetTree.build at 2^20 leaves against OpenZeppelin's
 *      StandardMerkleTree.of at --oz-log leaves (2^16 by default; 2^20 takes minutes), with the roots
 *      and proofs compared at the common size, and the compact file's size against the OZ dump's.
 *
 *   npm run bench:api [-- --records 10000 --runs 3 --seconds 10 --connections 16 --tree-log 20 --oz-log 16]
 */
import autocannon from "autocannon";
import { Command } from "commander";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { Wallet } from "ethers";
import { quantizePixel } from "../../core/data/quantize";
import { CompactDatasetTree, buildDatasetTree } from "../../core/dataset/tree";
import { trainRun } from "../../prover/train";
import { addRunToStore } from "../../relayer/runs";
import { STORE_FILE, SqliteStore } from "../../relayer/store";

const o = new Command()
  .name("bench:api")
  .option("--records <n>", "records in the served run", "10000")
  .option("--runs <n>", "measurements per figure (median reported)", "3")
  .option("--seconds <n>", "autocannon duration per run", "10")
  .option("--connections <n>", "concurrent connections", "16")
  .option("--tree-log <n>", "log2 leaves of the compact tree", "20")
  .option("--oz-log <n>", "log2 leaves for OpenZeppelin's StandardMerkleTree.of", "16")
  .parse()
  .opts<{ records: string; runs: string; seconds: string; connections: string; treeLog: string; ozLog: string }>();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const N = Number(o.records);
const runs = Number(o.runs);
const work = resolve("tmp/bench-api");
const runDir = join(work, `run-${N}`);

/** N random 28×28 "images" (pixel bytes), as the served run's records. */
function pixelRecords(n: number): number[][] {
  const bytes = randomBytes(784 * n);
  return Array.from({ length: n }, (_, i) => Array.from(bytes.subarray(784 * i, 784 * i + 784)));
}

async function membershipBench(): Promise<{ rps: number; p50: number; p99: number; errors: number }[]> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const pixels = pixelRecords(N);
  const x = new Int32Array(784 * N);
  pixels.forEach((p, i) => p.forEach((b, j) => (x[784 * i + j] = quantizePixel(b, 16))));
  const labels = Int32Array.from({ length: N }, (_, i) => i % 10);
  process.stdout.write(`building a ${N}-record run (commitments, tree, one proven step) … `);
  let t = performance.now();
  const publisher = Wallet.createRandom().address;
  trainRun({ config: { layers: [784, 16, 10], fracBits: 16, lrShift: 9, batch: 16, seed: "bench-api" }, publisher, steps: 1, records: { features: 784, classes: 10, x, labels, count: N }, source: "csv", out: runDir, overwrite: true });
  const store = new SqliteStore(join(work, STORE_FILE));
  const run = addRunToStore(store, runDir, publisher);
  store.close();
  console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);

  const server = spawn(process.execPath, [join(__dirname, "../../bin/zkdl.js"), "serve", "--data", work, "--port", "0", "--rate-limit", "1000000000", "--registry", "0x0000000000000000000000000000000000000001", "--rpc", "http://127.0.0.1:1"], {
    env: { ...process.env, ZKDL_LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((res, rej) => {
    server.stdout.on("data", (d: Buffer) => {
      const m = /serving (http:\/\/\S+)/.exec(d.toString());
      if (m) res(m[1]);
    });
    server.once("exit", (code) => rej(new Error(`zkdl serve exited with ${code}`)));
  });
  const endpoint = `${url}/v1/runs/${run.runId}/membership`;
  const bodies = Array.from({ length: 512 }, () => JSON.stringify({ pixels: pixels[Math.floor(Math.random() * N)] }));
  // Warm up: loads the run (commitments, tree, generators).
  t = performance.now();
  const warm = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: bodies[0] });
  if (!((await warm.json()) as { member?: boolean }).member) throw new Error("warm-up query was not answered as a member");
  console.log(`first query (loads the run) ${(performance.now() - t).toFixed(0)} ms`);
  const results = [];
  try {
    for (let r = 0; r < runs; r++) {
      let next = 0;
      const result = await autocannon({
        url: endpoint,
        connections: Number(o.connections),
        duration: Number(o.seconds),
        requests: [{ method: "POST", headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
      });
      results.push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx });
      console.log(`  run ${r + 1}: ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx + result.errors} errors`);
    }
  } finally {
    server.kill("SIGTERM");
  }
  return results;
}

function treeBench() {
  const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: "0x" + randomBytes(32).toString("hex"), cyHash: "0x" + randomBytes(32).toString("hex") }));
  const big = mk(2 ** Number(o.treeLog));
  const times: number[] = [];
  let compactBytes = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const tree = CompactDatasetTree.build(big);
    compactBytes = tree.encode().length;
    times.push(performance.now() - t);
  }
  const small = big.slice(0, 2 ** Number(o.ozLog));
  let t = performance.now();
  const oz = buildDatasetTree(small);
  const ozMs = performance.now() - t;
  const dumpBytes = JSON.stringify(oz.dump()).length;
  t = performance.now();
  const compactSmall = CompactDatasetTree.build(small);
  const compactSmallMs = performance.now() - t;
  let identical = oz.root === compactSmall.root;
  for (let i = 0; i < small.length; i += 97) identical &&= JSON.stringify(oz.getProof(i)) === JSON.stringify(compactSmall.getProof(i));
  return { compactMs: median(times), compactBytes, ozMs, dumpBytes, compactSmallMs, compactSmallBytes: compactSmall.encode().length, identical };
}

async function main() {
  console.log(`zkdl-chain API benchmark — ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
  const m = await membershipBench();
  const tr = treeBench();
  const rps = median(m.map((r) => r.rps));
  const p50 = median(m.map((r) => r.p50));
  const p99 = median(m.map((r) => r.p99));
  console.log("");
  console.log("| figure | measured | target |");
  console.log("| --- | ---: | ---: |");
  console.log(`| membership, ${N}-record run, ${o.connections} connections: throughput | ${rps.toFixed(0)} req/s | ≥ 2000 req/s |`);
  console.log(`| membership p50 / p99 latency | ${p50} ms / ${p99} ms | p99 < 20 ms |`);
  console.log(`| dataset tree 2^${o.treeLog} leaves, CompactDatasetTree.build (median of ${runs}) | ${(tr.compactMs / 1000).toFixed(2)} s, ${(tr.compactBytes / 2 ** 20).toFixed(1)} MiB file | ≤ 10 s |`);
  console.log(`| dataset tree 2^${o.ozLog} leaves: OpenZeppelin StandardMerkleTree.of vs compact | ${(tr.ozMs / 1000).toFixed(2)} s vs ${(tr.compactSmallMs / 1000).toFixed(3)} s (${(tr.ozMs / tr.compactSmallMs).toFixed(0)}×); dump ${(tr.dumpBytes / 2 ** 20).toFixed(1)} MiB vs ${(tr.compactSmallBytes / 2 ** 20).toFixed(1)} MiB | |`);
  console.log(`| same root and proofs as OpenZeppelin at 2^${o.ozLog} | ${tr.identical ? "yes" : "NO"} | yes |`);
  if (!tr.identical) process.exitCode = 1;
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
