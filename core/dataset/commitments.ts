/**
 * Dataset commitments (docs/protocol.md §4.3, "Dataset commitments"; the leaf: §1.4).
 * Record i's features x_i (padded to d_0 columns) and one-hot label y_i (scale 2^F, padded to d_L)
 * are committed as single Hyrax rows over the key's generators,
 *   Cx_i = Σ_j x_i[j]·G_j + ρx_i·H,   Cy_i = Σ_j y_i[j]·G_j + ρy_i·H,
 * which are exactly the rows of a batch matrix X (B × d_0, one row per record) and Y: a step proof
 * takes its batch commitments straight from here. Leaf i of the dataset tree is
 * (i, keccak256(Cx_i), keccak256(Cy_i)) (core/dataset/tree.ts). Each record also has a fingerprint point
 * P_i = Cx_i − ρx_i·H, bound to Cx_i by one proof for the whole dataset (./fingerprints.ts), whose
 * fingerprints make the second tree, of non-membership (./fingerprint-tree.ts).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type G1Point, g1ToBytes, toHex } from "../crypto/bn254";
import type { TensorCommitment } from "../protocol/hyrax";
import type { KeccakRows } from "../protocol/backend";
import type { FingerprintProof } from "./fingerprints";
import { FingerprintTree } from "./fingerprint-tree";
import { type DatasetLeaf, buildDatasetTree } from "./tree";

export interface DatasetCommitments {
  /** Padded widths of a feature row and of a label row. */
  readonly featureCols: number;
  readonly labelCols: number;
  readonly cx: readonly G1Point[];
  readonly cy: readonly G1Point[];
  /** P_i = Σ_j x_i[j]·G_j: the fingerprint points (zero blinding). */
  readonly fingerprints: readonly G1Point[];
  /** That every P_i is Cx_i without its blinding. */
  readonly fingerprintProof: FingerprintProof;
}

/** What only the publisher keeps: the blindings of every record's commitments. */
export interface DatasetOpenings {
  readonly xBlinds: readonly bigint[];
  readonly yBlinds: readonly bigint[];
}

/**
 * keccak256 of a point's 64-byte encoding: a commitment's digest in its dataset leaf, and a
 * fingerprint point's fingerprint. Encoded afresh, not through the point-encoding cache: every Cx
 * and Cy of a dataset is hashed once, and a server keeps its runs' points for its lifetime.
 */
export const commitmentDigest = (p: G1Point): string => toHex(keccak_256(g1ToBytes(p)));

export function datasetLeaves(c: DatasetCommitments): DatasetLeaf[] {
  return c.cx.map((x, i) => ({ index: BigInt(i), cxHash: commitmentDigest(x), cyHash: commitmentDigest(c.cy[i]) }));
}

export const datasetTree = (c: DatasetCommitments) => buildDatasetTree(datasetLeaves(c));

/** The fingerprint tree of the dataset (`keccakRows`: e.g. the native kernel). */
export const fingerprintTree = (c: Pick<DatasetCommitments, "fingerprints">, keccakRows?: KeccakRows) => FingerprintTree.ofPoints(c.fingerprints, keccakRows);

/** The batch's feature or label matrix as a commitment: the records' rows, in batch order. */
export function batchCommitment(rows: readonly G1Point[], indices: ArrayLike<number>, cols: number): TensorCommitment {
  const logRows = Math.log2(indices.length);
  if (!Number.isInteger(logRows)) throw new RangeError("batch size must be a power of two");
  return { logRows, logCols: Math.log2(cols), rows: Array.from(indices, (i) => rows[i]) };
}


