import { expect } from "chai";
import { ethers } from "hardhat";
import type { FunctionFragment } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardNodeHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { processMultiProof, processProof } from "@openzeppelin/merkle-tree/dist/core.js";
import { deployRegistryFixture, randomRecord } from "../helpers/registry";
import { rng, type Rng } from "../helpers/random";
import { runIdOf } from "../../client/registry";
import { buildDatasetTree, datasetLeafHash, DATASET_LEAF_ENCODING, type DatasetLeaf } from "../../core/dataset/tree";
import type { ProofRegistry } from "../../typechain-types";

/** Expects a membership view to answer false or to revert: anything but "member". */
async function expectNotMember(call: Promise<boolean>, what = "an altered proof was accepted") {
  let answer: boolean | undefined;
  try {
    answer = await call;
  } catch {
    return;
  }
  expect(answer, what).to.equal(false);
}

function flipByte(hex: string, r: Rng): string {
  const bytes = ethers.getBytes(hex);
  bytes[r.int(32)] ^= 1 << r.int(8);
  return ethers.hexlify(bytes);
}

function randomLeaves(r: Rng, n: number): DatasetLeaf[] {
  return Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: r.bytes32(), cyHash: r.bytes32() }));
}

type Tree = ReturnType<typeof buildDatasetTree>;
type Multi = ReturnType<Tree["getMultiProof"]>;

/** A multiproof's leaves as the records verifyRecords takes, in the multiproof's order. */
function recordsOf(multi: Multi): DatasetLeaf[] {
  return multi.leaves.map(([index, cxHash, cyHash]) => ({ index: BigInt(index), cxHash, cyHash }));
}

/** The tree's nodes in OpenZeppelin's array layout (root at 0, children of p at 2p+1 and 2p+2). */
const nodesOf = (tree: Tree): string[] => tree.dump().tree;

/** The sibling hashes from tree position p up to the root: OpenZeppelin's proof, for any node. */
function pathOf(nodes: string[], p: number): string[] {
  const path: string[] = [];
  for (; p > 0; p = Math.floor((p - 1) / 2)) path.push(nodes[p % 2 === 1 ? p + 1 : p - 1]!);
  return path;
}

/**
 * OpenZeppelin's getMultiProof (@openzeppelin/merkle-tree core) without its "is a leaf" check: a multiproof
 * of arbitrary tree positions, none an ancestor of another, e.g. an inner node together with real leaves.
 */
function multiProofAt(nodes: string[], positions: number[]) {
  const sorted = [...positions].sort((a, b) => b - a);
  const stack = [...sorted];
  const proof: string[] = [];
  const proofFlags: boolean[] = [];
  while (stack.length > 0 && stack[0]! > 0) {
    const j = stack.shift()!;
    const s = j % 2 === 1 ? j + 1 : j - 1;
    if (s === stack[0]) {
      proofFlags.push(true);
      stack.shift();
    } else {
      proofFlags.push(false);
      proof.push(nodes[s]!);
    }
    stack.push(Math.floor((j - 1) / 2));
  }
  return { leaves: sorted.map((p) => nodes[p]!), proof, proofFlags };
}

/** The two children of inner node p, sorted: the 64 bytes whose keccak-256 is the node. */
function childrenOf(nodes: string[], p: number): [string, string] {
  const [a, b] = [nodes[2 * p + 1]!, nodes[2 * p + 2]!];
  return BigInt(a) < BigInt(b) ? [a, b] : [b, a];
}

/**
 * The pre-image forgeries of a node: (index, lo, hi) and (index, hi, lo) for its sorted children lo, hi.
 * A leaf function that hashed the two digests once would give keccak256(lo ‖ hi) = the node itself (the
 * 64-byte second pre-image); recordLeaf hashes the 96-byte encoding twice, so none of these is the node.
 */
function forgeriesOf(nodes: string[], p: number, indices: bigint[]): DatasetLeaf[] {
  const [lo, hi] = childrenOf(nodes, p);
  expect(ethers.keccak256(ethers.concat([lo, hi]))).to.equal(nodes[p]);
  return indices.flatMap((index) => [
    { index, cxHash: lo, cyHash: hi },
    { index, cxHash: hi, cyHash: lo },
  ]);
}

/** The membership views the registry had before it took only pre-images; each took a ready-made leaf. */
const RAW_LEAF_VIEWS = new ethers.Interface([
  "function verifyLeaf(bytes32 runId, bytes32 leaf, bytes32[] proof) view returns (bool)",
  "function verifyLeaves(bytes32 runId, bytes32[] leaves, bytes32[] proof, bool[] proofFlags) view returns (bool)",
]);

/** Calls a raw-leaf view by its selector; the old registry answered true for every node of the tree. */
async function rawLeafView(registry: ProofRegistry, name: "verifyLeaf" | "verifyLeaves", args: unknown[]): Promise<boolean> {
  const data = RAW_LEAF_VIEWS.encodeFunctionData(name, args);
  const result = await ethers.provider.call({ to: await registry.getAddress(), data });
  return RAW_LEAF_VIEWS.decodeFunctionResult(name, result)[0] as boolean;
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

        await expectNotMember(registry.verifyRecord(runId, leaf.index, flipByte(leaf.cxHash, r), leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cxHash, flipByte(leaf.cyHash, r), proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index, leaf.cyHash, leaf.cxHash, proof));
        await expectNotMember(registry.verifyRecord(runId, (leaf.index + 1n) % BigInt(n + 1), leaf.cxHash, leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index + BigInt(n), leaf.cxHash, leaf.cyHash, proof));
        await expectNotMember(registry.verifyRecord(runId, leaf.index + (1n << 255n), leaf.cxHash, leaf.cyHash, proof));
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

  it("has no membership view that takes a ready-made leaf", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const functions: FunctionFragment[] = [];
    registry.interface.forEachFunction((f) => functions.push(f));
    const views = functions
      .filter((f) => f.name.startsWith("verify"))
      .map((f) => f.format("sighash"))
      .sort();
    expect(views).to.deep.equal([
      "verifyNonMember(bytes32,bytes32,bytes32,bytes32,bytes32[])",
      "verifyRecord(bytes32,uint256,bytes32,bytes32,bytes32[])",
      "verifyRecords(bytes32,(uint256,bytes32,bytes32)[],bytes32[],bool[])",
    ]);
    for (const name of ["verifyLeaf", "verifyLeaves"]) expect(functions.some((f) => f.name === name), name).to.equal(false);
    // recordLeaf is the one record-leaf function (fingerprintLeaf the one for verifyNonMember's pairs),
    // and no other function takes a bytes32[] proof.
    const proofTakers = functions.filter((f) => f.inputs.some((i) => i.type === "bytes32[]")).map((f) => f.name);
    expect(proofTakers.sort()).to.deep.equal(["verifyNonMember", "verifyRecord", "verifyRecords"]);
  });

  for (const n of [2, 3, 7, 64]) {
    it(`refuses the root and every inner node of a ${n}-leaf tree as records, by every membership view`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const leaves = randomLeaves(r, n);
      const { tree, runId } = await registerTree(registry, publisher, leaves);
      const nodes = nodesOf(tree);
      const inner = n <= 7 ? Array.from({ length: n - 1 }, (_, p) => p) : [0, 1, 2, n - 2, ...Array.from({ length: 5 }, () => r.int(n - 1))];
      let mixed = 0;
      for (const p of new Set(inner)) {
        const node = nodes[p]!;
        const path = pathOf(nodes, p);
        // The hazard: as OpenZeppelin's MerkleProof sees it, the node with its path is a member (for the
        // root, with an empty proof), and the old raw-leaf views answered true here.
        expect(processProof(node, path)).to.equal(tree.root);
        expect(processMultiProof({ leaves: [node], proof: path, proofFlags: path.map(() => false) })).to.equal(tree.root);
        await expectNotMember(rawLeafView(registry, "verifyLeaf", [runId, node, path]), "a raw-leaf view called a node a record");
        await expectNotMember(rawLeafView(registry, "verifyLeaves", [runId, [node], path, path.map(() => false)]), "a raw-leaf view called a node a record");

        // Its pre-image forms, as records, are refused by both views.
        for (const forged of forgeriesOf(nodes, p, [0n, BigInt(r.int(n)), BigInt(node)])) {
          expect(await registry.verifyRecord(runId, forged.index, forged.cxHash, forged.cyHash, path)).to.equal(false);
          expect(await registry.verifyRecords(runId, [forged], path, path.map(() => false))).to.equal(false);
        }
        // The node itself in each field of a record.
        for (const forged of [
          { index: BigInt(node), cxHash: ethers.ZeroHash, cyHash: ethers.ZeroHash },
          { index: 0n, cxHash: node, cyHash: ethers.ZeroHash },
          { index: 0n, cxHash: ethers.ZeroHash, cyHash: node },
        ]) {
          expect(await registry.verifyRecord(runId, forged.index, forged.cxHash, forged.cyHash, path)).to.equal(false);
          expect(await registry.verifyRecords(runId, [forged], path, path.map(() => false))).to.equal(false);
        }

        // In a multiproof next to a real leaf outside its subtree, as OpenZeppelin accepts it with the node
        // as a leaf (a queue of hashes: the two must climb in step, so only leaves at the node's depth or
        // one below qualify); as records, the forged pre-image makes it false.
        if (p === 0) continue;
        const below = (q: number): boolean => q === p || (q > p && below(Math.floor((q - 1) / 2)));
        const candidates = Array.from({ length: n }, (_, q) => n - 1 + q)
          .filter((q) => !below(q))
          .map((q) => ({ q, multi: multiProofAt(nodes, [p, q]) }))
          .filter(({ multi }) => {
            try {
              return processMultiProof(multi) === tree.root;
            } catch {
              return false;
            }
          });
        if (candidates.length === 0) continue;
        mixed++;
        const { q: other, multi } = candidates[r.int(candidates.length)]!;
        await expectNotMember(rawLeafView(registry, "verifyLeaves", [runId, multi.leaves, multi.proof, multi.proofFlags]), "a raw-leaf view called a node a record");
        const honest = leaves.find((l) => datasetLeafHash(l) === nodes[other])!;
        for (const forged of forgeriesOf(nodes, p, [0n, BigInt(r.int(n))])) {
          const records = multi.leaves.map((h) => (h === node ? forged : honest));
          expect(await registry.verifyRecords(runId, records, multi.proof, multi.proofFlags)).to.equal(false);
        }
      }
      if (n > 2) expect(mixed, "no inner node was tried in a multiproof with a real leaf").to.be.greaterThan(0);
    });
  }

  it("refuses a multiproof of no records, which OpenZeppelin calls valid", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const { tree, runId } = await registerTree(registry, publisher, randomLeaves(r, 9));
    expect(processMultiProof({ leaves: [], proof: [tree.root], proofFlags: [] })).to.equal(tree.root);
    await expectNotMember(rawLeafView(registry, "verifyLeaves", [runId, [], [tree.root], []]), "the old multiproof view accepted an empty set");
    await expect(registry.verifyRecords(runId, [], [tree.root], [])).to.be.revertedWithCustomError(registry, "EmptyRecordSet");
    await expect(registry.verifyRecords(runId, [], [], [])).to.be.revertedWithCustomError(registry, "EmptyRecordSet");
  });

  it("checks multiproofs of random subsets, in OpenZeppelin's order, and rejects altered ones", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    let reorderingsRefused = 0;
    for (const n of [1, 2, 6, 129, 1024]) {
      const leaves = randomLeaves(r, n);
      const { tree, runId } = await registerTree(registry, publisher, leaves);
      const subsets = [
        [r.int(n)],
        [...new Set(Array.from({ length: Math.min(n, 1 + r.int(12)) }, () => r.int(n)))],
        n <= 6 ? leaves.map((_, i) => i) : [...new Set(Array.from({ length: 40 }, () => r.int(n)))],
      ];
      for (const picked of subsets) {
        const multi = tree.getMultiProof(picked);
        const records = recordsOf(multi);
        expect(StandardMerkleTree.verifyMultiProof(tree.root, [...DATASET_LEAF_ENCODING], multi)).to.equal(true);
        expect(await registry.verifyRecords(runId, records, multi.proof, multi.proofFlags)).to.equal(true);
        const { proof, proofFlags } = multi;
        const malformed = (recs: DatasetLeaf[], prf: string[], flags: boolean[]) =>
          expect(registry.verifyRecords(runId, recs, prf, flags))
            .to.be.revertedWithCustomError(registry, "MalformedMultiproof")
            .withArgs(recs.length, prf.length, flags.length);

        // A record changed in one field: false.
        const k = r.int(records.length);
        const at = (f: (x: DatasetLeaf) => DatasetLeaf) => records.map((x, j) => (j === k ? f(x) : x));
        expect(await registry.verifyRecords(runId, at((x) => ({ ...x, cxHash: flipByte(x.cxHash, r) })), proof, proofFlags)).to.equal(false);
        expect(await registry.verifyRecords(runId, at((x) => ({ ...x, cyHash: flipByte(x.cyHash, r) })), proof, proofFlags)).to.equal(false);
        expect(await registry.verifyRecords(runId, at((x) => ({ ...x, cxHash: x.cyHash, cyHash: x.cxHash })), proof, proofFlags)).to.equal(false);
        expect(await registry.verifyRecords(runId, at((x) => ({ ...x, index: x.index + BigInt(n) })), proof, proofFlags)).to.equal(false);
        // A proof hash altered: false.
        if (proof.length > 0) {
          const j = r.int(proof.length);
          expect(await registry.verifyRecords(runId, records, proof.map((h, i) => (i === j ? flipByte(h, r) : h)), proofFlags)).to.equal(false);
        }
        if (records.length > 1) {
          // Another order of the same records: the registry agrees with OpenZeppelin's processor, which says
          // false unless the order only swaps the two inputs of one (commutative) node hash.
          const reversed = [...records].reverse();
          const expected = processMultiProof({ leaves: reversed.map(datasetLeafHash), proof, proofFlags }) === tree.root;
          expect(await registry.verifyRecords(runId, reversed, proof, proofFlags)).to.equal(expected);
          if (!expected) reorderingsRefused++;
          // A record repeated in place of another: false.
          const dup = records.map((x, j) => (j === k ? records[(k + 1) % records.length]! : x));
          expect(await registry.verifyRecords(runId, dup, proof, proofFlags)).to.equal(false);
          // A record dropped: a shape no multiproof has.
          await malformed(records.slice(1), proof, proofFlags);
        }
        // A flag flipped, a proof hash added or dropped: malformed shapes revert with the registry's error.
        if (proofFlags.length > 0) {
          const j = r.int(proofFlags.length);
          await malformed(records, proof, proofFlags.map((f, i) => (i === j ? !f : f)));
        }
        await malformed(records, [...proof, r.bytes32()], proofFlags);
        if (proof.length > 0) await malformed(records, proof.slice(1), proofFlags);
        await malformed(records, proof, [...proofFlags, false]);
        // A record added: malformed as it stands; with one more merge (a true flag) the shape holds and it is false.
        const extra = leaves[r.int(n)]!;
        await malformed([...records, extra], proof, proofFlags);
        expect(await registry.verifyRecords(runId, [...records, extra], proof, [...proofFlags, true])).to.equal(false);
      }
    }
    expect(reorderingsRefused, "reversing a large multiproof's records should be refused").to.be.greaterThan(0);
  });

  it("reverts on a proof flag that is not an ABI bool, wherever it counts", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const { tree, runId } = await registerTree(registry, publisher, randomLeaves(r, 64));
    const multi = tree.getMultiProof([3, 17, 18, 40, 63]);
    const data = registry.interface.encodeFunctionData("verifyRecords", [runId, recordsOf(multi), multi.proof, multi.proofFlags]);
    expect(await ethers.provider.call({ to: await registry.getAddress(), data })).to.equal(ethers.AbiCoder.defaultAbiCoder().encode(["bool"], [true]));
    // The flags are the calldata's last words. A true flag set to 2 passes the shape check and reverts
    // when OpenZeppelin reads it (ABI validation, no data); a false one set to 2 changes the shape.
    const words = (data.length - 10) / 64;
    const dirty = async (value: boolean) => {
      const j = multi.proofFlags.indexOf(value);
      expect(j).to.be.at.least(0);
      const at = 10 + 64 * (words - multi.proofFlags.length + j);
      return ethers.provider.call({ to: await registry.getAddress(), data: data.slice(0, at) + ethers.toBeHex(2, 32).slice(2) + data.slice(at + 64) });
    };
    await expect(dirty(true)).to.be.revertedWithoutReason();
    await expect(dirty(false)).to.be.revertedWithCustomError(registry, "MalformedMultiproof");
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
    const multi = runA.tree.getMultiProof([0, 5, 6, 15]);
    expect(await registry.verifyRecords(runA.runId, recordsOf(multi), multi.proof, multi.proofFlags)).to.equal(true);
    expect(await registry.verifyRecords(runB.runId, recordsOf(multi), multi.proof, multi.proofFlags)).to.equal(false);
  });

  it("reverts UnknownRun for membership checks on an unregistered run", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const unknown = r.bytes32();
    await expect(registry.verifyRecord(unknown, 0, r.bytes32(), r.bytes32(), [])).to.be.revertedWithCustomError(registry, "UnknownRun").withArgs(unknown);
    const record = { index: 0n, cxHash: r.bytes32(), cyHash: r.bytes32() };
    await expect(registry.verifyRecords(unknown, [record], [], [])).to.be.revertedWithCustomError(registry, "UnknownRun").withArgs(unknown);
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
