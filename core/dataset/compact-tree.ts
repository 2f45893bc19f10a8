/**
 * OpenZeppelin's StandardMerkleTree over flat buffers: the same root, leaf order and proofs as
 * `StandardMerkleTree.of` (leaves sorted by hash, OpenZeppelin's array layout), built from leaves
 * already ABI-encoded as fixed-width rows and hashed by `keccakRows` when given (the native kernel,
 * prover/native-engine.ts: 2^20 leaves in seconds where `StandardMerkleTree.of` takes minutes) or
 * else by @noble/hashes row by row. The dataset tree (./tree.ts) and the fingerprint tree
 * (./fingerprint-tree.ts) are this tree over their own leaf encodings.
 *
 * Stored compactly as
 *   "ZKDLMT01" ‖ u32 n ‖ (2n−1) × 32-byte nodes (OpenZeppelin's array layout) ‖ n × u32 tree index of leaf i
 * for trees too large for OpenZeppelin's JSON dump (about 250 bytes a leaf).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { toHex as hex } from "../crypto/bn254";
import type { KeccakRows } from "../protocol/backend";

/** The most leaves a compact tree holds (tree positions and leaf order fit the sort keys below). */
export const MAX_COMPACT_LEAVES = 2 ** 24;

export class CompactMerkleTree {
  protected constructor(
    /** Nodes in OpenZeppelin's layout: root at 0, children of i at 2i+1 and 2i+2, sorted leaves at the end. */
    private readonly nodes: Uint8Array,
    /** Tree position of leaf i (the i-th row given to `layout`). */
    private readonly positions: Uint32Array,
  ) {}

  static readonly MAGIC = "ZKDLMT01";

  /**
   * Nodes and positions of the tree whose leaf i is keccak(keccak(rows[i])) (OpenZeppelin's standard
   * leaf of an ABI encoding of `rowBytes` bytes).
   */
  protected static layout(rows: Uint8Array, rowBytes: number, keccakRows: KeccakRows = nobleKeccakRows): { nodes: Uint8Array; positions: Uint32Array } {
    const n = rows.length / rowBytes;
    if (!Number.isInteger(n) || n === 0) throw new RangeError("a Merkle tree needs at least one whole leaf");
    if (n > MAX_COMPACT_LEAVES) throw new RangeError(`a compact Merkle tree holds at most 2^24 leaves (${n} given)`);
    const hashes = keccakRows(keccakRows(rows, rowBytes), 32);
    const order = sortedRows(hashes, n);
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
        const swap = compare32(nodes, a, nodes, b) > 0; // OpenZeppelin hashes the smaller child first
        pairs.set(nodes.subarray(swap ? b : a, (swap ? b : a) + 32), 64 * (i - lo));
        pairs.set(nodes.subarray(swap ? a : b, (swap ? a : b) + 32), 64 * (i - lo) + 32);
      }
      nodes.set(keccakRows(pairs, 64), 32 * lo);
      hi = lo - 1;
    }
    return { nodes, positions };
  }

  get length(): number {
    return this.positions.length;
  }

  get root(): string {
    return hex(this.node(0));
  }

  private node(i: number): Uint8Array {
    return this.nodes.subarray(32 * i, 32 * i + 32);
  }

  /** The leaf hash of leaf i. */
  leafHash(i: number): string {
    return hex(this.node(this.position(i)));
  }

  /** OpenZeppelin's proof for leaf i (sibling hashes from the leaf up). */
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
    out.set(new TextEncoder().encode(CompactMerkleTree.MAGIC));
    const view = new DataView(out.buffer);
    view.setUint32(8, this.length);
    out.set(this.nodes, 12);
    this.positions.forEach((p, i) => view.setUint32(12 + this.nodes.length + 4 * i, p));
    return out;
  }

  /** Nodes and positions from `encode()`'s bytes (TypeError for anything else). */
  protected static decodeLayout(bytes: Uint8Array): { nodes: Uint8Array; positions: Uint32Array } {
    if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== CompactMerkleTree.MAGIC) throw new TypeError(`not a compact Merkle tree (expected the tag ${CompactMerkleTree.MAGIC})`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = view.getUint32(8);
    if (n === 0 || bytes.length !== 12 + 32 * (2 * n - 1) + 4 * n) throw new TypeError("compact Merkle tree: size does not match its leaf count");
    const nodes = bytes.slice(12, 12 + 32 * (2 * n - 1));
    const positions = new Uint32Array(n);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const p = view.getUint32(12 + nodes.length + 4 * i);
      if (p < n - 1 || p > 2 * n - 2 || seen[p - (n - 1)]) throw new TypeError("compact Merkle tree: leaf positions are not a permutation of the leaf slots");
      seen[p - (n - 1)] = 1;
      positions[i] = p;
    }
    return { nodes, positions };
  }
}

/** Indices of the n 32-byte rows of `rows` in ascending order of their values (unsigned, big-endian). */
export function sortedRows(rows: Uint8Array, n: number): Uint32Array {
  if (n > MAX_COMPACT_LEAVES) throw new RangeError(`at most 2^24 rows (${n} given)`);
  // Sort (first 29 bits ‖ 24-bit index), exact in a double, with the engine's numeric sort; then
  // order runs with equal prefixes by the whole row (about n²/2^30 pairs for random rows).
  const keys = new Float64Array(n);
  const view = new DataView(rows.buffer, rows.byteOffset, rows.byteLength);
  for (let i = 0; i < n; i++) keys[i] = (view.getUint32(32 * i) >>> 3) * 2 ** 24 + i;
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = keys[i] % 2 ** 24;
  const prefix = (i: number) => Math.floor(keys[i] / 2 ** 24);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && prefix(end) === prefix(start)) end++;
    if (end - start > 1) {
      const run = Array.from(order.subarray(start, end)).sort((a, b) => compare32(rows, 32 * a, rows, 32 * b));
      order.set(run, start);
    }
    start = end;
  }
  return order;
}

/** The 32 bytes of `a` at i against those of `b` at j, as unsigned big-endian numbers: negative, zero or positive. */
export function compare32(a: Uint8Array, i: number, b: Uint8Array, j: number): number {
  for (let k = 0; k < 32; k++) {
    const d = a[i + k] - b[j + k];
    if (d !== 0) return d;
  }
  return 0;
}

/** Row-wise keccak-256 with @noble/hashes (the default; a caller may inject the native kernel). */
export function nobleKeccakRows(data: Uint8Array, row: number): Uint8Array {
  const out = new Uint8Array((data.length / row) * 32);
  for (let i = 0; i < data.length / row; i++) out.set(keccak_256(data.subarray(i * row, (i + 1) * row)), 32 * i);
  return out;
}
