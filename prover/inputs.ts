/**
 * A window's inputs, built once for the run trainer, the benchmark and the tests: the seeded initial
 * weights committed with zero blinding (anyone recomputes them), and the scheduled batches (one
 * step's, or a window's stacked in step order) as matrices and as the dataset's committed rows.
 */
import { FrTensor, tensorScope } from "../native";
import { type Records, featureMatrix, labelMatrix } from "../core/data/records";
import type { DatasetCommitments, DatasetOpenings } from "../core/dataset/commitments";
import { batchCommitted, commitDataset } from "./commit-dataset";
import { BatchSchedule } from "../core/dataset/schedule";
import { type Matrix, type ModelConfig, initialWeights, matrixInts, paddedLayers } from "../core/model/fixed";
import type { CommitmentKey } from "../core/protocol/generators";
import { type CommittedTensor, commitTensor } from "../core/protocol/hyrax";
import { nativeEngine, nativeGenerators } from "./native-engine";
import { Transcript } from "../core/protocol/transcript";
import { featureRangeOf, stepDims, weightShape } from "../core/training/circuit";
import { windowKey } from "../core/training/window";

/** The initial weights' commitments: wide rows, zero blinding. */
export function commitInitialWeights(key: CommitmentKey, weights: readonly Matrix[]): CommittedTensor[] {
  const ctx = { key, transcript: new Transcript("zkdl-chain/v1/commit"), engine: nativeEngine };
  return tensorScope(() =>
    weights.map((m) => {
      const shape = weightShape(Math.log2(m.rows * m.cols));
      return commitTensor(ctx, FrTensor.fromInts(matrixInts(m)), shape, new Array(1 << shape.logRows).fill(0n));
    }),
  );
}

/** The feature and label matrices of the given records (one row per index, padded to the committed widths). */
export function batchMatrices(records: Records, commitments: DatasetCommitments, indices: Int32Array, fracBits: number): { x: Matrix; y: Matrix } {
  return { x: featureMatrix(records, indices, commitments.featureCols), y: labelMatrix(records, indices, commitments.labelCols, fracBits) };
}

/** X, Y as the records' committed rows (native tensors with the records' blindings), for the matrices of batchMatrices. */
export function commitBatch(x: Matrix, y: Matrix, commitments: DatasetCommitments, openings: DatasetOpenings, indices: Int32Array) {
  return {
    X: batchCommitted(matrixInts(x), commitments.cx, openings.xBlinds, indices, commitments.featureCols),
    Y: batchCommitted(matrixInts(y), commitments.cy, openings.yBlinds, indices, commitments.labelCols),
  };
}

/**
 * The batch of the given records: feature and label matrices, and X, Y as the records' committed
 * rows. For a window, `indices` are its steps' indices concatenated (BatchSchedule.windowIndices).
 */
export function batchInputs(records: Records, commitments: DatasetCommitments, openings: DatasetOpenings, indices: Int32Array, fracBits: number) {
  const { x, y } = batchMatrices(records, commitments, indices, fracBits);
  return { x, y, ...commitBatch(x, y, commitments, openings, indices) };
}

/**
 * What every window of a run shares: the step dimensions and key, the committed dataset, the batch
 * schedule and the seeded initial weights with their commitments. The feature range is the tightest
 * the records fit unless given.
 */
export function prepareTraining(config: ModelConfig, records: Records, featureRange = featureRangeOf(records, config.fracBits)) {
  const d = stepDims(config, featureRange);
  const p = paddedLayers(config);
  const key = windowKey(d, nativeGenerators);
  const { commitments, openings } = commitDataset(key, records, p[0], p[p.length - 1], config.fracBits);
  const schedule = new BatchSchedule(records.count, config.batch, config.seed);
  const weights = initialWeights(config);
  return { d, key, commitments, openings, schedule, weights, W: commitInitialWeights(key, weights) };
}
