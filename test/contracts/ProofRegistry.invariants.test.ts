/**
 * Randomized model-based test: long random sequences of registrations, attestations, revocations and
 * quorum changes, by allowed and disallowed actors, checked after every step against a TypeScript model
 * of the lifecycle.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployRegistryFixture, randomRecord } from "../helpers/registry";
import { rng } from "../helpers/random";
import { modelKeyOf, runIdOf, RunStatus, AttestationVote, type RunRecord } from "../../client/registry";

const ALLOWED_EDGES = new Set([
  `${RunStatus.None}->${RunStatus.Registered}`,
  `${RunStatus.Registered}->${RunStatus.Verified}`,
  `${RunStatus.Registered}->${RunStatus.Rejected}`,
  `${RunStatus.Registered}->${RunStatus.Revoked}`,
  `${RunStatus.Verified}->${RunStatus.Revoked}`,
]);

interface ModelRun {
  record: RunRecord;
  publisher: string;
  status: RunStatus;
  valid: number;
  invalid: number;
  attested: Map<string, AttestationVote>;
  order: number;
}

describe("ProofRegistry: randomized lifecycle invariants", () => {
  const r = rng("invariants");

  it("keeps status edges, counts, attestations and the latest certified run consistent over random operations", async function () {
    this.timeout(300_000);
    const f = await loadFixture(deployRegistryFixture);
    const { registry } = f;
    const publishers = [f.publisher, f.otherPublisher, f.verifierC]; // verifierC also publishes: self-attestation must fail
    const verifiers = [f.verifierA, f.verifierB, f.verifierC];
    const everyone = [f.admin, f.publisher, f.otherPublisher, f.relayer, f.verifierA, f.verifierB, f.verifierC, f.outsider];
    const modelIds = [r.bytes32()];
    const runs = new Map<string, ModelRun>();
    let quorum = 2;
    let order = 0;
    let outcomes = { ok: 0, reverted: 0 };

    const expectedLatest = (modelKey: string): string => {
      let best: [string, ModelRun] | undefined;
      for (const [id, run] of runs) {
        if (modelKeyOf(run.publisher, run.record.modelId) !== modelKey || run.status !== RunStatus.Verified) continue;
        if (!best || run.order > best[1].order) best = [id, run];
      }
      return best?.[0] ?? ethers.ZeroHash;
    };
    // The contract keeps one pointer per model: the newest run (by registration) that ever reached Verified.
    // latestCertifiedRun is that run while it is still Verified, zero after it was revoked.
    const latestPointer = new Map<string, string>();

    const STEPS = 500;
    for (let step = 0; step < STEPS; step++) {
      const ids = [...runs.keys()];
      const op = ids.length === 0 ? 0 : r.int(7);
      const before = new Map([...runs].map(([id, run]) => [id, run.status]));
      try {
        if (op === 0 || op === 5) {
          // register, sometimes re-registering an existing manifest
          const who = r.pick(publishers);
          const reuse = ids.length > 0 && r.int(5) === 0 ? runs.get(r.pick(ids))!.record : undefined;
          const record = reuse ?? randomRecord(r, { modelId: r.pick(modelIds) });
          const id = runIdOf(who.address, record.manifestDigest);
          const tx = registry.connect(who).registerRun(record);
          if (runs.has(id)) {
            await expect(tx).to.be.revertedWithCustomError(registry, "RunAlreadyRegistered");
            outcomes.reverted++;
          } else {
            await tx;
            runs.set(id, { record, publisher: who.address, status: RunStatus.Registered, valid: 0, invalid: 0, attested: new Map(), order: order++ });
            outcomes.ok++;
          }
        } else if (op === 1 || op === 2 || op === 6) {
          // attest, mostly on pending runs so that runs get decided
          const pending = ids.filter((i) => runs.get(i)!.status === RunStatus.Registered);
          const id = pending.length > 0 && r.int(5) !== 0 ? r.pick(pending) : r.pick(ids);
          const run = runs.get(id)!;
          const who = r.int(8) === 0 ? r.pick(everyone) : r.pick(verifiers);
          const valid = r.int(3) !== 0;
          const tx = registry.connect(who).attest(id, valid, r.bytes32());
          const isVerifier = verifiers.includes(who);
          if (!isVerifier) await expect(tx).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
          else if (run.status !== RunStatus.Registered) await expect(tx).to.be.revertedWithCustomError(registry, "InvalidStatus");
          else if (run.publisher === who.address) await expect(tx).to.be.revertedWithCustomError(registry, "SelfAttestation");
          else if (run.attested.has(who.address)) await expect(tx).to.be.revertedWithCustomError(registry, "AlreadyAttested");
          else {
            await tx;
            run.attested.set(who.address, valid ? AttestationVote.Valid : AttestationVote.Invalid);
            if (valid) run.valid++;
            else run.invalid++;
            if (run.valid >= quorum) {
              run.status = RunStatus.Verified;
              const key = modelKeyOf(run.publisher, run.record.modelId);
              const current = latestPointer.get(key);
              if (!current || runs.get(current)!.order <= run.order) latestPointer.set(key, id);
            } else if (run.invalid >= quorum) run.status = RunStatus.Rejected;
            outcomes.ok++;
            continue;
          }
          outcomes.reverted++;
        } else if (op === 3) {
          // revoke, mostly verified runs (the interesting edge for the latest-certified pointer)
          const verified = ids.filter((i) => runs.get(i)!.status === RunStatus.Verified);
          const id = verified.length > 0 && r.int(3) !== 0 ? r.pick(verified) : r.pick(ids);
          const run = runs.get(id)!;
          const who = r.pick(everyone);
          const tx = registry.connect(who).revoke(id, "random revocation");
          if (who.address !== run.publisher && who.address !== f.admin.address) {
            await expect(tx).to.be.revertedWithCustomError(registry, "NotPublisherOrAdmin");
            outcomes.reverted++;
          } else if (run.status !== RunStatus.Registered && run.status !== RunStatus.Verified) {
            await expect(tx).to.be.revertedWithCustomError(registry, "InvalidStatus");
            outcomes.reverted++;
          } else {
            await tx;
            run.status = RunStatus.Revoked;
            outcomes.ok++;
          }
        } else {
          // quorum change by admin or someone else
          const who = r.int(4) === 0 ? r.pick(everyone) : f.admin;
          const q = r.between(1, 2);
          const tx = registry.connect(who).setQuorum(q);
          if (who.address !== f.admin.address) {
            await expect(tx).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
            outcomes.reverted++;
          } else {
            await tx;
            quorum = q;
            outcomes.ok++;
          }
        }
      } finally {
        // Invariant: only allowed edges, and the chain agrees with the model.
        for (const [id, run] of runs) {
          const prev = before.get(id) ?? RunStatus.None;
          if (prev !== run.status) expect(ALLOWED_EDGES.has(`${prev}->${run.status}`), `edge ${prev}->${run.status}`).to.equal(true);
        }
      }

      if (step % 50 === 49 || step === STEPS - 1) {
        for (const [id, run] of runs) {
          const onChain = await registry.getRun(id);
          expect(onChain.status).to.equal(run.status);
          expect(onChain.validCount).to.equal(run.valid);
          expect(onChain.invalidCount).to.equal(run.invalid);
          expect(onChain.publisher).to.equal(run.publisher);
          expect(await registry.isCertified(id)).to.equal(run.status === RunStatus.Verified);
          for (const v of verifiers) {
            const a = await registry.attestationOf(id, v.address);
            expect(a.verdict).to.equal(run.attested.get(v.address) ?? AttestationVote.None);
          }
        }
        for (const p of publishers) {
          for (const m of modelIds) {
            const key = modelKeyOf(p.address, m);
            const pointer = latestPointer.get(key);
            const expected = pointer && runs.get(pointer)!.status === RunStatus.Verified ? pointer : ethers.ZeroHash;
            expect(await registry.latestCertifiedRun(key)).to.equal(expected);
            // Whenever it is set, the pointer is the newest Verified run of the model.
            if (expected !== ethers.ZeroHash) expect(expected).to.equal(expectedLatest(key));
          }
        }
      }
    }
    expect(outcomes.ok).to.be.greaterThan(50);
    expect(outcomes.reverted).to.be.greaterThan(20);
  });
});
