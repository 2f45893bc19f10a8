/**
 * A step's inputs, built once for the run trainer, the benchmark and the tests: the seeded initial
 * weights committed with zero blinding (anyone recomputes them), and the scheduled batch as matrices
 * and as the dataset's committed rows.
 */
import { FrTensor } from "../../native";
import { type Records, featureMatrix, labelMatrix } from "../data/records";
import { type DatasetCommitments, type DatasetOpenings, batchCommitted } from "../dataset/commitments";
import type { Matrix } from "../model/fixed";
import type { CommitmentKey } from "../protocol/generators";
import { type CommittedTensor, commitTensor } from "../protocol/hyrax";
import { nativeEngine } from "../protocol/native-engine";
import { Transcript } from "../protocol/transcript";
import { weightShape } from "./circuit";

/** Integer entries as a BigInt64Array (what the native tensors take). */
export const matrixInts = (m: Matrix | Float64Array): BigInt64Array => BigInt64Array.from(m instanceof Float64Array ? m : m.data, (v) => BigInt(v));

/** The initial weights' commitments: wide rows, zero blinding. */
export function commitInitialWeights(key: CommitmentKey, weights: readonly Matrix[]): CommittedTensor[] {
  const ctx = { key, transcript: new Transcript("zkdl-chain/v1/commit"), engine: nativeEngine };
  return weights.map((m) => {
    const shape = weightShape(Math.log2(m.rows * m.cols));
    return commitTensor(ctx, FrTensor.fromInts(matrixInts(m)), shape, new Array(1 << shape.logRows).fill(0n));
  });
}

/** The batch of the given records: feature and label matrices, and X, Y as the records' committed rows. */
export function batchInputs(records: Records, commitments: DatasetCommitments, openings: DatasetOpenings, indices: Int32Array, fracBits: number) {
  const x = featureMatrix(records, indices, commitments.featureCols);
  const y = labelMatrix(records, indices, commitments.labelCols, fracBits);
  return {
    x,
    y,
    X: batchCommitted(matrixInts(x), commitments.cx, openings.xBlinds, indices, commitments.featureCols),
    Y: batchCommitted(matrixInts(y), commitments.cy, openings.yBlinds, indices, commitments.labelCols),
  };
}
