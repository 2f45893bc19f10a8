/**
 * The outbox's transaction sender: takes a job (what must end up on chain) to a terminal state without
 * ever losing it or doing it twice, across crashes, RPC outages, dropped and stuck transactions.
 *
 * Each pass over a job reconciles with the chain before acting:
 *   1. a receipt for any recorded attempt?  mined → wait for N confirmations → confirmed;
 *      reverted → judged below (a revert that means "already done" confirms the job);
 *   2. the job's effect already on chain (another relayer, a receipt we lost)?  → confirmed;
 *   3. an attempt whose nonce is still unused?  rebroadcast it, or after `bumpAfterMs` replace it with
 *      the same nonce and higher fees (capped at `maxFeePerGas`);
 *   4. otherwise simulate the call (a revert decides: done, or failed with the decoded reason), sign a
 *      new transaction at the account's pending nonce, record it, and only then broadcast it.
 * Because every attempt is recorded before broadcast and step 1–2 come first, a process killed at any
 * point and restarted ends in the same state as one that never stopped.
 */
import { type JsonRpcProvider, Transaction, type Wallet, keccak256 } from "ethers";
import type pino from "pino";
import { type Backoff, Reverted, Stopped, decodeRevert, failpoint, sleep, withRetry } from "./chain";
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
}

export const DEFAULT_SENDER_OPTIONS: SenderOptions = {
  confirmations: 1,
  pollMs: 500,
  bumpAfterMs: 60_000,
  bumpPercent: 25,
  maxFeePerGas: 500n * 10n ** 9n,
  maxReverts: 3,
};

type Pass = "done" | "wait";

export class TxSender {
  readonly options: SenderOptions;
  private chainId?: bigint;

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

  /** Drives every pending job of this sender, oldest first, to a terminal state. */
  async drain(): Promise<Job[]> {
    const settled: Job[] = [];
    for (const job of this.store.jobs({ status: "pending", sender: this.address })) {
      if (this.signal?.aborted) break;
      settled.push(await this.settle(job));
    }
    return settled;
  }

  /** Drives one job to confirmed or failed (or until stopped). */
  async settle(job: Job): Promise<Job> {
    if (job.sender !== this.address) throw new Error(`job ${job.key} must be sent by ${job.sender}, not ${this.address}`);
    for (;;) {
      const current = this.store.job(job.id)!;
      if (current.status !== "pending" || this.signal?.aborted) return current;
      if ((await this.pass(current)) === "wait") await sleep(this.options.pollMs, this.signal);
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
    const live = attempts.filter((a) => a.status !== "reverted");
    const latest = live.at(-1);
    if (latest) {
      const used = await this.rpc("nonce", () => this.provider.getTransactionCount(this.address, "latest"));
      if (latest.nonce >= used) {
        if (Date.now() - latest.createdAt >= this.options.bumpAfterMs) {
          const replaced = await this.replace(job, latest);
          if (replaced) return "wait";
        }
        await this.broadcast(latest);
        return "wait";
      }
      // Its nonce went to a transaction we have no receipt for: a replacement sent elsewhere, or a
      // drop and reuse. The job is not done (step 2), so it needs a new transaction.
    }

    // 4. Simulate, then sign, record and broadcast a new transaction.
    const reverts = attempts.length - live.length;
    let gas: bigint;
    try {
      gas = await this.rpc("estimateGas", () => this.provider.estimateGas({ from: this.address, to: job.to, data: job.data }));
    } catch (err) {
      const revert = decodeRevert(err);
      if (!revert) throw err;
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
    await this.signAndSend(job, { nonce, gasLimit: (gas * 6n) / 5n, maxFeePerGas, maxPriorityFeePerGas });
    return "wait";
  }

  /** Settles the job from the receipt of its latest mined attempt, if any (undefined: none mined). */
  private async fromReceipts(job: Job, attempts: Attempt[]): Promise<Pass | undefined> {
    for (const a of [...attempts].reverse()) {
      if (a.status === "reverted") continue;
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

  /** Replaces a stuck attempt with the same nonce and higher fees; false if already at the cap. */
  private async replace(job: Job, stuck: Attempt): Promise<boolean> {
    const cap = this.options.maxFeePerGas;
    if (stuck.maxFeePerGas >= cap) return false;
    const raise = (v: bigint) => (v * BigInt(100 + this.options.bumpPercent) + 99n) / 100n;
    const maxFeePerGas = min(raise(stuck.maxFeePerGas), cap);
    const maxPriorityFeePerGas = min(raise(stuck.maxPriorityFeePerGas), maxFeePerGas);
    // A replacement must raise both fees by the node's minimum; at the cap it may not, and then waits.
    if (maxPriorityFeePerGas * 100n < stuck.maxPriorityFeePerGas * 110n || maxFeePerGas * 100n < stuck.maxFeePerGas * 110n) return false;
    const gasLimit = Transaction.from(stuck.raw).gasLimit;
    this.log.info({ job: job.key, nonce: stuck.nonce, maxFeePerGas: maxFeePerGas.toString() }, "replacing a stuck transaction with higher fees");
    await this.signAndSend(job, { nonce: stuck.nonce, gasLimit, maxFeePerGas, maxPriorityFeePerGas });
    return true;
  }

  private async signAndSend(job: Job, t: { nonce: number; gasLimit: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): Promise<void> {
    this.chainId ??= (await this.rpc("chainId", () => this.provider.getNetwork())).chainId;
    const raw = await this.wallet.signTransaction({ type: 2, chainId: this.chainId, to: job.to, data: job.data, value: 0n, ...t });
    const attempt = this.store.addAttempt({ jobId: job.id, nonce: t.nonce, txHash: keccak256(raw), raw, maxFeePerGas: t.maxFeePerGas, maxPriorityFeePerGas: t.maxPriorityFeePerGas });
    failpoint("sender:before-broadcast");
    await this.broadcast(attempt);
    failpoint("sender:after-broadcast");
  }

  /** Sends a recorded transaction; "already known", "nonce too low" and the like are left to the next pass. */
  private async broadcast(a: Attempt): Promise<void> {
    try {
      await this.rpc("broadcast", () => this.provider.broadcastTransaction(a.raw));
      if (a.status === "signed") this.store.markAttempt(a.id, "broadcast");
      this.log.info({ tx: a.txHash, nonce: a.nonce }, "broadcast");
    } catch (err) {
      if (err instanceof Stopped) throw err;
      this.log.debug({ tx: a.txHash, err: (err as Error).message?.slice(0, 160) }, "broadcast refused; reconciling");
    }
  }
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
