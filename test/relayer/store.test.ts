import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteStore } from "../../relayer/store";

describe("relayer: the SQLite store", () => {
  const root = mkdtempSync(join(tmpdir(), "zkdl-store-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  /** What migrations 2 and 3 added: dropped, a file is as the first schema left it. */
  const V1 = "ALTER TABLE attestations DROP COLUMN judge_starts; ALTER TABLE jobs DROP COLUMN refusal; ALTER TABLE jobs DROP COLUMN refused_at; ALTER TABLE attempts DROP COLUMN accepted_at";
  const job = { kind: "register" as const, key: "register:0x01", runId: "0x01", sender: "0xS", to: "0xT", data: "0xdead" };

  it("migrates a new file once, in WAL mode, and refuses a newer schema", () => {
    const file = join(root, "a.sqlite");
    new SqliteStore(file).close();
    const reopened = new SqliteStore(file); // a second open applies nothing twice
    reopened.close();
    const db = new Database(file);
    expect(db.pragma("journal_mode", { simple: true })).to.equal("wal");
    expect(db.pragma("user_version", { simple: true })).to.equal(3);
    db.pragma("user_version = 99");
    db.close();
    expect(() => new SqliteStore(file)).to.throw(/schema version 99/);
  });

  it("migrates a version-1 file: its jobs and attempts gain the refusal and the time the node took them", () => {
    const file = join(root, "v1.sqlite");
    // A store as the first schema left it, with a pending job and a broadcast attempt.
    const old = new SqliteStore(file);
    const j = old.enqueue(job);
    const a = old.addAttempt({ jobId: j.id, nonce: 3, txHash: "0xh0", raw: "0xraw", maxFeePerGas: 10n, maxPriorityFeePerGas: 1n });
    old.markAttempt(a.id, "broadcast");
    old.close();
    const db = new Database(file);
    db.exec(V1);
    db.pragma("user_version = 1");
    db.close();

    const store = new SqliteStore(file);
    expect(store.job(j.id)).to.include({ status: "pending", refusal: null, refusedAt: null });
    expect(store.attempts(j.id)[0]).to.include({ status: "broadcast", acceptedAt: null });
    store.setRefusal(j.id, "insufficient funds: 0xS holds 0.0 ETH");
    expect(store.job(j.id)!.refusal).to.equal("insufficient funds: 0xS holds 0.0 ETH");
    expect(store.job(j.id)!.refusedAt).to.be.a("number");
    store.setRefusal(j.id, null);
    expect(store.job(j.id)).to.include({ refusal: null, refusedAt: null });
    store.close();
  });

  it("stamps when the node first took an attempt, and clears a job's refusal when it settles", () => {
    const store = new SqliteStore(":memory:");
    const j = store.enqueue(job);
    const a = store.addAttempt({ jobId: j.id, nonce: 1, txHash: "0xh2", raw: "0xraw", maxFeePerGas: 10n, maxPriorityFeePerGas: 1n });
    expect(store.attempts(j.id)[0].acceptedAt).to.equal(null);
    store.markAttempt(a.id, "broadcast");
    const accepted = store.attempts(j.id)[0].acceptedAt!;
    expect(accepted).to.be.a("number");
    store.markAttempt(a.id, "broadcast");
    store.markAttempt(a.id, "refused");
    expect(store.attempts(j.id)[0]).to.include({ status: "refused", acceptedAt: accepted });
    store.setRefusal(j.id, "refused by the node: txpool is full");
    store.failJob(j.id, "wrong chain");
    expect(store.job(j.id)).to.include({ status: "failed", reason: "wrong chain", refusal: null });
    expect(store.retryJob(j.id, "0xbeef")).to.include({ status: "pending", refusal: null });
    store.setRefusal(j.id, "insufficient funds");
    store.confirmJob(j.id, "0xh2", 5);
    expect(store.job(j.id)).to.include({ status: "confirmed", refusal: null });
    store.close();
  });

  it("enqueues a job once per key and keeps its attempts, state and reason across reopenings", () => {
    const file = join(root, "b.sqlite");
    const store = new SqliteStore(file);
    const a = store.enqueue(job);
    const b = store.enqueue({ ...job, data: "0xbeef" });
    expect(b.id).to.equal(a.id);
    expect(b.data).to.equal("0xdead");
    store.addAttempt({ jobId: a.id, nonce: 7, txHash: "0xh1", raw: "0xraw", maxFeePerGas: 10n, maxPriorityFeePerGas: 1n });
    expect(() => store.addAttempt({ jobId: a.id, nonce: 7, txHash: "0xh1", raw: "0xraw", maxFeePerGas: 10n, maxPriorityFeePerGas: 1n })).to.throw(/UNIQUE/);
    store.failJob(a.id, "reverts: InvalidSignature");
    store.close();
    const again = new SqliteStore(file);
    expect(again.job(a.id)).to.include({ status: "failed", reason: "reverts: InvalidSignature" });
    expect(again.attempts(a.id).map((x) => [x.nonce, x.status, x.maxFeePerGas])).to.deep.equal([[7, "signed", 10n]]);
    const retried = again.retryJob(a.id, "0xfeed");
    expect(retried).to.include({ status: "pending", data: "0xfeed", reason: null });
    again.setCursor("attestor", 41);
    again.setCursor("attestor", 42);
    expect(again.cursor("attestor")).to.equal(42);
    expect(again.cursor("other")).to.equal(undefined);
    again.close();
  });

  it("indexes records by digest and notes an attestor's runs idempotently", () => {
    const store = new SqliteStore(":memory:");
    store.addRun({ runId: "0xr", publisher: "0xp", manifestDigest: "0xm", dir: "/runs/r", datasetSize: 3, addedAt: 1 }, ["0xa", "0xb", "0xa"]);
    expect([store.findRecord("0xr", "0xa"), store.findRecord("0xr", "0xb"), store.findRecord("0xr", "0xc")]).to.deep.equal([0, 1, undefined]);
    store.noteRun("0xr", "0xA", 5, "{}");
    store.noteRun("0xr", "0xA", 9, "{}");
    expect(store.pendingAttestations("0xA", Date.now())).to.have.length(1);
    store.deferAttestation("0xr", "0xA", "down", Date.now() + 60_000);
    expect(store.pendingAttestations("0xA", Date.now())).to.have.length(0);
    const decided = store.decideAttestation({ runId: "0xr", attestor: "0xA", valid: true, reason: null, report: "{}", reportDigest: "0xd" }, { ...job, kind: "attest", key: "attest:0xr:0xA" });
    expect(decided.kind).to.equal("attest");
    expect(store.attestation("0xr", "0xA")).to.include({ state: "decided", valid: true, tries: 1 });
    store.close();
  });

  it("counts judging starts, lists an attestor's runs by state, and upgrades a version-1 file", () => {
    const file = join(root, "c.sqlite");
    const store = new SqliteStore(file);
    store.noteRun("0xr1", "0xA", 5, "{}");
    store.noteRun("0xr2", "0xA", 6, "{}");
    store.noteRun("0xr1", "0xB", 5, "{}");
    store.startJudging("0xr1", "0xA");
    store.startJudging("0xr1", "0xA");
    expect(store.attestation("0xr1", "0xA")).to.include({ judgeStarts: 2, state: "fetching" });
    store.skipAttestation("0xr2", "0xA", "cannot judge: not downloaded within 500 ms");
    expect(store.attestations().map((a) => [a.runId, a.attestor, a.state])).to.deep.equal([
      ["0xr1", "0xA", "fetching"],
      ["0xr1", "0xB", "fetching"],
      ["0xr2", "0xA", "skipped"],
    ]);
    expect(store.attestations({ state: "skipped" }).map((a) => a.reason)).to.deep.equal(["cannot judge: not downloaded within 500 ms"]);
    expect(store.attestations({ attestor: "0xB" })).to.have.length(1);
    // A deferral (the bundle could not be fetched) ends the judging that began: its starts no longer count.
    store.deferAttestation("0xr1", "0xA", "cannot fetch", 0);
    expect(store.attestation("0xr1", "0xA")).to.include({ judgeStarts: 0, tries: 1 });
    store.startJudging("0xr1", "0xA");
    store.startJudging("0xr1", "0xA");
    store.close();
    // A store written before judge_starts existed: the column arrives with 0 and the rows stay.
    const db = new Database(file);
    db.exec(V1);
    db.pragma("user_version = 1");
    db.close();
    const upgraded = new SqliteStore(file);
    expect(upgraded.attestation("0xr1", "0xA")).to.include({ judgeStarts: 0, state: "fetching" });
    expect(upgraded.attestation("0xr2", "0xA")).to.include({ state: "skipped" });
    upgraded.close();
  });
});
