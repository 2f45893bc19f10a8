/**
 * Dataset commitments (../shared/design/PROTOCOL.md, "Dataset binding"; docs/protocol.md §4.3).
 * Record i's features x_i (padded to d_0 columns) and one-hot label y_i (scale 2^F, padded to d_L)
 * are committed as single Hyrax rows over the key's generators,
 *   Cx_i = Σ_j x_i[j]·G_j + ρx_i·H,   Cy_i = Σ_j y_i[j]·G_j + ρy_i·H,
 * which are exactly the rows of a batch matrix X (B × d_0, one row per record) and Y: a step proof
 * takes its batch commitments straight from here. Leaf i of the dataset tree is
 * (i, keccak256(Cx_i), keccak256(Cy_i)) (prover/dataset/tree.ts).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { FrTensor } from "../../native";
import { type G1Point, bigIntsToBytes, g1ToBytes } from "../crypto/bn254";
import { randomFr } from "../crypto/fr";
import type { Records } from "../data/records";
import type { CommitmentKey } from "../protocol/generators";
import { type CommittedTensor, type TensorCommitment } from "../protocol/hyrax";
import { concatPoints, pointFromNative } from "../protocol/native-engine";
import { type DatasetLeaf, buildDatasetTree } from "./tree";

export interface DatasetCommitments {
  /** Padded widths of a feature row and of a label row. */
  readonly featureCols: number;
  readonly labelCols: number;
  readonly cx: readonly G1Point[];
  readonly cy: readonly G1Point[];
}

/** What only the publisher keeps: the blindings of every record's commitments. */
export interface DatasetOpenings {
  readonly xBlinds: readonly bigint[];
  readonly yBlinds: readonly bigint[];
}

function rowsOf(values: Int32Array, rows: number, width: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * width, r * width + width), r * cols);
  return out;
}

function oneHot(rec: Records, cols: number, fracBits: number): Int32Array {
  const out = new Int32Array(rec.count * cols);
  for (let r = 0; r < rec.count; r++) out[r * cols + rec.labels[r]] = 2 ** fracBits;
  return out;
}

function commitRows(key: CommitmentKey, values: Int32Array, rows: number, cols: number, blinds: bigint[]): G1Point[] {
  const tensor = FrTensor.fromInts(values, [rows, cols]);
  const bytes = tensor.commitRows(concatPoints(key.G.slice(0, cols)), concatPoints([key.H]), bigIntsToBytes(blinds));
  tensor.dispose(); // every record at once (MNIST: 128 MB); not needed past this point
  return Array.from({ length: rows }, (_, i) => pointFromNative(bytes.slice(64 * i, 64 * i + 64)));
}

/** Commits every record (native MSMs on all cores). */
export function commitDataset(key: CommitmentKey, rec: Records, featureCols: number, labelCols: number, fracBits: number): { commitments: DatasetCommitments; openings: DatasetOpenings } {
  if (rec.features > featureCols || rec.classes > labelCols) throw new RangeError("records are wider than the padded layer widths");
  if (featureCols > key.size || labelCols > key.size) throw new RangeError("commitment key too small for a record row");
  const xBlinds = Array.from({ length: rec.count }, randomFr);
  const yBlinds = Array.from({ length: rec.count }, randomFr);
  const cx = commitRows(key, rowsOf(rec.x, rec.count, rec.features, featureCols), rec.count, featureCols, xBlinds);
  const cy = commitRows(key, oneHot(rec, labelCols, fracBits), rec.count, labelCols, yBlinds);
  return { commitments: { featureCols, labelCols, cx, cy }, openings: { xBlinds, yBlinds } };
}

export const commitmentDigest = (p: G1Point): string => "0x" + Buffer.from(keccak_256(g1ToBytes(p))).toString("hex");

export function datasetLeaves(c: DatasetCommitments): DatasetLeaf[] {
  return c.cx.map((x, i) => ({ index: BigInt(i), cxHash: commitmentDigest(x), cyHash: commitmentDigest(c.cy[i]) }));
}

export const datasetTree = (c: DatasetCommitments) => buildDatasetTree(datasetLeaves(c));

/** The batch's feature or label matrix as a commitment: the records' rows, in batch order. */
export function batchCommitment(rows: readonly G1Point[], indices: ArrayLike<number>, cols: number): TensorCommitment {
  const logRows = Math.log2(indices.length);
  if (!Number.isInteger(logRows)) throw new RangeError("batch size must be a power of two");
  return { logRows, logCols: Math.log2(cols), rows: Array.from(indices, (i) => rows[i]) };
}

/** The prover's batch tensor: values, the records' rows and their blindings. */
export function batchCommitted(values: Int32Array | BigInt64Array, rows: readonly G1Point[], blinds: readonly bigint[], indices: ArrayLike<number>, cols: number): CommittedTensor {
  const commitment = batchCommitment(rows, indices, cols);
  const tensor = FrTensor.fromInts(values, [indices.length, cols]);
  return { tensor, commitment, blinds: Array.from(indices, (i) => blinds[i]) };
}

