import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash, standardNodeHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { processProof } from "@openzeppelin/merkle-tree/dist/core.js";
import { deployRegistryFixture, randomRecord } from "../helpers/registry";
import { rng, type Rng } from "../helpers/random";
import { runIdOf } from "../../client/registry";
import type { ProofRegistry } from "../../typechain-types";

/** The fingerprint tree's leaf encoding: one leaf per gap (low, high). */
const GAP_ENCODING = ["bytes32", "bytes32"];
const MAX = (1n << 256n) - 1n;
const word = (v: bigint): string => ethers.toBeHex(v, 32);
const SENTINEL_LOW = word(0n);
const SENTINEL_HIGH = word(MAX);

type Gap = [string, string];
type Signer = Awaited<ReturnType<typeof ethers.getSigners>>[number];

/** n distinct random fingerprints, sorted ascending as uint256. */
function randomFingerprints(r: Rng, n: number): string[] {
  const set = new Set<string>();
  while (set.size < n) set.add(r.bytes32());
  return [...set].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

/** The gaps between sorted fingerprints and the two sentinels: (0, f_1), (f_1, f_2), …, (f_n, 0xff…ff). */
function gapsOf(fingerprints: string[]): Gap[] {
  const bounds = [SENTINEL_LOW, ...fingerprints, SENTINEL_HIGH];
  return bounds.slice(1).map((high, i) => [bounds[i]!, high]);
}

/** A uniform value strictly between low and high (which must leave room for one). */
function inside(r: Rng, [low, high]: Gap): string {
  const span = BigInt(high) - BigInt(low) - 1n;
  expect(span > 0n, "an empty gap").to.equal(true);
  return word(BigInt(low) + 1n + (r.uint256() % span));
}

function flipByte(hex: string, r: Rng): string {
  const bytes = ethers.getBytes(hex);
  bytes[r.int(32)] ^= 1 << r.int(8);
  return ethers.hexlify(bytes);
}

/** The sibling hashes from tree position p up to the root: OpenZeppelin's proof, for any node. */
function pathOf(nodes: string[], p: number): string[] {
  const path: string[] = [];
  for (; p > 0; p = Math.floor((p - 1) / 2)) path.push(nodes[p % 2 === 1 ? p + 1 : p - 1]!);
  return path;
}

/** The two children of inner node p, sorted: the 64 bytes whose keccak-256 is the node. */
function childrenOf(nodes: string[], p: number): Gap {
  const [a, b] = [nodes[2 * p + 1]!, nodes[2 * p + 2]!];
  return BigInt(a) < BigInt(b) ? [a, b] : [b, a];
}

/** k distinct indices of [0, n), always with the first and last; all of them when k ≥ n. */
function sampleOf(r: Rng, n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set([0, n - 1]);
  while (picked.size < k) picked.add(r.int(n));
  return [...picked];
}

describe("ProofRegistry: dataset non-membership", () => {
  const r = rng("nonmembership");

  async function registerFingerprints(registry: ProofRegistry, publisher: Signer, fingerprints: string[]) {
    const gaps = gapsOf(fingerprints);
    const tree = StandardMerkleTree.of(gaps, GAP_ENCODING);
    const record = randomRecord(r, { fingerprintRoot: tree.root, datasetSize: BigInt(fingerprints.length) });
    await registry.connect(publisher).registerRun(record);
    return { gaps, tree, runId: runIdOf(publisher.address, record.manifestDigest) };
  }

  it("computes the fingerprint leaf exactly as OpenZeppelin's StandardMerkleTree does", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const pairs: Gap[] = [[SENTINEL_LOW, SENTINEL_HIGH], [SENTINEL_LOW, r.bytes32()], [r.bytes32(), SENTINEL_HIGH]];
    for (let i = 0; i < 9; i++) pairs.push([r.bytes32(), r.bytes32()]);
    for (const [low, high] of pairs) {
      const onChain = await registry.fingerprintLeaf(low, high);
      expect(onChain).to.equal(standardLeafHash(GAP_ENCODING, [low, high]));
      expect(onChain).to.equal(StandardMerkleTree.of([[low, high]], GAP_ENCODING).root); // a one-leaf tree's root is its leaf
      expect(onChain).to.equal(ethers.keccak256(ethers.keccak256(ethers.concat([low, high]))));
    }
  });

  for (const n of [1, 2, 3, 17, 100]) {
    it(`proves fingerprints strictly inside the gaps of a tree over ${n} fingerprints, and refuses altered queries`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const { gaps, tree, runId } = await registerFingerprints(registry, publisher, randomFingerprints(r, n));
      for (const i of sampleOf(r, gaps.length, 18)) {
        const [low, high] = gaps[i]!;
        const proof = tree.getProof(i);
        expect(StandardMerkleTree.verify(tree.root, GAP_ENCODING, [low, high], proof)).to.equal(true);
        for (const q of [word(BigInt(low) + 1n), word(BigInt(high) - 1n), inside(r, gaps[i]!)]) {
          expect(await registry.verifyNonMember(runId, q, low, high, proof), `gap ${i}`).to.equal(true);
        }

        const q = inside(r, gaps[i]!);
        // The bounds themselves are a fingerprint of the set or a sentinel: never inside.
        expect(await registry.verifyNonMember(runId, low, low, high, proof)).to.equal(false);
        expect(await registry.verifyNonMember(runId, high, low, high, proof)).to.equal(false);
        // Swapped bounds, a flipped proof byte, an empty proof (every tree here has at least two leaves).
        expect(await registry.verifyNonMember(runId, q, high, low, proof)).to.equal(false);
        const j = r.int(proof.length);
        const flipped = proof.map((h, k) => (k === j ? flipByte(h, r) : h));
        expect(await registry.verifyNonMember(runId, q, low, high, flipped)).to.equal(false);
        expect(await registry.verifyNonMember(runId, q, low, high, [])).to.equal(false);

        // This gap's proof for a fingerprint of another gap: outside the bounds with this gap's pair, and
        // not a leaf with the other gap's pair (the bounds pass: the proof is what refuses it).
        const k = (i + 1 + r.int(gaps.length - 1)) % gaps.length;
        const elsewhere = inside(r, gaps[k]!);
        expect(await registry.verifyNonMember(runId, elsewhere, low, high, proof)).to.equal(false);
        expect(await registry.verifyNonMember(runId, elsewhere, gaps[k]![0], gaps[k]![1], proof)).to.equal(false);
        expect(await registry.verifyNonMember(runId, elsewhere, gaps[k]![0], gaps[k]![1], tree.getProof(k))).to.equal(true);
      }
    });

    it(`answers false for ${n <= 20 ? "each" : "a sample"} of ${n} fingerprints and for the sentinels, with ${n < 18 ? "every leaf" : "their own leaves and a sample of the others"}`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const fingerprints = randomFingerprints(r, n);
      const { gaps, tree, runId } = await registerFingerprints(registry, publisher, fingerprints);
      // All leaves up to 18; for 101, the fingerprint's own two and a sample of the others.
      const leavesFor = (own: number[]) => [...new Set([...own, ...sampleOf(r, gaps.length, 18)])];
      for (const m of sampleOf(r, n, 20)) {
        const f = fingerprints[m]!;
        expect(gaps[m]![1]).to.equal(f);
        expect(gaps[m + 1]![0]).to.equal(f);
        for (const i of leavesFor([m, m + 1])) {
          expect(await registry.verifyNonMember(runId, f, gaps[i]![0], gaps[i]![1], tree.getProof(i)), `fingerprint ${m}, leaf ${i}`).to.equal(false);
        }
      }
      for (const sentinel of [SENTINEL_LOW, SENTINEL_HIGH]) {
        for (const i of leavesFor([0, gaps.length - 1])) {
          expect(await registry.verifyNonMember(runId, sentinel, gaps[i]![0], gaps[i]![1], tree.getProof(i))).to.equal(false);
        }
        // Not even the widest pair the bounds allow, (0, 0xff…ff), which is no leaf here.
        expect(await registry.verifyNonMember(runId, sentinel, SENTINEL_LOW, SENTINEL_HIGH, [])).to.equal(false);
      }
    });
  }

  for (const n of [1, 2, 6, 17]) {
    it(`refuses the root and every inner node of a ${n + 1}-leaf fingerprint tree passed as a gap`, async () => {
      const { registry, publisher } = await loadFixture(deployRegistryFixture);
      const { tree, runId } = await registerFingerprints(registry, publisher, randomFingerprints(r, n));
      const nodes = tree.dump().tree;
      for (let p = 0; p < n; p++) {
        const node = nodes[p]!;
        const path = pathOf(nodes, p);
        const [lo, hi] = childrenOf(nodes, p);
        // The hazard: the node's sorted children, hashed once as a 64-byte leaf, are the node, and the node
        // with the siblings above it (the root with an empty proof) folds up to the root.
        expect(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(GAP_ENCODING, [lo, hi]))).to.equal(node);
        expect(processProof(node, path)).to.equal(tree.root);
        // fingerprintLeaf hashes the pair twice, so the pair is no leaf, even with a query inside its bounds.
        expect(await registry.fingerprintLeaf(lo, hi)).to.not.equal(node);
        const q = inside(r, [lo, hi]);
        expect(await registry.verifyNonMember(runId, q, lo, hi, path), `node ${p}`).to.equal(false);
      }
    });
  }

  it("handles empty gaps: adjacent fingerprints, and fingerprints next to the sentinels", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const fingerprints = [1n, 2n, 1000n, MAX - 1n].map(word);
    const { gaps, tree, runId } = await registerFingerprints(registry, publisher, fingerprints);
    // gaps: (0,1) (1,2) (2,1000) (1000,max-1) (max-1,max); only the middle two hold anything.
    const queries = [0n, 1n, 2n, 3n, 999n, 1000n, 1001n, MAX - 2n, MAX - 1n, MAX];
    const holds = (q: bigint, [low, high]: Gap) => BigInt(low) < q && q < BigInt(high);
    for (const q of queries) {
      for (let i = 0; i < gaps.length; i++) {
        const expected = holds(q, gaps[i]!);
        expect(await registry.verifyNonMember(runId, word(q), gaps[i]![0], gaps[i]![1], tree.getProof(i)), `query ${q}, gap ${i}`).to.equal(expected);
      }
    }
    expect(queries.filter((q) => gaps.some((g) => holds(q, g)))).to.deep.equal([3n, 999n, 1001n, MAX - 2n]);
  });

  it("does not accept one run's gap proofs against another run's root", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const runA = await registerFingerprints(registry, publisher, randomFingerprints(r, 16));
    const runB = await registerFingerprints(registry, publisher, randomFingerprints(r, 16));
    for (let i = 0; i < runA.gaps.length; i++) {
      const [low, high] = runA.gaps[i]!;
      const q = inside(r, runA.gaps[i]!);
      const proof = runA.tree.getProof(i);
      expect(await registry.verifyNonMember(runA.runId, q, low, high, proof)).to.equal(true);
      expect(await registry.verifyNonMember(runB.runId, q, low, high, proof)).to.equal(false);
    }
  });

  it("checks against the fingerprint root, not the dataset root", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const gaps = gapsOf(randomFingerprints(r, 8));
    const tree = StandardMerkleTree.of(gaps, GAP_ENCODING);
    // The fingerprint tree registered as the dataset root, with another fingerprint root.
    const record = randomRecord(r, { datasetRoot: tree.root });
    await registry.connect(publisher).registerRun(record);
    const runId = runIdOf(publisher.address, record.manifestDigest);
    expect(await registry.verifyNonMember(runId, inside(r, gaps[3]!), gaps[3]![0], gaps[3]![1], tree.getProof(3))).to.equal(false);
  });

  it("answers whatever the run's status (the tree is the publisher's word until the run is certified)", async () => {
    const { registry, publisher, verifierA, verifierB } = await loadFixture(deployRegistryFixture);
    const verified = await registerFingerprints(registry, publisher, randomFingerprints(r, 5));
    const rejected = await registerFingerprints(registry, publisher, randomFingerprints(r, 5));
    const revoked = await registerFingerprints(registry, publisher, randomFingerprints(r, 5));
    const ask = async (run: typeof verified) => {
      const i = r.int(run.gaps.length);
      return registry.verifyNonMember(run.runId, inside(r, run.gaps[i]!), run.gaps[i]![0], run.gaps[i]![1], run.tree.getProof(i));
    };
    for (const run of [verified, rejected, revoked]) expect(await ask(run)).to.equal(true); // Registered
    for (const v of [verifierA, verifierB]) {
      await registry.connect(v).attest(verified.runId, true, r.bytes32());
      await registry.connect(v).attest(rejected.runId, false, r.bytes32());
    }
    await registry.connect(publisher).revoke(revoked.runId, "withdrawn");
    expect(await registry.isCertified(verified.runId)).to.equal(true);
    for (const run of [verified, rejected, revoked]) expect(await ask(run)).to.equal(true);
  });

  it("reverts UnknownRun for an unregistered run, whatever the query", async () => {
    const { registry } = await loadFixture(deployRegistryFixture);
    const unknown = r.bytes32();
    const gap = gapsOf(randomFingerprints(r, 1))[0]!;
    for (const q of [inside(r, gap), gap[0], SENTINEL_HIGH]) {
      await expect(registry.verifyNonMember(unknown, q, gap[0], gap[1], [r.bytes32()]))
        .to.be.revertedWithCustomError(registry, "UnknownRun")
        .withArgs(unknown);
    }
  });

  it("checks a depth-20 non-membership proof in at most 10k execution gas", async () => {
    const { registry, publisher } = await loadFixture(deployRegistryFixture);
    const probe = await ethers.deployContract("GasProbe");
    // A depth-20 path built by hand: the root is the gap's leaf folded with 20 random siblings.
    const [low, fingerprint, high] = randomFingerprints(r, 3) as [string, string, string];
    const proof = Array.from({ length: 20 }, () => r.bytes32());
    const root = proof.reduce((node, sibling) => standardNodeHash(node, sibling), standardLeafHash(GAP_ENCODING, [low, high]));
    const record = randomRecord(r, { fingerprintRoot: root, datasetSize: 1n << 20n });
    await registry.connect(publisher).registerRun(record);
    const runId = runIdOf(publisher.address, record.manifestDigest);

    const data = registry.interface.encodeFunctionData("verifyNonMember", [runId, fingerprint, low, high, proof]);
    const [gasUsed, result] = await probe.measure(await registry.getAddress(), data);
    expect(registry.interface.decodeFunctionResult("verifyNonMember", result)[0]).to.equal(true);
    console.log(`      verifyNonMember, depth 20: ${gasUsed} execution gas`);
    expect(gasUsed).to.be.lessThanOrEqual(10_000n);
  });
});
