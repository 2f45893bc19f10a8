/**
 * The main job (`npm start`): start a local Hardhat chain on 127.0.0.1, deploy the registry and the
 * example gate with two independent verifiers, check the deployment over JSON-RPC; train a small
 * MNIST MLP in fixed point proving every step, verify the run from its public files, register it,
 * let both verifiers verify it themselves and attest, and check a training record's membership
 * on-chain. The durable relayer, attestor daemons and the membership API (later issues) will take
 * over the registration and attestation stages.
 */
import { Command, InvalidArgumentError } from "commander";
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { createServer } from "node:net";
import { JsonRpcProvider, keccak256, toUtf8Bytes } from "ethers";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { mnistRecords, mnistTestRecords } from "../prover/data/records";
import { loadDatasetTree } from "../prover/dataset/tree";
import { nativeEngine } from "../prover/protocol/native-engine";
import { trainRun } from "../prover/run/train";
import { verifyRun } from "../prover/run/verify";
import { type RunRecord, runIdOf } from "../relayer/registry";
import { deployZkdl, writeDeployment } from "../relayer/deployment";
import { ProofRegistry__factory, CertifiedModelGate__factory } from "../typechain-types";

const program = new Command()
  .name("npm start --")
  .description("zkdl-chain demo: local chain and registry, train and prove an MNIST MLP, verify, register, attest, membership")
  .option("--port <n>", "JSON-RPC port of the local chain", parsePort, 8545)
  .option("--quorum <n>", "attestations that decide a run", parsePositive, 2)
  .option("--deployment <file>", "where to write the deployment file", "deployments/localhost.json")
  .option("--keep", "keep the chain running after the demo (Ctrl-C to stop)", false)
  .option("--steps <n>", "SGD steps to train and prove", parsePositive, 3)
  .option("--hidden <n>", "hidden width of the 784-n-10 MLP", parsePositive, 32)
  .option("--out <dir>", "run folder to write (replaced)", "runs/demo")
  .parse();

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("not a TCP port");
  return n;
}
function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("not a positive integer");
  return n;
}

/** Fails with a clear message if the port is taken (Hardhat's server would crash on it instead). */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
      .once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? new Error(`port ${port} is in use: stop what runs there or pass --port`) : err),
      )
      .once("listening", () => probe.close(() => resolve()))
      .listen(port, host);
  });
}

const pct = (v?: number) => (v === undefined ? "n/a" : `${(100 * v).toFixed(1)}%`);

async function stage<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  process.stdout.write(`• ${label} … `);
  try {
    const result = await work();
    console.log(`done (${((performance.now() - start) / 1000).toFixed(2)} s)`);
    return result;
  } catch (err) {
    console.log("FAILED");
    throw err;
  }
}

async function main() {
  const opts = program.opts<{ port: number; quorum: number; deployment: string; keep: boolean; steps: number; hidden: number; out: string }>();
  const host = "127.0.0.1";
  let server: { listen(): Promise<{ address: string; port: number }>; close(): Promise<void> };
  const rpcUrl = await stage(`start local chain on ${host}:${opts.port}`, async () => {
    await assertPortFree(host, opts.port);
    server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: host, port: opts.port, provider: hre.network.provider });
    const { address, port } = await server.listen();
    return `http://${address}:${port}`;
  });

  try {
    const [deployer, verifierA, verifierB, publisher] = await hre.ethers.getSigners();
    const deployment = await stage("deploy ProofRegistry and CertifiedModelGate", () =>
      deployZkdl(deployer!, { network: "localhost", quorum: opts.quorum, verifiers: [verifierA!.address, verifierB!.address] }),
    );
    writeDeployment(opts.deployment, deployment);

    await stage(`check the deployment over JSON-RPC (${rpcUrl})`, async () => {
      const client = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
      try {
        const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, client);
        const gate = CertifiedModelGate__factory.connect(deployment.contracts.CertifiedModelGate.address, client);
        const role = await registry.VERIFIER_ROLE();
        const checks: [string, boolean][] = [
          ["chain id", (await client.getNetwork()).chainId.toString() === deployment.chainId],
          ["quorum", Number(await registry.quorum()) === opts.quorum],
          ["verifier A", await registry.hasRole(role, verifierA!.address)],
          ["verifier B", await registry.hasRole(role, verifierB!.address)],
          ["gate wiring", (await gate.registry()) === deployment.contracts.ProofRegistry.address],
        ];
        const failed = checks.filter(([, ok]) => !ok).map(([name]) => name);
        if (failed.length > 0) throw new Error(`deployment check failed: ${failed.join(", ")}`);
      } finally {
        client.destroy();
      }
    });

    const result = await stage(`train and prove MNIST 784-${opts.hidden}-10, batch 16, ${opts.steps} steps`, async () =>
      trainRun({
        config: { layers: [784, opts.hidden, 10], fracBits: 16, lrShift: 9, batch: 16, seed: "demo" },
        steps: opts.steps,
        records: mnistRecords(256, 16),
        source: "mnist",
        test: mnistTestRecords(16),
        out: opts.out,
        overwrite: true,
      }),
    );
    const verdict = await stage("verify the run from its public files", async () => {
      const v = verifyRun(result.dir, { engine: nativeEngine, nativeGenerators: true });
      if (!v.valid) throw new Error(`run does not verify: ${v.reason}`);
      return v;
    });
    const m = result.manifest;
    const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, publisher!);
    const runId = await stage("register the run on-chain", async () => {
      const record: RunRecord = {
        modelId: keccak256(toUtf8Bytes("demo/mnist-mlp")),
        datasetRoot: m.dataset.root,
        datasetSize: BigInt(m.dataset.size),
        manifestDigest: result.manifestDigest,
        initialWeightsDigest: m.weights.initial,
        finalWeightsDigest: m.weights.final,
        numSteps: BigInt(m.training.steps),
        bundleURI: pathToFileURL(resolve(result.dir, m.bundle.file)).href,
      };
      await (await registry.registerRun(record)).wait();
      return runIdOf(publisher!.address, result.manifestDigest);
    });
    await stage("both verifiers verify independently and attest", async () => {
      for (const verifier of [verifierA!, verifierB!]) {
        const own = verifyRun(result.dir, { engine: nativeEngine, nativeGenerators: true });
        const report = keccak256(toUtf8Bytes(JSON.stringify({ runId, valid: own.valid, reason: own.reason ?? null })));
        await (await registry.connect(verifier).attest(runId, own.valid, report)).wait();
      }
      if (!(await registry.isCertified(runId))) throw new Error("the run did not become Verified");
    });
    const member = await stage("check a training record's membership on-chain", async () => {
      const tree = loadDatasetTree(JSON.parse(readFileSync(join(result.dir, m.dataset.tree), "utf8")));
      const [index, cxHash, cyHash] = tree.at(0)!;
      const ok = await registry.verifyRecord(runId, index, cxHash, cyHash, tree.getProof(0));
      if (!ok) throw new Error("membership proof rejected on-chain");
      return { index, depth: tree.getProof(0).length };
    });

    console.log("");
    console.log(`  RPC URL             ${rpcUrl} (chain id ${deployment.chainId})`);
    console.log(`  ProofRegistry       ${deployment.contracts.ProofRegistry.address}`);
    console.log(`  CertifiedModelGate  ${deployment.contracts.CertifiedModelGate.address}`);
    console.log(`  verifiers           ${deployment.verifiers.join(", ")} (quorum ${deployment.quorum})`);
    console.log(`  deployment file     ${opts.deployment}`);
    console.log(`  run                 ${result.dir}, id ${runId}`);
    console.log(`  manifest            ${result.manifestDigest}`);
    console.log(`  dataset root        ${m.dataset.root} (${m.dataset.size} records)`);
    console.log(`  status              Verified (quorum ${deployment.quorum}), ${verdict.steps.length} step proofs, ${m.bundle.bytes} bytes`);
    console.log(`  proving             ${Math.round(result.report.proveMsPerStep)} ms per step; verification ${(verdict.ms / 1000).toFixed(2)} s`);
    console.log(`  test accuracy       ${pct(result.report.testAccuracy)} fixed point, ${pct(result.report.floatTestAccuracy)} float64 reference (after ${m.training.steps} steps)`);
    console.log(`  membership          record ${member.index} proven on-chain (Merkle depth ${member.depth})`);
    console.log("");

    if (opts.keep) {
      console.log("chain running; Ctrl-C to stop");
      await new Promise<void>((resolve) => process.once("SIGINT", resolve));
    }
  } finally {
    await server!.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
