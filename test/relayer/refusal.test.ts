/**
 * When the node will not take the sender's transaction, the relayer and the attestor say why instead of
 * looping: an account with no funds (`--once` exits 1 at once with a one-line reason naming the account
 * and what it lacks, the job keeps the reason for `zkdl outbox`, no fee is ever raised, a daemon warns
 * and backs off, and once funded the job completes), and a fee cap under the base fee (the job fails
 * with the reason). Run against each chain client: Hardhat and anvil word these refusals differently.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { type Server, createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Wallet, makeError, parseEther } from "ethers";
import { serveApi } from "../helpers/api";
import { daemonProvider, isUnavailable, sleep } from "../../relayer/chain";
import type { Deployment } from "../../relayer/deployment";
import { type RefusalKind, classifyRefusal } from "../../relayer/refusal";
import { publishRun, runRelayer } from "../../relayer/relay";
import { RunCatalog } from "../../relayer/runs";
import { type Job, SqliteStore } from "../../relayer/store";
import { type JobEffect, TxSender } from "../../relayer/sender";
import { ProofRegistry__factory } from "../../typechain-types";
import { CHAIN_CLIENTS, type TestChain, startChain, runOfFreshPublisher } from "../helpers/chain";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const silent = pino({ level: process.env.ZKDL_TEST_LOG ?? "silent" }, pino.destination(2));
/** A one-shot run must end well inside the 60 s after which a stuck transaction would be replaced. */
const PROMPTLY_MS = 30_000;

/** Waits for `cond`, failing the test (rather than hanging it) after `ms`. */
async function waitFor(cond: () => boolean, what: string, ms = PROMPTLY_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await sleep(20);
  }
}

describe("relayer: the node's refusals, classified", () => {
  // What the clients answer eth_sendRawTransaction with, as ethers hands it over: Hardhat 2.29 and anvil
  // 1.7 as tried (see the suite below), geth as core/error.go and core/txpool/errors.go word it.
  const answers: [string, RefusalKind, string][] = [
    ["hardhat", "insufficient-funds", "Sender doesn't have enough funds to send tx. The max upfront cost is: 57750000000000 and the sender's balance is: 0."],
    ["anvil", "insufficient-funds", "Insufficient funds for gas * price + value"],
    ["geth", "insufficient-funds", "insufficient funds for gas * price + value: address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 have 0 want 57750000000000"],
    ["hardhat", "fee-below-base-fee", "Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of 765701563"],
    ["anvil", "fee-below-base-fee", "max fee per gas less than block base fee"],
    ["hardhat", "gas-above-limit", "Transaction gas limit is 100000000 and exceeds transaction gas cap of 16777216"],
    ["hardhat", "gas-above-limit", "Transaction gas limit is 70000000 and exceeds block gas limit of 60000000"],
    ["anvil", "gas-above-limit", "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit"],
    ["geth", "gas-above-limit", "exceeds block gas limit"],
    ["hardhat", "gas-below-intrinsic", "Transaction requires at least 21000 gas but got 20000"],
    ["anvil", "gas-below-intrinsic", "intrinsic gas too low"],
    ["hardhat", "wrong-chain", "Trying to send a raw transaction with an invalid chainId. The expected chainId is 31337"],
    ["anvil", "wrong-chain", "invalid chain id for signer"],
    ["geth", "invalid-sender", "invalid sender"],
    ["hardhat", "known", "Known transaction: 0x739e9c249311c6bae308bee81199c3152b60ae1d6d1ea8092c9ee494fd3dffb7"],
    ["anvil", "known", "transaction already imported"],
    ["geth", "known", "already known"],
    ["hardhat", "nonce-used", "Nonce too low. Expected nonce to be 1 but got 0. Note that transactions can't be queued when automining."],
    ["anvil", "nonce-used", "nonce too low"],
    ["hardhat", "nonce-gap", "Nonce too high. Expected nonce to be 0 but got 5. Note that transactions can't be queued when automining."],
    ["hardhat", "replacement-underpriced", "Replacement transaction underpriced. A gasPrice/maxFeePerGas of at least 3025000000 is necessary to replace the existing transaction with nonce 1."],
    ["anvil", "replacement-underpriced", "replacement transaction underpriced"],
    ["geth", "unknown", "txpool is full"],
  ];

  it("names each client's words for the same refusal alike, and the class decides what the sender does", () => {
    for (const [client, kind, message] of answers) {
      // ethers wraps what it does not recognise as UNKNOWN_ERROR (error), and what it does in info.error.
      const wrapped = makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { code: -32000, message } });
      const refusal = classifyRefusal(wrapped);
      expect([refusal.kind, refusal.nodeMessage], `${client}: ${message}`).to.deep.equal([kind, message]);
    }
    const viaEthers = makeError("insufficient funds for intrinsic transaction cost", "INSUFFICIENT_FUNDS", { transaction: {}, info: { error: { code: -32003, message: "Insufficient funds for gas * price + value" } } });
    expect(classifyRefusal(viaEthers)).to.include({ kind: "insufficient-funds", class: "wait", nodeMessage: "Insufficient funds for gas * price + value" });
    expect(classifyRefusal(makeError("x", "NONCE_EXPIRED", { transaction: {} }))).to.include({ kind: "nonce-used", class: "transient" });
    expect(classifyRefusal(makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { message: "max fee per gas less than block base fee" } }))).to.include({ class: "terminal" });
    expect(classifyRefusal(makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { message: "txpool is full" } }))).to.include({ class: "wait" });
    // A node message on several lines is kept on one.
    expect(classifyRefusal(makeError("x", "UNKNOWN_ERROR", { error: { message: "insufficient funds\n  for gas" } })).nodeMessage).to.equal("insufficient funds for gas");
  });
});

/**
 * A JSON-RPC node that refuses every broadcast with `message` and answers the rest as an idle chain
 * would (no receipts, nonce 0, fixed fees): what a lagging or lying node looks like to the sender.
 */
async function lyingNode(message: string): Promise<{ url: string; broadcasts: () => number; close(): Promise<void> }> {
  let broadcasts = 0;
  const baseFee = "0x" + (2n * 10n ** 9n).toString(16);
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const q = JSON.parse(body) as { id: number; method: string };
      const answer = (result: unknown) => res.end(JSON.stringify({ jsonrpc: "2.0", id: q.id, result }));
      const results: Record<string, unknown> = {
        eth_chainId: "0x7a69",
        net_version: "31337",
        eth_blockNumber: "0x10",
        eth_getTransactionReceipt: null,
        eth_getTransactionCount: "0x0",
        eth_estimateGas: "0x5208",
        eth_gasPrice: baseFee,
        eth_maxPriorityFeePerGas: "0x3b9aca00",
        eth_getBalance: "0xde0b6b3a7640000",
        eth_getBlockByNumber: { number: "0x10", hash: "0x" + "ab".repeat(32), parentHash: "0x" + "cd".repeat(32), timestamp: "0x1", nonce: "0x0000000000000000", difficulty: "0x0", gasLimit: "0x1c9c380", gasUsed: "0x0", miner: "0x" + "00".repeat(20), extraData: "0x", baseFeePerGas: baseFee, transactions: [] },
      };
      if (q.method === "eth_sendRawTransaction") {
        broadcasts++;
        return res.end(JSON.stringify({ jsonrpc: "2.0", id: q.id, error: { code: -32000, message } }));
      }
      if (q.method in results) return answer(results[q.method]);
      res.end(JSON.stringify({ jsonrpc: "2.0", id: q.id, error: { code: -32601, message: `no ${q.method}` } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, broadcasts: () => broadcasts, close: () => new Promise((r) => server.close(() => r())) };
}

describe("relayer: a node that keeps refusing (lagging or lying) cannot make a one-shot sender loop or crash", function () {
  this.timeout(60_000);
  const nothingOnChain: Record<Job["kind"], JobEffect> = { register: { alreadyDone: async () => null, meansDone: () => false }, attest: { alreadyDone: async () => null, meansDone: () => false } };
  for (const [message, reason] of [
    ["nonce too low", /^the node refused it 20 times in a row: nonce too low$/],
    ["replacement transaction underpriced", /^the node refused it 20 times in a row: replacement transaction underpriced$/],
    // Refused at the fees the node itself quotes: signing again gives the very same transaction.
    ["max fee per gas less than block base fee", /^the node refused this transaction and quotes the same fees again/],
    // A refusal that mentions 503 is not the node being unavailable (no RPC retry loop for it).
    ["Nonce too high. Expected nonce to be 0 but got 503.", /^the node refused it 20 times in a row: Nonce too high/],
  ] as const) {
    it(`"${message}" forever: drain returns with the job held and the reason recorded`, async () => {
      const node = await lyingNode(message);
      const store = new SqliteStore(":memory:");
      try {
        const provider = daemonProvider(node.url, 31337n);
        const wallet = new Wallet(Wallet.createRandom().privateKey, provider);
        const job = store.enqueue({ kind: "register", key: "register:0x01", runId: "0x" + "01".repeat(32), sender: wallet.address, to: "0x" + "22".repeat(20), data: "0x" });
        const sender = new TxSender(store, wallet, provider, nothingOnChain, silent, { waitOutRefusals: false, pollMs: 20, backoff: { baseMs: 20, maxMs: 20 } });
        const started = Date.now();
        const settled = await sender.drain();
        expect(Date.now() - started, "returned promptly").to.be.below(20_000);
        expect(settled.map((j) => j.status)).to.deep.equal(["pending"]);
        expect(store.job(job.id)!.refusal).to.match(reason);
        expect(store.attempts(job.id).length, "attempts recorded").to.be.at.most(2);
        provider.destroy();
      } finally {
        store.close();
        await node.close();
      }
    });
  }

  it("tells an unavailable node (HTTP 502/503/504) from a refusal that mentions those numbers", () => {
    expect(isUnavailable(new Error("server response 503 Service Unavailable"))).to.equal(true);
    expect(isUnavailable(new Error("502 Bad Gateway"))).to.equal(true);
    expect(isUnavailable(new Error("Nonce too high. Expected nonce to be 0 but got 503."))).to.equal(false);
    expect(isUnavailable(new Error("insufficient funds: balance 504, cost 21000"))).to.equal(false);
  });
});

describe("relayer: refusals (no funds, fee cap under the base fee) are named, never fee-bumped", function () {
  this.timeout(180_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-refusal-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const client of CHAIN_CLIENTS) {
    describe(`on ${client}`, () => {
      const data = join(root, client);
      let chain: TestChain;
      let deployment: Deployment;
      let relayer: Wallet, otherAttestor: Wallet;
      /** A verifier whose account holds nothing. */
      const poorAttestor = new Wallet(Wallet.createRandom().privateKey);
      let store: SqliteStore;
      let server: Server;
      let apiUrl: string;

      before(async () => {
        mkdirSync(data, { recursive: true });
        chain = await startChain(client);
        [relayer, otherAttestor] = [await chain.fundedWallet(), await chain.fundedWallet()];
        deployment = await chain.deploy([poorAttestor.address, otherAttestor.address]);
        store = new SqliteStore(join(data, "zkdl.sqlite"));
        ({ server, url: apiUrl } = await serveApi({ catalog: new RunCatalog(store), log: silent }));
      });
      after(async () => {
        server?.close();
        store?.close();
        await chain?.close();
      });

      const registryAddress = () => deployment.contracts.ProofRegistry.address;
      const registry = () => ProofRegistry__factory.connect(registryAddress(), chain.provider);
      const registrations = async (runId: string) => (await registry().queryFilter(registry().filters.RunRegistered(runId))).length;

      /** `zkdl <args>` as a user runs it; killed (and so failing the test) if it does not exit promptly. */
      function zkdl(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
        const started = Date.now();
        return new Promise((resolve) => {
          const child = spawn(process.execPath, [ZKDL, ...args], {
            env: { ...process.env, ZKDL_RPC_URL: chain.url, ZKDL_REGISTRY: registryAddress(), ZKDL_DATA: data, ZKDL_LOG_LEVEL: "warn", ...env },
            stdio: ["ignore", "pipe", "pipe"],
          });
          const timer = setTimeout(() => child.kill("SIGKILL"), PROMPTLY_MS);
          let [stdout, stderr] = ["", ""];
          child.stdout.on("data", (d) => (stdout += d));
          child.stderr.on("data", (d) => (stderr += d));
          child.on("exit", (code) => {
            clearTimeout(timer);
            resolve({ code, ms: Date.now() - started, stdout, stderr });
          });
        });
      }

      /** zkdl's own lines on stderr (the daemon's JSON log lines aside). */
      const reasonLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("zkdl: "));

      /** A new run id every time: a run proven for a fresh publisher, published by it. */
      async function publishFresh(relayerAddress: string): Promise<string> {
        const { dir, publisher } = runOfFreshPublisher(root);
        return (await publishRun({ store, dir, publisher: publisher.connect(chain.provider), registry: registryAddress(), relayer: relayerAddress, apiUrl })).runId;
      }

      it("a relayer with no funds: `zkdl relay --once` exits 1 at once naming the account and what it lacks; funded, the job completes", async () => {
        const poor = new Wallet(Wallet.createRandom().privateKey);
        const runId = await publishFresh(poor.address);
        const job = store.jobByKey(`register:${runId}`)!;
        const relay = () => zkdl(["relay", "--once", "--bump-after", "1"], { ZKDL_RELAYER_KEY: poor.privateKey });

        const first = await relay();
        expect(first.code, first.stderr).to.equal(1);
        expect(first.ms).to.be.below(PROMPTLY_MS);
        const lines = reasonLines(first.stderr);
        expect(lines, first.stderr).to.have.length(1);
        expect(lines[0]).to.match(new RegExp(`^zkdl: register:${runId} not sent: insufficient funds: ${poor.address} holds 0\\.0 ETH and needs [0-9.]+ ETH \\(gas limit \\d+ × max fee [0-9.]+ gwei\\)`));
        const held = store.job(job.id)!;
        expect(held.status).to.equal("pending");
        expect(held.refusal).to.match(new RegExp(`^insufficient funds: ${poor.address} holds 0\\.0 ETH`));
        // The daemon's log names it at warn level (not debug).
        expect(first.stderr).to.match(/"level":40[^\n]*insufficient funds/);

        // `zkdl outbox` shows why the job is not getting on chain.
        const outbox = await zkdl(["outbox"]);
        expect(outbox.code, outbox.stderr).to.equal(0);
        expect(outbox.stdout.split("\n").find((l) => l.includes(`register:${runId}`))).to.match(/\tpending\t.*\tnot sent: insufficient funds: /);
        const asJson = JSON.parse((await zkdl(["outbox", "--json"])).stdout) as { key: string; refusal: string | null }[];
        expect(asJson.find((j) => j.key === `register:${runId}`)!.refusal).to.equal(held.refusal);

        // Past the bump interval and run again: still refused, and never a fee bump for it (the one
        // transaction it signed is offered again as it is).
        await sleep(1100);
        const second = await relay();
        expect(second.code, second.stderr).to.equal(1);
        const attempts = store.attempts(job.id);
        expect(attempts.map((a) => a.status)).to.deep.equal(["signed"]);
        expect(await chain.provider.getTransactionCount(poor.address)).to.equal(0);

        // Funds arrive: the same command now completes the job.
        await chain.setBalance(poor.address, parseEther("1"));
        const funded = await relay();
        expect(funded.code, funded.stderr).to.equal(0);
        expect(funded.ms).to.be.below(PROMPTLY_MS);
        const done = store.job(job.id)!;
        expect(done).to.include({ status: "confirmed", refusal: null });
        expect(await registrations(runId)).to.equal(1);
        expect(store.attempts(job.id)).to.have.length(1);
      });

      it("an attestor with no funds: `zkdl attest --once` exits 1 at once with the reason; funded, it attests", async () => {
        const runId = await publishFresh(relayer.address);
        const relayed = await runRelayer({ store, wallet: relayer, provider: chain.provider, registry: registryAddress(), log: silent, once: true, sender: { pollMs: 50 } });
        expect(relayed.map((j) => j.status)).to.deep.equal(["confirmed"]);
        const attest = () => zkdl(["attest", "--once", "--from-block", String(deployment.contracts.ProofRegistry.blockNumber), "--bump-after", "1"], { ZKDL_ATTESTOR_KEY: poorAttestor.privateKey });
        const jobs = () => store.jobs({ kind: "attest", sender: poorAttestor.address });

        const first = await attest();
        expect(first.code, first.stderr).to.equal(1);
        expect(first.ms).to.be.below(PROMPTLY_MS);
        // Every registered run is judged; the first attestation is refused, and the rest wait behind it.
        expect(store.attestation(runId, poorAttestor.address)).to.include({ state: "decided", valid: true });
        const [held, ...behind] = jobs();
        expect(held.refusal).to.match(new RegExp(`^insufficient funds: ${poorAttestor.address} holds 0\\.0 ETH and needs [0-9.]+ ETH`));
        expect(reasonLines(first.stderr), first.stderr).to.deep.equal([`zkdl: ${held.key} not sent: ${held.refusal}`]);
        expect(store.attempts(held.id).map((a) => a.status)).to.deep.equal(["signed"]);
        expect(behind.every((j) => j.status === "pending" && j.refusal === null && store.attempts(j.id).length === 0)).to.equal(true);

        await chain.setBalance(poorAttestor.address, parseEther("1"));
        const funded = await attest();
        expect(funded.code, funded.stderr).to.equal(0);
        expect(jobs().every((j) => j.status === "confirmed" && j.refusal === null)).to.equal(true);
        expect((await registry().attestationOf(runId, poorAttestor.address)).verdict).to.equal(1n);
        expect(await chain.provider.getTransactionCount(poorAttestor.address)).to.equal(jobs().length);
      });

      it("a daemon with no funds warns and backs off without raising fees, and sends once funded", async () => {
        const poor = new Wallet(Wallet.createRandom().privateKey);
        const runId = await publishFresh(poor.address);
        const job = store.jobByKey(`register:${runId}`)!;
        const logs: { level: number; msg: string; retryInMs?: number }[] = [];
        const log = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
        const controller = new AbortController();
        const relaying = runRelayer({
          store,
          wallet: poor,
          provider: chain.provider,
          registry: registryAddress(),
          log,
          idleMs: 50,
          signal: controller.signal,
          sender: { pollMs: 50, bumpAfterMs: 100, refusalBackoff: { baseMs: 50, maxMs: 200 } },
        });
        try {
          await waitFor(() => logs.filter((l) => l.retryInMs !== undefined).length >= 5, "five warnings with a retry delay");
          const retries = logs.filter((l) => l.retryInMs !== undefined);
          expect(retries.every((l) => l.level === 40 && /^not sent, retrying later: insufficient funds: /.test(l.msg))).to.equal(true);
          expect(retries.map((l) => l.retryInMs)).to.deep.equal([50, 100, 200, 200, 200]);
          expect(logs.some((l) => /replacing/.test(l.msg))).to.equal(false);
          expect(store.attempts(job.id)).to.have.length(1);
          await chain.setBalance(poor.address, parseEther("1"));
          await waitFor(() => store.job(job.id)!.status !== "pending", "settled job once funded");
        } finally {
          controller.abort();
          await relaying;
        }
        expect(store.job(job.id)).to.include({ status: "confirmed", refusal: null });
        expect(await registrations(runId)).to.equal(1);
      });

      it("a fee cap under the base fee fails the job with the reason, sending nothing", async () => {
        const runId = await publishFresh(relayer.address);
        const job = store.jobByKey(`register:${runId}`)!;
        const baseFee = (await chain.provider.getBlock("latest"))!.baseFeePerGas!;
        expect(baseFee > 1n).to.equal(true);
        const nonce = await chain.provider.getTransactionCount(relayer.address);
        const started = Date.now();
        const settled = await runRelayer({ store, wallet: relayer, provider: chain.provider, registry: registryAddress(), log: silent, once: true, sender: { pollMs: 50, maxFeePerGas: 1n }, signal: AbortSignal.timeout(PROMPTLY_MS) });
        expect(Date.now() - started).to.be.below(PROMPTLY_MS);
        const failed = settled.find((j) => j.id === job.id)!;
        expect(failed.status).to.equal("failed");
        expect(failed.reason).to.match(/^fee cap below the base fee: the most this sender offers, 0\.000000001 gwei per gas, is under the base fee [0-9.]+ gwei: raise the fee cap \(--max-fee-gwei\) \(node: .+\)$/);
        expect(store.attempts(job.id).map((a) => a.status)).to.deep.equal(["refused"]);
        expect(await chain.provider.getTransactionCount(relayer.address)).to.equal(nonce);
        expect(await registrations(runId)).to.equal(0);
      });

      if (client === "hardhat")
        it("a pooled transaction at the fee cap under the base fee is named as stuck; with a higher cap it is signed anew and sent", async () => {
          // Hardhat (like geth) pools such a transaction while it is not automining; anvil refuses it (above).
          const runId = await publishFresh(relayer.address);
          const job = store.jobByKey(`register:${runId}`)!;
          await chain.send("evm_setAutomine", [false]);
          try {
            const settled = await runRelayer({ store, wallet: relayer, provider: chain.provider, registry: registryAddress(), log: silent, once: true, sender: { pollMs: 50, bumpAfterMs: 100, maxFeePerGas: 1n }, signal: AbortSignal.timeout(PROMPTLY_MS) });
            const held = settled.find((j) => j.id === job.id)!;
            expect(held.status).to.equal("pending");
            expect(held.refusal).to.match(/^stuck: transaction 0x[0-9a-f]{64} offers at most 0\.000000001 gwei per gas \(the fee cap\) and the base fee is [0-9.]+ gwei/);
            const [pooled] = store.attempts(job.id);
            expect(pooled.status).to.equal("broadcast");
            await chain.send("hardhat_dropTransaction", [pooled.txHash]);
          } finally {
            await chain.send("evm_setAutomine", [true]);
          }
          // At the default cap the old offer is refused as under the base fee, and a new one goes out.
          const settled = await runRelayer({ store, wallet: relayer, provider: chain.provider, registry: registryAddress(), log: silent, once: true, sender: { pollMs: 50 }, signal: AbortSignal.timeout(PROMPTLY_MS) });
          expect(settled.find((j) => j.id === job.id)).to.include({ status: "confirmed", refusal: null });
          expect(store.attempts(job.id).map((a) => a.status)).to.deep.equal(["refused", "mined"]);
          expect(await registrations(runId)).to.equal(1);
        });
    });
  }
});
