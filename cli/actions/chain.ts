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

/** Where the chain is, from the flags; dies with a one-line reason (or, if `optional`, returns the reason). */
export async function chainSettings(o: ChainFlags): Promise<ChainSettings>;
export async function chainSettings(o: ChainFlags, optional: true): Promise<ChainSettings | string>;
export async function chainSettings(o: ChainFlags, optional = false): Promise<ChainSettings | string> {
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
