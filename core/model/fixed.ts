/**
 * Fixed-point MLP training, exactly the relation the step proofs prove (docs/protocol.md §4.1,
 * "Fixed-point semantics"). Integers at scale 2^F held in Float64Arrays: every
 * value and every partial sum stays below 2^53 in magnitude (checked before each product), so the
 * arithmetic is exact integer arithmetic on the fast path.
 *
 *   round_s(P) = Q with P = 2^s·Q + R, R ∈ [−2^(s−1), 2^(s−1))
 *   forward   Z_l = round_F(A_{l−1}·W_l), s_l = [Z_l < 0], A_l = Z_l ⊙ (1 − s_l) (l < L), Ŷ = Z_L
 *   loss      G_L = Ŷ − Y
 *   backward  G_{Z_L} = G_L, G_{Z_l} = G_{A_l} ⊙ (1 − s_l), G_{A_{l−1}} = round_F(G_{Z_l}·W_lᵀ) (l > 1),
 *             ΔW_l = A_{l−1}ᵀ·G_{Z_l}
 *   update    W_l' = W_l − round_{F+k}(ΔW_l)
 *
 * Shapes are the padded (power-of-two) dimensions; padding rows and columns of the weights start at
 * zero and stay zero, so the padded network computes the logical one.
 */
import { SeededStream, seedBytes } from "./seeded";
import { InputError } from "../errors";

export interface ModelConfig {
  /** Logical layer widths d_0 … d_L (e.g. 784, 128, 10). */
  readonly layers: readonly number[];
  /** F: values are integers at scale 2^F. */
  readonly fracBits: number;
  /** k: learning rate 2^−k on the batch-summed gradient. */
  readonly lrShift: number;
  /** B, a power of two. */
  readonly batch: number;
  /** Seed of the initial weights (and, in the run, of the batch schedule). */
  readonly seed: string;
}

export const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export const paddedLayers = (c: ModelConfig): number[] => c.layers.map(nextPow2);

export class FixedPointOverflow extends Error {
  constructor(what: string) {
    super(`fixed-point overflow in ${what}: a partial sum could reach 2^53 (lower --frac-bits or the learning rate)`);
    this.name = "FixedPointOverflow";
  }
}

/**
 * What one run may be (docs/protocol.md §4.1): the step circuit's requirements (1 ≤ F ≤ 16,
 * 16 < F + k ≤ 32, B a power of two) and size bounds that keep every tensor a prover or a verifier
 * builds within one machine — a manifest that exceeds them is refused before any work.
 */
export const LIMITS = {
  /** Weight layers L. */
  layers: 16,
  /** A layer's logical width. */
  width: 1 << 16,
  /** Padded entries of one weight matrix (d_{l−1}·d_l, e.g. 4096 × 4096). */
  layerEntries: 1 << 24,
  batch: 1 << 12,
  /** Padded entries of one batch tensor (B·d_l). */
  batchEntries: 1 << 24,
  /** Padded entries of all weight matrices together. */
  modelEntries: 1 << 26,
} as const;

/** Why the circuit cannot prove this configuration, or null. */
export function configProblem(c: ModelConfig): string | null {
  if (!Array.isArray(c.layers) || c.layers.length < 2 || c.layers.length > LIMITS.layers + 1) return `layers: 2 to ${LIMITS.layers + 1} widths`;
  if (c.layers.some((d) => !Number.isInteger(d) || d < 1 || d > LIMITS.width)) return `layers: each width 1 to ${LIMITS.width}`;
  if (!Number.isInteger(c.fracBits) || c.fracBits < 1 || c.fracBits > 16) return "frac bits F must be 1 to 16";
  if (!Number.isInteger(c.lrShift) || c.lrShift < 0 || c.fracBits + c.lrShift <= 16 || c.fracBits + c.lrShift > 32) return "learning-rate shift k must make 16 < F + k ≤ 32";
  if (!Number.isInteger(c.batch) || c.batch < 1 || nextPow2(c.batch) !== c.batch || c.batch > LIMITS.batch) return `batch must be a power of two up to ${LIMITS.batch}`;
  const p = paddedLayers(c);
  for (let l = 1; l < p.length; l++) if (p[l - 1] * p[l] > LIMITS.layerEntries) return `layer ${l} has ${p[l - 1]}×${p[l]} padded weights (at most 2^24)`;
  if (p.slice(1).reduce((n, d, l) => n + p[l] * d, 0) > LIMITS.modelEntries) return "the model has more than 2^26 padded weights";
  if (p.some((d) => d * c.batch > LIMITS.batchEntries)) return `batch ${c.batch} × the widest layer exceeds 2^24 entries per batch tensor`;
  return null;
}

export function checkConfig(c: ModelConfig): void {
  const problem = configProblem(c);
  if (problem) throw new InputError(problem);
}

/** A matrix: row-major, rows × cols. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export const matrix = (rows: number, cols: number, data = new Float64Array(rows * cols)): Matrix => {
  if (data.length !== rows * cols) throw new RangeError(`matrix ${rows}×${cols} with ${data.length} entries`);
  return { rows, cols, data };
};

/** Integer entries as a BigInt64Array (what the native tensors take). */
export const matrixInts = (m: Matrix | Float64Array): BigInt64Array => BigInt64Array.from(m instanceof Float64Array ? m : m.data, (v) => BigInt(v));

function maxAbs(m: Matrix): number {
  let x = 0;
  for (const v of m.data) x = Math.max(x, Math.abs(v));
  return x;
}

const LIMIT = 2 ** 53;

/** a·b, or aᵀ·b / a·bᵀ by flags; exact (throws FixedPointOverflow when a partial sum could leave 2^53). */
export function matmul(a: Matrix, b: Matrix, opts: { transA?: boolean; transB?: boolean } = {}, what = "matmul"): Matrix {
  const m = opts.transA ? a.cols : a.rows;
  const k = opts.transA ? a.rows : a.cols;
  const kb = opts.transB ? b.cols : b.rows;
  const n = opts.transB ? b.rows : b.cols;
  if (k !== kb) throw new RangeError(`${what}: inner dimensions ${k} and ${kb}`);
  if (maxAbs(a) * maxAbs(b) * k >= LIMIT) throw new FixedPointOverflow(what);
  const out = new Float64Array(m * n);
  const A = a.data;
  const B = b.data;
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const av = opts.transA ? A[p * a.cols + i] : A[i * a.cols + p];
      if (av === 0) continue;
      const row = i * n;
      if (opts.transB) for (let j = 0; j < n; j++) out[row + j] += av * B[j * b.cols + p];
      else {
        const off = p * b.cols;
        for (let j = 0; j < n; j++) out[row + j] += av * B[off + j];
      }
    }
  }
  return matrix(m, n, out);
}

/** round_s: P = 2^s·Q + R with R ∈ [−2^(s−1), 2^(s−1)). */
export function roundShift(p: Matrix, s: number): { q: Matrix; r: Matrix } {
  const scale = 2 ** s;
  const half = 2 ** (s - 1);
  const q = new Float64Array(p.data.length);
  const r = new Float64Array(p.data.length);
  for (let i = 0; i < q.length; i++) {
    q[i] = Math.floor((p.data[i] + half) / scale);
    r[i] = p.data[i] - q[i] * scale;
  }
  return { q: matrix(p.rows, p.cols, q), r: matrix(p.rows, p.cols, r) };
}

/** Initial weights: He-uniform, w = round((2u − 1)·√(6/d_{l−1})·2^F), u from SeededStream("zkdl-chain/v1/init/<l>", seed); padding zero. */
export function initialWeights(c: ModelConfig): Matrix[] {
  checkConfig(c);
  return c.layers.slice(1).map((_, l) => initialLayerWeights(c, l));
}

/** Layer l's (0-based) initial weights alone (a verifier checks one layer at a time). */
export function initialLayerWeights(c: ModelConfig, l: number): Matrix {
  const p = paddedLayers(c);
  const [inp, out] = [c.layers[l], c.layers[l + 1]];
  const w = matrix(p[l], p[l + 1]);
  const stream = new SeededStream(`zkdl-chain/v1/init/${l + 1}`, seedBytes(c.seed));
  const bound = Math.sqrt(6 / inp) * 2 ** c.fracBits;
  for (let i = 0; i < inp; i++) for (let j = 0; j < out; j++) w.data[i * p[l + 1] + j] = Math.round((2 * stream.unit() - 1) * bound);
  return w;
}

export interface LayerForward {
  /** A_{l−1}·W_l (scale 2^2F). */
  readonly product: Matrix;
  readonly z: Matrix;
  /** The rounding remainder of Z_l. */
  readonly remainder: Matrix;
  /** 1 where Z_l < 0. */
  readonly sign: Matrix;
  /** A_l (ReLU output; for the last layer, Ŷ = Z_L). */
  readonly a: Matrix;
}

export interface LayerBackward {
  /** G_{Z_l}. */
  readonly gz: Matrix;
  /** G_{A_{l−1}} for l > 1 with its remainder (absent for l = 1). */
  readonly gaPrev?: Matrix;
  readonly gaPrevRemainder?: Matrix;
  /** ΔW_l = A_{l−1}ᵀ·G_{Z_l} (scale 2^2F). */
  readonly dw: Matrix;
  /** round_{F+k}(ΔW_l) and its remainder. */
  readonly update: Matrix;
  readonly updateRemainder: Matrix;
}

/** Everything one SGD step computes: the step proof's witness. */
export interface StepTrace {
  readonly x: Matrix;
  readonly y: Matrix;
  readonly weights: readonly Matrix[];
  readonly forward: readonly LayerForward[];
  /** G_L = Ŷ − Y. */
  readonly gl: Matrix;
  /** Indexed by layer (0 = first). */
  readonly backward: readonly LayerBackward[];
  readonly next: readonly Matrix[];
  /** Mean squared error of this batch, in real units. */
  readonly loss: number;
}

function hadamardNotSign(g: Matrix, sign: Matrix): Matrix {
  const out = new Float64Array(g.data.length);
  for (let i = 0; i < out.length; i++) out[i] = sign.data[i] ? 0 : g.data[i];
  return matrix(g.rows, g.cols, out);
}

/** Z_l and its sign bits and ReLU; exported for inference. */
export function forwardLayer(c: ModelConfig, aPrev: Matrix, w: Matrix, last: boolean): LayerForward {
  const product = matmul(aPrev, w, {}, "forward product");
  const { q: z, r: remainder } = roundShift(product, c.fracBits);
  const sign = matrix(z.rows, z.cols, z.data.map((v) => (v < 0 ? 1 : 0)));
  return { product, z, remainder, sign, a: last ? z : hadamardNotSign(z, sign) };
}

/** One SGD step on the batch (x: B × d_0, y: B × d_L, padded). */
export function trainStep(c: ModelConfig, weights: readonly Matrix[], x: Matrix, y: Matrix): StepTrace {
  const L = weights.length;
  const forward: LayerForward[] = [];
  let a = x;
  for (let l = 0; l < L; l++) {
    const f = forwardLayer(c, a, weights[l], l === L - 1);
    forward.push(f);
    a = f.a;
  }
  const yhat = forward[L - 1].z;
  const gl = matrix(yhat.rows, yhat.cols, yhat.data.map((v, i) => v - y.data[i]));
  let loss = 0;
  for (const v of gl.data) loss += (v / 2 ** c.fracBits) ** 2;
  const backward: LayerBackward[] = new Array(L);
  let ga = gl;
  for (let l = L - 1; l >= 0; l--) {
    const gz = l === L - 1 ? gl : hadamardNotSign(ga, forward[l].sign);
    const aPrev = l === 0 ? x : forward[l - 1].a;
    const dw = matmul(aPrev, gz, { transA: true }, "weight gradient");
    const { q: update, r: updateRemainder } = roundShift(dw, c.fracBits + c.lrShift);
    let gaPrev: Matrix | undefined;
    let gaPrevRemainder: Matrix | undefined;
    if (l > 0) {
      const rounded = roundShift(matmul(gz, weights[l], { transB: true }, "backward product"), c.fracBits);
      gaPrev = rounded.q;
      gaPrevRemainder = rounded.r;
      ga = gaPrev;
    }
    backward[l] = { gz, gaPrev, gaPrevRemainder, dw, update, updateRemainder };
  }
  const next = weights.map((w, l) => matrix(w.rows, w.cols, w.data.map((v, i) => v - backward[l].update.data[i])));
  return { x, y, weights, forward, gl, backward, next, loss: loss / x.rows };
}

/** Predicted classes (argmax over the logical outputs) of a batch. */
export function predict(c: ModelConfig, weights: readonly Matrix[], x: Matrix): number[] {
  let a = x;
  weights.forEach((w, l) => (a = forwardLayer(c, a, w, l === weights.length - 1).a));
  const out = c.layers[c.layers.length - 1];
  return Array.from({ length: a.rows }, (_, i) => {
    let best = 0;
    for (let j = 1; j < out; j++) if (a.data[i * a.cols + j] > a.data[i * a.cols + best]) best = j;
    return best;
  });
}
