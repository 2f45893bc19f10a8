/**
 * Publishing runs (`zkdl publish`): the publisher signs the EIP-712 registration and the job goes into
 * the outbox; and the relayer (`zkdl relay`): a worker that submits queued registrations through
 * `registerRunFor` from its own key, so it pays the gas and the record names the publisher.
 *
 * Registration signatures use the publisher's sequential registry nonce. A publisher with several runs
 * queued signs them with consecutive nonces (the on-chain nonce plus the publisher's queued
 * registrations), and the relayer submits them in queue order. If one fails for good, the later ones
 * no longer match the nonce and fail with InvalidSignature; publishing them again re-signs them.
 */
import { type JsonRpcProvider, type Wallet, getAddress } from "ethers";
import type pino from "pino";
import { ProofRegistry__factory } from "../typechain-types";
import { Stopped, sleep } from "./chain";
import { registryEffects } from "./registry";
import { registryDomain, signRegistration } from "../client/registry";
import { addRunToStore, bundleUriOf, defaultModelLabel, modelIdFrom, runRecordOf } from "./runs";
import { readManifest } from "../prover/run-folder";
import { type SenderOptions, TxSender } from "./sender";
import type { Job, Store } from "./store";
import { InputError } from "../core/errors";

export interface PublishOptions {
  readonly store: Store;
  /** The run folder. */
  readonly dir: string;
  /** The publisher's key, connected to a provider. */
  readonly publisher: Wallet;
  readonly registry: string;
  /** The relayer account that will submit it. */
  readonly relayer: string;
  /** Public base URL of the API that serves the bundle (the registered bundle URI points there). */
  readonly apiUrl: string;
  /** Model label (hashed) or 32-byte hex id; default "<source>-mlp-<layers>". */
  readonly model?: string;
  /** How long the signature stays valid, in seconds (default 30 days). */
  readonly validForSeconds?: number;
}

export interface Publication {
  readonly job: Job;
  readonly runId: string;
  /** False when the run was already queued or done (publishing is idempotent). */
  readonly queued: boolean;
}

/** Queues a run's registration (idempotent: a queued or confirmed run is left as it is; a failed one is re-signed). */
export async function publishRun(o: PublishOptions): Promise<Publication> {
  const provider = o.publisher.provider;
  if (!provider) throw new Error("the publisher wallet has no provider");
  const { manifest, manifestDigest } = readManifest(o.dir);
  const publisher = o.publisher.address;
  // The proof names its publisher: registered by anyone else, every attestor would judge it invalid.
  if (manifest.publisher !== publisher.toLowerCase()) {
    throw new InputError(`the run is proven for publisher ${getAddress(manifest.publisher)}, not ${publisher}: publish it with that account's key, or train it again with --publisher ${publisher}`);
  }
  const stored = addRunToStore(o.store, o.dir, publisher);
  const runId = stored.runId;
  const key = `register:${runId}`;
  const existing = o.store.jobByKey(key);
  if (existing && existing.status !== "failed") return { job: existing, runId, queued: false };

  const registry = ProofRegistry__factory.connect(o.registry, provider);
  const { chainId } = await provider.getNetwork();
  const queuedBefore = o.store
    .jobs({ status: "pending", kind: "register" })
    .filter((j) => j.id !== existing?.id && o.store.getRun(j.runId)?.publisher === publisher).length;
  const nonce = (await registry.nonces(publisher)) + BigInt(queuedBefore);
  const block = await provider.getBlock("latest");
  const deadline = BigInt(block!.timestamp + (o.validForSeconds ?? 30 * 24 * 3600));
  const record = runRecordOf(manifest, manifestDigest, modelIdFrom(o.model ?? defaultModelLabel(manifest)), bundleUriOf(o.apiUrl, runId));
  const signed = await signRegistration(o.publisher, registryDomain(o.registry, chainId), record, nonce, deadline);
  const data = registry.interface.encodeFunctionData("registerRunFor", [signed.record, signed.publisher, signed.deadline, signed.signature]);
  const job = existing
    ? o.store.retryJob(existing.id, data)
    : o.store.enqueue({ kind: "register", key, runId, sender: getAddress(o.relayer), to: o.registry, data });
  return { job, runId, queued: true };
}

export interface RelayOptions {
  readonly store: Store;
  /** The relayer's key (pays the gas). */
  readonly wallet: Wallet;
  readonly provider: JsonRpcProvider;
  readonly registry: string;
  readonly log: pino.Logger;
  readonly sender?: Partial<SenderOptions>;
  /**
   * Process what is queued, then return (default: keep watching the queue). A job the node refuses for
   * a reason that waiting may cure (no funds) is then returned pending, with its `refusal`.
   */
  readonly once?: boolean;
  /** How often an idle worker looks for new jobs. */
  readonly idleMs?: number;
  readonly signal?: AbortSignal;
}

/** The relay worker: drains this relayer's queued registrations, and keeps watching unless `once`. */
export async function runRelayer(o: RelayOptions): Promise<Job[]> {
  const registry = ProofRegistry__factory.connect(o.registry, o.provider);
  // A one-shot run does not wait out a refusal (no funds yet): it returns the job pending with the reason.
  const sender = new TxSender(o.store, o.wallet.connect(o.provider), o.provider, registryEffects(registry), o.log, { waitOutRefusals: !o.once, ...o.sender }, o.signal);
  const settled: Job[] = [];
  o.log.info({ relayer: sender.address, registry: o.registry }, "relayer started");
  try {
    for (;;) {
      settled.push(...(await sender.drain()));
      if (o.once || o.signal?.aborted) return settled;
      await sleep(o.idleMs ?? 1000, o.signal);
    }
  } catch (e) {
    if (e instanceof Stopped) return settled; // asked to stop while waiting on the node: the outbox keeps the rest
    throw e;
  }
}
