/**
 * What the chain commands share: where the chain is (flags, environment, deployment file), the
 * actors' keys (environment only), a shutdown signal for the daemons, the fastest MSM engine, and the
 * sender's flags and report.
 */
import { existsSync } from "node:fs";
import { Wallet, getAddress, isAddress } from "ethers";
import * as native from "../../native";
import { type MsmEngine, nobleEngine } from "../../core/protocol/group";
import { nativeEngine } from "../../prover/native-engine";
import { daemonProvider } from "../../relayer/chain";
import { readDeployment } from "../../relayer/deployment";
import type { SenderOptions } from "../../relayer/sender";
import type { Job } from "../../relayer/store";
import { EXIT, die } from "../exit";

/** The flags every chain command takes (withChainFlags in cli/chain-commands.ts). */
export interface ChainFlags {
  rpc?: string;
  deployment?: string;
  registry?: string;
  fromBlock?: number;
  data?: string;
  json?: boolean;
}

/** The flags of a command that sends transactions (senderFlags in cli/chain-commands.ts). */
export interface SenderFlags {
  confirmations: number;
  bumpAfter: number;
  maxFeeGwei: number;
  once?: boolean;
}

export interface ChainSettings {
  rpc: string;
  registry: string;
  chainId: bigint;
  fromBlock: number;
}

/** The deployment file read when neither --registry/ZKDL_REGISTRY nor --deployment/ZKDL_DEPLOYMENT is given. */
export const DEFAULT_DEPLOYMENT = "deployments/localhost.json";

/**
 * Where the chain is, from the flags, checked against the node (it answers, on the chain the deployment
 * file names, with a contract at the registry address); dies with a one-line reason when the chain is
 * not usable. With `optional`, returns null when no chain is configured at all (no --registry, no
 * --deployment, no file at DEFAULT_DEPLOYMENT); a chain that is configured but unusable still dies.
 */
export async function chainSettings(o: ChainFlags): Promise<ChainSettings>;
export async function chainSettings(o: ChainFlags, optional: true): Promise<ChainSettings | null>;
export async function chainSettings(o: ChainFlags, optional = false): Promise<ChainSettings | null> {
  const rpc = o.rpc!;
  let registry: string;
  let expectedChainId: bigint | undefined;
  let fromBlock: number;
  let source: string;
  if (o.registry) {
    if (!isAddress(o.registry)) die(`--registry ${o.registry} is not an address`);
    registry = getAddress(o.registry);
    fromBlock = o.fromBlock ?? 0;
    source = `--registry ${registry}`;
  } else {
    const file = o.deployment ?? DEFAULT_DEPLOYMENT;
    if (!existsSync(file)) {
      if (optional && o.deployment === undefined) return null;
      die(`no deployment file ${file}: deploy first (npm run deploy) or pass --registry / ZKDL_REGISTRY`);
    }
    let d;
    try {
      d = readDeployment(file);
    } catch (e) {
      die((e as Error).message);
    }
    registry = getAddress(d.contracts.ProofRegistry.address);
    expectedChainId = BigInt(d.chainId);
    fromBlock = o.fromBlock ?? d.contracts.ProofRegistry.blockNumber;
    source = `the deployment file ${file}`;
  }
  const provider = daemonProvider(rpc, 0n);
  let chainId: bigint;
  let code: string;
  try {
    chainId = BigInt(await provider.send("eth_chainId", []));
    code = (await provider.send("eth_getCode", [registry, "latest"])) as string;
  } catch (e) {
    die(`cannot reach the RPC at ${rpc}: ${(e as Error).message}`);
  } finally {
    provider.destroy();
  }
  if (expectedChainId !== undefined && chainId !== expectedChainId) die(`the RPC at ${rpc} is chain ${chainId}, but ${source} is for chain ${expectedChainId}`);
  if (code === "0x") die(`no contract at the registry ${registry} (${source}) on the chain at ${rpc}`);
  return { rpc, registry, chainId, fromBlock };
}

/** The wallet of a private key in the environment variable `name`; dies with a reason if it is unset or not a key. */
export function keyFromEnv(name: string, role: string): Wallet {
  const key = process.env[name];
  if (!key) die(`set ${name} to the ${role}'s private key (0x + 64 hex digits)`);
  try {
    return new Wallet(key);
  } catch {
    die(`${name} is not a private key (0x + 64 hex digits)`);
  }
}

/** An AbortSignal that fires on SIGINT/SIGTERM, so daemons finish their step and close the store. */
export function shutdownSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

/** The native MSM engine where the addon loads, else @noble/curves. */
export function fastEngine(): { engine: MsmEngine; native: boolean } {
  try {
    native.backend();
    return { engine: nativeEngine, native: true };
  } catch {
    return { engine: nobleEngine, native: false };
  }
}

export const senderOptions = (o: SenderFlags): Partial<SenderOptions> => ({
  confirmations: o.confirmations,
  bumpAfterMs: o.bumpAfter * 1000,
  maxFeePerGas: BigInt(o.maxFeeGwei) * 10n ** 9n,
});

/**
 * What a relay or attest run handled: JSON on stdout with --json, and one line on stderr for each job
 * that failed or, with --once, was left pending because the node refused it (no funds): exit code 1.
 */
export function reportSettled(settled: Job[], o: { json?: boolean; once?: boolean }): void {
  if (o.json) process.stdout.write(JSON.stringify(settled.map((j) => ({ key: j.key, status: j.status, reason: j.reason, refusal: j.refusal, txHash: j.txHash }))) + "\n");
  for (const j of settled) {
    if (j.status === "failed") process.stderr.write(`zkdl: ${j.key} failed: ${j.reason}\n`);
    else if (o.once && j.status === "pending" && j.refusal) process.stderr.write(`zkdl: ${j.key} not sent: ${j.refusal}\n`);
    else continue;
    process.exitCode = EXIT.failed;
  }
}
