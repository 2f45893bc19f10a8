/**
 * Off-chain side of ProofRegistry for the relayer and attestors: what registration and attestation jobs
 * mean on chain. The shared vocabulary (run record, ids, statuses, EIP-712 registration) is
 * client/registry.ts.
 */
import type { ProofRegistry } from "../typechain-types";
import { RunStatus, AttestationVote } from "../client/registry";
import type { JobEffect } from "./sender";

/** What registration and attestation jobs mean on chain (for the outbox sender). */
export function registryEffects(registry: ProofRegistry): Record<"register" | "attest", JobEffect> {
  return {
    register: {
      async alreadyDone(job) {
        const status = Number(await registry.statusOf(job.runId));
        return status === RunStatus.None ? null : `already registered (status ${RunStatus[status]})`;
      },
      meansDone: (r) => r.errorName === "RunAlreadyRegistered",
    },
    attest: {
      async alreadyDone(job) {
        const a = await registry.attestationOf(job.runId, job.sender);
        return Number(a.verdict) === AttestationVote.None ? null : `already attested (${AttestationVote[Number(a.verdict)]})`;
      },
      meansDone: (r) => r.errorName === "AlreadyAttested",
    },
  };
}
