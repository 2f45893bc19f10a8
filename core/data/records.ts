/**
 * A dataset's records as the circuit sees them: quantized features and class labels (loaded by
 * prover/records.ts from MNIST or a CSV, decoded from a run's private/records.bin), and the batch
 * matrices a step is computed on.
 */
import { type Matrix, matrix } from "../model/fixed";

export interface Records {
  /** Logical feature count and class count. */
  readonly features: number;
  readonly classes: number;
  /** Quantized features (count × features) and class labels. */
  readonly x: Int32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** Feature rows of the given records, padded to `width` columns. */
export function featureMatrix(rec: Records, indices: ArrayLike<number>, width: number): Matrix {
  const m = matrix(indices.length, width);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    for (let j = 0; j < rec.features; j++) m.data[r * width + j] = rec.x[i * rec.features + j];
  }
  return m;
}

/** One-hot label rows at scale 2^F, padded to `width` columns. */
export function labelMatrix(rec: Records, indices: ArrayLike<number>, width: number, fracBits: number): Matrix {
  const m = matrix(indices.length, width);
  for (let r = 0; r < indices.length; r++) m.data[r * width + rec.labels[indices[r]]] = 2 ** fracBits;
  return m;
}
