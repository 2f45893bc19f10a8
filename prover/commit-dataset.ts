/**
 * The prover's half of the dataset commitments (core/dataset/commitments.ts, docs/protocol.md §4.3):
 * every record's rows committed with the native core, and a batch's tensor with its blindings.
 */
import { FrTensor } from "../native";
import { type G1Point, bigIntsToBytes } from "../core/crypto/bn254";
import { randomFr } from "../core/crypto/fr";
import type { Records } from "../core/data/records";
import { type DatasetCommitments, type DatasetOpenings, batchCommitment } from "../core/dataset/commitments";
import type { CommitmentKey } from "../core/protocol/generators";
import type { CommittedTensor } from "../core/protocol/hyrax";
import { pointFromNative } from "./native-engine";
import { concatPoints } from "../core/protocol/backend";

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

/** The prover's batch tensor: values, the records' rows and their blindings. */
export function batchCommitted(values: Int32Array | BigInt64Array, rows: readonly G1Point[], blinds: readonly bigint[], indices: ArrayLike<number>, cols: number): CommittedTensor {
  const commitment = batchCommitment(rows, indices, cols);
  const tensor = FrTensor.fromInts(values, [indices.length, cols]);
  return { tensor, commitment, blinds: Array.from(indices, (i) => blinds[i]) };
}
