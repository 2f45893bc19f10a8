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
import { keccak_256 } from "@noble/hashes/sha3.js";
import { fromHex, toHex as hex } from "../crypto/bn254";
import type { KeccakRows } from "../protocol/backend";
import { BYTES32_HEX as BYTES32 } from "../crypto/hex";

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
 * The same tree as `buildDatasetTree` (byte-identical root, leaf order and proofs: OpenZeppelin's
 * StandardMerkleTree with sorted leaves), built over flat buffers, hashed by `keccakRows` when given
 * (the native kernel, prover/native-engine.ts: 2^20 leaves in seconds where `StandardMerkleTree.of`
 * takes minutes) or else by @noble/hashes row by row. Stored compactly as
 *   "ZKDLMT01" ‖ u32 n ‖ (2n−1) × 32-byte nodes (OpenZeppelin's array layout) ‖ n × u32 tree index of leaf i
 * for trees too large for OpenZeppelin's JSON dump (about 250 bytes a leaf).
 */
export class CompactDatasetTree {
  private constructor(
    /** Nodes in OpenZeppelin's layout: root at 0, children of i at 2i+1 and 2i+2, sorted leaves at the end. */
    private readonly nodes: Uint8Array,
    /** Tree position of leaf i (leaf i = dataset record i). */
    private readonly positions: Uint32Array,
  ) {}

  static readonly MAGIC = "ZKDLMT01";

  get length(): number {
    return this.positions.length;
  }

  get root(): string {
    return hex(this.node(0));
  }

  static build(leaves: readonly DatasetLeaf[], keccakRows: KeccakRows = nobleKeccakRows): CompactDatasetTree {
    const n = leaves.length;
    if (n === 0) throw new RangeError("a dataset tree needs at least one leaf");
    if (n > 2 ** 24) throw new RangeError("a compact dataset tree holds at most 2^24 leaves");
    const hashRows = keccakRows;
    // Leaf i = keccak(keccak(abi.encode(uint256 i, bytes32 cxHash, bytes32 cyHash))), all rows at once.
    const encoded = new Uint8Array(96 * n);
    leaves.forEach((leaf, i) => {
      if (leaf.index !== BigInt(i)) throw new RangeError(`leaf at position ${i} has index ${leaf.index}`);
      if (!BYTES32.test(leaf.cxHash) || !BYTES32.test(leaf.cyHash)) toTuple(leaf); // throws the precise error
      new DataView(encoded.buffer).setUint32(96 * i + 28, i);
      encoded.set(fromHex(leaf.cxHash), 96 * i + 32);
      encoded.set(fromHex(leaf.cyHash), 96 * i + 64);
    });
    const hashes = hashRows(hashRows(encoded, 96), 32);
    const order = sortedByHash(hashes, n);
    const size = 2 * n - 1;
    const nodes = new Uint8Array(32 * size);
    const positions = new Uint32Array(n);
    order.forEach((leafIndex, rank) => {
      const at = size - 1 - rank;
      nodes.set(hashes.subarray(32 * leafIndex, 32 * leafIndex + 32), 32 * at);
      positions[leafIndex] = at;
    });
    // Internal nodes hi…lo whose children all lie beyond hi are hashed together (one batch per level).
    for (let hi = size - 1 - n; hi >= 0; ) {
      const lo = Math.floor((hi + 1) / 2);
      const pairs = new Uint8Array(64 * (hi - lo + 1));
      for (let i = lo; i <= hi; i++) {
        const a = 32 * (2 * i + 1);
        const b = a + 32;
        const swap = compare32(nodes, a, b) > 0; // swap when a > b
        pairs.set(nodes.subarray(swap ? b : a, (swap ? b : a) + 32), 64 * (i - lo));
        pairs.set(nodes.subarray(swap ? a : b, (swap ? a : b) + 32), 64 * (i - lo) + 32);
      }
      nodes.set(hashRows(pairs, 64), 32 * lo);
      hi = lo - 1;
    }
    return new CompactDatasetTree(nodes, positions);
  }

  private node(i: number): Uint8Array {
    return this.nodes.subarray(32 * i, 32 * i + 32);
  }

  /** The leaf hash of record i. */
  leafHash(i: number): string {
    return hex(this.node(this.position(i)));
  }

  /** OpenZeppelin's proof for record i (sibling hashes from the leaf up). */
  getProof(i: number): string[] {
    const proof: string[] = [];
    for (let at = this.position(i); at > 0; at = Math.floor((at - 1) / 2)) proof.push(hex(this.node(at % 2 === 1 ? at + 1 : at - 1)));
    return proof;
  }

  private position(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`no leaf ${i} in a tree of ${this.length}`);
    return this.positions[i];
  }

  encode(): Uint8Array {
    const out = new Uint8Array(12 + this.nodes.length + 4 * this.length);
    out.set(new TextEncoder().encode(CompactDatasetTree.MAGIC));
    const view = new DataView(out.buffer);
    view.setUint32(8, this.length);
    out.set(this.nodes, 12);
    this.positions.forEach((p, i) => view.setUint32(12 + this.nodes.length + 4 * i, p));
    return out;
  }

  static decode(bytes: Uint8Array): CompactDatasetTree {
    if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CompactDatasetTree.MAGIC) throw new TypeError(`not a compact dataset tree (expected the tag ${CompactDatasetTree.MAGIC})`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(8);
    if (n === 0 || bytes.length !== 12 + 32 * (2 * n - 1) + 4 * n) throw new TypeError("compact dataset tree: size does not match its leaf count");
    const nodes = bytes.slice(12, 12 + 32 * (2 * n - 1));
    const positions = new Uint32Array(n);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p = view.getUint32(12 + nodes.length + 4 * i);
      if (p < n - 1 || p > 2 * n - 2 || seen[p - (n - 1)]) throw new TypeError("compact dataset tree: leaf positions are not a permutation of the leaf slots");
      seen[p - (n - 1)] = 1;
      positions[i] = p;
    }
    return new CompactDatasetTree(nodes, positions);
  }
}


/** Leaf indices in ascending order of their 32-byte hashes (as OpenZeppelin sorts leaves). */
function sortedByHash(hashes: Uint8Array, n: number): Uint32Array {
  // Sort (first 40 bits of the hash ‖ 24-bit index) natively, then order runs with equal prefixes by full hash.
  const keys = new BigUint64Array(n);
  const view = new DataView(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  for (let i = 0; i < n; i++) keys[i] = ((BigInt(view.getUint32(32 * i)) << 32n) | (BigInt(hashes[32 * i + 4]) << 24n) | BigInt(i));
  keys.sort();
  const order = Uint32Array.from(keys, (k) => Number(k & 0xffffffn));
  const prefix = (i: number) => keys[i] >> 24n;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && prefix(end) === prefix(start)) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end)).sort((a, b) => compare32(hashes, 32 * a, 32 * b));
      order.set(run, start);
    }
    start = end;
  }
  return order;
}

/** The 32 bytes at i against those at j, as unsigned big-endian numbers: negative, zero or positive. */
function compare32(bytes: Uint8Array, i: number, j: number): number {
  for (let k = 0; k < 32; k++) {
    const d = bytes[i + k] - bytes[j + k];
    if (d !== 0) return d;
  }
  return 0;
}

/** Row-wise keccak-256 with @noble/hashes (the default; a caller may inject the native kernel). */
function nobleKeccakRows(data: Uint8Array, row: number): Uint8Array {
  const out = new Uint8Array((data.length / row) * 32);
  for (let i = 0; i < data.length / row; i++) out.set(keccak_256(data.subarray(i * row, (i + 1) * row)), 32 * i);
  return out;
}
