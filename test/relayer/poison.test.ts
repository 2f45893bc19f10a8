/**
 * Liveness of the attestor against permissionless registrations: runs registered before an honest one
 * whose bundles make the verifier throw, point at a local file, or at a server that never answers. The
 * daemon must record an outcome for each (attested invalid, or skipped as "cannot judge" with the
 * reason, listed by `zkdl outbox`), keep running, and take the honest run to Verified.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import type { JsonRpcProvider, Wallet } from "ethers";
import { type Manifest, digestHex, parseManifest } from "../../core/run/manifest";
import { packPublicBundle } from "../../core/run/public-bundle";
import { folderFiles, readManifest } from "../../prover/run-folder";
import { serveApi } from "../helpers/api";
import { MAX_JUDGE_STARTS, runAttestor } from "../../relayer/attestor";
import { daemonProvider, sleep } from "../../relayer/chain";
import type { Deployment } from "../../relayer/deployment";
import { RunStatus, runIdOf } from "../../client/registry";
import { publishRun, runRelayer } from "../../relayer/relay";
import { RunCatalog, runRecordOf } from "../../relayer/runs";
import { SqliteStore } from "../../relayer/store";
import { ProofRegistry__factory } from "../../typechain-types";
import { type LocalChain, deployForTest, fundedWallet, serveHardhat, trainSmallRun } from "../helpers/chain";

const ZKDL = join(__dirname, "../../bin/zkdl.js");

/**
 * A copy of a run with its manifest changed and written in canonical layout without the schema's
 * checks (so every digest the manifest fixes still matches, and the change may be one no prover makes).
 */
function manifestCopy(from: string, to: string, change: (m: Manifest) => void): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  const m = parseManifest("manifest.json", readFileSync(join(to, "manifest.json")));
  change(m);
  writeFileSync(join(to, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
}

describe("relayer: poison registrations do not stop the attestor", function () {
  this.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-poison-"));
  const good = join(root, "good");
  const batch3 = join(root, "batch3");
  let chain: LocalChain;
  let deployment: Deployment;
  let publisher: Wallet, relayer: Wallet, attestor: Wallet, stranger: Wallet;
  let provider: JsonRpcProvider;
  let store: SqliteStore;
  let api: Server;
  let apiUrl: string;
  let silentServer: TcpServer;
  /** Serves run folders' public bundles as /<name>.bundle, whatever their manifests say. */
  let bundles: Server;
  let bundlesUrl: string;
  const held = new Set<Socket>();
  /** Error-level log lines of the attestor. */
  const errors: { msg: string; runId?: string; err?: string }[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void (JSON.parse(line).level >= 50 && errors.push(JSON.parse(line))) });

  before(async () => {
    chain = await serveHardhat();
    [publisher, relayer, attestor, stranger] = [await fundedWallet(), await fundedWallet(), await fundedWallet(), await fundedWallet()];
    deployment = await deployForTest([attestor.address], 1);
    provider = daemonProvider(chain.url, BigInt(deployment.chainId));
    trainSmallRun(good, publisher.address);
    // A configuration today's verifier throws a plain RangeError on (the batch must be a power of two).
    manifestCopy(good, batch3, (m) => (m.model.batch = 3));
    store = new SqliteStore(join(root, "zkdl.sqlite"));
    ({ server: api, url: apiUrl } = await serveApi({ catalog: new RunCatalog(store), log: pino({ level: "silent" }) }));
    // Accepts connections and never answers.
    silentServer = createServer((s) => (held.add(s), s.on("error", () => s.destroy())));
    await new Promise<void>((r) => silentServer.listen(0, "127.0.0.1", r));
    bundles = createHttpServer((req, res) => res.end(packPublicBundle(folderFiles(join(root, /^\/(\w+)\.bundle$/.exec(req.url ?? "")?.[1] ?? "none")))));
    await new Promise<void>((r) => bundles.listen(0, "127.0.0.1", r));
    bundlesUrl = `http://127.0.0.1:${(bundles.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of held) s.destroy();
    silentServer?.close();
    bundles?.close();
    api?.close();
    store?.close();
    provider?.destroy();
    await chain?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const registryAddress = () => deployment.contracts.ProofRegistry.address;
  const registry = () => ProofRegistry__factory.connect(registryAddress(), provider);
  const status = async (runId: string) => Number(await registry().statusOf(runId));
  const attestorOptions = () => ({
    store,
    wallet: attestor,
    provider,
    registry: registryAddress(),
    fromBlock: deployment.contracts.ProofRegistry.blockNumber,
    log,
    sender: { pollMs: 50 },
    fetchTimeoutMs: 500,
    fetchRetry: { tries: 2, baseMs: 100, maxMs: 100 },
  });
  const publish = async (dir: string) =>
    (await publishRun({ store, dir, publisher: publisher.connect(provider), registry: registryAddress(), relayer: relayer.address, apiUrl })).runId;
  const relay = () => runRelayer({ store, wallet: relayer, provider, registry: registryAddress(), log, once: true, sender: { pollMs: 50 } });
  /** Registers a run folder's record under `who` with a bundle URI (registerRun needs no role), whatever its manifest says. */
  async function registerAt(who: Wallet, dir: string, bundleURI: string): Promise<{ runId: string; blockNumber: number }> {
    const bytes = readFileSync(join(dir, "manifest.json"));
    const manifestDigest = digestHex(bytes);
    const record = runRecordOf(JSON.parse(bytes.toString()) as Manifest, manifestDigest, "0x" + "11".repeat(32), bundleURI);
    const receipt = await (await registry().connect(who.connect(provider)).registerRun(record)).wait();
    return { runId: runIdOf(who.address, manifestDigest), blockNumber: receipt!.blockNumber };
  }
  const registerGoodAt = (who: Wallet, bundleURI: string) => registerAt(who, good, bundleURI);

  let honestId: string, batch3Id: string, fileId: string, silentId: string;

  it("records an outcome for each poison run, stays up, and the honest run registered after them reaches Verified", async () => {
    // Poison first, in block order: a bundle the verifier throws on, a file: URI (to a valid bundle: the
    // attestor must not read it), a server that never answers; then the honest run.
    batch3Id = (await registerAt(publisher, batch3, `${bundlesUrl}/batch3.bundle`)).runId;
    const file = join(root, "good.bundle");
    writeFileSync(file, packPublicBundle(folderFiles(good)));
    fileId = (await registerGoodAt(stranger, pathToFileURL(file).href)).runId;
    const silentStranger = await fundedWallet();
    silentId = (await registerGoodAt(silentStranger, `http://127.0.0.1:${(silentServer.address() as AddressInfo).port}/bundle`)).runId;
    honestId = await publish(good);
    await relay();
    for (const id of [batch3Id, fileId, silentId, honestId]) expect(await status(id)).to.equal(RunStatus.Registered);

    const controller = new AbortController();
    const daemon = runAttestor({ ...attestorOptions(), pollMs: 100, signal: controller.signal });
    let ended: { error?: unknown } | undefined;
    daemon.then(
      () => (ended = {}),
      (error) => (ended = { error }),
    );
    const settled = () => [batch3Id, fileId, silentId].every((id) => ["decided", "skipped"].includes(store.attestation(id, attestor.address)?.state ?? ""));
    const deadline = Date.now() + 240_000;
    while (!((await status(honestId)) === RunStatus.Verified && settled())) {
      if (ended) throw ended.error ?? new Error("the attestor stopped by itself");
      if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify([batch3Id, fileId, silentId].map((id) => store.attestation(id, attestor.address)))}`);
      await sleep(100);
    }
    expect(ended, "the daemon is still running").to.equal(undefined);
    controller.abort();
    await daemon;

    // A configuration no prover makes: refused by the manifest's schema, attested invalid. (Before the
    // verifier answered a verdict for it, it threw a RangeError; an attestor skips such an error as a
    // possible bug of its own, logged at error level — see "internal error" below.)
    const b = store.attestation(batch3Id, attestor.address)!;
    expect(b).to.include({ state: "decided", valid: false });
    expect(b.reason).to.match(/model: batch must be a power of two/);
    expect(await status(batch3Id)).to.equal(RunStatus.Rejected);
    // The file: URI was not followed (the file holds a valid bundle: reading it would have attested valid).
    expect(store.attestation(fileId, attestor.address)).to.include({ state: "skipped" });
    expect(store.attestation(fileId, attestor.address)!.reason).to.match(/^cannot judge: file: URIs are not fetched/);
    // The silent server: tried twice within the deadline, then given up.
    expect(store.attestation(silentId, attestor.address)).to.include({ state: "skipped", tries: 2 });
    expect(store.attestation(silentId, attestor.address)!.reason).to.equal("cannot judge: not downloaded within 500 ms (0 bytes received) (2 tries)");
    for (const id of [fileId, silentId]) {
      expect(store.jobByKey(`attest:${id}:${attestor.address}`), id).to.equal(undefined);
      expect(await status(id)).to.equal(RunStatus.Registered);
    }
    expect(store.attestation(honestId, attestor.address)).to.include({ state: "decided", valid: true });

    // A restart finds nothing left to do and sends nothing.
    const nonce = await provider.getTransactionCount(attestor.address);
    await runAttestor({ ...attestorOptions(), once: true });
    expect(await provider.getTransactionCount(attestor.address)).to.equal(nonce);
  });

  it("judges a copycat registration invalid: another account registering the honest run's manifest and bundle", async () => {
    const copycat = await fundedWallet();
    const { runId } = await registerGoodAt(copycat, `${apiUrl}/v1/runs/${honestId}/bundle`);
    await runAttestor({ ...attestorOptions(), once: true });
    const a = store.attestation(runId, attestor.address)!;
    expect(a).to.include({ state: "decided", valid: false });
    expect(a.reason).to.equal(`the manifest names publisher ${publisher.address.toLowerCase()}, not ${copycat.address.toLowerCase()}`);
    expect(await status(runId)).to.equal(RunStatus.Rejected);
  });

  it("lists the skipped runs with their reasons in `zkdl outbox`", async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [ZKDL, "outbox", "--json", "--status", "skipped", "--data", root], { stdio: ["ignore", "pipe", "pipe"] });
      let [stdout, stderr] = ["", ""];
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(stderr))));
    });
    const rows = JSON.parse(out) as { key: string; status: string; reason: string }[];
    const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
    for (const id of [fileId, silentId]) {
      expect(byKey[`attest:${id}:${attestor.address}`]).to.include({ status: "skipped", reason: store.attestation(id, attestor.address)!.reason });
    }
    expect(rows.every((r) => r.status === "skipped" && /^cannot judge: /.test(r.reason))).to.equal(true);
  });

  it(`an attestor killed while fetching or verifying a bundle, restarted each time, skips that run after ${MAX_JUDGE_STARTS} starts (no crash loop)`, async () => {
    const killer = await fundedWallet();
    const { runId } = await registerGoodAt(killer, `${apiUrl}/v1/runs/${honestId}/bundle`);
    const zkdl = (env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        spawn(process.execPath, [ZKDL, "attest", "--once", "--data", root, "--rpc", chain.url, "--registry", registryAddress(), "--from-block", String(deployment.contracts.ProofRegistry.blockNumber)], {
          env: { ...process.env, ZKDL_ATTESTOR_KEY: attestor.privateKey, ZKDL_LOG_LEVEL: "silent", ...env },
          stdio: "ignore",
        }).on("exit", (code, signal) => resolve({ code, signal })),
      );
    // Killed each time it begins judging (as a bundle that exhausts memory while read would do).
    for (let i = 0; i < MAX_JUDGE_STARTS; i++) expect((await zkdl({ ZKDL_FAILPOINT: "attestor:judging" })).signal).to.equal("SIGKILL");
    expect(store.attestation(runId, attestor.address)).to.include({ judgeStarts: MAX_JUDGE_STARTS });
    expect((await zkdl({ ZKDL_FAILPOINT: "attestor:judging" })).code).to.equal(0);
    expect(store.attestation(runId, attestor.address)).to.include({ state: "skipped" });
    expect(store.attestation(runId, attestor.address)!.reason).to.match(/^cannot judge: judging was cut short 3 times/);
  });

  it(`skips a run whose judging was cut short ${MAX_JUDGE_STARTS} times (the process died verifying it)`, async () => {
    // The good bundle under another publisher: valid, so only the crash record can keep it from being attested.
    const other = await fundedWallet();
    const { runId, blockNumber } = await registerGoodAt(other, `${apiUrl}/v1/runs/${honestId}/bundle`);
    const { manifest, manifestDigest } = readManifest(good);
    const record = runRecordOf(manifest, manifestDigest, "0x" + "11".repeat(32), `${apiUrl}/v1/runs/${honestId}/bundle`);
    store.noteRun(runId, attestor.address, blockNumber, JSON.stringify({ ...record, datasetSize: record.datasetSize.toString(), numSteps: record.numSteps.toString() }));
    for (let i = 0; i < MAX_JUDGE_STARTS; i++) store.startJudging(runId, attestor.address);
    await runAttestor({ ...attestorOptions(), once: true });
    const a = store.attestation(runId, attestor.address)!;
    expect(a).to.include({ state: "skipped", judgeStarts: MAX_JUDGE_STARTS });
    expect(a.reason).to.match(/^cannot judge: judging was cut short 3 times/);
    expect(await status(runId)).to.equal(RunStatus.Registered);
    expect(errors.some((e) => e.runId === runId && /never finished/.test(e.msg))).to.equal(true);
  });
});
