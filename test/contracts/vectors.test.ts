/**
 * The test vectors printed in docs/protocol.md ("Chain-facing formats"), checked against the contract
 * (Solidity) and the TypeScript helpers, so the document cannot drift from the code.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { TypedDataEncoder } from "ethers";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { deployRegistryFixture } from "../helpers/registry";
import { modelKeyOf, REGISTER_RUN_TYPES, registryDomain, runIdOf } from "../../client/registry";
import { buildDatasetTree, datasetLeafHash } from "../../core/dataset/tree";

const PUBLISHER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const fill = (hexDigit: string) => "0x" + hexDigit.repeat(64);

const V = {
  runId: "0x12e85e85751ac07641714acc0df2ca53c291064fc6116793de92a52c3fc670e7",
  modelKey: "0x5b501ed7cb13639463f5b5b4317f09c3957081a1ae57c0886fa802a8c0003192",
  leaf0: "0x32d4539098bd1256fbfa66adac73416ba9c00198eed666aaa1087674ebd07ed6",
  leaf1: "0x23a20efc44e7f45ed33e07cef7a568020c422767fb31b315c6d7123d266aea1d",
  root2: "0x1ea460ba75c7cca425ccdaf904000250b336e4bcf9992af9d854ac4904b91070",
  sentinelGap: "0x8a89e756b216b2c3b1c1f2f997e6c4fb19fb3de6fc7047b4f8a6a4bc9ca5f730",
  registerRunTypehash: "0x9c1bd3f0dfd6ce2ac80702435265c09e6d3240ab4418ba0c798b301637620bec",
  runRecordTypehash: "0x0b47a5b5e4e70fc4ebf8fdd6c39be7b6246404d78f01f4ff1e7b6ee1c8cd6094",
  registrationDigest: "0x57ca512376a499739facee78f211d83c7224020ec1fe657b2fcb192cec74c1ca",
};

describe("docs/protocol.md test vectors", () => {
  it("run id, model key and dataset leaves match in Solidity and TypeScript", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    expect(await registry.runIdOf(PUBLISHER, fill("1"))).to.equal(V.runId);
    expect(runIdOf(PUBLISHER, fill("1"))).to.equal(V.runId);
    expect(await registry.modelKeyOf(PUBLISHER, fill("2"))).to.equal(V.modelKey);
    expect(modelKeyOf(PUBLISHER, fill("2"))).to.equal(V.modelKey);
    expect(await registry.recordLeaf(0, fill("3"), fill("4"))).to.equal(V.leaf0);
    expect(await registry.recordLeaf(1, fill("5"), fill("6"))).to.equal(V.leaf1);
    const leaves = [
      { index: 0n, cxHash: fill("3"), cyHash: fill("4") },
      { index: 1n, cxHash: fill("5"), cyHash: fill("6") },
    ];
    expect(leaves.map(datasetLeafHash)).to.deep.equal([V.leaf0, V.leaf1]);
    expect(buildDatasetTree(leaves).root).to.equal(V.root2);
  });

  it("the fingerprint leaf of the sentinel gap matches in Solidity and OpenZeppelin's encoder", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    expect(await registry.fingerprintLeaf(fill("0"), fill("f"))).to.equal(V.sentinelGap);
    expect(standardLeafHash(["bytes32", "bytes32"], [fill("0"), fill("f")])).to.equal(V.sentinelGap);
  });

  it("EIP-712 type hashes and a registration digest", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    expect(await registry.REGISTER_RUN_TYPEHASH()).to.equal(V.registerRunTypehash);
    expect(await registry.RUN_RECORD_TYPEHASH()).to.equal(V.runRecordTypehash);
    const record = {
      modelId: fill("2"),
      datasetRoot: fill("7"),
      fingerprintRoot: fill("a"),
      datasetSize: 10000n,
      manifestDigest: fill("1"),
      initialWeightsDigest: fill("8"),
      finalWeightsDigest: fill("9"),
      numSteps: 100n,
      bundleURI: "http://127.0.0.1:8080/v1/runs/x/bundle",
    };
    const domain = registryDomain("0x5FbDB2315678afecb367f032d93F642f64180aa3", 31337n);
    const value = { record, publisher: PUBLISHER, nonce: 0n, deadline: 2_000_000_000n };
    expect(TypedDataEncoder.hash(domain, REGISTER_RUN_TYPES, value)).to.equal(V.registrationDigest);
  });
});
