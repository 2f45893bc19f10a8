/**
 * The `zkdl` chain commands: deploy, publish, relay, attest, serve, outbox, check, and demo (the whole
 * story). This file is the command table only — names, flags, help — and loads commander and the
 * attestor's default limits (relayer/limits.ts, no imports) and nothing else; each action requires its
 * implementation (cli/actions/*, cli/demo.ts) when it runs. Settings come from flags or the environment:
 *
 *   ZKDL_RPC_URL        JSON-RPC endpoint (default http://127.0.0.1:8545)
 *   ZKDL_DEPLOYMENT     deployment file (default deployments/localhost.json), or
 *   ZKDL_REGISTRY       a ProofRegistry address (then --from-block says where attestors start)
 *   ZKDL_DATA           data folder holding the store (default ./zkdl-data)
 *   ZKDL_API_URL        the API (publish: where bundles will be served; check: where to ask)
 *   ZKDL_DEPLOYER_KEY, ZKDL_PUBLISHER_KEY, ZKDL_RELAYER_KEY, ZKDL_ATTESTOR_KEY   private keys (environment only, never flags)
 *   ZKDL_LOG_LEVEL      daemon log level (default info; logs are JSON lines on stderr)
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { type Command, Option } from "commander";
import type { ChainFlags, SenderFlags } from "./actions/chain";
import type { CheckFlags } from "./actions/check";
import type { AttestFlags } from "./actions/daemons";
import type { DeployFlags } from "./actions/deploy";
import type { PublishFlags } from "./actions/publish";
import type { ServeFlags } from "./actions/serve";
import type { DemoFlags } from "./demo";
import { guard } from "./exit";
import { int, windowLength } from "./flags";
import { DEFAULT_FETCH_RETRY, DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES } from "../relayer/limits";

const env = process.env;

function withChainFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option("--rpc <url>", "JSON-RPC endpoint").env("ZKDL_RPC_URL").default("http://127.0.0.1:8545"))
    .addOption(new Option("--deployment <file>", "deployment file written by `zkdl deploy`/`npm run deploy`").env("ZKDL_DEPLOYMENT"))
    .addOption(new Option("--registry <address>", "ProofRegistry address (instead of a deployment file)").env("ZKDL_REGISTRY"))
    .addOption(new Option("--data <dir>", "data folder holding the store").env("ZKDL_DATA").default("zkdl-data"));
}

const senderFlags = (cmd: Command) =>
  cmd
    .option("--confirmations <n>", "blocks on top of a transaction before it counts", int("confirmations", 1, 1000), 1)
    .option("--bump-after <seconds>", "replace a transaction still pending after this long with higher fees", int("bump-after", 1, 86_400), 60)
    .option("--max-fee-gwei <gwei>", "never offer more than this per gas", int("max-fee-gwei", 1, 1_000_000), 500)
    .option("--once", "process what is there, then exit (default: keep running)");

export function addChainCommands(program: Command): void {
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
    .action(guard((dir: string, o: PublishFlags) => (require("./actions/publish") as typeof import("./actions/publish")).publish(dir, o)));

  senderFlags(withChainFlags(program.command("relay").description("the relayer: submit queued registrations from ZKDL_RELAYER_KEY (durable; safe to kill and restart)")))
    .option("--json", "print the settled jobs as JSON (with --once)")
    .action(guard((o: ChainFlags & SenderFlags) => (require("./actions/daemons") as typeof import("./actions/daemons")).relay(o)));

  senderFlags(withChainFlags(program.command("attest").description("the attestor: follow registrations, verify each run's bundle, attest on-chain from ZKDL_ATTESTOR_KEY (VERIFIER_ROLE)")))
    .option("--from-block <n>", "first block to scan when no cursor is stored (default: the registry's deployment block)", int("from-block", 0, 2 ** 48))
    .option("--poll <ms>", "how often to look for new registrations", int("poll", 50, 3_600_000), 1000)
    .option("--max-bundle-bytes <n>", "never download a bundle larger than this (each bundle is also held to the size its manifest implies)", int("max-bundle-bytes", 1024, 2 ** 32 - 1), DEFAULT_MAX_BUNDLE_BYTES)
    .option("--fetch-timeout <seconds>", "deadline for downloading one bundle, body included", int("fetch-timeout", 1, 86_400), DEFAULT_FETCH_TIMEOUT_MS / 1000)
    .option("--fetch-tries <n>", "tries to fetch a bundle (backoff 30 s doubling to 2 h) before the run is skipped as 'cannot judge'", int("fetch-tries", 1, 1000), DEFAULT_FETCH_RETRY.tries)
    .option("--allow-file-uris", "also read file: bundle URIs (local use only: any registration could name a file on this machine)")
    .option("--json", "print the settled attestations as JSON (with --once)")
    .action(guard((o: AttestFlags) => (require("./actions/daemons") as typeof import("./actions/daemons")).attest(o)));

  withChainFlags(program.command("serve").description("the HTTP API: run status, public bundles, membership proofs (OpenAPI at /v1/openapi.json)"))
    .option("--port <n>", "TCP port", int("port", 0, 65535), Number(env.ZKDL_PORT ?? 8080))
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--rate-limit <n>", "requests a minute per client on /v1", int("rate-limit", 1, 1e9), 1200)
    .option("--public-rpc <url>", "JSON-RPC URL the web page and SDK users should check the chain with (default: --rpc)")
    .option("--no-web", "do not serve the web page at /")
    .action(guard((o: ServeFlags) => (require("./actions/serve") as typeof import("./actions/serve")).serve(o)));

  withChainFlags(
    program
      .command("outbox")
      .description("list the outbox: every registration and attestation job with its state and why a pending one is not getting on chain, then the runs an attestor has not attested: skipped (with the reason, e.g. 'cannot judge: …') or waiting for their bundle"),
  )
    .option("--status <status>", "only pending, confirmed or failed jobs, or skipped or waiting runs")
    .option("--json", "print as JSON")
    .action(guard((o: ChainFlags & { status?: string }) => (require("./actions/outbox") as typeof import("./actions/outbox")).outbox(o)));

  withChainFlags(program.command("check").description("is a record in a run's training set? asks the API and checks every proof in the answer (the SDK's checkMembership): a member by its commitment's opening and dataset leaf, a non-member by the gap of the run's fingerprint tree that holds its fingerprint, both on chain when one is configured; \"proven on chain\" only for a certified run"))
    .argument("<runId>", "the run id (0x + 64 hex digits)")
    .option("--api-url <url>", "the API serving the run", env.ZKDL_API_URL ?? "http://127.0.0.1:8080")
    .option("--image <file>", "a grayscale (or colour) PNG of the record, at the run's size (28×28 for MNIST)")
    .option("--pixels <file>", "the record's 8-bit pixels: a JSON array, or a raw file of bytes")
    .option("--features <file>", "the record's real features: a JSON array")
    .option("--mnist <set:index>", "a public MNIST digit, e.g. train:7 or test:0")
    .option("--json", "print the result as JSON")
    .action(guard((runId: string, o: CheckFlags) => (require("./actions/check") as typeof import("./actions/check")).check(runId, o)));

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
    .action(guard((o: DeployFlags) => (require("./actions/deploy") as typeof import("./actions/deploy")).deploy(o)));

  program
    .command("demo")
    .description("the whole story on a local chain: deploy, train and prove MNIST, verify, publish, relay, two attestors, membership and non-membership, the gate (what `npm start` runs)")
    .option("--host <host>", "address for the chain and the API", "127.0.0.1")
    .option("--port <n>", "JSON-RPC port of the local chain (0: any free port)", int("port", 0, 65535), 8545)
    .option("--api-port <n>", "port of the API and web page (0: any free port)", int("api-port", 0, 65535), Number(env.ZKDL_PORT ?? 8080))
    .option("--steps <n>", "SGD steps to train and prove", int("steps", 1, 10_000), 3)
    .option("--window <T>", "steps proven as one instance (a power of two, 1…1024; the rest in decreasing powers of two)", windowLength, 2)
    .option("--hidden <n>", "hidden width of the 784-n-10 MLP", int("hidden", 1, 4096), 32)
    .option("--records <n>", "MNIST training records", int("records", 16, 8995), 256)
    .option("--out <dir>", "run folder to write (replaced)", "runs/demo")
    .option("--data <dir>", "data folder of the relayer, attestors and API (replaced)", "runs/demo-data")
    .option("--deployment <file>", "deployment file to write", "deployments/localhost.json")
    .option("--keep", "keep the chain, the API and the web page running afterwards (Ctrl-C stops them)")
    .option("--json", "print the summary as JSON on stdout (progress goes to stderr)")
    // The demo brings in the in-process Hardhat network, which no other command needs.
    .action(guard((o: DemoFlags) => (require("./demo") as typeof import("./demo")).demo(o)));
}
