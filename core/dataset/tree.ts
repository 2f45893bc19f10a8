/**
 * The dataset Merkle tree: the one place that defines a dataset leaf.
 *
 * Leaf i is the OpenZeppelin StandardMerkleTree leaf of `(uint256 i, bytes32 cxHash, bytes32 cyHash)`,
 * where cxHash/cyHash are keccak-256 digests of record i's feature and label commitments
 * (docs/protocol.md, "Dataset binding"). ProofRegistry.recordLeaf computes the same hash on-chain, so a
 * proof from this tree verifies with OpenZeppelin's MerkleProof and with `ProofRegistry.verifyRecord`.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { fromHex } from "../crypto/bn254";
import type { KeccakRows } from "../protocol/backend";
import { BYTES32_HEX as BYTES32 } from "../crypto/hex";
import { CompactMerkleTree, MAX_COMPACT_LEAVES } from "./compact-tree";

/** Solidity types of a dataset leaf, in order. */
export const DATASET_LEAF_ENCODING = ["uint256", "bytes32", "bytes32"] as const;

/** One dataset leaf: the record's index and the digests of its two commitments (0x-prefixed, 32 bytes). */
export interface DatasetLeaf {
  index: bigint;
  cxHash: string;
  cyHash: string;
}

/** A leaf as the tree stores it: the index as a decimal string, so that `dump()` is plain JSON. */
export type DatasetLeafTuple = [index: string, cxHash: string, cyHash: string];


function toTuple(leaf: DatasetLeaf): DatasetLeafTuple {
  if (leaf.index < 0n || leaf.index >= 1n << 256n) throw new RangeError(`leaf index ${leaf.index} is not a uint256`);
  if (!BYTES32.test(leaf.cxHash)) throw new TypeError(`cxHash ${leaf.cxHash} is not a 0x-prefixed 32-byte hex string`);
  if (!BYTES32.test(leaf.cyHash)) throw new TypeError(`cyHash ${leaf.cyHash} is not a 0x-prefixed 32-byte hex string`);
  return [leaf.index.toString(), leaf.cxHash.toLowerCase(), leaf.cyHash.toLowerCase()];
}

/** The leaf hash as the tree and `ProofRegistry.recordLeaf` compute it: keccak256(keccak256(abi.encode(...))). */
export function datasetLeafHash(leaf: DatasetLeaf): string {
  return standardLeafHash([...DATASET_LEAF_ENCODING], toTuple(leaf));
}

/** The dataset tree over leaves given in index order (leaf i must have index i). */
export function buildDatasetTree(leaves: readonly DatasetLeaf[]): StandardMerkleTree<DatasetLeafTuple> {
  if (leaves.length === 0) throw new RangeError("a dataset tree needs at least one leaf");
  const tuples = leaves.map((leaf, i) => {
    if (leaf.index !== BigInt(i)) throw new RangeError(`leaf at position ${i} has index ${leaf.index}`);
    return toTuple(leaf);
  });
  // sortLeaves stays at OpenZeppelin's default (true): the dump records the order, so anyone loading it
  // with StandardMerkleTree.load gets the same root and proofs.
  return StandardMerkleTree.of(tuples, [...DATASET_LEAF_ENCODING]);
}

/** Loads a tree from OpenZeppelin's `dump()` JSON, rejecting one whose leaves are not dataset leaves. */
export function loadDatasetTree(dump: unknown): StandardMerkleTree<DatasetLeafTuple> {
  const data = dump as { format?: unknown; leafEncoding?: unknown };
  if (data?.format !== "standard-v1") throw new TypeError("not an OpenZeppelin standard-v1 tree dump");
  const encoding = data.leafEncoding;
  if (!Array.isArray(encoding) || encoding.join(",") !== DATASET_LEAF_ENCODING.join(",")) {
    throw new TypeError(`tree leaf encoding is ${JSON.stringify(encoding)}, expected ${DATASET_LEAF_ENCODING.join(",")}`);
  }
  const tree = StandardMerkleTree.load(dump as Parameters<typeof StandardMerkleTree.load<DatasetLeafTuple>>[0]);
  tree.validate();
  return tree;
}

/**
 * The same tree as `buildDatasetTree` (byte-identical root, leaf order and proofs), over flat buffers
 * (./compact-tree.ts): what a verifier rebuilds and a server answers from at 2^20 records. Leaf i is
 * dataset record i.
 */
export class CompactDatasetTree extends CompactMerkleTree {
  static build(leaves: readonly DatasetLeaf[], keccakRows?: KeccakRows): CompactDatasetTree {
    const n = leaves.length;
    if (n === 0) throw new RangeError("a dataset tree needs at least one leaf");
    if (n > MAX_COMPACT_LEAVES) throw new RangeError("a compact dataset tree holds at most 2^24 leaves");
    // Leaf i = keccak(keccak(abi.encode(uint256 i, bytes32 cxHash, bytes32 cyHash))), all rows at once.
    const encoded = new Uint8Array(96 * n);
    const view = new DataView(encoded.buffer);
    leaves.forEach((leaf, i) => {
      if (leaf.index !== BigInt(i)) throw new RangeError(`leaf at position ${i} has index ${leaf.index}`);
      if (!BYTES32.test(leaf.cxHash) || !BYTES32.test(leaf.cyHash)) toTuple(leaf); // throws the precise error
      view.setUint32(96 * i + 28, i);
      encoded.set(fromHex(leaf.cxHash), 96 * i + 32);
      encoded.set(fromHex(leaf.cyHash), 96 * i + 64);
    });
    const { nodes, positions } = CompactMerkleTree.layout(encoded, 96, keccakRows);
    return new CompactDatasetTree(nodes, positions);
  }

  static decode(bytes: Uint8Array): CompactDatasetTree {
    const { nodes, positions } = CompactMerkleTree.decodeLayout(bytes);
    return new CompactDatasetTree(nodes, positions);
  }
}
