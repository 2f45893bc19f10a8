/**
 * The attestor daemon (`zkdl attest`): an independent verifier holding VERIFIER_ROLE.
 *
 * It follows `RunRegistered` from a stored cursor (surviving restarts; a range is re-read after a crash
 * and its runs are noted idempotently), and for each run: downloads the public bundle from the
 * registered URI within limits (relayer/fetch-bundle.ts), checks that its manifest is the registered
 * one (digest and every logged field), verifies the whole run, and attests valid or invalid with the
 * digest of its verification report. Attestations go through the outbox (relayer/sender.ts), so a
 * crash never loses or doubles one.
 *
 * Registration is permissionless, so no run may stop the attestor. Every run ends in a recorded
 * outcome (docs/protocol.md §5.1):
 * - a bundle that is provably bad (malformed, not the registered manifest, a record field that
 *   differs, a proof that does not verify) is attested invalid, with the reason;
 * - a bundle that cannot be fetched now (connection refused, timeout, 404, 429, 5xx, too many
 *   redirects) is retried with backoff, and after `fetchRetry.tries` tries the run is skipped as
 *   "cannot judge: <reason>";
 * - a URI or a size this attestor will not fetch (not http(s), over its limits) is skipped at once as
 *   "cannot judge";
 * - an unexpected error while judging (which may be our own bug) is logged at error level and the run
 *   is skipped as "cannot judge: internal error …", never attested invalid; so is a run whose judging
 *   was cut short `MAX_JUDGE_STARTS` times (the process died in the verifier, e.g. out of memory).
 * Skipped runs are listed with their reason by `zkdl outbox`.
 */
import { type JsonRpcProvider, type Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";
import type pino from "pino";
import type { MsmEngine } from "../core/protocol/group";
import { RunFileError } from "../core/run/files";
import { PROVER_VERSION, digestHex } from "../core/run/manifest";
import { unpackPublicBundle } from "../core/run/public-bundle";
import { stepsVerified, verifyRunFiles } from "../core/run/verify";
import { nativeGenerators, nativeKeccakRows } from "../prover/native-engine";
import { ProofRegistry__factory } from "../typechain-types";
import { Stopped, failpoint, sleep, withRetry } from "./chain";
import { BundleFetchError, fetchBundle } from "./fetch-bundle";
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES } from "./limits";
import { DEFAULT_FETCH_RETRY, type FetchRetry } from "./limits";
import { registryEffects } from "./registry";
import { type RunRecord, RunStatus } from "../client/registry";
import { recordMismatch } from "./runs";
import { type SenderOptions, TxSender } from "./sender";
import type { AttestationRecord, Job, Store } from "./store";

export interface AttestorOptions {
  readonly store: Store;
  /** The attestor's key (VERIFIER_ROLE). */
  readonly wallet: Wallet;
  readonly provider: JsonRpcProvider;
  readonly registry: string;
  /** First block to scan when no cursor is stored (the registry's deployment block). */
  readonly fromBlock: number;
  readonly log: pino.Logger;
  readonly sender?: Partial<SenderOptions>;
  /** Scan, judge and attest what is there, then return. */
  readonly once?: boolean;
  readonly pollMs?: number;
  /** Blocks per log query. */
  readonly chunk?: number;
  /** Largest bundle downloaded, in bytes (default 1 GiB); the manifest bounds each bundle more tightly. */
  readonly maxBundleBytes?: number;
  /** Deadline for one whole download (default 120 s). */
  readonly fetchTimeoutMs?: number;
  /** Tries to fetch a bundle before the run is skipped as "cannot judge", and the delay between them. */
  readonly fetchRetry?: FetchRetry;
  /** Follow `file:` bundle URIs (local use only; off by default). */
  readonly allowFileUris?: boolean;
  /** MSM engine for verification (native when available). */
  readonly engine?: MsmEngine;
  /** Derive the generators and hash the dataset tree with the native core (same verdicts, faster). */
  readonly nativeGenerators?: boolean;
  readonly signal?: AbortSignal;
}

export const ATTESTATION_REPORT_FORMAT = "zkdl-attestation/1";


/** A run whose judging began this many times without an outcome (the process died in it) is skipped. */
export const MAX_JUDGE_STARTS = 3;

/** What to do with a run: attest this verdict, try again later, or record that it cannot be judged. */
type Outcome =
  | { kind: "verdict"; valid: boolean; reason: string | null; steps: number; ms: number; bundleDigest: string | null }
  | { kind: "retry"; reason: string }
  | { kind: "skip"; reason: string };

const recordToJson = (r: RunRecord): string => JSON.stringify({ ...r, datasetSize: r.datasetSize.toString(), numSteps: r.numSteps.toString() });
const recordFromJson = (s: string): RunRecord => {
  const j = JSON.parse(s);
  return { ...j, datasetSize: BigInt(j.datasetSize), numSteps: BigInt(j.numSteps) };
};

/**
 * The verdict on a downloaded bundle for a record registered by `publisher`: valid, or why not. The
 * proof names its publisher (docs/protocol.md §4.5), so a copy registered by another account is invalid.
 */
export function judgeBundle(
  bytes: Uint8Array,
  record: RunRecord,
  publisher: string,
  o: { engine?: MsmEngine; nativeGenerators?: boolean } = {}
): { valid: boolean; reason: string | null; steps: number; ms: number } {
  const started = performance.now();
  const done = (valid: boolean, reason: string | null, steps = 0) => ({ valid, reason, steps, ms: Math.round(performance.now() - started) });
  try {
    const bundle = unpackPublicBundle("bundle", bytes);
    if (bundle.manifestDigest !== record.manifestDigest.toLowerCase()) return done(false, "the bundle's manifest is not the registered one (digest differs)");
    const mismatch = recordMismatch(record, bundle.manifest, bundle.manifestDigest);
    if (mismatch) return done(false, mismatch);
    const native = o.nativeGenerators ? { generators: nativeGenerators, keccakRows: nativeKeccakRows } : {};
    const verdict = verifyRunFiles(bundle, { engine: o.engine, ...native, publisher });
    return done(verdict.valid, verdict.reason ?? null, stepsVerified(verdict.windows));
  } catch (e) {
    if (e instanceof RunFileError) return done(false, `malformed bundle: ${e.message}`);
    throw e;
  }
}

export async function runAttestor(o: AttestorOptions): Promise<Job[]> {
  const me = getAddress(o.wallet.address);
  const registry = ProofRegistry__factory.connect(o.registry, o.provider);
  const sender = new TxSender(o.store, o.wallet.connect(o.provider), o.provider, registryEffects(registry), o.log, { waitOutRefusals: !o.once, ...o.sender }, o.signal);
  const rpc = <T>(what: string, call: () => Promise<T>) => withRetry(what, call, { log: o.log, backoff: o.sender?.backoff, signal: o.signal });
  const cursorName = `attestor:${me}:${getAddress(o.registry)}`;
  const chunk = o.chunk ?? 2000;
  const settled: Job[] = [];
  o.log.info({ attestor: me, registry: o.registry }, "attestor started");
  try {
    await follow();
  } catch (e) {
    if (!(e instanceof Stopped)) throw e; // asked to stop while waiting on the node: the store keeps the rest
  }
  return settled;

  async function follow(): Promise<void> {
    for (;;) {
      // 1. Note every registration up to the head.
      const head = await rpc("head", () => o.provider.getBlockNumber());
      let from = (o.store.cursor(cursorName) ?? o.fromBlock - 1) + 1;
      while (from <= head && !o.signal?.aborted) {
        const to = Math.min(head, from + chunk - 1);
        const events = await rpc("logs", () => registry.queryFilter(registry.filters.RunRegistered(), from, to));
        for (const e of events) {
          const r = e.args.record;
          const record: RunRecord = {
            modelId: r.modelId,
            datasetRoot: r.datasetRoot,
            fingerprintRoot: r.fingerprintRoot,
            datasetSize: r.datasetSize,
            manifestDigest: r.manifestDigest,
            initialWeightsDigest: r.initialWeightsDigest,
            finalWeightsDigest: r.finalWeightsDigest,
            numSteps: r.numSteps,
            bundleURI: r.bundleURI,
          };
          o.store.noteRun(e.args.runId, me, e.blockNumber, recordToJson(record));
        }
        failpoint("attestor:before-cursor");
        o.store.setCursor(cursorName, to);
        from = to + 1;
      }

      // 2. Judge the runs not yet judged.
      for (const pending of o.store.pendingAttestations(me, Date.now())) {
        if (o.signal?.aborted) break;
        const runId = pending.runId;
        const run = await rpc("run", () => registry.getRun(runId));
        const status = Number(run.status);
        if (status !== RunStatus.Registered) {
          o.store.skipAttestation(runId, me, `run is ${RunStatus[status]}`);
          continue;
        }
        if (getAddress(run.publisher) === me) {
          o.store.skipAttestation(runId, me, "own run (attestations must be independent)");
          continue;
        }
        const record = recordFromJson(pending.record);
        const outcome = await judgeRun(pending, record, run.publisher);
        if (outcome.kind === "retry") {
          const retry = o.fetchRetry ?? DEFAULT_FETCH_RETRY;
          if (pending.tries + 1 >= retry.tries) {
            o.store.deferAttestation(runId, me, outcome.reason, Date.now()); // counts this try
            o.store.skipAttestation(runId, me, `cannot judge: ${outcome.reason} (${pending.tries + 1} tries)`);
            o.log.warn({ runId, err: outcome.reason, tries: pending.tries + 1 }, "bundle unavailable; giving up on the run");
          } else {
            const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(pending.tries, 30));
            o.store.deferAttestation(runId, me, outcome.reason, Date.now() + delay);
            o.log.warn({ runId, err: outcome.reason, retryInMs: delay }, "bundle unavailable; will retry");
          }
          continue;
        }
        if (outcome.kind === "skip") {
          o.store.skipAttestation(runId, me, `cannot judge: ${outcome.reason}`);
          continue;
        }
        const verdict = outcome;
        const report = JSON.stringify({
          format: ATTESTATION_REPORT_FORMAT,
          runId,
          attestor: me,
          valid: verdict.valid,
          reason: verdict.reason,
          manifestDigest: record.manifestDigest,
          bundleDigest: verdict.bundleDigest,
          stepsVerified: verdict.steps,
          verifier: PROVER_VERSION,
        });
        const reportDigest = keccak256(toUtf8Bytes(report));
        o.store.decideAttestation(
          { runId, attestor: me, valid: verdict.valid, reason: verdict.reason, report, reportDigest },
          {
            kind: "attest",
            key: `attest:${runId}:${me}`,
            runId,
            sender: me,
            to: o.registry,
            data: registry.interface.encodeFunctionData("attest", [runId, verdict.valid, reportDigest]),
          }
        );
        failpoint("attestor:after-decide");
        o.log.info({ runId, valid: verdict.valid, reason: verdict.reason, ms: verdict.ms }, "run judged");
      }

      // 3. Put the attestations on chain.
      settled.push(...(await sender.drain()));
      if (o.once || o.signal?.aborted) return;
      await sleep(o.pollMs ?? 1000, o.signal);
    }
  }

  /** The run's outcome; throws only Stopped (the daemon is shutting down). */
  async function judgeRun(pending: AttestationRecord, record: RunRecord, publisher: string): Promise<Outcome> {
    const runId = pending.runId;
    if (pending.judgeStarts >= MAX_JUDGE_STARTS) {
      o.log.error({ runId, starts: pending.judgeStarts }, "judging this run never finished; skipping it");
      return { kind: "skip", reason: `judging was cut short ${pending.judgeStarts} times (the attestor stopped while verifying: out of memory?)` };
    }
    // Counted before the download: a bundle that kills the process while it is read or verified
    // (out of memory) is skipped after MAX_JUDGE_STARTS restarts instead of crash-looping the daemon.
    o.store.startJudging(runId, me);
    failpoint("attestor:judging");
    let bytes: Uint8Array;
    try {
      bytes = await fetchBundle(record.bundleURI, {
        manifestDigest: record.manifestDigest,
        numSteps: record.numSteps,
        maxBundleBytes: o.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES,
        timeoutMs: o.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
        allowFileUris: o.allowFileUris,
        signal: o.signal,
      });
    } catch (e) {
      if (e instanceof Stopped) throw e;
      if (e instanceof BundleFetchError) {
        if (e.kind === "malformed") return { kind: "verdict", valid: false, reason: `bundle: ${e.message}`, steps: 0, ms: 0, bundleDigest: null };
        if (e.kind === "unavailable") return { kind: "retry", reason: e.message };
        o.log.warn({ runId, err: e.message }, "bundle refused; cannot judge the run");
        return { kind: "skip", reason: e.message };
      }
      return internalError(runId, "fetching", e);
    }
    try {
      const verdict = judgeBundle(bytes, record, publisher, o);
      return { kind: "verdict", ...verdict, bundleDigest: digestHex(bytes) };
    } catch (e) {
      return internalError(runId, "verifying", e);
    }
  }

  function internalError(runId: string, what: string, e: unknown): Outcome {
    const err = e as Error;
    o.log.error({ runId, err: err?.stack ?? String(e) }, `internal error while ${what} a bundle; skipping the run`);
    return { kind: "skip", reason: `internal error while ${what}: ${err?.name ?? "Error"}: ${String(err?.message ?? e).slice(0, 300)}` };
  }
}
