/**
 * The attestor daemon (`zkdl attest`): an independent verifier holding VERIFIER_ROLE.
 *
 * It follows `RunRegistered` from a stored cursor (surviving restarts; a range is re-read after a crash
 * and its runs are noted idempotently), and for each run: downloads the public bundle from the
 * registered URI, checks that its manifest is the registered one (digest and every logged field),
 * verifies the whole run, and attests valid or invalid with the digest of its verification report.
 * A bundle that cannot be fetched is retried with backoff; a bundle that is malformed, not the
 * registered manifest, or whose proofs fail is attested invalid. Attestations go through the outbox
 * (relayer/sender.ts), so a crash never loses or doubles one.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type JsonRpcProvider, type Wallet, getAddress, keccak256, toUtf8Bytes } from "ethers";
import type pino from "pino";
import type { MsmEngine } from "../prover/protocol/group";
import { RunFileError } from "../prover/run/formats";
import { PROVER_VERSION, digestHex } from "../prover/run/manifest";
import { unpackPublicBundle } from "../prover/run/public-bundle";
import { verifyRun } from "../prover/run/verify";
import { ProofRegistry__factory } from "../typechain-types";
import { Stopped, failpoint, sleep, withRetry } from "./chain";
import { type RunRecord, RunStatus, registryEffects } from "./registry";
import { recordMismatch } from "./runs";
import { type SenderOptions, TxSender } from "./sender";
import type { Job, Store } from "./store";

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
  /** Largest bundle downloaded, in bytes. */
  readonly maxBundleBytes?: number;
  readonly fetchTimeoutMs?: number;
  /** MSM engine for verification (native when available). */
  readonly engine?: MsmEngine;
  readonly nativeGenerators?: boolean;
  readonly signal?: AbortSignal;
}

export const ATTESTATION_REPORT_FORMAT = "zkdl-attestation/1";

/** Why a bundle could not be fetched (retried later), as opposed to a bundle that is bad (attested invalid). */
class Unavailable extends Error {}

async function fetchBundle(uri: string, maxBytes: number, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new RunFileError(uri, "the bundle URI is not a URL");
  }
  if (url.protocol === "file:") {
    try {
      return readFileSync(fileURLToPath(url));
    } catch (e) {
      throw new Unavailable(`cannot read ${uri}: ${(e as Error).message}`);
    }
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new RunFileError(uri, `unsupported URI scheme ${url.protocol}`);
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new Unavailable(`cannot fetch ${uri}: ${(e as Error).message}`);
  }
  if (res.status >= 500 || res.status === 429 || res.status === 404) throw new Unavailable(`${uri} answered ${res.status}`);
  if (!res.ok) throw new RunFileError(uri, `answered ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new RunFileError(uri, `bundle of ${declared} bytes exceeds the ${maxBytes}-byte limit`);
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel();
      throw new RunFileError(uri, `bundle exceeds the ${maxBytes}-byte limit`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

const recordToJson = (r: RunRecord): string => JSON.stringify({ ...r, datasetSize: r.datasetSize.toString(), numSteps: r.numSteps.toString() });
const recordFromJson = (s: string): RunRecord => {
  const j = JSON.parse(s);
  return { ...j, datasetSize: BigInt(j.datasetSize), numSteps: BigInt(j.numSteps) };
};

/** The verdict on a downloaded bundle for a registered record: valid, or why not. */
export function judgeBundle(
  bytes: Uint8Array,
  record: RunRecord,
  o: { engine?: MsmEngine; nativeGenerators?: boolean } = {}
): { valid: boolean; reason: string | null; steps: number; ms: number } {
  const started = performance.now();
  const done = (valid: boolean, reason: string | null, steps = 0) => ({ valid, reason, steps, ms: Math.round(performance.now() - started) });
  try {
    const bundle = unpackPublicBundle("bundle", bytes);
    if (bundle.manifestDigest !== record.manifestDigest.toLowerCase()) return done(false, "the bundle's manifest is not the registered one (digest differs)");
    const mismatch = recordMismatch(record, bundle.manifest, bundle.manifestDigest);
    if (mismatch) return done(false, mismatch);
    const verdict = verifyRun(bundle, { engine: o.engine, nativeGenerators: o.nativeGenerators });
    return done(verdict.valid, verdict.reason ?? null, verdict.steps.length);
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
        let bytes: Uint8Array | undefined;
        let verdict: { valid: boolean; reason: string | null; steps: number; ms: number };
        try {
          bytes = await fetchBundle(record.bundleURI, o.maxBundleBytes ?? 1 << 30, o.fetchTimeoutMs ?? 60_000, o.signal);
          verdict = judgeBundle(bytes, record, o);
        } catch (e) {
          if (e instanceof Unavailable) {
            const delay = Math.min(600_000, 1000 * 2 ** Math.min(pending.tries, 10));
            o.store.deferAttestation(runId, me, e.message, Date.now() + delay);
            o.log.warn({ runId, err: e.message, retryInMs: delay }, "bundle unavailable; will retry");
            continue;
          }
          if (!(e instanceof RunFileError)) throw e;
          verdict = { valid: false, reason: `bundle: ${e.message}`, steps: 0, ms: 0 };
        }
        const report = JSON.stringify({
          format: ATTESTATION_REPORT_FORMAT,
          runId,
          attestor: me,
          valid: verdict.valid,
          reason: verdict.reason,
          manifestDigest: record.manifestDigest,
          bundleDigest: bytes ? digestHex(bytes) : null,
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
}
