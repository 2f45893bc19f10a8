/** A tiny training setup for the step and run tests: synthetic records, dataset commitments, one step's inputs. */
import type { Records } from "../../core/data/records";
import { type Matrix, type ModelConfig, trainStep } from "../../core/model/fixed";
import type { FeatureRange } from "../../core/training/circuit";
import { batchInputs, prepareTraining } from "../../prover/inputs";

/** Records with `features` features in [−1, 1) and `classes` classes, the class a linear function of the features. */
export function syntheticRecords(count: number, features: number, classes: number, fracBits: number, seed = 1): Records {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = new Int32Array(count * features);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    let acc = 0;
    for (let j = 0; j < features; j++) {
      const v = rnd();
      x[r * features + j] = Math.round(v * 2 ** fracBits);
      acc += v * (j + 1);
    }
    labels[r] = Math.abs(Math.floor(acc * 3)) % classes;
  }
  return { features, classes, x, labels, count };
}

export const tinyConfig: ModelConfig = { layers: [8, 8, 4], fracBits: 16, lrShift: 8, batch: 4, seed: "test" };

/** Everything one step proof needs, for step t of a fresh run on synthetic records. */
export function tinyStep(config = tinyConfig, records = syntheticRecords(16, config.layers[0], config.layers[config.layers.length - 1], config.fracBits), featureRange?: FeatureRange) {
  const { d, key, commitments, openings, schedule, weights, W } = prepareTraining(config, records, featureRange);
  const batch = (t: number, indices = schedule.indices(t)) => ({ indices, ...batchInputs(records, commitments, openings, indices, config.fracBits) });
  return { config, d, key, records, commitments, openings, schedule, weights, W, batch, trace: (x: Matrix, y: Matrix) => trainStep(config, weights, x, y) };
}
