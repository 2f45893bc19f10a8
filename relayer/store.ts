/**
 * The relayer's durable state: runs served by the API, the record index, the outbox of transactions
 * (registrations and attestations) with every attempt, the attestor's decisions, and event cursors.
 *
 * `Store` is the interface the relayer, attestor and API use; `SqliteStore` is the embedded default
 * (better-sqlite3, one file, WAL, schema migrations by `PRAGMA user_version`). Every method is one
 * atomic statement or transaction, so a process killed at any point leaves a consistent file; a
 * PostgreSQL store can implement the same interface for several API instances.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** A run folder known to this server. */
export interface StoredRun {
  readonly runId: string;
  readonly publisher: string;
  readonly manifestDigest: string;
  /** Absolute path of the run folder. */
  readonly dir: string;
  readonly datasetSize: number;
  readonly addedAt: number;
}

export type JobKind = "register" | "attest";
/** pending: to do (or in flight); confirmed: its effect is on chain; failed: can never succeed (reason). */
export type JobStatus = "pending" | "confirmed" | "failed";

/** One transaction to get on chain, identified by what it does (`key`), not by any hash. */
export interface Job {
  readonly id: number;
  readonly kind: JobKind;
  /** Unique: `register:<runId>` or `attest:<runId>:<attestor>`; enqueuing twice is a no-op. */
  readonly key: string;
  readonly runId: string;
  /** The account that must send it. */
  readonly sender: string;
  readonly to: string;
  readonly data: string;
  readonly status: JobStatus;
  /** Why it failed (failed jobs), or how its effect got on chain when not by its own transaction (confirmed). */
  readonly reason: string | null;
  /**
   * While pending: why its transaction is not getting on chain now, in words (the node refused it, e.g.
   * for lack of funds, or it is priced under the base fee at the fee cap); null once the node takes it.
   */
  readonly refusal: string | null;
  readonly refusedAt: number | null;
  /** The transaction that took effect (confirmed jobs; null when another sender's did). */
  readonly txHash: string | null;
  readonly blockNumber: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * signed: recorded, not (yet) known to be taken by the node; broadcast: the node took it (accepted into
 * its pool, or already knew it); refused: the node turned it down and it will not be sent again (a new
 * attempt replaces it); mined and reverted: its receipt.
 */
export type AttemptStatus = "signed" | "broadcast" | "refused" | "mined" | "reverted";

/** One signed transaction for a job; recorded before it is broadcast. */
export interface Attempt {
  readonly id: number;
  readonly jobId: number;
  readonly nonce: number;
  readonly txHash: string;
  readonly raw: string;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly status: AttemptStatus;
  readonly createdAt: number;
  /** When the node first took it (null: never, or a store from before this was recorded). */
  readonly acceptedAt: number | null;
  readonly blockNumber: number | null;
}

/** An attestor's handling of one registered run. */
export interface AttestationRecord {
  readonly runId: string;
  readonly attestor: string;
  /**
   * fetching: not yet judged (retried while the bundle cannot be fetched); decided: verdict taken and
   * its attest job enqueued; skipped: nothing to attest (the run was decided or revoked, or is our own),
   * or the run cannot be judged (reason "cannot judge: …").
   */
  readonly state: "fetching" | "decided" | "skipped";
  /** The registered record, as logged (JSON, integers as decimal strings). */
  readonly record: string;
  readonly valid: boolean | null;
  readonly reason: string | null;
  readonly reportDigest: string | null;
  /** The verification report whose keccak-256 is reportDigest (canonical JSON). */
  readonly report: string | null;
  /** Failed tries to fetch the bundle. */
  readonly tries: number;
  readonly nextTryAt: number;
  /** Times judging (verification) began; any while still `fetching` means the process died in it. */
  readonly judgeStarts: number;
  readonly blockNumber: number;
}

/** An attestor's verdict on a run, with its report. */
export interface Decision {
  readonly runId: string;
  readonly attestor: string;
  readonly valid: boolean;
  readonly reason: string | null;
  readonly report: string;
  readonly reportDigest: string;
}

export interface Store {
  addRun(run: StoredRun, recordDigests: readonly string[]): void;
  getRun(runId: string): StoredRun | undefined;
  listRuns(): StoredRun[];
  /** Index of the first record of the run whose quantized-record digest is `digest`. */
  findRecord(runId: string, digest: string): number | undefined;

  /** Inserts the job unless one with its key exists; returns the stored job either way. */
  enqueue(job: Pick<Job, "kind" | "key" | "runId" | "sender" | "to" | "data">): Job;
  /** Puts a failed job back to pending with new calldata (a re-signed registration). */
  retryJob(id: number, data: string): Job;
  job(id: number): Job | undefined;
  jobByKey(key: string): Job | undefined;
  jobs(filter?: { status?: JobStatus; sender?: string; kind?: JobKind }): Job[];
  confirmJob(id: number, txHash: string | null, blockNumber: number | null, reason?: string): void;
  failJob(id: number, reason: string): void;
  /** Records why a pending job's transaction is not getting on chain now; null clears it. */
  setRefusal(id: number, refusal: string | null): void;

  addAttempt(a: Omit<Attempt, "id" | "status" | "createdAt" | "acceptedAt" | "blockNumber">): Attempt;
  attempts(jobId: number): Attempt[];
  /** Sets an attempt's status; the first "broadcast" also stamps acceptedAt. */
  markAttempt(id: number, status: AttemptStatus, blockNumber?: number): void;

  attestation(runId: string, attestor: string): AttestationRecord | undefined;
  /** Records a run the attestor must judge (no-op if known). */
  noteRun(runId: string, attestor: string, blockNumber: number, record: string): void;
  pendingAttestations(attestor: string, now: number): AttestationRecord[];
  /** Every run the attestor has noted, oldest first, optionally in one state. */
  attestations(filter?: { attestor?: string; state?: AttestationRecord["state"] }): AttestationRecord[];
  deferAttestation(runId: string, attestor: string, reason: string, nextTryAt: number): void;
  /** Records the verdict and enqueues its attest job, atomically. */
  decideAttestation(d: Decision, job: Parameters<Store["enqueue"]>[0]): Job;
  skipAttestation(runId: string, attestor: string, reason: string): void;
  /** Counts a start of judging (before the download and verification, which might not return); a deferral resets it. */
  startJudging(runId: string, attestor: string): void;

  cursor(name: string): number | undefined;
  setCursor(name: string, block: number): void;

  close(): void;
}

/** Schema versions, applied in order; each runs once, inside a transaction. */
const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     run_id TEXT PRIMARY KEY, publisher TEXT NOT NULL, manifest_digest TEXT NOT NULL, dir TEXT NOT NULL,
     dataset_size INTEGER NOT NULL, added_at INTEGER NOT NULL);
   CREATE TABLE records (
     run_id TEXT NOT NULL REFERENCES runs(run_id), digest TEXT NOT NULL, idx INTEGER NOT NULL,
     PRIMARY KEY (run_id, digest)) WITHOUT ROWID;
   CREATE TABLE jobs (
     id INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL, sender TEXT NOT NULL,
     to_addr TEXT NOT NULL, data TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, tx_hash TEXT, block_number INTEGER,
     created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE INDEX jobs_by_status ON jobs(status, sender, id);
   CREATE TABLE attempts (
     id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL REFERENCES jobs(id), nonce INTEGER NOT NULL, tx_hash TEXT NOT NULL UNIQUE,
     raw TEXT NOT NULL, max_fee TEXT NOT NULL, priority_fee TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
     block_number INTEGER);
   CREATE INDEX attempts_by_job ON attempts(job_id, id);
   CREATE TABLE attestations (
     run_id TEXT NOT NULL, attestor TEXT NOT NULL, state TEXT NOT NULL, record TEXT NOT NULL, valid INTEGER, reason TEXT,
     report_digest TEXT, report TEXT,
     tries INTEGER NOT NULL DEFAULT 0, next_try_at INTEGER NOT NULL DEFAULT 0, block_number INTEGER NOT NULL,
     PRIMARY KEY (run_id, attestor));
   CREATE TABLE cursors (name TEXT PRIMARY KEY, block INTEGER NOT NULL);`,
  // 2: how often judging a run began (an attestor that keeps dying in the verifier skips the run).
  `ALTER TABLE attestations ADD COLUMN judge_starts INTEGER NOT NULL DEFAULT 0;`,
  // 3: why a pending job is held up (the node's refusal), and when the node took each attempt (the
  //    fee-bump clock starts there, not at signing).
  `ALTER TABLE jobs ADD COLUMN refusal TEXT;
   ALTER TABLE jobs ADD COLUMN refused_at INTEGER;
   ALTER TABLE attempts ADD COLUMN accepted_at INTEGER;`,
];

/** The file name of the embedded store inside a data folder. */
export const STORE_FILE = "zkdl.sqlite";

type Row = Record<string, unknown>;

const toJob = (r: Row): Job => ({
  id: r.id as number,
  kind: r.kind as JobKind,
  key: r.key as string,
  runId: r.run_id as string,
  sender: r.sender as string,
  to: r.to_addr as string,
  data: r.data as string,
  status: r.status as JobStatus,
  reason: (r.reason as string) ?? null,
  refusal: (r.refusal as string) ?? null,
  refusedAt: (r.refused_at as number) ?? null,
  txHash: (r.tx_hash as string) ?? null,
  blockNumber: (r.block_number as number) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

const toAttempt = (r: Row): Attempt => ({
  id: r.id as number,
  jobId: r.job_id as number,
  nonce: r.nonce as number,
  txHash: r.tx_hash as string,
  raw: r.raw as string,
  maxFeePerGas: BigInt(r.max_fee as string),
  maxPriorityFeePerGas: BigInt(r.priority_fee as string),
  status: r.status as AttemptStatus,
  createdAt: r.created_at as number,
  acceptedAt: (r.accepted_at as number) ?? null,
  blockNumber: (r.block_number as number) ?? null,
});

const toAttestation = (r: Row): AttestationRecord => ({
  runId: r.run_id as string,
  attestor: r.attestor as string,
  state: r.state as AttestationRecord["state"],
  valid: r.valid === null ? null : r.valid === 1,
  reason: (r.reason as string) ?? null,
  record: r.record as string,
  reportDigest: (r.report_digest as string) ?? null,
  report: (r.report as string) ?? null,
  tries: r.tries as number,
  nextTryAt: r.next_try_at as number,
  judgeStarts: r.judge_starts as number,
  blockNumber: r.block_number as number,
});

const toRun = (r: Row): StoredRun => ({
  runId: r.run_id as string,
  publisher: r.publisher as string,
  manifestDigest: r.manifest_digest as string,
  dir: r.dir as string,
  datasetSize: r.dataset_size as number,
  addedAt: r.added_at as number,
});

export class SqliteStore implements Store {
  private readonly db: Database.Database;

  /** Opens (creating if needed) the store at `file`; ":memory:" for a throwaway one. */
  constructor(readonly file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    // FULL: a committed transaction survives power loss, not only a killed process.
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > MIGRATIONS.length) throw new Error(`store ${this.file} has schema version ${version}; this build knows ${MIGRATIONS.length}`);
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  addRun(run: StoredRun, recordDigests: readonly string[]): void {
    const insertRun = this.db.prepare(
      `INSERT INTO runs (run_id, publisher, manifest_digest, dir, dataset_size, added_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(run_id) DO UPDATE SET dir = excluded.dir`,
    );
    const insertRecord = this.db.prepare(`INSERT OR IGNORE INTO records (run_id, digest, idx) VALUES (?, ?, ?)`);
    this.db.transaction(() => {
      insertRun.run(run.runId, run.publisher, run.manifestDigest, run.dir, run.datasetSize, run.addedAt);
      recordDigests.forEach((d, i) => insertRecord.run(run.runId, d, i));
    }).immediate();
  }

  getRun(runId: string): StoredRun | undefined {
    const r = this.db.prepare(`SELECT * FROM runs WHERE run_id = ?`).get(runId) as Row | undefined;
    return r && toRun(r);
  }

  listRuns(): StoredRun[] {
    return (this.db.prepare(`SELECT * FROM runs ORDER BY added_at, run_id`).all() as Row[]).map(toRun);
  }

  private findRecordStatement?: Database.Statement;

  findRecord(runId: string, digest: string): number | undefined {
    // The membership endpoint's hot path: keep the statement prepared.
    this.findRecordStatement ??= this.db.prepare(`SELECT idx FROM records WHERE run_id = ? AND digest = ?`);
    const r = this.findRecordStatement.get(runId, digest) as Row | undefined;
    return r?.idx as number | undefined;
  }

  enqueue(job: Pick<Job, "kind" | "key" | "runId" | "sender" | "to" | "data">): Job {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT OR IGNORE INTO jobs (kind, key, run_id, sender, to_addr, data, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(job.kind, job.key, job.runId, job.sender, job.to, job.data, now, now);
    return this.jobByKey(job.key)!;
  }

  retryJob(id: number, data: string): Job {
    this.db
      .prepare(`UPDATE jobs SET status = 'pending', reason = NULL, refusal = NULL, refused_at = NULL, data = ?, updated_at = ? WHERE id = ? AND status = 'failed'`)
      .run(data, Date.now(), id);
    return this.job(id)!;
  }

  job(id: number): Job | undefined {
    const r = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
    return r && toJob(r);
  }

  jobByKey(key: string): Job | undefined {
    const r = this.db.prepare(`SELECT * FROM jobs WHERE key = ?`).get(key) as Row | undefined;
    return r && toJob(r);
  }

  jobs(filter: { status?: JobStatus; sender?: string; kind?: JobKind } = {}): Job[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) (where.push("status = ?"), args.push(filter.status));
    if (filter.sender) (where.push("sender = ?"), args.push(filter.sender));
    if (filter.kind) (where.push("kind = ?"), args.push(filter.kind));
    const sql = `SELECT * FROM jobs ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toJob);
  }

  confirmJob(id: number, txHash: string | null, blockNumber: number | null, reason?: string): void {
    this.db
      .prepare(`UPDATE jobs SET status = 'confirmed', tx_hash = ?, block_number = ?, reason = ?, refusal = NULL, refused_at = NULL, updated_at = ? WHERE id = ?`)
      .run(txHash, blockNumber, reason ?? null, Date.now(), id);
  }

  failJob(id: number, reason: string): void {
    this.db.prepare(`UPDATE jobs SET status = 'failed', reason = ?, refusal = NULL, refused_at = NULL, updated_at = ? WHERE id = ?`).run(reason, Date.now(), id);
  }

  setRefusal(id: number, refusal: string | null): void {
    const now = Date.now();
    this.db.prepare(`UPDATE jobs SET refusal = ?, refused_at = ?, updated_at = ? WHERE id = ?`).run(refusal, refusal === null ? null : now, now, id);
  }

  addAttempt(a: Omit<Attempt, "id" | "status" | "createdAt" | "acceptedAt" | "blockNumber">): Attempt {
    const info = this.db
      .prepare(
        `INSERT INTO attempts (job_id, nonce, tx_hash, raw, max_fee, priority_fee, status, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'signed', ?)`,
      )
      .run(a.jobId, a.nonce, a.txHash, a.raw, a.maxFeePerGas.toString(), a.maxPriorityFeePerGas.toString(), Date.now());
    return toAttempt(this.db.prepare(`SELECT * FROM attempts WHERE id = ?`).get(info.lastInsertRowid) as Row);
  }

  attempts(jobId: number): Attempt[] {
    return (this.db.prepare(`SELECT * FROM attempts WHERE job_id = ? ORDER BY id`).all(jobId) as Row[]).map(toAttempt);
  }

  markAttempt(id: number, status: AttemptStatus, blockNumber?: number): void {
    this.db
      .prepare(
        `UPDATE attempts SET status = ?, block_number = COALESCE(?, block_number),
           accepted_at = CASE WHEN ? = 'broadcast' THEN COALESCE(accepted_at, ?) ELSE accepted_at END WHERE id = ?`,
      )
      .run(status, blockNumber ?? null, status, Date.now(), id);
  }

  attestation(runId: string, attestor: string): AttestationRecord | undefined {
    const r = this.db.prepare(`SELECT * FROM attestations WHERE run_id = ? AND attestor = ?`).get(runId, attestor) as Row | undefined;
    return r && toAttestation(r);
  }

  noteRun(runId: string, attestor: string, blockNumber: number, record: string): void {
    this.db
      .prepare(`INSERT OR IGNORE INTO attestations (run_id, attestor, state, record, block_number) VALUES (?, ?, 'fetching', ?, ?)`)
      .run(runId, attestor, record, blockNumber);
  }

  pendingAttestations(attestor: string, now: number): AttestationRecord[] {
    return (
      this.db
        .prepare(`SELECT * FROM attestations WHERE attestor = ? AND state = 'fetching' AND next_try_at <= ? ORDER BY block_number, run_id`)
        .all(attestor, now) as Row[]
    ).map(toAttestation);
  }

  attestations(filter: { attestor?: string; state?: AttestationRecord["state"] } = {}): AttestationRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.attestor) (where.push("attestor = ?"), args.push(filter.attestor));
    if (filter.state) (where.push("state = ?"), args.push(filter.state));
    const sql = `SELECT * FROM attestations ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY block_number, run_id, attestor`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toAttestation);
  }

  deferAttestation(runId: string, attestor: string, reason: string, nextTryAt: number): void {
    this.db
      // A deferral is an outcome: the judging that began has ended, so its start no longer counts.
      .prepare(`UPDATE attestations SET tries = tries + 1, reason = ?, next_try_at = ?, judge_starts = 0 WHERE run_id = ? AND attestor = ?`)
      .run(reason, nextTryAt, runId, attestor);
  }

  decideAttestation(d: Decision, job: Parameters<Store["enqueue"]>[0]): Job {
    return this.db.transaction(() => {
      this.db
        .prepare(`UPDATE attestations SET state = 'decided', valid = ?, reason = ?, report_digest = ?, report = ? WHERE run_id = ? AND attestor = ?`)
        .run(d.valid ? 1 : 0, d.reason, d.reportDigest, d.report, d.runId, d.attestor);
      return this.enqueue(job);
    }).immediate();
  }

  skipAttestation(runId: string, attestor: string, reason: string): void {
    this.db.prepare(`UPDATE attestations SET state = 'skipped', reason = ? WHERE run_id = ? AND attestor = ?`).run(reason, runId, attestor);
  }

  startJudging(runId: string, attestor: string): void {
    this.db.prepare(`UPDATE attestations SET judge_starts = judge_starts + 1 WHERE run_id = ? AND attestor = ?`).run(runId, attestor);
  }

  cursor(name: string): number | undefined {
    const r = this.db.prepare(`SELECT block FROM cursors WHERE name = ?`).get(name) as Row | undefined;
    return r?.block as number | undefined;
  }

  setCursor(name: string, block: number): void {
    this.db.prepare(`INSERT INTO cursors (name, block) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block = excluded.block`).run(name, block);
  }

  close(): void {
    this.db.close();
  }
}
