/**
 * Whole-run verification for anyone holding a run id, trusting no server: the run's public bundle
 * (from the API, or from anywhere) is checked against the chain first — its manifest's digest and the
 * registered publisher must give the run id (runIdOf), and the registered record must be the
 * manifest's — then every step proof, the chain of weights and the dataset root are verified with
 * core/run/verify.ts (pure @noble/curves unless an engine is passed). What the web page's worker
 * (web/verify-worker.ts) runs, and what a Node script can run the same way.
 */
import { JsonRpcProvider, type Provider } from "ethers";
import { RunFileError } from "../core/run/files";
import type { Manifest } from "../core/run/manifest";
import { type PublicBundle, unpackPublicBundle } from "../core/run/public-bundle";
import { type RunVerdict, type StepReport, verifyRunFiles } from "../core/run/verify";
import type { MsmEngine } from "../core/protocol/group";
import { RunStatus, type RunStatusName, runIdOf } from "./registry";
import { registryReader } from "./registry-abi";

/** What the chain says about a run, read directly from ProofRegistry. */
export interface OnChainRun {
  readonly publisher: string;
  readonly status: RunStatusName;
  readonly validCount: number;
  readonly invalidCount: number;
  readonly datasetRoot: string;
  readonly datasetSize: number;
  readonly numSteps: number;
  readonly finalWeightsDigest: string;
}

/** Reads a run's record from the registry (read-only JSON-RPC). */
export async function readOnChainRun(o: { rpc: string | Provider; registry: string; runId: string }): Promise<OnChainRun> {
  const own = typeof o.rpc === "string";
  const provider = typeof o.rpc === "string" ? new JsonRpcProvider(o.rpc, undefined, { staticNetwork: true }) : o.rpc;
  try {
    const r = await registryReader(o.registry, provider).getRun(o.runId);
    return {
      publisher: r.publisher.toLowerCase(),
      status: (RunStatus[Number(r.status)] ?? "None") as RunStatusName,
      validCount: Number(r.validCount),
      invalidCount: Number(r.invalidCount),
      datasetRoot: r.datasetRoot.toLowerCase(),
      datasetSize: Number(r.datasetSize),
      numSteps: Number(r.numSteps),
      finalWeightsDigest: r.finalWeightsDigest.toLowerCase(),
    };
  } finally {
    if (own) (provider as JsonRpcProvider).destroy();
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

export interface ServedRunVerdict extends Pick<RunVerdict, "valid" | "reason" | "steps" | "ms"> {
  /** The chain's record (with a chain), for showing the attestors' verdict next to this one. */
  readonly onChain?: OnChainRun;
  /** Whether the bundle was bound to the run id through the chain (false: through runIdOf alone). */
  readonly anchored: boolean;
  /** Step proofs in the bundle (0 when it could not be read). */
  readonly total: number;
}

export interface VerifyServedRunOptions {
  /** The public bundle's bytes (ZKDLPUB1). */
  readonly bundle: Uint8Array;
  readonly runId: string;
  /** With a chain, the bundle must be the registered run's. */
  readonly chain?: { rpc: string | Provider; registry: string };
  readonly engine?: MsmEngine;
  /** Called once the bundle is bound to the run (total steps known), then after every step. */
  readonly onProgress?: (done: number, total: number, step?: StepReport) => void;
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
  const refuse = (reason: string, total = 0): ServedRunVerdict => ({ valid: false, reason, steps: [], ms: performance.now() - started, onChain, anchored, total });
  let bundle: PublicBundle;
  try {
    bundle = unpackPublicBundle("bundle", o.bundle);
  } catch (e) {
    if (e instanceof RunFileError) return refuse(e.message);
    throw e;
  }
  const total = bundle.manifest.training.steps;
  const mismatch = bundleMismatch(bundle, runId, onChain);
  if (mismatch) return refuse(mismatch, total);
  o.onProgress?.(0, total);
  const verdict = verifyRunFiles(bundle, {
    engine: o.engine,
    // The account the chain registered the run for (or the one the run id was derived from).
    publisher: onChain?.publisher ?? bundle.manifest.publisher,
    onStep: (r, n) => o.onProgress?.(r.step + 1, n, r),
  });
  return { valid: verdict.valid, ...(verdict.reason === undefined ? {} : { reason: verdict.reason }), steps: verdict.steps, ms: performance.now() - started, onChain, anchored, total };
}
