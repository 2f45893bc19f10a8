import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployRegistryFixture, randomRecord, gasOf, ZERO32 } from "../helpers/registry";
import { rng } from "../helpers/random";
import { modelKeyOf, runIdOf, RunStatus } from "../../client/registry";

describe("ProofRegistry: registration", () => {
  const r = rng("registration");

  it("registers a run under a deterministic id and stores its record", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const record = randomRecord(r);
    const runId = runIdOf(publisher.address, record.manifestDigest);
    expect(await registry.runIdOf(publisher.address, record.manifestDigest)).to.equal(runId);
    expect(await registry.connect(publisher).registerRun.staticCall(record)).to.equal(runId);
    expect(await registry.statusOf(runId)).to.equal(RunStatus.None);

    const tx = await registry.connect(publisher).registerRun(record);
    const at = await time.latest();
    await expect(tx)
      .to.emit(registry, "RunRegistered")
      .withArgs(runId, publisher.address, record.modelId, (logged: unknown[]) => {
        expect(logged).to.deep.equal(Object.values(record));
        expect(logged[2]).to.equal(record.fingerprintRoot); // right after datasetRoot
        return true;
      }, publisher.address);

    const run = await registry.getRun(runId);
    expect(run.publisher).to.equal(publisher.address);
    expect(run.status).to.equal(RunStatus.Registered);
    expect(run.registeredAt).to.equal(at);
    expect(run.updatedAt).to.equal(at);
    expect(run.datasetSize).to.equal(record.datasetSize);
    expect(run.numSteps).to.equal(record.numSteps);
    expect(run.validCount).to.equal(0);
    expect(run.invalidCount).to.equal(0);
    expect(run.modelId).to.equal(record.modelId);
    expect(run.datasetRoot).to.equal(record.datasetRoot);
    expect(run.finalWeightsDigest).to.equal(record.finalWeightsDigest);
    expect(run.fingerprintRoot).to.equal(record.fingerprintRoot);
    expect(await registry.statusOf(runId)).to.equal(RunStatus.Registered);
    expect(await registry.isCertified(runId)).to.equal(false);
  });

  it("computes run ids and model keys exactly as the TypeScript helpers do", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    for (let i = 0; i < 16; i++) {
      const who = ethers.getAddress(r.bytes32().slice(0, 42));
      const digest = r.bytes32();
      expect(await registry.runIdOf(who, digest)).to.equal(runIdOf(who, digest));
      expect(await registry.modelKeyOf(who, digest)).to.equal(modelKeyOf(who, digest));
    }
  });

  it("keeps runs of different publishers with the same manifest apart", async () => {
    const { registry, publisher, otherPublisher } = await loadFixture(deployRegistryFixture);
    const record = randomRecord(r);
    await registry.connect(publisher).registerRun(record);
    await registry.connect(otherPublisher).registerRun(record);
    expect((await registry.getRun(runIdOf(publisher.address, record.manifestDigest))).publisher).to.equal(publisher.address);
    expect((await registry.getRun(runIdOf(otherPublisher.address, record.manifestDigest))).publisher).to.equal(otherPublisher.address);
  });

  it("refuses to register the same run twice, even after a revocation", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const record = randomRecord(r);
    const runId = runIdOf(publisher.address, record.manifestDigest);
    await registry.connect(publisher).registerRun(record);
    await expect(registry.connect(publisher).registerRun(record))
      .to.be.revertedWithCustomError(registry, "RunAlreadyRegistered")
      .withArgs(runId);
    // Same manifest, different everything else: still the same run.
    await expect(registry.connect(publisher).registerRun(randomRecord(r, { manifestDigest: record.manifestDigest })))
      .to.be.revertedWithCustomError(registry, "RunAlreadyRegistered")
      .withArgs(runId);
    await registry.connect(publisher).revoke(runId, "superseded");
    await expect(registry.connect(publisher).registerRun(record))
      .to.be.revertedWithCustomError(registry, "RunAlreadyRegistered")
      .withArgs(runId);
  });

  const badRecords: [string, string, (rec: ReturnType<typeof randomRecord>) => void][] = [
    ["zero model id", "ZeroModelId", (x) => (x.modelId = ZERO32)],
    ["zero dataset root", "ZeroDatasetRoot", (x) => (x.datasetRoot = ZERO32)],
    ["zero fingerprint root", "ZeroFingerprintRoot", (x) => (x.fingerprintRoot = ZERO32)],
    ["zero dataset size", "ZeroDatasetSize", (x) => (x.datasetSize = 0n)],
    ["zero manifest digest", "ZeroManifestDigest", (x) => (x.manifestDigest = ZERO32)],
    ["zero initial weights digest", "ZeroWeightsDigest", (x) => (x.initialWeightsDigest = ZERO32)],
    ["zero final weights digest", "ZeroWeightsDigest", (x) => (x.finalWeightsDigest = ZERO32)],
    ["zero steps", "ZeroSteps", (x) => (x.numSteps = 0n)],
    ["empty bundle URI", "EmptyBundleURI", (x) => (x.bundleURI = "")],
  ];
  for (const [what, error, spoil] of badRecords) {
    it(`rejects a record with ${what} (${error})`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const record = randomRecord(r);
      spoil(record);
      await expect(registry.connect(publisher).registerRun(record)).to.be.revertedWithCustomError(registry, error);
    });
  }

  it("accepts the largest dataset size and step count the record types hold", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const record = randomRecord(r, { datasetSize: 2n ** 64n - 1n, numSteps: 2n ** 32n - 1n });
    await registry.connect(publisher).registerRun(record);
    const run = await registry.getRun(runIdOf(publisher.address, record.manifestDigest));
    expect(run.datasetSize).to.equal(2n ** 64n - 1n);
    expect(run.numSteps).to.equal(2n ** 32n - 1n);
  });

  it("reports unknown runs: getRun reverts, statusOf is None, isCertified is false", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const runId = r.bytes32();
    await expect(registry.getRun(runId)).to.be.revertedWithCustomError(registry, "UnknownRun").withArgs(runId);
    expect(await registry.statusOf(runId)).to.equal(RunStatus.None);
    expect(await registry.isCertified(runId)).to.equal(false);
    expect(await registry.latestCertifiedRun(runId)).to.equal(ZERO32);
  });

  it("costs at most 170k gas to register a run", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    // A realistic URI: the API's bundle route for this run.
    const gas = await gasOf(registry.connect(publisher).registerRun(randomRecord(r)));
    expect(gas).to.be.lessThanOrEqual(170_000n);
  });

  it("rejects a zero admin at construction", async () => {
    const factory = await ethers.getContractFactory("ProofRegistry");
    await expect(factory.deploy(ethers.ZeroAddress, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
  });
});
