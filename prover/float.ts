/**
 * The float64 reference of the fixed-point network: same initial weights (divided by 2^F), same
 * batches, same update W' = W − 2^−k·Aᵀ·G_Z with G_L = Ŷ − Y, no rounding. The accuracy gap between
 * the two is the cost of fixed point (README, docs/benchmarks.md).
 */
import { type Matrix, type ModelConfig, matmul, matrix } from "../core/model/fixed";

export function toFloat(c: ModelConfig, m: Matrix): Matrix {
  const s = 2 ** c.fracBits;
  return matrix(m.rows, m.cols, m.data.map((v) => v / s));
}

function relu(z: Matrix): Matrix {
  return matrix(z.rows, z.cols, z.data.map((v) => (v > 0 ? v : 0)));
}

export function floatForward(weights: readonly Matrix[], x: Matrix): { zs: Matrix[]; as: Matrix[] } {
  const zs: Matrix[] = [];
  const as: Matrix[] = [x];
  weights.forEach((w, l) => {
    const z = matmul(as[l], w, {}, "float forward");
    zs.push(z);
    as.push(l === weights.length - 1 ? z : relu(z));
  });
  return { zs, as };
}

/** One float SGD step (x, y in real units); returns the new weights and the batch MSE. */
export function floatStep(c: ModelConfig, weights: readonly Matrix[], x: Matrix, y: Matrix): { next: Matrix[]; loss: number } {
  const { zs, as } = floatForward(weights, x);
  const L = weights.length;
  const out = as[L];
  let ga = matrix(out.rows, out.cols, out.data.map((v, i) => v - y.data[i]));
  let loss = 0;
  for (const v of ga.data) loss += v * v;
  const lr = 2 ** -c.lrShift;
  const next: Matrix[] = new Array(L);
  for (let l = L - 1; l >= 0; l--) {
    const gz = l === L - 1 ? ga : matrix(ga.rows, ga.cols, ga.data.map((v, i) => (zs[l].data[i] > 0 ? v : 0)));
    const dw = matmul(as[l], gz, { transA: true }, "float gradient");
    next[l] = matrix(weights[l].rows, weights[l].cols, weights[l].data.map((v, i) => v - lr * dw.data[i]));
    if (l > 0) ga = matmul(gz, weights[l], { transB: true }, "float backward");
  }
  return { next, loss: loss / x.rows };
}

export function floatPredict(c: ModelConfig, weights: readonly Matrix[], x: Matrix): number[] {
  const { as } = floatForward(weights, x);
  const a = as[weights.length];
  const classes = c.layers[c.layers.length - 1];
  return Array.from({ length: a.rows }, (_, i) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (a.data[i * a.cols + j] > a.data[i * a.cols + best]) best = j;
    return best;
  });
}
