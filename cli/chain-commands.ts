/**
 * The `zkdl` program: the run commands (prover/cli/zkdl.ts) plus the chain side: deploy, publish,
 * relay, attest, serve, outbox, check, and demo (the whole story). Settings come from flags or the
 * environment:
 *
 *   ZKDL_RPC_URL        JSON-RPC endpoint (default http://127.0.0.1:8545)
 *   ZKDL_DEPLOYMENT     deployment file (default deployments/localhost.json), or
 *   ZKDL_REGISTRY       a ProofRegistry address (then --from-block says where attestors start)
 *   ZKDL_DATA           data folder holding the store (default ./zkdl-data)
 *   ZKDL_API_URL        the API (publish: where bundles will be served; check: where to ask)
 *   ZKDL_DEPLOYER_KEY, ZKDL_PUBLISHER_KEY, ZKDL_RELAYER_KEY, ZKDL_ATTESTOR_KEY   private keys (environment only, never flags)
 *   ZKDL_LOG_LEVEL      daemon log level (default info; logs are JSON lines on stderr)
 */
import { type Command, Option } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { PNG } from "pngjs";
import { join, resolve } from "node:path";
import { Wallet, getAddress, isAddress } from "ethers";
import * as native from "../native";
import { type MsmEngine, nobleEngine } from "../core/protocol/group";
import { nativeEngine } from "../prover/native-engine";
import { die, guard, int, program } from "./zkdl";
import { ProofRegistry__factory } from "../typechain-types";
import { createApi } from "../relayer/api";
import { type MembershipRequest } from "../client/membership-request";
import { MembershipCheckError, checkMembership } from "../client/sdk";
import { deployZkdl, writeDeployment } from "../relayer/deployment";
import { DEFAULT_FETCH_RETRY, runAttestor } from "../relayer/attestor";
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES } from "../relayer/fetch-bundle";
import { daemonLogger, daemonProvider } from "../relayer/chain";
import { readDeployment } from "../relayer/deployment";
import { grayPixels } from "../core/data/quantize";
import { BYTES32_HEX } from "../core/crypto/hex";
import { mnistDigit } from "../prover/records";
import { publishRun, runRelayer } from "../relayer/relay";
import { RunCatalog } from "../relayer/runs";
import type { SenderOptions } from "../relayer/sender";
import { type Job, type JobStatus, STORE_FILE, SqliteStore } from "../relayer/store";

interface ChainFlags {
  rpc?: string;
  deployment?: string;
  registry?: string;
  fromBlock?: number;
  data?: string;
  json?: boolean;
}

interface ChainSettings {
  rpc: string;
  registry: string;
  chainId: bigint;
  fromBlock: number;
}

const env = process.env;

function withChainFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option("--rpc <url>", "JSON-RPC endpoint").env("ZKDL_RPC_URL").default("http://127.0.0.1:8545"))
    .addOption(new Option("--deployment <file>", "deployment file written by `zkdl deploy`/`npm run deploy`").env("ZKDL_DEPLOYMENT"))
    .addOption(new Option("--registry <address>", "ProofRegistry address (instead of a deployment file)").env("ZKDL_REGISTRY"))
    .addOption(new Option("--data <dir>", "data folder holding the store").env("ZKDL_DATA").default("zkdl-data"));
}

/** Where the chain is, from the flags; dies with a one-line reason (or, if `optional`, returns the reason). */
async function chainSettings(o: ChainFlags): Promise<ChainSettings>;
async function chainSettings(o: ChainFlags, optional: true): Promise<ChainSettings | string>;
async function chainSettings(o: ChainFlags, optional = false): Promise<ChainSettings | string> {
  const problem = (why: string) => (optional ? why : die(why));
  const rpc = o.rpc!;
  if (o.registry) {
    if (!isAddress(o.registry)) return problem(`--registry ${o.registry} is not an address`);
    const provider = daemonProvider(rpc, 0n);
    try {
      const chainId = BigInt(await provider.send("eth_chainId", []));
      return { rpc, registry: getAddress(o.registry), chainId, fromBlock: o.fromBlock ?? 0 };
    } catch (e) {
      return problem(`cannot reach the RPC at ${rpc}: ${(e as Error).message}`);
    } finally {
      provider.destroy();
    }
  }
  const file = o.deployment ?? "deployments/localhost.json";
  if (!existsSync(file)) return problem(`no deployment file ${file}: deploy first (npm run deploy) or pass --registry / ZKDL_REGISTRY`);
  try {
    const d = readDeployment(file);
    return { rpc, registry: d.contracts.ProofRegistry.address, chainId: BigInt(d.chainId), fromBlock: o.fromBlock ?? d.contracts.ProofRegistry.blockNumber };
  } catch (e) {
    return problem((e as Error).message);
  }
}

function keyFromEnv(name: string, role: string): Wallet {
  const key = env[name];
  if (!key) die(`set ${name} to the ${role}'s private key (0x + 64 hex digits)`);
  try {
    return new Wallet(key);
  } catch {
    die(`${name} is not a private key (0x + 64 hex digits)`);
  }
}

const openStore = (data: string) => new SqliteStore(join(resolve(data), STORE_FILE));

/** An AbortSignal that fires on SIGINT/SIGTERM, so daemons finish their step and close the store. */
function shutdownSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

function fastEngine(): { engine: MsmEngine; native: boolean } {
  try {
    native.backend();
    return { engine: nativeEngine, native: true };
  } catch {
    return { engine: nobleEngine, native: false };
  }
}

const senderFlags = (cmd: Command) =>
  cmd
    .option("--confirmations <n>", "blocks on top of a transaction before it counts", int("confirmations", 1, 1000), 1)
    .option("--bump-after <seconds>", "replace a transaction still pending after this long with higher fees", int("bump-after", 1, 86_400), 60)
    .option("--max-fee-gwei <gwei>", "never offer more than this per gas", int("max-fee-gwei", 1, 1_000_000), 500)
    .option("--once", "process what is there, then exit (default: keep running)");

/**
 * What a relay or attest run handled: JSON on stdout with --json, and one line on stderr for each job
 * that failed or, with --once, was left pending because the node refused it (no funds): exit code 1.
 */
function reportSettled(settled: Job[], o: { json?: boolean; once?: boolean }): void {
  if (o.json) process.stdout.write(JSON.stringify(settled.map((j) => ({ key: j.key, status: j.status, reason: j.reason, refusal: j.refusal, txHash: j.txHash }))) + "\n");
  for (const j of settled) {
    if (j.status === "failed") process.stderr.write(`zkdl: ${j.key} failed: ${j.reason}\n`);
    else if (o.once && j.status === "pending" && j.refusal) process.stderr.write(`zkdl: ${j.key} not sent: ${j.refusal}\n`);
    else continue;
    process.exitCode = 1;
  }
}

const senderOptions = (o: { confirmations: number; bumpAfter: number; maxFeeGwei: number }): Partial<SenderOptions> => ({
  confirmations: o.confirmations,
  bumpAfterMs: o.bumpAfter * 1000,
  maxFeePerGas: BigInt(o.maxFeeGwei) * 10n ** 9n,
});

withChainFlags(
  program
    .command("publish")
    .description("queue a run's on-chain registration: the publisher (ZKDL_PUBLISHER_KEY) signs it, `zkdl relay` submits it and pays the gas")
    .argument("<run>", "run folder"),
)
  .option("--api-url <url>", "public URL of the API that will serve the bundle (the registered bundle URI points there)", env.ZKDL_API_URL ?? "http://127.0.0.1:8080")
  .option("--model <label>", "model label (hashed to the model id) or a 32-byte hex id; default <source>-mlp-<layers>")
  .option("--relayer <address>", "relayer account that will submit it (default: ZKDL_RELAYER_KEY's address)")
  .option("--json", "print the result as JSON")
  .action(
    guard(async (dir: string, o: ChainFlags & { apiUrl: string; model?: string; relayer?: string }) => {
      if (!existsSync(join(dir, "manifest.json"))) die(`${dir}: not a run folder (no manifest.json)`);
      const chain = await chainSettings(o);
      const relayer = o.relayer ?? keyFromEnv("ZKDL_RELAYER_KEY", "relayer").address;
      if (!isAddress(relayer)) die(`--relayer ${relayer} is not an address`);
      const provider = daemonProvider(chain.rpc, chain.chainId);
      const store = openStore(o.data!);
      try {
        const publisher = keyFromEnv("ZKDL_PUBLISHER_KEY", "publisher").connect(provider);
        const p = await publishRun({ store, dir, publisher, registry: chain.registry, relayer, apiUrl: o.apiUrl, model: o.model });
        const out = { runId: p.runId, job: p.job.key, status: p.job.status, queued: p.queued, publisher: publisher.address, relayer: getAddress(relayer) };
        process.stdout.write(o.json ? JSON.stringify(out) + "\n" : `${p.queued ? "queued" : `already ${p.job.status}`}: run ${p.runId} (job ${p.job.id}); run \`zkdl relay\` to submit it\n`);
      } finally {
        store.close();
        provider.destroy();
      }
    }),
  );

senderFlags(withChainFlags(program.command("relay").description("the relayer: submit queued registrations from ZKDL_RELAYER_KEY (durable; safe to kill and restart)")))
  .option("--json", "print the settled jobs as JSON (with --once)")
  .action(
    guard(async (o: ChainFlags & { confirmations: number; bumpAfter: number; maxFeeGwei: number; once?: boolean }) => {
      const chain = await chainSettings(o);
      const wallet = keyFromEnv("ZKDL_RELAYER_KEY", "relayer");
      const provider = daemonProvider(chain.rpc, chain.chainId);
      const store = openStore(o.data!);
      try {
        const settled = await runRelayer({ store, wallet, provider, registry: chain.registry, log: daemonLogger("relay"), sender: senderOptions(o), once: o.once, signal: shutdownSignal() });
        reportSettled(settled, o);
      } finally {
        store.close();
        provider.destroy();
      }
    }),
  );

senderFlags(withChainFlags(program.command("attest").description("the attestor: follow registrations, verify each run's bundle, attest on-chain from ZKDL_ATTESTOR_KEY (VERIFIER_ROLE)")))
  .option("--from-block <n>", "first block to scan when no cursor is stored (default: the registry's deployment block)", int("from-block", 0, 2 ** 48))
  .option("--poll <ms>", "how often to look for new registrations", int("poll", 50, 3_600_000), 1000)
  .option("--max-bundle-bytes <n>", "never download a bundle larger than this (each bundle is also held to the size its manifest implies)", int("max-bundle-bytes", 1024, 2 ** 32 - 1), DEFAULT_MAX_BUNDLE_BYTES)
  .option("--fetch-timeout <seconds>", "deadline for downloading one bundle, body included", int("fetch-timeout", 1, 86_400), DEFAULT_FETCH_TIMEOUT_MS / 1000)
  .option("--fetch-tries <n>", "tries to fetch a bundle (backoff 30 s doubling to 2 h) before the run is skipped as 'cannot judge'", int("fetch-tries", 1, 1000), DEFAULT_FETCH_RETRY.tries)
  .option("--allow-file-uris", "also read file: bundle URIs (local use only: any registration could name a file on this machine)")
  .option("--json", "print the settled attestations as JSON (with --once)")
  .action(
    guard(async (o: ChainFlags & { confirmations: number; bumpAfter: number; maxFeeGwei: number; once?: boolean; poll: number; maxBundleBytes: number; fetchTimeout: number; fetchTries: number; allowFileUris?: boolean }) => {
      const chain = await chainSettings(o);
      const wallet = keyFromEnv("ZKDL_ATTESTOR_KEY", "attestor");
      const provider = daemonProvider(chain.rpc, chain.chainId);
      const store = openStore(o.data!);
      const fast = fastEngine();
      try {
        const settled = await runAttestor({
          store,
          wallet,
          provider,
          registry: chain.registry,
          fromBlock: chain.fromBlock,
          log: daemonLogger("attest"),
          sender: senderOptions(o),
          once: o.once,
          pollMs: o.poll,
          maxBundleBytes: o.maxBundleBytes,
          fetchTimeoutMs: o.fetchTimeout * 1000,
          fetchRetry: { ...DEFAULT_FETCH_RETRY, tries: o.fetchTries },
          allowFileUris: !!o.allowFileUris,
          engine: fast.engine,
          nativeGenerators: fast.native,
          signal: shutdownSignal(),
        });
        reportSettled(settled, o);
      } finally {
        store.close();
        provider.destroy();
      }
    }),
  );

withChainFlags(program.command("serve").description("the HTTP API: run status, public bundles, membership proofs (OpenAPI at /v1/openapi.json)"))
  .option("--port <n>", "TCP port", int("port", 0, 65535), Number(env.ZKDL_PORT ?? 8080))
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--rate-limit <n>", "requests a minute per client on /v1", int("rate-limit", 1, 1e9), 1200)
  .option("--public-rpc <url>", "JSON-RPC URL the web page and SDK users should check the chain with (default: --rpc)")
  .option("--no-web", "do not serve the web page at /")
  .action(
    guard(async (o: ChainFlags & { port: number; host: string; rateLimit: number; publicRpc?: string; web: boolean }) => {
      const log = daemonLogger("api");
      let registry;
      let provider;
      let publicChain;
      const chain = await chainSettings(o, true);
      if (typeof chain === "string") log.warn({ reason: chain }, "no chain: on-chain statuses will be Unknown");
      else {
        provider = daemonProvider(chain.rpc, chain.chainId);
        registry = ProofRegistry__factory.connect(chain.registry, provider);
        publicChain = { rpcUrl: o.publicRpc ?? chain.rpc, chainId: chain.chainId.toString(), registry: chain.registry };
      }
      const store = openStore(o.data!);
      const fast = fastEngine();
      const app = createApi({ catalog: new RunCatalog(store, fast.native ? "native" : "ts"), registry, log, engine: fast.engine, rateLimitPerMinute: o.rateLimit, publicChain, web: o.web });
      const server = app.listen(o.port, o.host);
      await new Promise<void>((res, rej) => server.once("listening", res).once("error", rej)).catch((e: NodeJS.ErrnoException) =>
        die(e.code === "EADDRINUSE" ? `port ${o.port} is in use: pass --port` : e.message),
      );
      const address = server.address() as { port: number };
      log.info({ url: `http://${o.host}:${address.port}` }, "listening");
      process.stdout.write(`serving http://${o.host}:${address.port} (${store.listRuns().length} runs; Ctrl-C to stop)\n`);
      const signal = shutdownSignal();
      await new Promise<void>((res) => signal.addEventListener("abort", () => res(), { once: true }));
      await new Promise<void>((res) => server.close(() => res()));
      store.close();
      provider?.destroy();
    }),
  );

withChainFlags(
  program
    .command("outbox")
    .description("list the outbox: every registration and attestation job with its state and why a pending one is not getting on chain, then the runs an attestor has not attested: skipped (with the reason, e.g. 'cannot judge: …') or waiting for their bundle"),
)
  .option("--status <status>", "only pending, confirmed or failed jobs, or skipped or waiting runs")
  .option("--json", "print as JSON")
  .action(
    guard((o: ChainFlags & { status?: string }) => {
      const jobStates = ["pending", "confirmed", "failed"];
      const runStates = { skipped: "skipped", waiting: "fetching" } as const;
      if (o.status && !jobStates.includes(o.status) && !(o.status in runStates)) die("--status is pending, confirmed, failed, skipped or waiting");
      const store = openStore(o.data!);
      try {
        const jobs = (!o.status || jobStates.includes(o.status) ? store.jobs({ status: o.status as JobStatus | undefined }) : []).map((j) => ({
          ...j,
          attempts: store.attempts(j.id).map((a) => ({ nonce: a.nonce, txHash: a.txHash, status: a.status })),
        }));
        // An attestor's runs with no attest job: skipped, or waiting (not judged yet, or its bundle being retried).
        const unattested = (!o.status || o.status in runStates ? store.attestations({ state: o.status ? runStates[o.status as keyof typeof runStates] : undefined }) : [])
          .filter((a) => a.state !== "decided")
          .map((a) => ({ kind: "attest", key: `attest:${a.runId}:${a.attestor}`, runId: a.runId, sender: a.attestor, status: a.state === "skipped" ? "skipped" : "waiting", reason: a.reason, tries: a.tries, nextTryAt: a.nextTryAt, attempts: [] }));
        if (o.json) process.stdout.write(JSON.stringify([...jobs, ...unattested], null, 2) + "\n");
        else {
          for (const j of jobs) {
            const why = j.reason ?? (j.refusal ? `not sent: ${j.refusal}` : null);
            process.stdout.write(`${j.id}\t${j.status}\t${j.key}\t${j.attempts.length} attempt(s)${why ? `\t${why}` : ""}\n`);
          }
          for (const a of unattested) process.stdout.write(`-\t${a.status}\t${a.key}\t${a.tries} fetch tries${a.reason ? `\t${a.reason}` : ""}\n`);
        }
      } finally {
        store.close();
      }
    }),
  );

withChainFlags(program.command("check").description("is a record in a run's training set? asks the API and checks every proof in the answer (the SDK's checkMembership)"))
  .argument("<runId>", "the run id (0x + 64 hex digits)")
  .option("--api-url <url>", "the API serving the run", env.ZKDL_API_URL ?? "http://127.0.0.1:8080")
  .option("--image <file>", "a grayscale (or colour) PNG of the record, at the run's size (28×28 for MNIST)")
  .option("--pixels <file>", "the record's 8-bit pixels: a JSON array, or a raw file of bytes")
  .option("--features <file>", "the record's real features: a JSON array")
  .option("--mnist <set:index>", "a public MNIST digit, e.g. train:7 or test:0")
  .option("--json", "print the result as JSON")
  .action(
    guard(async (runId: string, o: ChainFlags & { apiUrl: string; image?: string; pixels?: string; features?: string; mnist?: string }) => {
      if (!BYTES32_HEX.test(runId)) die(`${runId} is not a run id (0x + 64 hex digits)`);
      const record = recordFromFlags(o);
      const chain = await chainSettings(o, true);
      if (typeof chain === "string" && !o.json) process.stderr.write(`zkdl: no chain (${chain}); on-chain checks skipped\n`);
      const onChain = typeof chain === "string" ? {} : { rpc: daemonProvider(chain.rpc, chain.chainId), registry: chain.registry };
      try {
        const r = await checkMembership({ api: o.apiUrl, runId, record, ...onChain });
        if (o.json) process.stdout.write(JSON.stringify(r) + "\n");
        else {
          const status = r.status ? ` (the run is ${r.status} on chain)` : "";
          process.stdout.write(r.member ? `member: record #${r.index} of run ${r.runId}${status}\n` : `not a member of run ${r.runId}${status} (the server's word: absence cannot be proven)\n`);
          for (const c of r.checked) process.stdout.write(`  ✓ ${c}\n`);
        }
      } catch (e) {
        if (e instanceof MembershipCheckError) die(`the answer does not check out: ${e.message}`, 1);
        die((e as Error).message, 1);
      } finally {
        (onChain.rpc as { destroy(): void } | undefined)?.destroy();
      }
    }),
  );

/** The one record source the flags name, as a membership request. */
function recordFromFlags(o: { image?: string; pixels?: string; features?: string; mnist?: string }): MembershipRequest {
  const given = [o.image, o.pixels, o.features, o.mnist].filter((v) => v !== undefined);
  if (given.length !== 1) die("give exactly one of --image, --pixels, --features, --mnist");
  const read = (file: string) => {
    if (!existsSync(file)) die(`${file}: no such file`);
    return readFileSync(file);
  };
  const jsonArray = (file: string, bytes: Buffer) => {
    try {
      const v = JSON.parse(bytes.toString("utf8")) as unknown;
      if (Array.isArray(v)) return v as number[];
    } catch {
      /* not JSON */
    }
    die(`${file}: expected a JSON array of numbers`);
  };
  if (o.mnist) {
    const m = /^(train|test):(\d+)$/.exec(o.mnist);
    if (!m) die("--mnist is train:<index> or test:<index>");
    return { pixels: Array.from(mnistDigit(m[1] as "train" | "test", Number(m[2])).pixels) };
  }
  if (o.features) return { features: jsonArray(o.features, read(o.features)) };
  if (o.pixels) {
    const bytes = read(o.pixels);
    return { pixels: /^\s*\[/.test(bytes.subarray(0, 16).toString("utf8")) ? jsonArray(o.pixels, bytes) : Array.from(bytes) };
  }
  let png: PNG;
  try {
    png = PNG.sync.read(read(o.image!));
  } catch (e) {
    die(`${o.image}: not a PNG file (${(e as Error).message})`);
  }
  return { pixels: grayPixels(png.data) };
}

program
  .command("deploy")
  .description("deploy ProofRegistry and CertifiedModelGate from ZKDL_DEPLOYER_KEY and write the deployment file")
  .addOption(new Option("--rpc <url>", "JSON-RPC endpoint").env("ZKDL_RPC_URL").default("http://127.0.0.1:8545"))
  .addOption(new Option("--deployment <file>", "deployment file to write").env("ZKDL_DEPLOYMENT").default("deployments/localhost.json"))
  .option("--quorum <n>", "attestations that decide a run", int("quorum", 1, 65535), 2)
  .option("--verifier <address...>", "accounts granted VERIFIER_ROLE (the attestors)")
  .option("--admin <address>", "holder of the admin role (default: the deployer; then verifiers are granted later by the admin)")
  .option("--name <network>", "network name recorded in the file (default: localhost for a loopback RPC, else chain-<id>)")
  .option("--json", "print the deployment as JSON")
  .action(
    guard(async (o: { rpc: string; deployment: string; quorum: number; verifier?: string[]; admin?: string; name?: string; json?: boolean }) => {
      for (const a of [...(o.verifier ?? []), ...(o.admin ? [o.admin] : [])]) if (!isAddress(a)) die(`${a} is not an address`);
      const probe = daemonProvider(o.rpc, 0n);
      let chainId: bigint;
      try {
        chainId = BigInt(await probe.send("eth_chainId", []));
      } catch (e) {
        die(`cannot reach the RPC at ${o.rpc}: ${(e as Error).message}`);
      } finally {
        probe.destroy();
      }
      const provider = daemonProvider(o.rpc, chainId);
      try {
        const deployer = keyFromEnv("ZKDL_DEPLOYER_KEY", "deployer").connect(provider);
        const loopback = /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(o.rpc);
        const d = await deployZkdl(deployer, { network: o.name ?? (loopback ? "localhost" : `chain-${chainId}`), quorum: o.quorum, verifiers: o.verifier, admin: o.admin });
        writeDeployment(o.deployment, d);
        if (o.json) process.stdout.write(JSON.stringify(d) + "\n");
        else process.stdout.write(`ProofRegistry ${d.contracts.ProofRegistry.address}, CertifiedModelGate ${d.contracts.CertifiedModelGate.address} on chain ${d.chainId}; written to ${o.deployment}\n`);
      } catch (e) {
        die((e as Error).message.split("\n")[0], 1);
      } finally {
        provider.destroy();
      }
    }),
  );

program
  .command("demo")
  .description("the whole story on a local chain: deploy, train and prove MNIST, verify, publish, relay, two attestors, membership, the gate (what `npm start` runs)")
  .option("--host <host>", "address for the chain and the API", "127.0.0.1")
  .option("--port <n>", "JSON-RPC port of the local chain (0: any free port)", int("port", 0, 65535), 8545)
  .option("--api-port <n>", "port of the API and web page (0: any free port)", int("api-port", 0, 65535), Number(env.ZKDL_PORT ?? 8080))
  .option("--steps <n>", "SGD steps to train and prove", int("steps", 1, 10_000), 3)
  .option("--hidden <n>", "hidden width of the 784-n-10 MLP", int("hidden", 1, 4096), 32)
  .option("--records <n>", "MNIST training records", int("records", 16, 8995), 256)
  .option("--out <dir>", "run folder to write (replaced)", "runs/demo")
  .option("--data <dir>", "data folder of the relayer, attestors and API (replaced)", "runs/demo-data")
  .option("--deployment <file>", "deployment file to write", "deployments/localhost.json")
  .option("--keep", "keep the chain, the API and the web page running afterwards (Ctrl-C stops them)")
  .option("--json", "print the summary as JSON on stdout (progress goes to stderr)")
  .action(
    guard(async (o: { host: string; port: number; apiPort: number; steps: number; hidden: number; records: number; out: string; data: string; deployment: string; keep?: boolean; json?: boolean }) => {
      // Loaded here: the demo brings in the in-process Hardhat network, which no other command needs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runDemo, printDemoSummary } = require("./demo") as typeof import("./demo");
      const print = (line: string) => (o.json ? process.stderr : process.stdout).write(line + "\n");
      const summary = await runDemo({ ...o, keep: !!o.keep, print, log: daemonLogger("demo", env.ZKDL_LOG_LEVEL ?? "warn") });
      if (o.json) process.stdout.write(JSON.stringify({ ...summary, stopped: undefined }) + "\n");
      else printDemoSummary(summary, print);
      if (summary.stopped) {
        print(`\nrunning: chain ${summary.rpcUrl}, API and web page ${summary.apiUrl} — Ctrl-C to stop`);
        await summary.stopped;
      }
      process.exit(summary.ok ? 0 : 1);
    }),
  );

program.parseAsync(process.argv).catch((e: unknown) => die((e as Error).stack ?? String(e), 2));
