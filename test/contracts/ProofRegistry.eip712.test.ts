import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { TypedDataEncoder, id } from "ethers";
import { deployRegistryFixture, randomRecord } from "../helpers/registry";
import { rng } from "../helpers/random";
import { REGISTER_RUN_TYPES, registryDomain, runIdOf, signRegistration, RunStatus } from "../../client/registry";

describe("ProofRegistry: delegated registration (EIP-712)", () => {
  const r = rng("eip712");

  async function setup() {
    const f = await loadFixture(deployRegistryFixture);
    const { chainId } = await ethers.provider.getNetwork();
    const domain = registryDomain(await f.registry.getAddress(), chainId);
    const deadline = BigInt(await time.latest()) + 3600n;
    return { ...f, chainId, domain, deadline };
  }

  it("uses the documented type hashes and the same digest as ethers' TypedDataEncoder", async () => {
    const { registry, domain, publisher, deadline } = await setup();
    const encoder = TypedDataEncoder.from(REGISTER_RUN_TYPES);
    expect(await registry.REGISTER_RUN_TYPEHASH()).to.equal(id(encoder.encodeType("RegisterRun")));
    expect(await registry.RUN_RECORD_TYPEHASH()).to.equal(id(encoder.encodeType("RunRecord")));
    for (let i = 0; i < 8; i++) {
      const record = randomRecord(r, { bundleURI: "ipfs://" + r.bytes32().slice(2, 2 + r.between(1, 64)) });
      const nonce = r.uint256() >> 200n;
      const value = { record, publisher: publisher.address, nonce, deadline };
      expect(await registry.registrationDigest(record, publisher.address, nonce, deadline)).to.equal(
        TypedDataEncoder.hash(domain, REGISTER_RUN_TYPES, value),
      );
    }
    const [, name, version, chainId, verifyingContract] = await registry.eip712Domain();
    expect({ name, version, chainId, verifyingContract }).to.deep.equal(domain);
  });

  it("lets a relayer register a publisher's signed run and pay the gas", async () => {
    const { registry, domain, publisher, relayer, deadline } = await setup();
    const record = randomRecord(r);
    const signed = await signRegistration(publisher, domain, record, await registry.nonces(publisher.address), deadline);
    const runId = runIdOf(publisher.address, record.manifestDigest);
    const before = await ethers.provider.getBalance(publisher.address);
    await expect(registry.connect(relayer).registerRunFor(record, signed.publisher, deadline, signed.signature))
      .to.emit(registry, "RunRegistered")
      .withArgs(runId, publisher.address, record.modelId, (logged: unknown[]) => {
        expect(logged).to.deep.equal(Object.values(record));
        return true;
      }, relayer.address);
    expect(await ethers.provider.getBalance(publisher.address)).to.equal(before);
    expect((await registry.getRun(runId)).publisher).to.equal(publisher.address);
    expect(await registry.nonces(publisher.address)).to.equal(signed.nonce + 1n);
  });

  it("treats a replayed signature as 'already registered'", async () => {
    const { registry, domain, publisher, relayer, outsider, deadline } = await setup();
    const record = randomRecord(r);
    const signed = await signRegistration(publisher, domain, record, 0n, deadline);
    await registry.connect(relayer).registerRunFor(record, publisher.address, deadline, signed.signature);
    for (const sender of [relayer, outsider]) {
      await expect(registry.connect(sender).registerRunFor(record, publisher.address, deadline, signed.signature))
        .to.be.revertedWithCustomError(registry, "RunAlreadyRegistered")
        .withArgs(runIdOf(publisher.address, record.manifestDigest));
    }
  });

  it("rejects an expired signature, and accepts one used at its deadline", async () => {
    const { registry, domain, publisher, relayer } = await setup();
    const now = BigInt(await time.latest());
    const late = randomRecord(r);
    const expired = await signRegistration(publisher, domain, late, 0n, now);
    await expect(registry.connect(relayer).registerRunFor(late, publisher.address, now, expired.signature))
      .to.be.revertedWithCustomError(registry, "SignatureExpired")
      .withArgs(now);

    const onTime = randomRecord(r);
    const deadline = now + 100n;
    const signed = await signRegistration(publisher, domain, onTime, 0n, deadline);
    await time.setNextBlockTimestamp(deadline);
    await registry.connect(relayer).registerRunFor(onTime, publisher.address, deadline, signed.signature);
    expect(await registry.statusOf(runIdOf(publisher.address, onTime.manifestDigest))).to.equal(RunStatus.Registered);
  });

  it("rejects a signature by another key, for another record, chain, registry, nonce or deadline", async () => {
    const { registry, domain, publisher, relayer, outsider, deadline } = await setup();
    const record = randomRecord(r);
    const other = await ethers.deployContract("ProofRegistry", [publisher.address, 1]);
    const cases: [string, string, typeof record, bigint][] = [
      ["another key", (await signRegistration(outsider, domain, record, 0n, deadline)).signature, record, deadline],
      ["another record", (await signRegistration(publisher, domain, record, 0n, deadline)).signature,
        { ...record, bundleURI: record.bundleURI + "x" }, deadline],
      ["another chain id", (await signRegistration(publisher, { ...domain, chainId: 1n }, record, 0n, deadline)).signature, record, deadline],
      ["another registry", (await signRegistration(publisher, { ...domain, verifyingContract: await other.getAddress() }, record, 0n, deadline)).signature, record, deadline],
      ["a future nonce", (await signRegistration(publisher, domain, record, 1n, deadline)).signature, record, deadline],
      ["another deadline", (await signRegistration(publisher, domain, record, 0n, deadline)).signature, record, deadline + 1n],
      ["a malformed signature", "0x1234", record, deadline],
    ];
    for (const [, signature, rec, dl] of cases) {
      await expect(registry.connect(relayer).registerRunFor(rec, publisher.address, dl, signature))
        .to.be.revertedWithCustomError(registry, "InvalidSignature")
        .withArgs(publisher.address);
    }
    // Failed attempts consume no nonce.
    expect(await registry.nonces(publisher.address)).to.equal(0n);
  });

  it("lets a publisher cancel an outstanding signature by using its nonce", async () => {
    const { registry, domain, publisher, relayer, deadline } = await setup();
    const record = randomRecord(r);
    const signed = await signRegistration(publisher, domain, record, 0n, deadline);
    await expect(registry.connect(publisher).cancelNonce()).to.emit(registry, "NonceCancelled").withArgs(publisher.address, 0n);
    await expect(registry.connect(relayer).registerRunFor(record, publisher.address, deadline, signed.signature))
      .to.be.revertedWithCustomError(registry, "InvalidSignature");
    const fresh = await signRegistration(publisher, domain, record, 1n, deadline);
    await registry.connect(relayer).registerRunFor(record, publisher.address, deadline, fresh.signature);
  });

  it("rejects a zero publisher and a bad record even when signed", async () => {
    const { registry, domain, publisher, relayer, deadline } = await setup();
    const record = randomRecord(r);
    await expect(registry.connect(relayer).registerRunFor(record, ethers.ZeroAddress, deadline, "0x"))
      .to.be.revertedWithCustomError(registry, "ZeroAddress");
    const bad = { ...record, numSteps: 0n };
    const signed = await signRegistration(publisher, domain, bad, 0n, deadline);
    await expect(registry.connect(relayer).registerRunFor(bad, publisher.address, deadline, signed.signature))
      .to.be.revertedWithCustomError(registry, "ZeroSteps");
  });

  it("accepts ERC-1271 contract publishers (multisigs, smart accounts)", async () => {
    const { registry, domain, publisher, relayer, outsider, deadline } = await setup();
    const wallet = await ethers.deployContract("MockERC1271Wallet", [publisher.address]);
    const walletAddress = await wallet.getAddress();
    const record = randomRecord(r);
    const value = { record, publisher: walletAddress, nonce: 0n, deadline };
    const byOwner = await publisher.signTypedData(domain, REGISTER_RUN_TYPES, value);
    const byOutsider = await outsider.signTypedData(domain, REGISTER_RUN_TYPES, value);
    await expect(registry.connect(relayer).registerRunFor(record, walletAddress, deadline, byOutsider))
      .to.be.revertedWithCustomError(registry, "InvalidSignature")
      .withArgs(walletAddress);
    await registry.connect(relayer).registerRunFor(record, walletAddress, deadline, byOwner);
    expect((await registry.getRun(runIdOf(walletAddress, record.manifestDigest))).publisher).to.equal(walletAddress);
  });
});
