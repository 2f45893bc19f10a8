/**
 * The outbox's transaction sender: takes a job (what must end up on chain) to a terminal state without
 * ever losing it or doing it twice, across crashes, RPC outages, dropped and stuck transactions, and
 * says why when the node will not take its transaction.
 *
 * Each pass over a job reconciles with the chain before acting:
 *   1. a receipt for any recorded attempt?  mined → wait for N confirmations → confirmed;
 *      reverted → judged below (a revert that means "already done" confirms the job);
 *   2. the job's effect already on chain (another relayer, a receipt we lost)?  → confirmed;
 *   3. an attempt whose nonce is still unused?  rebroadcast it; if the node took it and it is still
 *      pending after `bumpAfterMs`, replace it with the same nonce and higher fees (capped at
 *      `maxFeePerGas`);
 *   4. otherwise simulate the call (a revert decides: done, or failed with the decoded reason), sign a
 *      new transaction at the account's pending nonce, record it, and only then broadcast it.
 * Because every attempt is recorded before broadcast and step 1–2 come first, a process killed at any
 * point and restarted ends in the same state as one that never stopped.
 *
 * A node's refusal (relayer/refusal.ts) is acted on by class, never by raising fees: "already known" and
 * a used nonce are reconciled by the next pass; a refusal that waiting may cure (no funds) is recorded
 * on the job (`zkdl outbox` shows it), warned about, and retried with a backoff that doubles up to a
 * bound, or, for a one-shot run, left pending so that the command can exit and say why; a terminal
 * refusal (wrong chain, gas beyond the block, fee cap under the base fee) fails the job with the reason.
 * Only a transaction the node took is ever replaced with higher fees.
 */
import { type JsonRpcProvider, Transaction, type Wallet, formatEther, formatUnits, keccak256 } from "ethers";
import type pino from "pino";
import { type Backoff, Reverted, Stopped, decodeRevert, failpoint, sleep, withRetry } from "./chain";
import { type Refusal, classifyRefusal } from "./refusal";
import type { Attempt, Job, Store } from "./store";

/** What a kind of job means on chain. */
export interface JobEffect {
  /** Why the job's effect is already on chain, or null if it is not. */
  alreadyDone(job: Job): Promise<string | null>;
  /** Whether a revert means the effect is already there (e.g. RunAlreadyRegistered). */
  meansDone(revert: Reverted): boolean;
}

export interface SenderOptions {
  /** Blocks a receipt must have on top of it (1 = mined). */
  readonly confirmations: number;
  readonly pollMs: number;
  /** A broadcast transaction still pending after this long is replaced with higher fees. */
  readonly bumpAfterMs: number;
  /** Fee increase per replacement, in percent (nodes require at least 10). */
  readonly bumpPercent: number;
  /** The most this sender ever offers per gas. */
  readonly maxFeePerGas: bigint;
  readonly backoff?: Backoff;
  /** A job whose transactions reverted this many times without a decisive reason fails. */
  readonly maxReverts: number;
  /**
   * A refusal that waiting may cure (the account has no funds yet): true (daemons) waits it out,
   * retrying after `refusalBackoff`; false (one-shot runs) leaves the job pending with the reason and
   * stops draining, so that the caller can report it.
   */
  readonly waitOutRefusals: boolean;
  /** Delay before retrying a refused job: doubles from baseMs up to maxMs. */
  readonly refusalBackoff: Backoff;
}

export const DEFAULT_SENDER_OPTIONS: SenderOptions = {
  confirmations: 1,
  pollMs: 500,
  bumpAfterMs: 60_000,
  bumpPercent: 25,
  maxFeePerGas: 500n * 10n ** 9n,
  maxReverts: 3,
  waitOutRefusals: true,
  refusalBackoff: { baseMs: 2_000, maxMs: 120_000 },
};

/** done: the job is terminal; wait: poll again; held: a refusal that waiting may cure is recorded on the job. */
type Pass = "done" | "wait" | "held";

/** A node that refuses a job's transaction as "already known / nonce used" this often in a row is not telling the truth, or lags: the job is held. */
export const MAX_TRANSIENT_REFUSALS = 20;

export class TxSender {
  readonly options: SenderOptions;
  private chainId?: bigint;
  /** Consecutive transient refusals per job (nonce too low, replacement underpriced, …). */
  private readonly transient = new Map<number, number>();

  constructor(
    private readonly store: Store,
    private readonly wallet: Wallet,
    private readonly provider: JsonRpcProvider,
    private readonly effects: Record<Job["kind"], JobEffect>,
    private readonly log: pino.Logger,
    options: Partial<SenderOptions> = {},
    private readonly signal?: AbortSignal,
  ) {
    this.options = { ...DEFAULT_SENDER_OPTIONS, ...options };
    if (this.options.bumpPercent < 10) throw new RangeError("bumpPercent must be at least 10 (nodes refuse smaller replacements)");
    if (this.options.confirmations < 1) throw new RangeError("confirmations must be at least 1");
  }

  get address(): string {
    return this.wallet.address;
  }

  private rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    return withRetry(what, call, { log: this.log, backoff: this.options.backoff, signal: this.signal });
  }

  /**
   * Drives every pending job of this sender, oldest first, to a terminal state. Returns the jobs it
   * handled; the last one is still pending when stopped, or when held by a refusal it does not wait out
   * (`waitOutRefusals` false: its `refusal` says why, and later jobs are left alone).
   */
  async drain(): Promise<Job[]> {
    const settled: Job[] = [];
    for (const job of this.store.jobs({ status: "pending", sender: this.address })) {
      if (this.signal?.aborted) break;
      const s = await this.settle(job);
      settled.push(s);
      if (s.status === "pending") break;
    }
    return settled;
  }

  /** Drives one job to confirmed or failed (or until stopped, or held by a refusal it does not wait out). */
  async settle(job: Job): Promise<Job> {
    if (job.sender !== this.address) throw new Error(`job ${job.key} must be sent by ${job.sender}, not ${this.address}`);
    for (let held = 0; ; ) {
      const current = this.store.job(job.id)!;
      if (current.status !== "pending" || this.signal?.aborted) return current;
      const pass = await this.pass(current);
      if (pass === "held") {
        const refusal = this.store.job(job.id)!.refusal;
        if (!this.options.waitOutRefusals) {
          this.log.warn({ job: current.key, sender: this.address, reason: refusal }, `not sent, the job stays pending: ${refusal}`);
          return this.store.job(job.id)!;
        }
        const { baseMs, maxMs } = this.options.refusalBackoff;
        const delay = Math.min(maxMs, baseMs * 2 ** Math.min(held++, 16));
        this.log.warn({ job: current.key, sender: this.address, reason: refusal, retryInMs: delay }, `not sent, retrying later: ${refusal}`);
        await sleep(delay, this.signal);
        continue;
      }
      held = 0;
      if (pass === "wait") await sleep(this.options.pollMs, this.signal);
    }
  }

  private async pass(job: Job): Promise<Pass> {
    const attempts = this.store.attempts(job.id);
    const effect = this.effects[job.kind];

    // 1. A recorded attempt made it into a block.
    const mined = await this.fromReceipts(job, attempts);
    if (mined) return mined;

    // 2. The effect is on chain already: by another sender, or by our own attempt mined since step 1
    //    (looked up again, so that the job names its transaction).
    const done = await this.rpc("effect", () => effect.alreadyDone(job));
    if (done) {
      const ours = await this.fromReceipts(job, attempts);
      if (ours) return ours;
      this.store.confirmJob(job.id, null, null, done);
      this.log.info({ job: job.key, reason: done }, "confirmed (already on chain)");
      return "done";
    }

    // 3. An attempt that may still be pending.
    const live = attempts.filter((a) => a.status !== "reverted" && a.status !== "refused");
    const latest = live.at(-1);
    if (latest) {
      const used = await this.rpc("nonce", () => this.provider.getTransactionCount(this.address, "latest"));
      if (latest.nonce >= used) {
        const sent = await this.broadcast(job, latest, attempts);
        if (sent !== "accepted") return sent;
        // Only a transaction the node took can be stuck; the clock runs from when it took it.
        const since = latest.acceptedAt ?? (latest.status === "broadcast" ? latest.createdAt : Date.now());
        if (Date.now() - since >= this.options.bumpAfterMs) return (await this.replace(job, latest, attempts)) ?? (await this.underBaseFee(job, latest));
        return "wait";
      }
      // Its nonce went to a transaction we have no receipt for: a replacement sent elsewhere, or a
      // drop and reuse. The job is not done (step 2), so it needs a new transaction.
    }

    // 4. Simulate, then sign, record and broadcast a new transaction.
    const reverts = attempts.filter((a) => a.status === "reverted").length;
    let gas: bigint;
    try {
      gas = await this.rpc("estimateGas", () => this.provider.estimateGas({ from: this.address, to: job.to, data: job.data }));
    } catch (err) {
      if (err instanceof Stopped) throw err;
      const revert = decodeRevert(err);
      if (!revert) {
        // Not a revert: the node refuses the estimate itself (e.g. no funds for gas × price).
        if (!fromNode(err)) throw err;
        return this.refused(job, classifyRefusal(err), undefined, attempts);
      }
      if (effect.meansDone(revert)) {
        const ours = await this.fromReceipts(job, attempts);
        if (ours) return ours;
        this.store.confirmJob(job.id, null, null, revert.message);
        this.log.info({ job: job.key, reason: revert.message }, "confirmed (already on chain)");
      } else {
        this.store.failJob(job.id, `reverts: ${revert.message}`);
        this.log.error({ job: job.key, reason: revert.message }, "job failed");
      }
      return "done";
    }
    if (reverts >= this.options.maxReverts) {
      this.store.failJob(job.id, `${reverts} transactions reverted although the call simulates`);
      return "done";
    }
    const nonce = await this.rpc("nonce", () => this.provider.getTransactionCount(this.address, "pending"));
    const fees = await this.rpc("fees", () => this.provider.getFeeData());
    const cap = this.options.maxFeePerGas;
    const maxFeePerGas = min(fees.maxFeePerGas ?? fees.gasPrice ?? cap, cap);
    const maxPriorityFeePerGas = min(fees.maxPriorityFeePerGas ?? 10n ** 9n, maxFeePerGas);
    const sent = await this.signAndSend(job, { nonce, gasLimit: (gas * 6n) / 5n, maxFeePerGas, maxPriorityFeePerGas }, attempts);
    return sent === "accepted" ? "wait" : sent;
  }

  /** Settles the job from the receipt of its latest mined attempt, if any (undefined: none mined). */
  private async fromReceipts(job: Job, attempts: Attempt[]): Promise<Pass | undefined> {
    for (const a of [...attempts].reverse()) {
      if (a.status === "reverted") continue; // (a refused one is looked up too: another node may have taken it)
      const receipt = await this.rpc("receipt", () => this.provider.getTransactionReceipt(a.txHash));
      if (!receipt) continue;
      failpoint("sender:after-receipt");
      if (receipt.status === 1) {
        const head = await this.rpc("head", () => this.provider.getBlockNumber());
        if (head - receipt.blockNumber + 1 < this.options.confirmations) return "wait";
        this.store.markAttempt(a.id, "mined", receipt.blockNumber);
        this.store.confirmJob(job.id, a.txHash, receipt.blockNumber);
        this.log.info({ job: job.key, tx: a.txHash, block: receipt.blockNumber }, "confirmed");
        return "done";
      }
      this.store.markAttempt(a.id, "reverted", receipt.blockNumber);
      this.log.warn({ job: job.key, tx: a.txHash }, "transaction reverted");
      return "wait";
    }
    return undefined;
  }

  /** Replaces a stuck attempt with the same nonce and higher fees; undefined if already at the cap. */
  private async replace(job: Job, stuck: Attempt, attempts: Attempt[]): Promise<Pass | undefined> {
    const cap = this.options.maxFeePerGas;
    if (stuck.maxFeePerGas >= cap) return undefined;
    const raise = (v: bigint) => (v * BigInt(100 + this.options.bumpPercent) + 99n) / 100n;
    const maxFeePerGas = min(raise(stuck.maxFeePerGas), cap);
    const maxPriorityFeePerGas = min(raise(stuck.maxPriorityFeePerGas), maxFeePerGas);
    // A replacement must raise both fees by the node's minimum; at the cap it may not, and then waits.
    if (maxPriorityFeePerGas * 100n < stuck.maxPriorityFeePerGas * 110n || maxFeePerGas * 100n < stuck.maxFeePerGas * 110n) return undefined;
    const gasLimit = Transaction.from(stuck.raw).gasLimit;
    this.log.info({ job: job.key, nonce: stuck.nonce, maxFeePerGas: maxFeePerGas.toString() }, "replacing a stuck transaction with higher fees");
    const sent = await this.signAndSend(job, { nonce: stuck.nonce, gasLimit, maxFeePerGas, maxPriorityFeePerGas }, attempts);
    return sent === "accepted" ? "wait" : sent;
  }

  /**
   * A pending transaction that cannot be replaced (its fees are at the cap): held, with the reason on
   * the job, when the base fee is above what it offers (it is mined only if the base fee falls); else
   * it just waits its turn. Geth, and Hardhat while not automining, take such a transaction into their
   * pool rather than refusing it.
   */
  private async underBaseFee(job: Job, stuck: Attempt): Promise<Pass> {
    const block = await this.rpc("block", () => this.provider.getBlock("latest"));
    const baseFee = block?.baseFeePerGas;
    if (baseFee == null || stuck.maxFeePerGas >= baseFee) {
      this.hold(job, null); // the node has it and it pays enough: nothing holds it up any more
      return "wait";
    }
    this.hold(
      job,
      `stuck: transaction ${stuck.txHash} offers at most ${gwei(stuck.maxFeePerGas)} gwei per gas (the fee cap) and the base fee is ${gwei(baseFee)} gwei; it is mined only if the base fee falls: raise the fee cap (--max-fee-gwei)`,
    );
    return "held";
  }

  private async signAndSend(
    job: Job,
    t: { nonce: number; gasLimit: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
    attempts: Attempt[],
  ): Promise<"accepted" | Pass> {
    this.chainId ??= (await this.rpc("chainId", () => this.provider.getNetwork())).chainId;
    const raw = await this.wallet.signTransaction({ type: 2, chainId: this.chainId, to: job.to, data: job.data, value: 0n, ...t });
    const txHash = keccak256(raw);
    // The same transaction again (same nonce and fees): the node refused it as it stands, and says
    // nothing has changed since. Held with the reason, not recorded twice.
    const same = attempts.find((a) => a.txHash === txHash);
    if (same) {
      this.hold(job, `the node refused this transaction and quotes the same fees again (max fee ${t.maxFeePerGas} wei${same.status === "refused" ? "" : `; it is ${same.status}`})`);
      return "held";
    }
    const attempt = this.store.addAttempt({ jobId: job.id, nonce: t.nonce, txHash, raw, maxFeePerGas: t.maxFeePerGas, maxPriorityFeePerGas: t.maxPriorityFeePerGas });
    failpoint("sender:before-broadcast");
    const sent = await this.broadcast(job, attempt, attempts);
    failpoint("sender:after-broadcast");
    return sent;
  }

  /** Sends a recorded transaction: "accepted" when the node takes it (or already has it), else what its refusal means. */
  private async broadcast(job: Job, a: Attempt, attempts: Attempt[]): Promise<"accepted" | Pass> {
    try {
      await this.rpc("broadcast", () => this.provider.broadcastTransaction(a.raw));
      this.log.info({ tx: a.txHash, nonce: a.nonce }, "broadcast");
    } catch (err) {
      if (err instanceof Stopped || !fromNode(err)) throw err;
      const refusal = classifyRefusal(err);
      if (refusal.kind !== "known") return this.refused(job, refusal, a, attempts);
    }
    this.transient.delete(job.id);
    if (a.status === "signed") {
      this.store.markAttempt(a.id, "broadcast");
      this.hold(job, null); // the node took what it refused before
    }
    return "accepted";
  }

  /**
   * Acts on a node's refusal of `attempt` (or, without one, of the estimate for a new transaction):
   * reconcile, hold the job with the reason, re-sign at current fees, or fail the job.
   */
  private async refused(job: Job, refusal: Refusal, attempt: Attempt | undefined, attempts: Attempt[]): Promise<Pass> {
    const node = refusal.nodeMessage;
    if (refusal.class === "transient") {
      // Its nonce is taken (ours mined, or a pending transaction at it): the next pass reconciles —
      // unless the node keeps saying so (a lagging or lying node), then the job is held with the reason.
      const times = (this.transient.get(job.id) ?? 0) + 1;
      this.transient.set(job.id, times);
      if (times >= MAX_TRANSIENT_REFUSALS) {
        this.transient.delete(job.id);
        this.hold(job, `the node refused it ${times} times in a row: ${node}`);
        return "held";
      }
      this.log.debug({ job: job.key, tx: attempt?.txHash, kind: refusal.kind, node }, "broadcast refused; reconciling");
      return "wait";
    }
    if (refusal.kind === "fee-below-base-fee" && attempt && attempt.maxFeePerGas < this.options.maxFeePerGas) {
      // Signed when fees were lower (e.g. before funds came): the node never had it, so a new one at
      // current fees is a first offer, not a bump.
      this.store.markAttempt(attempt.id, "refused");
      this.log.info({ job: job.key, tx: attempt.txHash, node }, "fees went up since it was signed; signing anew at current fees");
      return "wait";
    }
    if (refusal.class === "wait") {
      this.hold(job, refusal.kind === "insufficient-funds" ? await this.lackOfFunds(attempt, node) : `refused by the node: ${node}`);
      return "held";
    }
    const reason = await this.terminalReason(refusal, attempt);
    if (attempt) this.store.markAttempt(attempt.id, "refused");
    // An earlier attempt the node took may still be mined: the job cannot be called failed yet.
    if (attempts.some((a) => a.id !== attempt?.id && a.status === "broadcast")) {
      this.log.error({ job: job.key, sender: this.address, reason }, `transaction refused: ${reason}`);
      this.hold(job, reason);
      return "held";
    }
    this.store.failJob(job.id, reason);
    this.log.error({ job: job.key, sender: this.address, reason }, `job failed: ${reason}`);
    return "done";
  }

  /** Records why the job is held up (null: it is not), writing only on a change. */
  private hold(job: Job, reason: string | null): void {
    if (this.store.job(job.id)!.refusal !== reason) this.store.setRefusal(job.id, reason);
  }

  /** "insufficient funds: 0x… holds 0.0 ETH and needs 0.00021 ETH (gas limit × max fee)": what the account lacks. */
  private async lackOfFunds(attempt: Attempt | undefined, node: string): Promise<string> {
    const balance = await this.rpc("balance", () => this.provider.getBalance(this.address));
    if (!attempt) return `insufficient funds: ${this.address} holds ${formatEther(balance)} ETH, not enough for the gas (node: ${node})`;
    const tx = Transaction.from(attempt.raw);
    const needs = tx.gasLimit * attempt.maxFeePerGas + tx.value;
    return `insufficient funds: ${this.address} holds ${formatEther(balance)} ETH and needs ${formatEther(needs)} ETH (gas limit ${tx.gasLimit} × max fee ${gwei(attempt.maxFeePerGas)} gwei); fund it`;
  }

  private async terminalReason(refusal: Refusal, attempt: Attempt | undefined): Promise<string> {
    const node = `(node: ${refusal.nodeMessage})`;
    const tx = attempt && Transaction.from(attempt.raw);
    switch (refusal.kind) {
      case "fee-below-base-fee": {
        const block = await this.rpc("block", () => this.provider.getBlock("latest"));
        const base = block?.baseFeePerGas != null ? ` ${gwei(block.baseFeePerGas)} gwei` : "";
        return `fee cap below the base fee: the most this sender offers, ${gwei(this.options.maxFeePerGas)} gwei per gas, is under the base fee${base}: raise the fee cap (--max-fee-gwei) ${node}`;
      }
      case "gas-above-limit":
        return `gas limit ${tx?.gasLimit ?? "?"} is more than the chain allows in a transaction or a block ${node}`;
      case "gas-below-intrinsic":
        return `gas limit ${tx?.gasLimit ?? "?"} is below the transaction's intrinsic gas ${node}`;
      case "wrong-chain":
        return `wrong chain: the transaction is signed for chain ${tx?.chainId ?? this.chainId ?? "?"} and the node serves another ${node}`;
      default:
        return `invalid sender: the node does not accept the signature of ${this.address} ${node}`;
    }
  }
}

/** Whether an error is the node's answer (an ethers error), as opposed to a bug in this process. */
const fromNode = (err: unknown): boolean => typeof (err as { code?: unknown })?.code === "string";

const gwei = (wei: bigint): string => formatUnits(wei, "gwei");

const min = (a: bigint, b: bigint) => (a < b ? a : b);
