/** `zkdl outbox`: every registration and attestation job, and the runs an attestor has not attested (the store alone). */
import type { JobStatus } from "../../relayer/store";
import { die } from "../exit";
import { openExistingStore } from "./store";

export function outbox(o: { data?: string; status?: string; json?: boolean }): void {
  const jobStates = ["pending", "confirmed", "failed"];
  const runStates = { skipped: "skipped", waiting: "fetching" } as const;
  if (o.status && !jobStates.includes(o.status) && !(o.status in runStates)) die("--status is pending, confirmed, failed, skipped or waiting");
  const store = openExistingStore(o.data!);
  try {
    const jobs = (!o.status || jobStates.includes(o.status) ? store.jobs({ status: o.status as JobStatus | undefined }) : []).map((j) => ({
      ...j,
      attempts: store.attempts(j.id).map((a) => ({ nonce: a.nonce, txHash: a.txHash, status: a.status })),
    }));
    // An attestor's runs with no attest job: skipped, or waiting (not judged yet, or its bundle being retried).
    const unattested = (!o.status || o.status in runStates ? store.attestations({ state: o.status ? runStates[o.status as keyof typeof runStates] : undefined }) : [])
      .filter((a) => a.state !== "decided")
      .map((a) => ({ kind: "attest", key: `attest:${a.runId}:${a.attestor}`, runId: a.runId, sender: a.attestor, status: a.state === "skipped" ? "skipped" : "waiting", reason: a.reason, tries: a.tries, nextTryAt: a.nextTryAt, attempts: [] }));
    if (o.json) process.stdout.write(JSON.stringify([...jobs, ...unattested], null, 2) + "\n");
    else {
      for (const j of jobs) {
        const why = j.reason ?? (j.refusal ? `not sent: ${j.refusal}` : null);
        process.stdout.write(`${j.id}\t${j.status}\t${j.key}\t${j.attempts.length} attempt(s)${why ? `\t${why}` : ""}\n`);
      }
      for (const a of unattested) process.stdout.write(`-\t${a.status}\t${a.key}\t${a.tries} fetch tries${a.reason ? `\t${a.reason}` : ""}\n`);
    }
  } finally {
    store.close();
  }
}
