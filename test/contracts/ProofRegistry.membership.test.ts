import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardNodeHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { deployRegistryFixture, randomRecord } from "../helpers/registry";
import { rng, type Rng } from "../helpers/random";
import { runIdOf } from "../../relayer/registry";
import { buildDatasetTree, datasetLeafHash, DATASET_LEAF_ENCODING, type DatasetLeaf } from "../../prover/dataset/tree";
import type { ProofRegistry } from "../../typechain-types";

/** Expects a membership view to answer false or to revert: anything but "member". */
async function expectNotMember(call: Promise<boolean>) {
  let answer: boolean | undefined;
  try {
    answer = await call;
  } catch {
    return;
  }
  expect(answer, "an altered proof was accepted").to.equal(false);
}

function flipByte(hex: string, r: Rng): string {
  const bytes = ethers.getBytes(hex);
  bytes[r.int(32)] ^= 1 << r.int(8);
  return ethers.hexlify(bytes);
}

function randomLeaves(r: Rng, n: number): DatasetLeaf[] {
  return Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: r.bytes32(), cyHash: r.bytes32() }));
}

describe("ProofRegistry: dataset membership", () => {
  const r = rng("membership");

  async function registerTree(registry: ProofRegistry, publisher: Awaited<ReturnType<typeof ethers.getSigners>>[number], leaves: DatasetLeaf[]) {
    const tree = buildDatasetTree(leaves);
    const record = randomRecord(r, { datasetRoot: tree.root, datasetSize: BigInt(leaves.length) });
    await registry.connect(publisher).registerRun(record);
    return { tree, runId: runIdOf(publisher.address, record.manifestDigest) };
  }

  it("computes the dataset leaf exactly as OpenZeppelin's StandardMerkleTree and the TS encoder do", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    for (let i = 0; i < 12; i++) {
      const leaf = { index: i < 4 ? BigInt(i) : r.uint256(), cxHash: r.bytes32(), cyHash: r.bytes32() };
      const onChain = await registry.recordLeaf(leaf.index, leaf.cxHash, leaf.cyHash);
      expect(onChain).to.equal(datasetLeafHash(leaf));
      const single = StandardMerkleTree.of([[leaf.index, leaf.cxHash, leaf.cyHash]], [...DATASET_LEAF_ENCODING]);
      expect(onChain).to.equal(single.root); // a one-leaf tree's root is its leaf
    }
  });

  const sizes = [1, 2, 3, 5, 8, 33, 257, 1000 + Math.floor(Math.random() * 3000), 4096];
  for (const n of sizes) {
    it(`proves every sampled record of a ${n}-leaf tree, and rejects altered proofs, leaves and indices`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const leaves = randomLeaves(r, n);
      const { tree, runId } = await registerTree(registry, publisher, leaves);
      const sample = new Set([0, n - 1, ...Array.from({ length: 4 }, () => r.int(n))]);
      for (const i of sample) {
        const leaf = leaves[i]!;
        const proof = tree.getProof(i);
        expect(StandardMerkleTree.verify(tree.root, [...DATASET_LEAF_ENCODING], [leaf.index.toString(), leaf.cxHash, leaf.cyHash], proof)).to.equal(true);
        expect(await registry.verifyRecord(runId, leaf.index, leaf.cxHash, leaf.cyHash, proof)).to.equal(true);
        expect(await registry.verifyLeaf(runId, datasetLeafHash(leaf), proof)).to.equal(true);

        await expectNotMember(registry.verifyRecord(runId, leaf.index, flipByte(leaf.cxHash, r), leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, flipByte(leaf.cyHash, r), proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cyHash, leaf.cxHash, proof));
        await expectNotMember(registry.verifyRecord(runId, (leaf.index + 1n) % BigInt(n + 1), leaf.cxHash, leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index + BigInt(n), leaf.cxHash, leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index + (1n << 255n), leaf.cxHash, leaf.cyHash, proof));
        await expectNotMember(registry.verifyLeaf(runId, flipByte(datasetLeafHash(leaf), r), proof));
        if (proof.length > 0) {
          const k = r.int(proof.length);
          const altered = proof.map((p, j) => (j === k ? flipByte(p, r) : p));
          await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, leaf.cyHash, altered));
          await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, leaf.cyHash, proof.slice(1)));
          await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, leaf.cyHash, proof.slice(0, -1)));
        }
        await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, leaf.cyHash, [...proof, r.bytes32()]));
      }
    });
  }

  it("checks multiproofs of random subsets, and rejects altered ones", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    for (const n of [1, 6, 129, 1024]) {
      const leaves = randomLeaves(r, n);
      const { tree, runId } = await registerTree(registry, publisher, leaves);
      const picked = [...new Set(Array.from({ length: Math.min(n, 1 + r.int(12)) }, () => r.int(n)))];
      const multi = tree.getMultiProof(picked);
      const leafHashes = multi.leaves.map((v) => tree.leafHash(v));
      expect(StandardMerkleTree.verifyMultiProof(tree.root, [...DATASET_LEAF_ENCODING], multi)).to.equal(true);
      expect(await registry.verifyLeaves(runId, leafHashes, multi.proof, multi.proofFlags)).to.equal(true);

      const k = r.int(leafHashes.length);
      await expectNotMember(registry.verifyLeaves(runId, leafHashes.map((h, j) => (j === k ? flipByte(h, r) : h)), multi.proof, multi.proofFlags));
      if (multi.proof.length > 0) {
        const j = r.int(multi.proof.length);
        await expectNotMember(registry.verifyLeaves(runId, leafHashes, multi.proof.map((p, i) => (i === j ? flipByte(p, r) : p)), multi.proofFlags));
      }
      if (multi.proofFlags.length > 0) {
        const j = r.int(multi.proofFlags.length);
        await expectNotMember(registry.verifyLeaves(runId, leafHashes, multi.proof, multi.proofFlags.map((f, i) => (i === j ? !f : f))));
      }
      if (leafHashes.length > 1) {
        await expectNotMember(registry.verifyLeaves(runId, leafHashes.slice(1), multi.proof, multi.proofFlags));
      }
    }
  });

  it("does not accept one run's records against another run's root", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const a = randomLeaves(r, 16);
    const b = randomLeaves(r, 16);
    const runA = await registerTree(registry, publisher, a);
    const runB = await registerTree(registry, publisher, b);
    for (let i = 0; i < 16; i++) {
      const proof = runA.tree.getProof(i);
      expect(await registry.verifyRecord(runA.runId, a[i]!.index, a[i]!.cxHash, a[i]!.cyHash, proof)).to.equal(true);
      expect(await registry.verifyRecord(runB.runId, a[i]!.index, a[i]!.cxHash, a[i]!.cyHash, proof)).to.equal(false);
    }
  });

  it("reverts UnknownRun for membership checks on an unregistered run", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const unknown = r.bytes32();
    await expect(registry.verifyRecord(unknown, 0, r.bytes32(), r.bytes32(), [])).to.be.revertedWithCustomError(registry, "UnknownRun").withArgs(unknown);
    await expect(registry.verifyLeaf(unknown, r.bytes32(), [])).to.be.revertedWithCustomError(registry, "UnknownRun");
    await expect(registry.verifyLeaves(unknown, [r.bytes32()], [], [])).to.be.revertedWithCustomError(registry, "UnknownRun");
  });

  it("checks a depth-20 record proof in at most 10k execution gas", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const probe = await ethers.deployContract("GasProbe");
    // A depth-20 path built by hand (a 2^20-leaf tree is too slow to build in a test): the root is the
    // leaf folded with 20 random siblings by OpenZeppelin's commutative node hash.
    const index = BigInt(r.int(1 << 20));
    const leaf = { index, cxHash: r.bytes32(), cyHash: r.bytes32() };
    const proof = Array.from({ length: 20 }, () => r.bytes32());
    const root = proof.reduce((node, sibling) => standardNodeHash(node, sibling), datasetLeafHash(leaf));
    const record = randomRecord(r, { datasetRoot: root, datasetSize: 1n << 20n });
    await registry.connect(publisher).registerRun(record);
    const runId = runIdOf(publisher.address, record.manifestDigest);

    const data = registry.interface.encodeFunctionData("verifyRecord", [runId, leaf.index, leaf.cxHash, leaf.cyHash, proof]);
    const [gasUsed, result] = await probe.measure(await registry.getAddress(), data);
    expect(registry.interface.decodeFunctionResult("verifyRecord", result)[0]).to.equal(true);
    console.log(`      verifyRecord, depth 20: ${gasUsed} execution gas`);
    expect(gasUsed).to.be.lessThanOrEqual(10_000n);
  });
});
