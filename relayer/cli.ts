/**
 * The `zkdl` program: the run commands (prover/cli/zkdl.ts) plus the chain side: publish, relay,
 * attest, serve, outbox. Settings come from flags or the environment:
 *
 *   ZKDL_RPC_URL        JSON-RPC endpoint (default http://127.0.0.1:8545)
 *   ZKDL_DEPLOYMENT     deployment file (default deployments/localhost.json), or
 *   ZKDL_REGISTRY       a ProofRegistry address (then --from-block says where attestors start)
 *   ZKDL_DATA           data folder holding the store (default ./zkdl-data)
 *   ZKDL_PUBLISHER_KEY, ZKDL_RELAYER_KEY, ZKDL_ATTESTOR_KEY   private keys (environment only, never flags)
 *   ZKDL_LOG_LEVEL      daemon log level (default info; logs are JSON lines on stderr)
 */
import { type Command, Option } from "commander";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Wallet, getAddress, isAddress } from "ethers";
import * as native from "../native";
import { type MsmEngine, nobleEngine } from "../prover/protocol/group";
import { nativeEngine } from "../prover/protocol/native-engine";
import { die, guard, int, program } from "../prover/cli/zkdl";
import { ProofRegistry__factory } from "../typechain-types";
import { createApi } from "./api";
import { runAttestor } from "./attestor";
import { daemonLogger, daemonProvider } from "./chain";
import { readDeployment } from "./deployment";
import { publishRun, runRelayer } from "./relay";
import { RunCatalog } from "./runs";
import type { SenderOptions } from "./sender";
import { type JobStatus, STORE_FILE, SqliteStore } from "./store";

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
        if (o.json) process.stdout.write(JSON.stringify(settled.map((j) => ({ key: j.key, status: j.status, reason: j.reason, txHash: j.txHash }))) + "\n");
        if (settled.some((j) => j.status === "failed")) process.exitCode = 1;
      } finally {
        store.close();
        provider.destroy();
      }
    }),
  );

senderFlags(withChainFlags(program.command("attest").description("the attestor: follow registrations, verify each run's bundle, attest on-chain from ZKDL_ATTESTOR_KEY (VERIFIER_ROLE)")))
  .option("--from-block <n>", "first block to scan when no cursor is stored (default: the registry's deployment block)", int("from-block", 0, 2 ** 48))
  .option("--poll <ms>", "how often to look for new registrations", int("poll", 50, 3_600_000), 1000)
  .option("--json", "print the settled attestations as JSON (with --once)")
  .action(
    guard(async (o: ChainFlags & { confirmations: number; bumpAfter: number; maxFeeGwei: number; once?: boolean; poll: number }) => {
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
          engine: fast.engine,
          nativeGenerators: fast.native,
          signal: shutdownSignal(),
        });
        if (o.json) process.stdout.write(JSON.stringify(settled.map((j) => ({ key: j.key, status: j.status, reason: j.reason, txHash: j.txHash }))) + "\n");
        if (settled.some((j) => j.status === "failed")) process.exitCode = 1;
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

withChainFlags(program.command("outbox").description("list the outbox: every registration and attestation job with its state"))
  .option("--status <status>", "only pending, confirmed or failed jobs")
  .option("--json", "print as JSON")
  .action(
    guard((o: ChainFlags & { status?: string }) => {
      if (o.status && !["pending", "confirmed", "failed"].includes(o.status)) die("--status is pending, confirmed or failed");
      const store = openStore(o.data!);
      try {
        const jobs = store.jobs({ status: o.status as JobStatus | undefined }).map((j) => ({ ...j, attempts: store.attempts(j.id).map((a) => ({ nonce: a.nonce, txHash: a.txHash, status: a.status })) }));
        if (o.json) process.stdout.write(JSON.stringify(jobs, null, 2) + "\n");
        else for (const j of jobs) process.stdout.write(`${j.id}\t${j.status}\t${j.key}\t${j.attempts.length} attempt(s)${j.reason ? `\t${j.reason}` : ""}\n`);
      } finally {
        store.close();
      }
    }),
  );

program.parseAsync(process.argv).catch((e: unknown) => die((e as Error).stack ?? String(e), 2));
