/**
 * The prover's half of the dataset commitments (core/dataset/commitments.ts, docs/protocol.md §4.3):
 * every record's rows committed with the native core, and a batch's tensor with its blindings.
 */
import * as native from "../native";
import { FrTensor } from "../native";
import { type G1Point, bigIntsToBytes } from "../core/crypto/bn254";
import { randomFr } from "../core/crypto/fr";
import type { Records } from "../core/data/records";
import { type DatasetCommitments, type DatasetOpenings, batchCommitment } from "../core/dataset/commitments";
import type { CommitmentKey } from "../core/protocol/generators";
import type { CommittedTensor } from "../core/protocol/hyrax";
import { proveFingerprints } from "../core/dataset/fingerprints";
import { nativeEngine, pointFromNative } from "./native-engine";
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

const pointsOf = (bytes: Uint8Array, n: number): G1Point[] => Array.from({ length: n }, (_, i) => pointFromNative(bytes.slice(64 * i, 64 * i + 64)));

/** Row commitments Σ_j T[i,j]·G_j + ρ_i·H of a rows×cols tensor, as rows × 64 bytes (`blinds`: rows × 32 bytes). */
function commitRowBytes(key: CommitmentKey, values: Int32Array, rows: number, cols: number, blinds: Uint8Array): Uint8Array {
  const tensor = FrTensor.fromInts(values, [rows, cols]);
  const bytes = tensor.commitRows(concatPoints(key.G.slice(0, cols)), concatPoints([key.H]), blinds);
  tensor.dispose(); // every record at once (MNIST: 128 MB); not needed past this point
  return bytes;
}

/**
 * The feature rows' fingerprint points P_i (zero blinding) and hiding commitments Cx_i = P_i + ρ_i·H:
 * one MSM per row, then one fixed-base multiplication by H (~33 additions) per row.
 */
function commitFeatures(key: CommitmentKey, values: Int32Array, rows: number, cols: number, blinds: bigint[]): { cx: G1Point[]; fingerprints: G1Point[] } {
  const fingerprintBytes = commitRowBytes(key, values, rows, cols, new Uint8Array(32 * rows));
  const h = native.fixedBase(concatPoints([key.H]));
  const cxBytes = new Uint8Array(64 * rows);
  const blindBytes = bigIntsToBytes(blinds);
  for (let i = 0; i < rows; i++) cxBytes.set(native.g1Add(fingerprintBytes.subarray(64 * i, 64 * i + 64), h.mul(blindBytes.subarray(32 * i, 32 * i + 32))), 64 * i);
  return { cx: pointsOf(cxBytes, rows), fingerprints: pointsOf(fingerprintBytes, rows) };
}

/** Commits every record and proves its fingerprint (native MSMs on all cores). */
export function commitDataset(key: CommitmentKey, rec: Records, featureCols: number, labelCols: number, fracBits: number): { commitments: DatasetCommitments; openings: DatasetOpenings } {
  if (rec.features > featureCols || rec.classes > labelCols) throw new RangeError("records are wider than the padded layer widths");
  if (featureCols > key.size || labelCols > key.size) throw new RangeError("commitment key too small for a record row");
  const xBlinds = Array.from({ length: rec.count }, randomFr);
  const yBlinds = Array.from({ length: rec.count }, randomFr);
  const rows = rowsOf(rec.x, rec.count, rec.features, featureCols);
  const { cx, fingerprints } = commitFeatures(key, rows, rec.count, featureCols, xBlinds);
  const cy = pointsOf(commitRowBytes(key, oneHot(rec, labelCols, fracBits), rec.count, labelCols, bigIntsToBytes(yBlinds)), rec.count);
  const fingerprintProof = proveFingerprints(key, cx, fingerprints, { rows, cols: featureCols, blinds: xBlinds }, nativeEngine);
  return { commitments: { featureCols, labelCols, cx, cy, fingerprints, fingerprintProof }, openings: { xBlinds, yBlinds } };
}

/** The prover's batch tensor: values, the records' rows and their blindings. */
export function batchCommitted(values: Int32Array | BigInt64Array, rows: readonly G1Point[], blinds: readonly bigint[], indices: ArrayLike<number>, cols: number): CommittedTensor {
  const commitment = batchCommitment(rows, indices, cols);
  const tensor = FrTensor.fromInts(values, [indices.length, cols]);
  return { tensor, commitment, blinds: Array.from(indices, (i) => blinds[i]) };
}
