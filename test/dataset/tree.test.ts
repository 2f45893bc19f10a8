import { expect } from "chai";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { CompactDatasetTree, buildDatasetTree, datasetLeafHash, loadDatasetTree, DATASET_LEAF_ENCODING, type DatasetLeaf } from "../../core/dataset/tree";
import { rng } from "../helpers/random";

describe("dataset tree (core/dataset/tree.ts)", () => {
  const r = rng("dataset-tree");
  const leaves = (n: number): DatasetLeaf[] =>
    Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: r.bytes32(), cyHash: r.bytes32() }));

  it("round-trips through OpenZeppelin's dump() JSON and StandardMerkleTree.load", () => {
    for (const n of [1, 2, 7, 100]) {
      const data = leaves(n);
      const tree = buildDatasetTree(data);
      const json = JSON.parse(JSON.stringify(tree.dump()));
      const plain = StandardMerkleTree.load(json);
      const ours = loadDatasetTree(json);
      expect(plain.root).to.equal(tree.root);
      expect(ours.root).to.equal(tree.root);
      for (let i = 0; i < n; i++) {
        expect(plain.getProof(i)).to.deep.equal(tree.getProof(i));
        expect(tree.leafHash([data[i]!.index.toString(), data[i]!.cxHash.toLowerCase(), data[i]!.cyHash.toLowerCase()])).to.equal(datasetLeafHash(data[i]!));
      }
    }
  });

  it("treats upper- and lower-case hex digests as the same leaf", () => {
    const leaf = { index: 3n, cxHash: r.bytes32(), cyHash: r.bytes32() };
    const upper = { ...leaf, cxHash: "0x" + leaf.cxHash.slice(2).toUpperCase() };
    expect(datasetLeafHash(upper)).to.equal(datasetLeafHash(leaf));
  });

  it("rejects malformed leaves and out-of-order indices", () => {
    const good = leaves(3);
    expect(() => buildDatasetTree([])).to.throw(RangeError, /at least one leaf/);
    expect(() => buildDatasetTree([good[1]!, good[0]!])).to.throw(RangeError, /position 0 has index 1/);
    expect(() => buildDatasetTree([{ ...good[0]!, cxHash: "0x1234" }])).to.throw(TypeError, /cxHash/);
    expect(() => buildDatasetTree([{ ...good[0]!, cyHash: good[0]!.cyHash.slice(2) }])).to.throw(TypeError, /cyHash/);
    expect(() => datasetLeafHash({ ...good[0]!, index: -1n })).to.throw(RangeError, /uint256/);
    expect(() => datasetLeafHash({ ...good[0]!, index: 1n << 256n })).to.throw(RangeError, /uint256/);
  });

  it("refuses dumps that are not dataset trees or were tampered with", () => {
    const dump = JSON.parse(JSON.stringify(buildDatasetTree(leaves(5)).dump()));
    expect(() => loadDatasetTree({ ...dump, format: "simple-v1" })).to.throw(TypeError, /standard-v1/);
    expect(() => loadDatasetTree(null)).to.throw(TypeError, /standard-v1/);
    expect(() => loadDatasetTree({ ...dump, leafEncoding: ["uint256", "bytes32"] })).to.throw(TypeError, /leaf encoding/);
    const tampered = JSON.parse(JSON.stringify(dump));
    tampered.values[2].value[1] = r.bytes32();
    expect(() => loadDatasetTree(tampered)).to.throw();
    const badNode = JSON.parse(JSON.stringify(dump));
    badNode.tree[0] = r.bytes32();
    expect(() => loadDatasetTree(badNode)).to.throw();
    expect(DATASET_LEAF_ENCODING).to.deep.equal(["uint256", "bytes32", "bytes32"]);
  });
  it("CompactDatasetTree gives OpenZeppelin's root, leaf hashes and every proof, and round-trips its file", () => {
    for (const n of [1, 2, 3, 5, 8, 33, 257, 1000]) {
      const data = leaves(n);
      const oz = buildDatasetTree(data);
      const compact = CompactDatasetTree.build(data);
      expect(compact.root).to.equal(oz.root);
      const decoded = CompactDatasetTree.decode(compact.encode());
      for (let i = 0; i < n; i++) {
        expect(compact.getProof(i)).to.deep.equal(oz.getProof(i));
        expect(compact.leafHash(i)).to.equal(datasetLeafHash(data[i]!));
        expect(decoded.getProof(i)).to.deep.equal(oz.getProof(i));
      }
      expect(decoded.root).to.equal(oz.root);
    }
  });

  it("CompactDatasetTree refuses malformed leaves and files", () => {
    const data = leaves(4);
    expect(() => CompactDatasetTree.build([])).to.throw(RangeError);
    expect(() => CompactDatasetTree.build([data[1]!])).to.throw(RangeError, /index/);
    expect(() => CompactDatasetTree.build([{ ...data[0]!, cxHash: "0x1234" }])).to.throw(TypeError);
    const bytes = CompactDatasetTree.build(data).encode();
    expect(() => CompactDatasetTree.decode(bytes.slice(0, -1))).to.throw(TypeError, /size/);
    const wrongTag = bytes.slice();
    wrongTag[0] ^= 1;
    expect(() => CompactDatasetTree.decode(wrongTag)).to.throw(TypeError, /tag/);
    const duplicate = bytes.slice();
    duplicate.set(duplicate.subarray(duplicate.length - 8, duplicate.length - 4), duplicate.length - 4); // two leaves, one slot
    expect(() => CompactDatasetTree.decode(duplicate)).to.throw(TypeError, /permutation/);
    expect(() => CompactDatasetTree.build(data).getProof(4)).to.throw(RangeError);
  });
});
