/**
 * The whole story on the embedded default (`npm start`, `zkdl demo`): a local Hardhat chain, the
 * registry and the example gate, an MNIST MLP trained and proven in fixed point, verified, published
 * through the relayer's outbox, verified again and attested by two independent attestors that fetch
 * the bundle from the API, membership checked for a trained and an untrained digit (locally and
 * on-chain), and the gate granting access to the certified model. Every stage is timed and checked;
 * the demo succeeds only if every check passes.
 *
 * The actors use the Hardhat network's public development keys (never use them elsewhere):
 * account 0 deploys, 1 publishes, 2 relays, 3 and 4 attest, 5 buys an access pass.
 */
import { verifyRunFolder } from "../prover/run-folder";
import { SingleBar } from "cli-progress";
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { rmSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { HDNodeWallet, type JsonRpcProvider, Wallet, parseEther } from "ethers";
import type pino from "pino";
import { pct, stepSpan } from "./format";
import { mnistDigit, mnistRecords, mnistTestRecords } from "../prover/records";
import { nativeAccelerators, nativeEngine } from "../prover/native-engine";
import { trainRun } from "../prover/train";
import { CertifiedModelGate__factory, ProofRegistry__factory } from "../typechain-types";
import { createApi } from "../relayer/api";
import { runAttestor } from "../relayer/attestor";
import { daemonLogger, daemonProvider } from "../relayer/chain";
import { deployZkdl, writeDeployment } from "../relayer/deployment";
import { RunStatus } from "../client/registry";
import { publishRun, runRelayer } from "../relayer/relay";
import { RunCatalog } from "../relayer/runs";
import { checkMembership, membershipHeadline } from "../client/sdk";
import { STORE_FILE, SqliteStore } from "../relayer/store";

/** Hardhat's default development mnemonic: public keys for a local chain only. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const devWallet = (i: number) => new Wallet(HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey);

export interface DemoOptions {
  readonly host: string;
  /** JSON-RPC port of the local chain. */
  readonly port: number;
  readonly apiPort: number;
  readonly steps: number;
  /** Window length: steps proven as one instance (a power of two). */
  readonly window: number;
  readonly hidden: number;
  readonly records: number;
  /** Run folder (replaced). */
  readonly out: string;
  /** Data folder of the relayer, attestors and API (replaced: the chain is new too). */
  readonly data: string;
  readonly deployment: string;
  /** Keep the chain and the API running afterwards. */
  readonly keep: boolean;
  /** Progress lines go here (stderr for --json). */
  readonly print: (line: string) => void;
  readonly log: pino.Logger;
}

export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface DemoSummary {
  readonly ok: boolean;
  readonly checks: DemoCheck[];
  readonly stages: { name: string; seconds: number }[];
  readonly rpcUrl?: string;
  readonly apiUrl?: string;
  readonly chainId?: string;
  readonly registry?: string;
  readonly gate?: string;
  readonly runId?: string;
  readonly run?: string;
  readonly datasetRoot?: string;
  readonly records?: number;
  readonly steps?: number;
  readonly window?: number;
  readonly windows?: number;
  readonly status?: string;
  readonly proofBytes?: number;
  readonly proveMsPerStep?: number;
  readonly verifySeconds?: number;
  readonly testAccuracy?: number;
  readonly floatTestAccuracy?: number;
  /** Set with keep: resolves when the services have been stopped (Ctrl-C). */
  readonly stopped?: Promise<void>;
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    const probe = createServer()
      .once("error", (err: NodeJS.ErrnoException) => fail(err.code === "EADDRINUSE" ? new Error(`port ${port} is in use: stop what runs there or pass another port`) : err))
      .once("listening", () => probe.close(() => ok()))
      .listen(port, host);
  });
}

export async function runDemo(o: DemoOptions): Promise<DemoSummary> {
  const checks: DemoCheck[] = [];
  const stages: { name: string; seconds: number }[] = [];
  const summary: Record<string, unknown> = {};
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, ok, detail });
    if (!ok) throw new Error(`check failed: ${name}${detail ? ` (${detail})` : ""}`);
  };
  async function stage<T>(name: string, work: () => T | Promise<T>): Promise<T> {
    const started = performance.now();
    o.print(`• ${name} …`);
    try {
      const result = await work();
      const seconds = (performance.now() - started) / 1000;
      stages.push({ name, seconds });
      o.print(`  done (${seconds.toFixed(2)} s)`);
      return result;
    } catch (err) {
      o.print(`  FAILED: ${(err as Error).message}`);
      throw err;
    }
  }

  let chainServer: { close(): Promise<void> } | undefined;
  let api: Server | undefined;
  let store: SqliteStore | undefined;
  let provider: JsonRpcProvider | undefined;
  const shutdown = async () => {
    api?.close();
    store?.close();
    provider?.destroy();
    await chainServer?.close();
  };

  try {
    const rpcUrl = await stage(`start a local Hardhat chain on ${o.host}:${o.port}`, async () => {
      await assertPortFree(o.host, o.port);
      await assertPortFree(o.host, o.apiPort);
      const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: o.host, port: o.port, provider: hre.network.provider });
      const { port } = await server.listen();
      chainServer = server;
      return `http://${o.host}:${port}`;
    });
    summary.rpcUrl = rpcUrl;

    const [deployer] = await hre.ethers.getSigners();
    const [publisher, relayer, attestorA, attestorB, user] = [1, 2, 3, 4, 5].map(devWallet);
    const deployment = await stage("deploy ProofRegistry and CertifiedModelGate (quorum 2: two independent attestors)", async () => {
      const d = await deployZkdl(deployer, { network: "localhost", quorum: 2, verifiers: [attestorA.address, attestorB.address] });
      writeDeployment(o.deployment, d);
      return d;
    });
    const registryAddress = deployment.contracts.ProofRegistry.address;
    Object.assign(summary, { chainId: deployment.chainId, registry: registryAddress, gate: deployment.contracts.CertifiedModelGate.address });
    provider = daemonProvider(rpcUrl, BigInt(deployment.chainId));
    const registry = ProofRegistry__factory.connect(registryAddress, provider);

    const trained = await stage(`train and prove MNIST ${[784, o.hidden, 10].join("-")}, batch 16, ${o.steps} steps on ${o.records} records, in windows of ${o.window} steps`, () => {
      const bar = process.stderr.isTTY ? new SingleBar({ format: "  training and proving {bar} {value}/{total} steps | loss {loss} | window {window} | {ms} ms/step proving", hideCursor: true, clearOnComplete: true }) : undefined;
      const result = trainRun({
        config: { layers: [784, o.hidden, 10], fracBits: 16, lrShift: 9, batch: 16, seed: "zkdl-demo" },
        publisher: publisher.address,
        steps: o.steps,
        window: o.window,
        records: mnistRecords(o.records, 16),
        source: "mnist",
        test: mnistTestRecords(16),
        out: o.out,
        overwrite: true,
        onStage: (s) => (s === "training and proving" ? bar?.start(o.steps, 0, { loss: "-", ms: "-", window: "-" }) : o.print(`  ${s}`)),
        onStep: ({ step, loss }) => bar?.update(step + 1, { loss: loss.toFixed(4) }),
        onWindow: ({ window, windows, first, steps, loss, proveMs }) => {
          if (bar) bar.update(first + steps, { loss: loss.toFixed(4), ms: (proveMs / steps).toFixed(0), window: `${window + 1}/${windows}` });
          else o.print(`  window ${window + 1}/${windows} (${stepSpan(first, steps)} of ${o.steps}): loss ${loss.toFixed(4)}, proved in ${proveMs.toFixed(0)} ms`);
        },
      });
      bar?.stop();
      return result;
    });
    Object.assign(summary, {
      run: trained.dir,
      datasetRoot: trained.manifest.dataset.root,
      records: trained.manifest.dataset.size,
      steps: trained.manifest.training.steps,
      window: trained.manifest.training.window,
      windows: trained.manifest.weights.windows.length,
      proofBytes: trained.manifest.bundle.bytes,
      proveMsPerStep: Math.round(trained.report.proveMsPerStep),
      testAccuracy: trained.report.testAccuracy,
      floatTestAccuracy: trained.report.floatTestAccuracy,
    });

    await stage("verify the run from its public files", () => {
      const v = verifyRunFolder(trained.dir, nativeAccelerators);
      check("the run verifies from its public files", v.valid, v.reason);
      summary.verifySeconds = Math.round(v.ms / 10) / 100;
    });

    const apiUrl = await stage(`start the API and the web page on ${o.host}:${o.apiPort}`, async () => {
      rmSync(o.data, { recursive: true, force: true });
      store = new SqliteStore(join(resolve(o.data), STORE_FILE));
      api = createApi({
        catalog: new RunCatalog(store, "native"),
        registry,
        log: o.log,
        engine: nativeEngine,
        statusTtlMs: 0,
        publicChain: { rpcUrl, chainId: deployment.chainId, registry: registryAddress },
      }).listen(o.apiPort, o.host);
      await new Promise<void>((ok, fail) => api!.once("listening", ok).once("error", fail));
      return `http://${o.host}:${(api.address() as { port: number }).port}`;
    });
    summary.apiUrl = apiUrl;

    const published = await stage("publish: the publisher signs the registration (EIP-712); it waits in the outbox", () =>
      publishRun({ store: store!, dir: trained.dir, publisher: publisher.connect(provider!), registry: registryAddress, relayer: relayer.address, apiUrl }),
    );
    const runId = published.runId;
    summary.runId = runId;

    await stage("relay: the relayer submits it and pays the gas", async () => {
      const settled = await runRelayer({ store: store!, wallet: relayer, provider: provider!, registry: registryAddress, log: o.log, once: true, sender: { pollMs: 100 } });
      check("the registration is confirmed on chain", settled.find((j) => j.key === published.job.key)?.status === "confirmed");
      check("the registry names the publisher, not the relayer", (await registry.getRun(runId)).publisher === publisher.address);
    });

    await stage("attest: two attestors each download the bundle from the API, verify it and attest", async () => {
      for (const attestor of [attestorA, attestorB]) {
        await runAttestor({ store: store!, wallet: attestor, provider: provider!, registry: registryAddress, fromBlock: deployment.contracts.ProofRegistry.blockNumber, log: o.log, once: true, sender: { pollMs: 100 }, engine: nativeEngine, nativeGenerators: true });
        check(`attestor ${attestor.address} found the run valid`, store!.attestation(runId, attestor.address)?.valid === true);
      }
      const status = RunStatus[Number(await registry.statusOf(runId))];
      summary.status = status;
      check("the run is Verified (quorum reached)", status === "Verified", status);
    });

    const trainedDigit = Math.min(7, o.records - 1);
    await stage(`membership: training digit ${trainedDigit} is in the training set (proofs checked locally and on-chain)`, async () => {
      const answer = await checkMembership({ api: apiUrl, rpc: provider!, registry: registryAddress, runId, record: { pixels: Array.from(mnistDigit("train", trainedDigit).pixels) } });
      check("a trained digit is a member, at its index", answer.member && answer.index === trainedDigit, `answer: ${answer.member ? `member #${answer.index}` : "not a member"}`);
      check("its opening, Merkle and on-chain proofs verify", answer.checked.length === 4, answer.checked.join("; "));
      o.print(`  member #${answer.index}; checked: ${answer.checked.join("; ")}`);
    });
    await stage("non-membership: test digit 0 (never trained on) is not in the training set, proven on chain", async () => {
      const answer = await checkMembership({ api: apiUrl, rpc: provider!, registry: registryAddress, runId, record: { pixels: Array.from(mnistDigit("test", 0).pixels) } });
      check("an untrained digit is not a member", !answer.member);
      check("its fingerprint's gap and Merkle proof verify, locally and on-chain, for a certified run", answer.proven && answer.checked.length === 3, answer.checked.join("; "));
      o.print(`  ${membershipHeadline(answer)}; checked: ${answer.checked.join("; ")}`);
    });

    await stage("gate: the publisher lists the model, a user buys a pass, the gate grants access", async () => {
      const gate = CertifiedModelGate__factory.connect(deployment.contracts.CertifiedModelGate.address, provider!);
      const { modelId } = await registry.getRun(runId);
      const modelKey = await registry.modelKeyOf(publisher.address, modelId);
      await (await gate.connect(publisher.connect(provider!)).list(modelId, parseEther("0.01"))).wait();
      check("no access without a pass", !(await gate.canUse(modelKey, user.address)));
      await (await gate.connect(user.connect(provider!)).buyPass(modelKey, { value: parseEther("0.01") })).wait();
      check("access granted: pass held and the model's latest run is certified", await gate.canUse(modelKey, user.address));
      const [certifiedRun] = await gate.certifiedWeights(modelKey);
      check("the gate serves this run's weights", certifiedRun === runId);
    });

    if (o.keep) {
      const stopped = new Promise<void>((done) => {
        const stop = () => void shutdown().then(done);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      return { ok: true, checks, stages, ...summary, stopped } as DemoSummary;
    }
    await shutdown();
    return { ok: true, checks, stages, ...summary } as DemoSummary;
  } catch (err) {
    await shutdown();
    if (!checks.some((c) => !c.ok)) checks.push({ name: "the demo ran to the end", ok: false, detail: (err as Error).message });
    return { ok: false, checks, stages, ...summary } as DemoSummary;
  }
}

/** The closing summary, for people. */
export function printDemoSummary(s: DemoSummary, print: (line: string) => void): void {
  const passed = s.checks.filter((c) => c.ok).length;
  const rows: [string, string | undefined][] = [
    ["run id", s.runId],
    ["run folder", s.run],
    ["dataset root", s.datasetRoot && `${s.datasetRoot} (${s.records} records)`],
    ["status", s.status && `${s.status} on chain (2 of 2 attestors)`],
    ["proof", s.proofBytes !== undefined ? `${(s.proofBytes / 1024).toFixed(1)} KiB for ${s.steps} steps in ${s.windows} windows of at most ${s.window}; ${s.proveMsPerStep} ms per step to prove, ${s.verifySeconds} s to verify` : undefined],
    ["test accuracy", s.testAccuracy !== undefined ? `${pct(s.testAccuracy)} fixed point, ${pct(s.floatTestAccuracy)} float64 reference (after ${s.steps} steps)` : undefined],
    ["chain", s.rpcUrl && `${s.rpcUrl} (chain id ${s.chainId}), ProofRegistry ${s.registry}, CertifiedModelGate ${s.gate}`],
    ["API, web page", s.apiUrl],
    ["time", s.stages.map((st) => st.seconds).reduce((a, b) => a + b, 0).toFixed(1) + " s"],
    ["checks", `${passed}/${s.checks.length} passed`],
  ];
  print("");
  for (const [k, v] of rows) if (v !== undefined) print(`  ${k.padEnd(15)} ${v}`);
  for (const c of s.checks.filter((c) => !c.ok)) print(`  FAILED          ${c.name}${c.detail ? `: ${c.detail}` : ""}`);
  print("");
}

export interface DemoFlags extends Omit<DemoOptions, "keep" | "print" | "log"> {
  readonly keep?: boolean;
  readonly json?: boolean;
}

/** `zkdl demo`: runs the story, prints the summary (JSON with --json), exits 0 if every check passed. */
export async function demo(o: DemoFlags): Promise<void> {
  const print = (line: string) => (o.json ? process.stderr : process.stdout).write(line + "\n");
  const summary = await runDemo({ ...o, keep: !!o.keep, print, log: daemonLogger("demo", process.env.ZKDL_LOG_LEVEL ?? "warn") });
  if (o.json) process.stdout.write(JSON.stringify({ ...summary, stopped: undefined }) + "\n");
  else printDemoSummary(summary, print);
  if (summary.stopped) {
    print(`\nrunning: chain ${summary.rpcUrl}, API and web page ${summary.apiUrl} — Ctrl-C to stop`);
    await summary.stopped;
  }
  process.exit(summary.ok ? 0 : 1);
}
