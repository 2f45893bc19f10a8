import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployRegistryFixture, randomRecord, gasOf, ZERO32 } from "../helpers/registry";
import { rng } from "../helpers/random";
import { modelKeyOf, runIdOf, RunStatus, AttestationVote } from "../../client/registry";

describe("ProofRegistry: attestation, quorum and revocation", () => {
  const r = rng("lifecycle");

  async function withRun(modelId?: string) {
    const f = await loadFixture(deployRegistryFixture);
    const record = randomRecord(r, modelId ? { modelId } : {});
    await f.registry.connect(f.publisher).registerRun(record);
    const runId = runIdOf(f.publisher.address, record.manifestDigest);
    return { ...f, record, runId, modelKey: modelKeyOf(f.publisher.address, record.modelId) };
  }

  describe("roles", () => {
    it("gives the admin DEFAULT_ADMIN_ROLE and lets it grant and revoke VERIFIER_ROLE", async () => {
      const { registry, admin, outsider, verifierRole } = await loadFixture(deployRegistryFixture);
      expect(await registry.hasRole(await registry.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(verifierRole).to.equal(ethers.id("VERIFIER_ROLE"));
      await expect(registry.grantRole(verifierRole, outsider.address))
        .to.emit(registry, "RoleGranted")
        .withArgs(verifierRole, outsider.address, admin.address);
      await expect(registry.revokeRole(verifierRole, outsider.address))
        .to.emit(registry, "RoleRevoked")
        .withArgs(verifierRole, outsider.address, admin.address);
    });

    it("refuses role and quorum changes from non-admins", async () => {
      const { registry, outsider, verifierA, verifierRole } = await loadFixture(deployRegistryFixture);
      const adminRole = await registry.DEFAULT_ADMIN_ROLE();
      await expect(registry.connect(verifierA).grantRole(verifierRole, outsider.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(verifierA.address, adminRole);
      await expect(registry.connect(outsider).setQuorum(1))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, adminRole);
    });

    it("lets a verifier renounce its role, administers VERIFIER_ROLE by the admin role, and reports ERC-165 support", async () => {
      const { registry, verifierA, verifierRole } = await loadFixture(deployRegistryFixture);
      expect(await registry.getRoleAdmin(verifierRole)).to.equal(await registry.DEFAULT_ADMIN_ROLE());
      await expect(registry.connect(verifierA).renounceRole(verifierRole, verifierA.address))
        .to.emit(registry, "RoleRevoked")
        .withArgs(verifierRole, verifierA.address, verifierA.address);
      expect(await registry.hasRole(verifierRole, verifierA.address)).to.equal(false);
      expect(await registry.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await registry.supportsInterface("0x01ffc9a7")).to.equal(true); // IERC165
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
    });

    it("only lets VERIFIER_ROLE attest, and stops a verifier whose role was revoked", async () => {
      const { registry, runId, outsider, publisher, verifierA, verifierRole } = await withRun();
      for (const who of [outsider, publisher]) {
        await expect(registry.connect(who).attest(runId, true, r.bytes32()))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, verifierRole);
      }
      await registry.revokeRole(verifierRole, verifierA.address);
      await expect(registry.connect(verifierA).attest(runId, true, r.bytes32())).to.be.revertedWithCustomError(
        registry,
        "AccessControlUnauthorizedAccount",
      );
    });
  });

  describe("attestations and quorum", () => {
    it("records each attestation with its verdict and emits the counts", async () => {
      const { registry, runId, verifierA, verifierB } = await withRun();
      const report = r.bytes32();
      await expect(registry.connect(verifierA).attest(runId, true, report))
        .to.emit(registry, "Attested")
        .withArgs(runId, verifierA.address, AttestationVote.Valid, report, 1, 0);
      const at = await time.latest();
      expect(await registry.attestationOf(runId, verifierA.address)).to.deep.equal([BigInt(AttestationVote.Valid), BigInt(at)]);
      expect(await registry.attestationOf(runId, verifierB.address)).to.deep.equal([BigInt(AttestationVote.None), 0n]);
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Registered);
      const report2 = r.bytes32();
      await expect(registry.connect(verifierB).attest(runId, false, report2))
        .to.emit(registry, "Attested")
        .withArgs(runId, verifierB.address, AttestationVote.Invalid, report2, 1, 1);
      const run = await registry.getRun(runId);
      expect([run.validCount, run.invalidCount, run.status]).to.deep.equal([1n, 1n, BigInt(RunStatus.Registered)]);
    });

    it("verifies a run at exactly the quorum of valid attestations", async () => {
      const { registry, runId, record, publisher, modelKey, verifierA, verifierB } = await withRun();
      await registry.connect(verifierA).attest(runId, true, r.bytes32());
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(ZERO32);
      await expect(registry.connect(verifierB).attest(runId, true, r.bytes32()))
        .to.emit(registry, "RunVerified")
        .withArgs(runId, publisher.address, record.modelId, 2);
      const run = await registry.getRun(runId);
      expect(run.status).to.equal(RunStatus.Verified);
      expect(run.updatedAt).to.equal(await time.latest());
      expect(await registry.isCertified(runId)).to.equal(true);
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(runId);
    });

    it("rejects a run at exactly the quorum of invalid attestations, whatever the valid count", async () => {
      const { registry, runId, record, publisher, modelKey, verifierA, verifierB, verifierC } = await withRun();
      await registry.setQuorum(3);
      await registry.connect(verifierA).attest(runId, true, r.bytes32());
      await registry.connect(verifierB).attest(runId, false, r.bytes32());
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Registered);
      await registry.setQuorum(2);
      await expect(registry.connect(verifierC).attest(runId, false, r.bytes32()))
        .to.emit(registry, "RunRejected")
        .withArgs(runId, publisher.address, record.modelId, 2);
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Rejected);
      expect(await registry.isCertified(runId)).to.equal(false);
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(ZERO32);
    });

    it("with quorum 1, the first attestation decides", async () => {
      const { registry, runId, verifierA } = await withRun();
      await registry.setQuorum(1);
      await registry.connect(verifierA).attest(runId, false, r.bytes32());
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Rejected);
    });

    it("a lowered quorum applies to a pending run at its next attestation", async () => {
      const { registry, runId, verifierA, verifierB, verifierC } = await withRun();
      await registry.setQuorum(3);
      await registry.connect(verifierA).attest(runId, true, r.bytes32());
      await registry.connect(verifierB).attest(runId, true, r.bytes32());
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Registered);
      await registry.setQuorum(1);
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Registered);
      await registry.connect(verifierC).attest(runId, true, r.bytes32());
      expect(await registry.statusOf(runId)).to.equal(RunStatus.Verified);
    });

    it("allows one attestation per verifier per run", async () => {
      const { registry, runId, verifierA } = await withRun();
      await registry.setQuorum(3);
      await registry.connect(verifierA).attest(runId, true, r.bytes32());
      for (const valid of [true, false]) {
        await expect(registry.connect(verifierA).attest(runId, valid, r.bytes32()))
          .to.be.revertedWithCustomError(registry, "AlreadyAttested")
          .withArgs(runId, verifierA.address);
      }
    });

    it("refuses attestations on unknown, decided or revoked runs", async () => {
      const { registry, runId, publisher, verifierA, verifierB, verifierC } = await withRun();
      const unknown = r.bytes32();
      await expect(registry.connect(verifierA).attest(unknown, true, r.bytes32()))
        .to.be.revertedWithCustomError(registry, "UnknownRun")
        .withArgs(unknown);
      await registry.connect(verifierA).attest(runId, true, r.bytes32());
      await registry.connect(verifierB).attest(runId, true, r.bytes32());
      await expect(registry.connect(verifierC).attest(runId, false, r.bytes32()))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(runId, RunStatus.Verified);
      await registry.connect(publisher).revoke(runId, "retracted");
      await expect(registry.connect(verifierC).attest(runId, true, r.bytes32()))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(runId, RunStatus.Revoked);
    });

    it("refuses a zero report digest and a verifier attesting on its own run", async () => {
      const { registry, runId, verifierA, verifierB } = await withRun();
      await expect(registry.connect(verifierA).attest(runId, true, ZERO32)).to.be.revertedWithCustomError(
        registry,
        "ZeroReportDigest",
      );
      const own = randomRecord(r);
      await registry.connect(verifierB).registerRun(own);
      const ownId = runIdOf(verifierB.address, own.manifestDigest);
      await expect(registry.connect(verifierB).attest(ownId, true, r.bytes32()))
        .to.be.revertedWithCustomError(registry, "SelfAttestation")
        .withArgs(ownId, verifierB.address);
    });

    it("sets the quorum with an event and refuses zero", async () => {
      const { registry } = await loadFixture(deployRegistryFixture);
      expect(await registry.quorum()).to.equal(2);
      await expect(registry.setQuorum(5)).to.emit(registry, "QuorumChanged").withArgs(2, 5);
      expect(await registry.quorum()).to.equal(5);
      await expect(registry.setQuorum(0)).to.be.revertedWithCustomError(registry, "ZeroQuorum");
      const factory = await ethers.getContractFactory("ProofRegistry");
      await expect(factory.deploy((await ethers.getSigners())[0].address, 0)).to.be.revertedWithCustomError(factory, "ZeroQuorum");
    });

    it("costs at most 80k gas for an attestation that does not decide the run", async () => {
      const { registry, runId, verifierA } = await withRun();
      expect(await gasOf(registry.connect(verifierA).attest(runId, true, r.bytes32()))).to.be.lessThanOrEqual(80_000n);
    });
  });

  describe("revocation", () => {
    for (const from of ["Registered", "Verified"] as const) {
      for (const by of ["publisher", "admin"] as const) {
        it(`lets the ${by} revoke a ${from} run, with its reason in the event`, async () => {
          const f = await withRun();
          if (from === "Verified") {
            await f.registry.connect(f.verifierA).attest(f.runId, true, r.bytes32());
            await f.registry.connect(f.verifierB).attest(f.runId, true, r.bytes32());
          }
          const signer = by === "publisher" ? f.publisher : f.admin;
          await expect(f.registry.connect(signer).revoke(f.runId, "weights leaked"))
            .to.emit(f.registry, "RunRevoked")
            .withArgs(f.runId, f.publisher.address, f.record.modelId, signer.address, RunStatus[from], "weights leaked");
          expect(await f.registry.statusOf(f.runId)).to.equal(RunStatus.Revoked);
          expect(await f.registry.isCertified(f.runId)).to.equal(false);
          expect(await f.registry.latestCertifiedRun(f.modelKey)).to.equal(ZERO32);
        });
      }
    }

    it("refuses revocation by anyone else, of unknown runs, of decided runs, and without a reason", async () => {
      const { registry, runId, publisher, outsider, verifierA, verifierB } = await withRun();
      await expect(registry.connect(outsider).revoke(runId, "no"))
        .to.be.revertedWithCustomError(registry, "NotPublisherOrAdmin")
        .withArgs(runId, outsider.address);
      await expect(registry.connect(verifierA).revoke(runId, "no")).to.be.revertedWithCustomError(registry, "NotPublisherOrAdmin");
      await expect(registry.connect(publisher).revoke(runId, "")).to.be.revertedWithCustomError(registry, "EmptyReason");
      const unknown = r.bytes32();
      await expect(registry.revoke(unknown, "x")).to.be.revertedWithCustomError(registry, "UnknownRun").withArgs(unknown);
      await registry.connect(verifierA).attest(runId, false, r.bytes32());
      await registry.connect(verifierB).attest(runId, false, r.bytes32());
      await expect(registry.connect(publisher).revoke(runId, "too late"))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(runId, RunStatus.Rejected);
    });

    it("refuses to revoke twice", async () => {
      const { registry, runId, publisher } = await withRun();
      await registry.connect(publisher).revoke(runId, "first");
      await expect(registry.revoke(runId, "second"))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(runId, RunStatus.Revoked);
    });
  });

  describe("latest certified run of a model", () => {
    async function verify(f: Awaited<ReturnType<typeof withRun>>, runId: string) {
      await f.registry.connect(f.verifierA).attest(runId, true, r.bytes32());
      await f.registry.connect(f.verifierB).attest(runId, true, r.bytes32());
    }

    it("follows registration order, not verification order, and falls back only when re-verified", async () => {
      const f = await withRun();
      const { registry, publisher, record, modelKey } = f;
      const newer = randomRecord(r, { modelId: record.modelId });
      await registry.connect(publisher).registerRun(newer);
      const newerId = runIdOf(publisher.address, newer.manifestDigest);

      await verify(f, newerId);
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(newerId);
      await verify(f, f.runId); // older run verified later: does not displace the newer one
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(newerId);

      await registry.connect(publisher).revoke(newerId, "bug in data pipeline");
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(ZERO32);

      const third = randomRecord(r, { modelId: record.modelId });
      await registry.connect(publisher).registerRun(third);
      const thirdId = runIdOf(publisher.address, third.manifestDigest);
      await verify(f, thirdId);
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(thirdId);
    });

    it("does not bring back an older run verified after the newest was revoked", async () => {
      const f = await withRun();
      const { registry, publisher, record, modelKey } = f;
      const middle = randomRecord(r, { modelId: record.modelId });
      const newest = randomRecord(r, { modelId: record.modelId });
      await registry.connect(publisher).registerRun(middle);
      await registry.connect(publisher).registerRun(newest);
      const middleId = runIdOf(publisher.address, middle.manifestDigest);
      const newestId = runIdOf(publisher.address, newest.manifestDigest);
      await verify(f, middleId);
      await verify(f, newestId);
      await registry.connect(publisher).revoke(newestId, "withdrawn");
      await verify(f, f.runId); // oldest, verified last
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(ZERO32);
      expect(await registry.isCertified(middleId)).to.equal(true);
      expect(await registry.isCertified(f.runId)).to.equal(true);
    });

    it("keeps models of different publishers apart even under the same model id", async () => {
      const f = await withRun();
      const { registry, otherPublisher, record, modelKey } = f;
      const squat = randomRecord(r, { modelId: record.modelId });
      await registry.connect(otherPublisher).registerRun(squat);
      const squatId = runIdOf(otherPublisher.address, squat.manifestDigest);
      await verify(f, squatId);
      expect(await registry.latestCertifiedRun(modelKey)).to.equal(ZERO32);
      expect(await registry.latestCertifiedRun(modelKeyOf(otherPublisher.address, record.modelId))).to.equal(squatId);
    });
  });
});
