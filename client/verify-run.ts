/**
 * Whole-run verification for anyone holding a run id, trusting the server that sends the bundle with
 * nothing: the run's public bundle (from the API, or from anywhere) is checked against the chain
 * first — its manifest's digest and the registered publisher must give the run id (runIdOf), and the
 * registered record must be the manifest's — then every window proof, the chain of weights and the
 * dataset root are verified with core/run/verify.ts (pure @noble/curves unless an engine is passed).
 * What is trusted is the chain endpoint: the JSON-RPC URL and registry address the caller names (and,
 * when the caller knows it, the chain id the RPC must report). Whoever chooses that endpoint decides
 * what "the chain" says; the web page takes it from its server's /v1/config unless the user pins one
 * (`?rpc=…&registry=…`). Without a chain only the run id binds the bundle (runIdOf(manifest.publisher,
 * digest)): the verdict then says the proofs are valid for that run id, not that it is registered.
 * What the web page's worker (web/verify-worker.ts) runs, and what a Node script can run the same way.
 */
import { RunFileError } from "../core/run/files";
import type { Manifest } from "../core/run/manifest";
import { type PublicBundle, unpackPublicBundle } from "../core/run/public-bundle";
import { type RunVerdict, type WindowReport, verifyRunFiles } from "../core/run/verify";
import type { MsmEngine } from "../core/protocol/group";
import { RunStatus, type RunStatusName, runIdOf } from "./registry";
import { type ChainEndpoint, openRegistry } from "./registry-abi";

/** What the chain says about a run, read directly from ProofRegistry. */
export interface OnChainRun {
  readonly publisher: string;
  readonly status: RunStatusName;
  readonly validCount: number;
  readonly invalidCount: number;
  readonly datasetRoot: string;
  readonly fingerprintRoot: string;
  readonly datasetSize: number;
  readonly numSteps: number;
  readonly finalWeightsDigest: string;
}

/** The most bytes a public bundle download may have (downloadBundle's default). */
export const MAX_BUNDLE_BYTES = 1 << 30; // 1 GiB

/** Reads a run's record from the registry (read-only JSON-RPC), after checking the chain id if one is expected. */
export async function readOnChainRun(o: ChainEndpoint & { runId: string }): Promise<OnChainRun> {
  const chain = await openRegistry(o);
  try {
    const r = await chain.registry.getRun(o.runId);
    return {
      publisher: r.publisher.toLowerCase(),
      status: (RunStatus[Number(r.status)] ?? "None") as RunStatusName,
      validCount: Number(r.validCount),
      invalidCount: Number(r.invalidCount),
      datasetRoot: r.datasetRoot.toLowerCase(),
      fingerprintRoot: r.fingerprintRoot.toLowerCase(),
      datasetSize: Number(r.datasetSize),
      numSteps: Number(r.numSteps),
      finalWeightsDigest: r.finalWeightsDigest.toLowerCase(),
    };
  } finally {
    chain.close();
  }
}

/**
 * Why this bundle is not the run `runId` names, or null. Without a chain record only the run id
 * binds it (runIdOf(manifest.publisher, digest)); with one, the registered publisher, and the record's
 * fields must be the manifest's.
 */
export function bundleMismatch(bundle: Pick<PublicBundle, "manifest" | "manifestDigest">, runId: string, onChain?: OnChainRun): string | null {
  const id = runId.toLowerCase();
  const m: Manifest = bundle.manifest;
  if (onChain) {
    if (onChain.status === "None") return `run ${id} is not registered on chain`;
    if (runIdOf(onChain.publisher, bundle.manifestDigest) !== id) return `the served bundle's manifest (digest ${bundle.manifestDigest}) is not the one run ${id} was registered with by ${onChain.publisher}`;
    const differs = [
      ["dataset root", onChain.datasetRoot === m.dataset.root],
      ["fingerprint root", onChain.fingerprintRoot === m.dataset.fingerprintRoot],
      ["dataset size", onChain.datasetSize === m.dataset.size],
      ["step count", onChain.numSteps === m.training.steps],
      ["final weights digest", onChain.finalWeightsDigest === m.weights.final],
    ].filter(([, ok]) => !ok);
    if (differs.length) return `the registered record differs from the manifest in: ${differs.map(([n]) => n).join(", ")}`;
    return null;
  }
  if (runIdOf(m.publisher, bundle.manifestDigest) !== id) return `the served bundle's manifest (digest ${bundle.manifestDigest}, publisher ${m.publisher}) does not give run id ${id}`;
  return null;
}

export interface ServedRunVerdict extends Pick<RunVerdict, "valid" | "reason" | "windows" | "ms"> {
  /** The chain's record (with a chain), for showing the attestors' verdict next to this one. */
  readonly onChain?: OnChainRun;
  /** Whether the bundle was bound to the run id through the chain (false: through runIdOf alone). */
  readonly anchored: boolean;
  /** Steps the bundle's manifest proves (0 when it could not be read). */
  readonly total: number;
  /** Window proofs in the bundle (0 when it could not be read). */
  readonly totalWindows: number;
}

/** How far a whole-run verification has come. */
export interface VerifyProgress {
  readonly done: number;
  readonly total: number;
  readonly windowsDone: number;
  readonly windowsTotal: number;
}

export interface VerifyServedRunOptions {
  /** The public bundle's bytes (ZKDLPUB1). */
  readonly bundle: Uint8Array;
  readonly runId: string;
  /** With a chain, the bundle must be the registered run's (and the RPC on `chainId`, when given). */
  readonly chain?: ChainEndpoint;
  readonly engine?: MsmEngine;
  /**
   * Called once the bundle is bound to the run (total steps and windows known), then after every
   * window: `done` steps of `total` verified, in `windowsDone` of `windowsTotal` windows; `window` the
   * window just verified.
   */
  readonly onProgress?: (p: VerifyProgress, window?: WindowReport) => void;
  /** Called once the chain's record is read. */
  readonly onChain?: (run: OnChainRun) => void;
}

/** Checks a downloaded bundle against the run id (and the chain), then verifies the whole run. */
export async function verifyServedRun(o: VerifyServedRunOptions): Promise<ServedRunVerdict> {
  const started = performance.now();
  const runId = o.runId.toLowerCase();
  let onChain: OnChainRun | undefined;
  if (o.chain) {
    onChain = await readOnChainRun({ ...o.chain, runId });
    o.onChain?.(onChain);
  }
  const anchored = onChain !== undefined;
  const refuse = (reason: string, total = 0, totalWindows = 0): ServedRunVerdict => ({ valid: false, reason, windows: [], ms: performance.now() - started, onChain, anchored, total, totalWindows });
  let bundle: PublicBundle;
  try {
    bundle = unpackPublicBundle("bundle", o.bundle);
  } catch (e) {
    if (e instanceof RunFileError) return refuse(e.message);
    throw e;
  }
  const total = bundle.manifest.training.steps;
  const totalWindows = bundle.manifest.weights.windows.length;
  const mismatch = bundleMismatch(bundle, runId, onChain);
  if (mismatch) return refuse(mismatch, total, totalWindows);
  o.onProgress?.({ done: 0, total, windowsDone: 0, windowsTotal: totalWindows });
  const verdict = verifyRunFiles(bundle, {
    engine: o.engine,
    // The account the chain registered the run for (or the one the run id was derived from).
    publisher: onChain?.publisher ?? bundle.manifest.publisher,
    onWindow: (r) => o.onProgress?.({ done: r.first + r.steps, total, windowsDone: r.window + 1, windowsTotal: totalWindows }, r),
  });
  return { valid: verdict.valid, ...(verdict.reason === undefined ? {} : { reason: verdict.reason }), windows: verdict.windows, ms: performance.now() - started, onChain, anchored, total, totalWindows };
}

/**
 * Downloads a public bundle, refusing one larger than `maxBytes` (default MAX_BUNDLE_BYTES): by its
 * Content-Length before reading, and while reading the stream (a missing or lying Content-Length).
 */
export async function downloadBundle(url: string, o: { maxBytes?: number; fetch?: typeof fetch } = {}): Promise<Uint8Array> {
  const max = o.maxBytes ?? MAX_BUNDLE_BYTES;
  const tooBig = (size: string) => new Error(`${url}: the bundle is ${size}, over the limit of ${max} bytes: refusing to download it`);
  const res = await (o.fetch ?? fetch)(url);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig(`${declared} bytes (Content-Length)`);
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooBig(`more than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
