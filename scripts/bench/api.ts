/**
 * API benchmark (`npm run bench:api`):
 *   1. Membership endpoint: `zkdl serve` in its own process over a 10 000-record run (784 features),
 *      loaded by autocannon on loopback with member records (each answer carries a fresh Schnorr
 *      proof and a Merkle proof), then with records not in the run (each answer: the fingerprint's
 *      gap and its Merkle proof), their fingerprints sent as the SDK sends them, and without them
 *      (the server computes each, one MSM); requests/s and p50/p99 latency, median of several runs.
 *   2. Trees at 2^20 records: the dataset tree and the fingerprint tree, both with the native
 *      Keccak (as the API and a native verifier build them), and the dataset tree with @noble/hashes;
 *      CompactDatasetTree against OpenZeppelin's StandardMerkleTree.of at --oz-log leaves (2^16 by
 *      default; 2^20 takes minutes), with the roots and proofs compared at the common size, and the
 *      compact file's size against the OZ dump's.
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
import { FingerprintTree } from "../../core/dataset/fingerprint-tree";
import { fingerprintOf, fingerprintPoint } from "../../core/dataset/fingerprints";
import { commitmentKey } from "../../core/protocol/generators";
import { nativeEngine, nativeGenerators, nativeKeccakRows } from "../../prover/native-engine";
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

type Load = { rps: number; p50: number; p99: number; errors: number }[];

async function membershipBench(): Promise<Record<"member" | "outsider" | "outsiderComputed", Load>> {
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

  const server = spawn(process.execPath, [join(__dirname, "../../bin/zkdl.js"), "serve", "--data", work, "--port", "0", "--rate-limit", "1000000000"], {
    // No chain: `zkdl serve` refuses a configured chain it cannot reach, and the answers need none.
    env: Object.fromEntries(Object.entries({ ...process.env, ZKDL_LOG_LEVEL: "error" }).filter(([k]) => k !== "ZKDL_REGISTRY" && k !== "ZKDL_DEPLOYMENT")),
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
  const members = Array.from({ length: 512 }, () => JSON.stringify({ pixels: pixels[Math.floor(Math.random() * N)] }));
  // Records not in the run, with the fingerprint the SDK computes and sends (here: natively, off the clock).
  const key = commitmentKey(1024, { derive: nativeGenerators });
  const outsiders = pixelRecords(512);
  const withFingerprint = outsiders.map((p) => JSON.stringify({ pixels: p, fingerprint: fingerprintOf(fingerprintPoint(key, p.map((b) => quantizePixel(b, 16)), nativeEngine)) }));
  const withoutFingerprint = outsiders.map((p) => JSON.stringify({ pixels: p }));
  // Warm up: loads the run (commitments, both trees, generators).
  t = performance.now();
  const warm = await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: members[0] });
  if (!((await warm.json()) as { member?: boolean }).member) throw new Error("warm-up query was not answered as a member");
  console.log(`first query (loads the run) ${(performance.now() - t).toFixed(0)} ms`);
  const outsider = (await (await fetch(endpoint, { method: "POST", headers: { "content-type": "application/json" }, body: withFingerprint[0] })).json()) as { member?: boolean; gap?: unknown };
  if (outsider.member !== false || !outsider.gap) throw new Error("an outsider was not answered with a gap");
  const load = async (name: string, bodies: string[]): Promise<Load> => {
    const results = [];
    for (let r = 0; r < runs; r++) {
      let next = 0;
      const result = await autocannon({
        url: endpoint,
        connections: Number(o.connections),
        duration: Number(o.seconds),
        requests: [{ method: "POST", headers: { "content-type": "application/json" }, setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
      });
      results.push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx });
      console.log(`  ${name}, run ${r + 1}: ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.non2xx + result.errors} errors`);
    }
    return results;
  };
  try {
    return { member: await load("members", members), outsider: await load("non-members, fingerprint sent", withFingerprint), outsiderComputed: await load("non-members, fingerprint computed by the server", withoutFingerprint) };
  } finally {
    server.kill("SIGTERM");
  }
}

function treeBench() {
  const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: "0x" + randomBytes(32).toString("hex"), cyHash: "0x" + randomBytes(32).toString("hex") }));
  const big = mk(2 ** Number(o.treeLog));
  // The fingerprints as the verifier and the API have them: keccak256 of each 64-byte point, natively.
  const points = randomBytes(64 * big.length);
  const times: number[] = [];
  const nativeTimes: { dataset: number; fingerprints: number }[] = [];
  let compactBytes = 0;
  for (let r = 0; r < runs; r++) {
    let t = performance.now();
    const tree = CompactDatasetTree.build(big);
    compactBytes = tree.encode().length;
    times.push(performance.now() - t);
    t = performance.now();
    CompactDatasetTree.build(big, nativeKeccakRows);
    const dataset = performance.now() - t;
    t = performance.now();
    FingerprintTree.build(nativeKeccakRows(points, 64), nativeKeccakRows);
    nativeTimes.push({ dataset, fingerprints: performance.now() - t });
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
  const both = median(nativeTimes.map((n) => n.dataset + n.fingerprints));
  return { compactMs: median(times), nativeDatasetMs: median(nativeTimes.map((n) => n.dataset)), nativeFingerprintMs: median(nativeTimes.map((n) => n.fingerprints)), bothMs: both, compactBytes, ozMs, dumpBytes, compactSmallMs, compactSmallBytes: compactSmall.encode().length, identical };
}

async function main() {
  console.log(`zkdl-chain API benchmark — ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
  const m = await membershipBench();
  const tr = treeBench();
  console.log("");
  console.log("| figure | measured | target |");
  console.log("| --- | ---: | ---: |");
  for (const [name, loads] of [["members", m.member], ["non-members, fingerprint sent (the SDK)", m.outsider], ["non-members, fingerprint computed by the server", m.outsiderComputed]] as const) {
    const rps = median(loads.map((r) => r.rps));
    console.log(`| membership, ${name}: ${N}-record run, ${o.connections} connections, req/s; p50 / p99 | ${rps.toFixed(0)} req/s; ${median(loads.map((r) => r.p50))} ms / ${median(loads.map((r) => r.p99))} ms | ≥ 2000 req/s, p99 < 20 ms |`);
  }
  console.log(`| both trees 2^${o.treeLog} records, native Keccak: dataset + fingerprint tree (median of ${runs}) | ${(tr.nativeDatasetMs / 1000).toFixed(2)} s + ${(tr.nativeFingerprintMs / 1000).toFixed(2)} s = ${(tr.bothMs / 1000).toFixed(2)} s | ≤ 10 s |`);
  console.log(`| dataset tree 2^${o.treeLog} leaves, CompactDatasetTree.build with @noble/hashes (median of ${runs}) | ${(tr.compactMs / 1000).toFixed(2)} s, ${(tr.compactBytes / 2 ** 20).toFixed(1)} MiB file | |`);
  console.log(`| dataset tree 2^${o.ozLog} leaves: OpenZeppelin StandardMerkleTree.of vs compact | ${(tr.ozMs / 1000).toFixed(2)} s vs ${(tr.compactSmallMs / 1000).toFixed(3)} s (${(tr.ozMs / tr.compactSmallMs).toFixed(0)}×); dump ${(tr.dumpBytes / 2 ** 20).toFixed(1)} MiB vs ${(tr.compactSmallBytes / 2 ** 20).toFixed(1)} MiB | |`);
  console.log(`| same root and proofs as OpenZeppelin at 2^${o.ozLog} | ${tr.identical ? "yes" : "NO"} | yes |`);
  if (!tr.identical) process.exitCode = 1;
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
