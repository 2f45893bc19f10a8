import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployRegistryFixture, randomRecord, ZERO32 } from "../helpers/registry";
import { rng } from "../helpers/random";
import { modelKeyOf, runIdOf } from "../../client/registry";

describe("CertifiedModelGate (example dApp)", () => {
  const r = rng("gate");
  const PRICE = ethers.parseEther("0.01");

  async function listedModel() {
    const f = await loadFixture(deployRegistryFixture);
    const modelId = r.bytes32();
    const modelKey = modelKeyOf(f.publisher.address, modelId);
    await expect(f.gate.connect(f.publisher).list(modelId, PRICE))
      .to.emit(f.gate, "ModelListed")
      .withArgs(modelKey, f.publisher.address, modelId, PRICE);
    const register = async () => {
      const record = randomRecord(r, { modelId });
      await f.registry.connect(f.publisher).registerRun(record);
      return { record, runId: runIdOf(f.publisher.address, record.manifestDigest) };
    };
    const verify = async (runId: string) => {
      await f.registry.connect(f.verifierA).attest(runId, true, r.bytes32());
      await f.registry.connect(f.verifierB).attest(runId, true, r.bytes32());
    };
    return { ...f, modelId, modelKey, register, verify };
  }

  it("refuses passes while the model has no Verified run, then sells them", async () => {
    const { gate, outsider, modelKey, register, verify } = await listedModel();
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE }))
      .to.be.revertedWithCustomError(gate, "ModelNotCertified")
      .withArgs(modelKey);
    const { runId, record } = await register();
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE })).to.be.revertedWithCustomError(gate, "ModelNotCertified");
    await expect(gate.certifiedWeights(modelKey)).to.be.revertedWithCustomError(gate, "ModelNotCertified");
    await verify(runId);
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE }))
      .to.emit(gate, "PassPurchased")
      .withArgs(modelKey, outsider.address, runId, PRICE);
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(true);
    expect(await gate.certifiedWeights(modelKey)).to.deep.equal([runId, record.finalWeightsDigest]);
  });

  it("refuses access after revocation and restores it when a new run is verified", async () => {
    const { gate, registry, publisher, outsider, modelKey, register, verify } = await listedModel();
    const first = await register();
    await verify(first.runId);
    await gate.connect(outsider).buyPass(modelKey, { value: PRICE });
    await registry.connect(publisher).revoke(first.runId, "training data withdrawn");
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(false);
    expect(await gate.holdsPass(modelKey, outsider.address)).to.equal(true);
    await expect(gate.certifiedWeights(modelKey)).to.be.revertedWithCustomError(gate, "ModelNotCertified");
    const second = await register();
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(false);
    await verify(second.runId);
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(true);
    expect(await gate.certifiedWeights(modelKey)).to.deep.equal([second.runId, second.record.finalWeightsDigest]);
  });

  it("never grants access for a Rejected run", async () => {
    const { gate, registry, outsider, modelKey, register, verifierA, verifierB } = await listedModel();
    const { runId } = await register();
    await registry.connect(verifierA).attest(runId, false, r.bytes32());
    await registry.connect(verifierB).attest(runId, false, r.bytes32());
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE })).to.be.revertedWithCustomError(gate, "ModelNotCertified");
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(false);
  });

  it("takes exactly the price, once per user, and pays the publisher on withdrawal", async () => {
    const { gate, publisher, outsider, relayer, modelKey, register, verify } = await listedModel();
    await verify((await register()).runId);
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE - 1n }))
      .to.be.revertedWithCustomError(gate, "WrongPayment")
      .withArgs(PRICE, PRICE - 1n);
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE + 1n })).to.be.revertedWithCustomError(gate, "WrongPayment");
    await gate.connect(outsider).buyPass(modelKey, { value: PRICE });
    await expect(gate.connect(outsider).buyPass(modelKey, { value: PRICE }))
      .to.be.revertedWithCustomError(gate, "AlreadyHoldsPass")
      .withArgs(modelKey, outsider.address);
    await gate.connect(relayer).buyPass(modelKey, { value: PRICE });
    expect(await gate.balanceOf(publisher.address)).to.equal(2n * PRICE);
    await expect(gate.connect(publisher).withdraw()).to.changeEtherBalances([publisher, gate], [2n * PRICE, -2n * PRICE]);
    await expect(gate.connect(publisher).withdraw()).to.be.revertedWithCustomError(gate, "NothingToWithdraw").withArgs(publisher.address);
  });

  it("lists only the caller's own models, and refuses unlisted models and zero ids", async () => {
    const { gate, registry, otherPublisher, outsider, modelId, modelKey, verifierA, verifierB } = await listedModel();
    // Another publisher listing the same label gets its own key, not the first publisher's model.
    await gate.connect(otherPublisher).list(modelId, 0);
    expect((await gate.listingOf(modelKey)).price).to.equal(PRICE);
    const otherKey = modelKeyOf(otherPublisher.address, modelId);
    expect((await gate.listingOf(otherKey)).publisher).to.equal(otherPublisher.address);
    const record = randomRecord(r, { modelId });
    await registry.connect(otherPublisher).registerRun(record);
    const runId = runIdOf(otherPublisher.address, record.manifestDigest);
    await registry.connect(verifierA).attest(runId, true, r.bytes32());
    await registry.connect(verifierB).attest(runId, true, r.bytes32());
    await gate.connect(outsider).buyPass(otherKey, { value: 0 });
    expect(await gate.canUse(otherKey, outsider.address)).to.equal(true);
    expect(await gate.canUse(modelKey, outsider.address)).to.equal(false);

    const unlisted = r.bytes32();
    await expect(gate.connect(outsider).buyPass(unlisted)).to.be.revertedWithCustomError(gate, "ModelNotListed").withArgs(unlisted);
    await expect(gate.connect(outsider).list(ZERO32, 1)).to.be.revertedWithCustomError(gate, "ZeroModelId");
  });
});
