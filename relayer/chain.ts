/**
 * Talking to an RPC node the way a long-running daemon must: a provider that never guesses the
 * network, every call retried with capped exponential backoff while the node is down, reverts decoded
 * into the registry's custom errors, and named crash points for the crash-safety tests.
 */
import { JsonRpcProvider, Network, isError } from "ethers";
import pino from "pino";
import { ProofRegistry__factory } from "../typechain-types";

/** A provider for a daemon: fixed chain id (no detection loop while the node is down), no batching. */
export function daemonProvider(rpcUrl: string, chainId: bigint | string): JsonRpcProvider {
  const network = Network.from(BigInt(chainId));
  // cacheTimeout −1: ethers otherwise answers an identical request made within 250 ms from the first
  // one's result, so a sender would read a stale nonce, receipt or state right after its own
  // transaction (and sign at a used nonce, or miss its receipt).
  return new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, batchMaxCount: 1, pollingInterval: 250, cacheTimeout: -1 });
}

/** A revert, decoded: the registry's custom error name and arguments when it is one. */
export class Reverted extends Error {
  constructor(readonly errorName: string, readonly args: readonly unknown[], readonly data: string) {
    super(args.length ? `${errorName}(${args.map(String).join(", ")})` : errorName);
    this.name = "Reverted";
  }
}

const registryInterface = ProofRegistry__factory.createInterface();

/** The Reverted for an ethers error that carries revert data, or undefined for anything else. */
export function decodeRevert(err: unknown): Reverted | undefined {
  if (!isError(err, "CALL_EXCEPTION")) return undefined;
  const data = err.data ?? "0x";
  try {
    const parsed = registryInterface.parseError(data);
    if (parsed) return new Reverted(parsed.name, [...parsed.args], data);
  } catch {
    // not one of ours
  }
  return new Reverted(err.reason ?? (data === "0x" ? "revert without data" : `unknown error ${data.slice(0, 10)}`), [], data);
}

export interface Backoff {
  /** First delay and cap, in milliseconds. */
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 250, maxMs: 15_000 };

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** Thrown out of a retry loop when the daemon is asked to stop. */
export class Stopped extends Error {
  constructor() {
    super("stopped");
    this.name = "Stopped";
  }
}

const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "TIMEOUT", "SERVER_ERROR", "NETWORK_ERROR"]);

/** Whether an error means the node could not be reached or did not answer (as opposed to refusing). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; error?: unknown };
  if (typeof e?.code === "string" && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith("UND_ERR"))) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  // The HTTP status words, not bare digits: a refusal that mentions a nonce or an amount of 503 is a refusal.
  return /socket hang up|fetch failed|missing response|ECONNREFUSED|ECONNRESET|other side closed|\b50[234] (Bad Gateway|Service Unavailable|Gateway Time-?out)\b/i.test(message);
}

/**
 * Runs `call` until it returns or fails for a reason other than the node being unavailable
 * (connection refused or reset, a timeout, a 5xx): those are retried after a delay that doubles up to
 * `backoff.maxMs`. Reverts and refusals are the caller's to handle.
 */
export async function withRetry<T>(what: string, call: () => Promise<T>, o: { log: pino.Logger; backoff?: Backoff; signal?: AbortSignal }): Promise<T> {
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  for (let attempt = 0; ; attempt++) {
    if (o.signal?.aborted) throw new Stopped();
    try {
      return await call();
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      const delay = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt, 16));
      o.log.warn({ what, attempt, delayMs: delay, err: (err as Error).message?.slice(0, 200) }, "RPC unavailable; retrying");
      await sleep(delay, o.signal);
    }
  }
}

/**
 * Crash injection for the crash-safety tests: `ZKDL_FAILPOINT=<name>` kills this process with SIGKILL
 * (nothing flushed, nothing cleaned up) the first time execution reaches that point.
 */
export function failpoint(name: string): void {
  if (process.env.ZKDL_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}

/** The daemons' logger: JSON lines on stderr (stdout stays free for --json output). */
export function daemonLogger(name: string, level = process.env.ZKDL_LOG_LEVEL ?? "info"): pino.Logger {
  return pino({ name, level }, pino.destination(2));
}
