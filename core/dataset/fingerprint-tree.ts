/**
 * The fingerprint tree (docs/protocol.md §5.3): proof that a record is NOT in a run's dataset.
 *
 * The dataset's distinct fingerprints (./fingerprints.ts) in ascending order as uint256,
 * f_1 < … < f_m, between two sentinels FLOOR = 0x00…00 and CEILING = 0xff…ff, give m + 1 gaps
 *   (FLOOR, f_1), (f_1, f_2), …, (f_m, CEILING),
 * and gap g is leaf g of an OpenZeppelin StandardMerkleTree with leaf encoding (bytes32 low, bytes32
 * high): ProofRegistry.fingerprintLeaf hashes the same leaf on chain. A fingerprint f with
 * low < f < high for a leaf of the tree is no record's fingerprint, so that record is not in the
 * dataset: one Merkle proof answers every query, the two ends included. That the tree holds exactly
 * these gaps — sorted, strictly increasing, exactly the dataset's fingerprints — is what `zkdl verify`
 * and the attestors check by rebuilding its root from the fingerprint points; the chain anchors it.
 * (Aztec's indexed Merkle tree proves non-membership of public values the same way, with a "low
 * leaf" that brackets the value.)
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { standardLeafHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import { type G1Point, fromHex, toHex } from "../crypto/bn254";
import { BYTES32_HEX } from "../crypto/hex";
import { type KeccakRows, concatPoints } from "../protocol/backend";
import { CompactMerkleTree, MAX_COMPACT_LEAVES, compare32, nobleKeccakRows, sortedRows } from "./compact-tree";

/** Solidity types of a fingerprint-tree leaf: the gap's bounds. */
export const FINGERPRINT_LEAF_ENCODING = ["bytes32", "bytes32"] as const;
export const FINGERPRINT_FLOOR = "0x" + "00".repeat(32);
export const FINGERPRINT_CEILING = "0x" + "ff".repeat(32);

/**
 * A dataset with a fingerprint equal to a sentinel (a keccak-256 output of 0 or 2^256 − 1): no gap
 * can hold it, so it has no fingerprint tree. A verifier answers it as an invalid run.
 */
export class SentinelFingerprintError extends Error {
  constructor() {
    super("a fingerprint equals a sentinel (0 or 2^256 − 1): no gap can hold it");
    this.name = "SentinelFingerprintError";
  }
}

/** A leaf of the fingerprint tree: two consecutive fingerprints (or a sentinel), lowercase 0x-hex. */
export interface FingerprintGap {
  readonly low: string;
  readonly high: string;
}

/** The leaf hash as the tree and ProofRegistry.fingerprintLeaf compute it: keccak256(keccak256(abi.encode(low, high))). */
export function fingerprintLeafHash(gap: FingerprintGap): string {
  if (!BYTES32_HEX.test(gap.low) || !BYTES32_HEX.test(gap.high)) throw new TypeError("a gap's bounds are 0x-prefixed 32-byte hex strings");
  return standardLeafHash([...FINGERPRINT_LEAF_ENCODING], [gap.low.toLowerCase(), gap.high.toLowerCase()]);
}

/** Whether low < f < high as 256-bit unsigned integers. */
export const inGap = (f: string, gap: FingerprintGap): boolean => BigInt(gap.low) < BigInt(f) && BigInt(f) < BigInt(gap.high);

/**
 * Checks a non-membership proof with @openzeppelin/merkle-tree: f lies strictly inside the gap, and
 * the gap is a leaf of the tree with root `root`. Throws TypeError for malformed hex.
 */
export function verifyNonMembership(root: string, fingerprint: string, gap: FingerprintGap, proof: readonly string[]): boolean {
  for (const v of [root, fingerprint, gap.low, gap.high, ...proof]) if (typeof v !== "string" || !BYTES32_HEX.test(v)) throw new TypeError(`${JSON.stringify(v)} is not a 0x-prefixed 32-byte hex string`);
  if (!inGap(fingerprint, gap)) return false;
  return StandardMerkleTree.verify(root.toLowerCase(), [...FINGERPRINT_LEAF_ENCODING], [gap.low.toLowerCase(), gap.high.toLowerCase()], proof.map((p) => p.toLowerCase()));
}

/** Where a fingerprint falls: it is one of the tree's (member), or inside gap `gap`. */
export type FingerprintPlace = { readonly member: true } | { readonly member: false; readonly gap: number };

export class FingerprintTree extends CompactMerkleTree {
  private constructor(
    nodes: Uint8Array,
    positions: Uint32Array,
    /** The distinct fingerprints, ascending, m × 32 bytes. */
    private readonly sorted: Uint8Array,
  ) {
    super(nodes, positions);
  }

  /** The tree of the fingerprints `fingerprints` (N × 32 bytes, any order, repeats allowed). */
  static build(fingerprints: Uint8Array, keccakRows: KeccakRows = nobleKeccakRows): FingerprintTree {
    const n = fingerprints.length / 32;
    if (!Number.isInteger(n) || n === 0) throw new RangeError("a fingerprint tree needs at least one whole 32-byte fingerprint");
    if (n >= MAX_COMPACT_LEAVES) throw new RangeError(`a fingerprint tree holds fewer than 2^24 fingerprints (${n} given)`);
    const order = sortedRows(fingerprints, n);
    // The distinct fingerprints in order; gap g = (sorted[g − 1] or FLOOR, sorted[g] or CEILING).
    const sorted = new Uint8Array(32 * n);
    let m = 0;
    for (const i of order) {
      if (m > 0 && compare32(fingerprints, 32 * i, sorted, 32 * (m - 1)) === 0) continue;
      sorted.set(fingerprints.subarray(32 * i, 32 * i + 32), 32 * m++);
    }
    const floor = fromHex(FINGERPRINT_FLOOR);
    const ceiling = fromHex(FINGERPRINT_CEILING);
    if (compare32(sorted, 0, floor, 0) === 0 || compare32(sorted, 32 * (m - 1), ceiling, 0) === 0) throw new SentinelFingerprintError();
    const gaps = new Uint8Array(64 * (m + 1));
    for (let g = 0; g <= m; g++) {
      gaps.set(g === 0 ? floor : sorted.subarray(32 * (g - 1), 32 * g), 64 * g);
      gaps.set(g === m ? ceiling : sorted.subarray(32 * g, 32 * g + 32), 64 * g + 32);
    }
    const { nodes, positions } = CompactMerkleTree.layout(gaps, 64, keccakRows);
    return new FingerprintTree(nodes, positions, sorted.slice(0, 32 * m));
  }

  /** The tree of the fingerprint points' fingerprints (keccak256 of each 64-byte encoding). */
  static ofPoints(points: readonly G1Point[], keccakRows: KeccakRows = nobleKeccakRows): FingerprintTree {
    return FingerprintTree.build(keccakRows(concatPoints(points), 64), keccakRows);
  }

  /** How many distinct fingerprints the tree holds (it has one more leaf). */
  get fingerprints(): number {
    return this.sorted.length / 32;
  }

  /** Where `fingerprint` (0x-hex) falls: binary search over the sorted fingerprints. */
  locate(fingerprint: string): FingerprintPlace {
    if (!BYTES32_HEX.test(fingerprint)) throw new TypeError("a fingerprint is a 0x-prefixed 32-byte hex string");
    const f = fromHex(fingerprint);
    let lo = 0;
    let hi = this.fingerprints; // the answer is the first index whose fingerprint is ≥ f
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare32(this.sorted, 32 * mid, f, 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.fingerprints && compare32(this.sorted, 32 * lo, f, 0) === 0) return { member: true };
    return { member: false, gap: lo };
  }

  /** Gap g's bounds (leaf g). */
  gap(g: number): FingerprintGap {
    const m = this.fingerprints;
    if (!Number.isInteger(g) || g < 0 || g > m) throw new RangeError(`no gap ${g} among ${m + 1}`);
    return {
      low: g === 0 ? FINGERPRINT_FLOOR : toHex(this.sorted.subarray(32 * (g - 1), 32 * g)),
      high: g === m ? FINGERPRINT_CEILING : toHex(this.sorted.subarray(32 * g, 32 * g + 32)),
    };
  }
}
