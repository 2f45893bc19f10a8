import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "node:http";
import pino from "pino";
import { serveApi } from "../helpers/api";
import { RunCatalog } from "../../relayer/runs";
import { type JsonRpcProvider, Wallet } from "ethers";
import { daemonProvider, sleep } from "../../relayer/chain";
import type { Deployment } from "../../relayer/deployment";
import { publishRun, runRelayer } from "../../relayer/relay";
import { SqliteStore } from "../../relayer/store";
import { ProofRegistry__factory } from "../../typechain-types";
import { CHAIN_CLIENTS, RpcOutage, type TestChain, startChain, runOfFreshPublisher } from "../helpers/chain";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
/** Daemon logs, silent unless ZKDL_TEST_LOG names a level (debugging a failure). */
const silent = pino({ level: process.env.ZKDL_TEST_LOG ?? "silent" }, pino.destination(2));

/**
 * Crash safety: the relayer and the attestor run as real processes (`zkdl relay|attest --once`) and are
 * killed with SIGKILL at each stage of posting (ZKDL_FAILPOINT), then restarted; every run must end up
 * registered exactly once and attested exactly once, with no transaction wasted.
 */
describe("relayer: crash safety (SIGKILL at every stage), RPC outages, stuck transactions", function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-crash-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  // Once per chain client. Each crash test starts two processes, so the full set runs on Hardhat's
  // network and a representative subset on anvil: a kill right after the broadcast (the restarted
  // process finds its transaction already in anvil's pool or mined), the outage, stuck transactions
  // (anvil's own pool and replacement rule) and a terminal failure.
  for (const client of CHAIN_CLIENTS)
    describe(`on ${client}`, () => {
      const full = client === "hardhat";
      const data = join(root, client);
      let chain: TestChain;
      let deployment: Deployment;
      let relayer: Wallet, attestor: Wallet, otherAttestor: Wallet;
      let provider: JsonRpcProvider;
      let store: SqliteStore;
      let server: Server;
      let apiUrl: string;

      before(async () => {
        mkdirSync(data, { recursive: true });
        chain = await startChain(client);
        [relayer, attestor, otherAttestor] = [await chain.fundedWallet(), await chain.fundedWallet(), await chain.fundedWallet()];
        deployment = await chain.deploy([attestor.address, otherAttestor.address]);
        provider = daemonProvider(chain.url, BigInt(deployment.chainId));
        store = new SqliteStore(join(data, "zkdl.sqlite"));
        // The API serves the bundles the attestors download.
        ({ server, url: apiUrl } = await serveApi({ catalog: new RunCatalog(store), log: silent }));
      });
      after(async () => {
        server?.close();
        store?.close();
        provider?.destroy();
        await chain?.close();
      });

      const registry = () => ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, provider);

      /** Runs `zkdl <args>` as a child process; resolves with its exit code or the signal that killed it. */
      function zkdl(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
        return new Promise((resolve) => {
          const child = spawn(process.execPath, [ZKDL, ...args], {
            env: {
              ...process.env,
              ZKDL_RPC_URL: chain.url,
              ZKDL_REGISTRY: deployment.contracts.ProofRegistry.address,
              ZKDL_DATA: data,
              ZKDL_RELAYER_KEY: relayer.privateKey,
              ZKDL_ATTESTOR_KEY: attestor.privateKey,
              ZKDL_LOG_LEVEL: "warn",
              ...env,
            },
            stdio: ["ignore", "ignore", "pipe"],
          });
          let stderr = "";
          child.stderr.on("data", (d) => (stderr += d));
          child.on("exit", (code, signal) => resolve({ code, signal, stderr }));
        });
      }

      /** A run proven for a fresh publisher and published by it: a new run id every time. */
      async function publishFresh(): Promise<string> {
        const { dir, publisher } = runOfFreshPublisher(root);
        const p = await publishRun({ store, dir, publisher: publisher.connect(provider), registry: deployment.contracts.ProofRegistry.address, relayer: relayer.address, apiUrl });
        return p.runId;
      }

      /** Polls `cond` while `running` goes on; a daemon that ends first fails the test (with its error, if any). */
      async function until(cond: () => boolean, running: Promise<unknown>): Promise<void> {
        let ended = false;
        running.then(
          () => (ended = true),
          () => (ended = true),
        );
        while (!cond()) {
          if (ended) {
            await running;
            throw new Error("the daemon stopped before the condition held");
          }
          await sleep(20);
        }
      }

      const registrations = async (runId: string) => (await registry().queryFilter(registry().filters.RunRegistered(runId))).length;
      const attestations = async (runId: string | undefined, who: string) => (await registry().queryFilter(registry().filters.Attested(runId, who))).length;

      for (const point of ["sender:before-broadcast", "sender:after-broadcast", "sender:after-receipt"]) {
        if (!full && point !== "sender:after-broadcast") continue;
        it(`relayer killed at ${point}: the run is registered exactly once`, async () => {
          const runId = await publishFresh();
          const nonce = await provider.getTransactionCount(relayer.address);
          const crashed = await zkdl(["relay", "--once"], { ZKDL_FAILPOINT: point });
          expect(crashed.signal, crashed.stderr).to.equal("SIGKILL");
          const restarted = await zkdl(["relay", "--once"]);
          expect(restarted.code, restarted.stderr).to.equal(0);
          expect(await registrations(runId)).to.equal(1);
          expect(store.jobByKey(`register:${runId}`)!.status).to.equal("confirmed");
          expect(await provider.getTransactionCount(relayer.address)).to.equal(nonce + 1);
          // A third start finds nothing to do.
          expect((await zkdl(["relay", "--once"])).code).to.equal(0);
          expect(await provider.getTransactionCount(relayer.address)).to.equal(nonce + 1);
        });
      }

      for (const point of ["attestor:before-cursor", "attestor:after-decide", "sender:before-broadcast", "sender:after-broadcast", "sender:after-receipt"]) {
        if (!full && point !== "sender:after-broadcast") continue;
        it(`attestor killed at ${point}: it attests exactly once`, async () => {
          const runId = await publishFresh();
          await runRelayer({ store, wallet: relayer, provider, registry: deployment.contracts.ProofRegistry.address, log: silent, once: true });
          const nonce = await provider.getTransactionCount(attestor.address);
          const before = await attestations(undefined, attestor.address);
          const from = String(deployment.contracts.ProofRegistry.blockNumber);
          const crashed = await zkdl(["attest", "--once", "--from-block", from], { ZKDL_FAILPOINT: point });
          expect(crashed.signal, crashed.stderr).to.equal("SIGKILL");
          const restarted = await zkdl(["attest", "--once", "--from-block", from]);
          expect(restarted.code, restarted.stderr).to.equal(0);
          expect(await attestations(runId, attestor.address)).to.equal(1);
          // Every registered run attested at most once, and one transaction per attestation.
          for (const e of await registry().queryFilter(registry().filters.RunRegistered())) expect(await attestations(e.args.runId, attestor.address)).to.be.at.most(1);
          expect(await provider.getTransactionCount(attestor.address)).to.equal(nonce + (await attestations(undefined, attestor.address)) - before);
          expect((await registry().attestationOf(runId, attestor.address)).verdict).to.equal(1n);
        });
      }

      it("rides out the RPC endpoint going down before and in the middle of posting", async () => {
        const target = new URL(chain.url);
        const outage = new RpcOutage({ host: target.hostname, port: Number(target.port) });
        await outage.start();
        const viaProxy = daemonProvider(outage.url, BigInt(deployment.chainId));
        try {
          // Down before the relayer starts.
          const first = await publishFresh();
          await outage.stop();
          const relaying = runRelayer({ store, wallet: relayer, provider: viaProxy, registry: deployment.contracts.ProofRegistry.address, log: silent, once: true, sender: { pollMs: 50, backoff: { baseMs: 50, maxMs: 200 } } });
          await Promise.race([sleep(800), relaying]);
          await outage.start();
          await relaying;
          expect(await registrations(first)).to.equal(1);

          // Down right after the broadcast is answered, before the receipt.
          const second = await publishFresh();
          const job = store.jobByKey(`register:${second}`)!;
          outage.cutAfter("eth_sendRawTransaction", 800);
          await runRelayer({ store, wallet: relayer, provider: viaProxy, registry: deployment.contracts.ProofRegistry.address, log: silent, once: true, sender: { pollMs: 50, backoff: { baseMs: 50, maxMs: 200 } } });
          expect(outage.cuts).to.equal(1);
          expect(store.job(job.id)!.status).to.equal("confirmed");
          expect(await registrations(second)).to.equal(1);
          expect(store.attempts(job.id)).to.have.length(1);
        } finally {
          viaProxy.destroy();
          await outage.close();
        }
      });

      it("replaces a stuck transaction with higher fees, and never beyond the cap", async () => {
        const runId = await publishFresh();
        await chain.send("evm_setAutomine", [false]);
        try {
          const job = store.jobByKey(`register:${runId}`)!;
          const controller = new AbortController();
          const relaying = runRelayer({ store, wallet: relayer, provider, registry: deployment.contracts.ProofRegistry.address, log: silent, sender: { pollMs: 50, bumpAfterMs: 300 }, signal: controller.signal, idleMs: 50 });
          await until(() => store.attempts(job.id).length >= 2, relaying);
          const [stuck, replacement] = store.attempts(job.id);
          expect(replacement.nonce).to.equal(stuck.nonce);
          expect(replacement.maxFeePerGas * 100n).to.be.greaterThanOrEqual(stuck.maxFeePerGas * 125n - 100n);
          await chain.send("evm_mine", []);
          await until(() => store.job(job.id)!.status !== "pending", relaying);
          controller.abort();
          await relaying;
          const done = store.job(job.id)!;
          expect(done.status).to.equal("confirmed");
          // The job names the attempt that was mined (a later replacement may have come too late).
          expect(store.attempts(job.id).map((a) => a.txHash)).to.include(done.txHash);
          expect((await provider.getTransactionReceipt(done.txHash!))!.status).to.equal(1);
          expect(await registrations(runId)).to.equal(1);

          // With the cap at the first offer, a stuck transaction is rebroadcast but never replaced. (Published
          // only now, so that the first relayer cannot have sent it already at other fees.)
          const capped = await publishFresh();
          const cappedJob = store.jobByKey(`register:${capped}`)!;
          const fees = await provider.getFeeData();
          const controller2 = new AbortController();
          const relaying2 = runRelayer({ store, wallet: relayer, provider, registry: deployment.contracts.ProofRegistry.address, log: silent, sender: { pollMs: 50, bumpAfterMs: 100, maxFeePerGas: fees.maxFeePerGas! }, signal: controller2.signal, idleMs: 50 });
          await until(() => store.attempts(cappedJob.id).length >= 1, relaying2);
          await sleep(600);
          expect(store.attempts(cappedJob.id)).to.have.length(1);
          await chain.send("evm_mine", []);
          await until(() => store.job(cappedJob.id)!.status !== "pending", relaying2);
          controller2.abort();
          await relaying2;
          expect(store.job(cappedJob.id)!.status).to.equal("confirmed");
          expect(await registrations(capped)).to.equal(1);
        } finally {
          await chain.send("evm_setAutomine", [true]);
        }
      });

      it("ends a job that can never succeed in a failed state with the reason", async () => {
        const runId = await publishFresh();
        // The publisher cancels its nonce: the signature no longer matches.
        const job = store.jobByKey(`register:${runId}`)!;
        const publisher = store.getRun(runId)!.publisher;
        await chain.setBalance(publisher, 10n ** 18n);
        const signer = await chain.impersonate(publisher);
        await (await registry().connect(signer).cancelNonce()).wait();
        const settled = await runRelayer({ store, wallet: relayer, provider, registry: deployment.contracts.ProofRegistry.address, log: silent, once: true });
        const failed = settled.find((j) => j.id === job.id)!;
        expect(failed.status).to.equal("failed");
        expect(failed.reason).to.match(/InvalidSignature/);
        expect(await registrations(runId)).to.equal(0);
      });
    });
});
