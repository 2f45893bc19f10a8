/**
 * Hyrax tensor commitments and evaluation proofs (docs/protocol.md §3.4; Wahby et al. 2018, §6).
 *
 * A tensor of 2^n entries is a 2^a × 2^b matrix, b = ⌈n/2⌉ column variables (the low bits of the
 * flat index: variables 0…b−1) and a = n − b row variables. Row j is committed as
 * C_j = Σ_i T[j,i]·G_i + ρ_j·H with fresh ρ_j. For a point z = (z_col ‖ z_row),
 *   T~(z) = Σ_j eq(z_row, j) · Σ_i eq(z_col, i) · T[j,i],
 * so the verifier folds the row commitments with eq(z_row, ·) into a commitment to the vector
 * x = eq(z_row)ᵀ·T, and the dot-product argument shows ⟨x, eq(z_col)⟩ = the committed value.
 * Several tensors of one shape opened at one point share one argument through a random combination.
 */
import { G1, type G1Point } from "../crypto/bn254";
import { bigIntsToBytes, bytesToBigInts } from "../crypto/bn254";
import { add, eqTable, fr, innerProduct, mul, powers, randomFr, sub } from "../crypto/fr";
import { ProofFormatError, type ProofReader, type ProofWriter } from "./codec";
import type { CommitmentKey } from "./generators";
import { type OpenScalar, type ProverContext, Rejection, type VerifierContext } from "./context";
import { Lin } from "./group";
import { type DotProductProof, ipaCodec, proveDotProduct, verifyDotProduct } from "./ipa";
import { type ProverEngine, type Tensor, concatPoints, pointFromBytes } from "./backend";
import type { Transcript } from "./transcript";

/** At most 2^30 entries per committed tensor. */
export const MAX_VARS = 30;

export interface TensorShape {
  /** log2 of the number of rows (a). */
  readonly logRows: number;
  /** log2 of the number of columns (b). */
  readonly logCols: number;
}

export interface TensorCommitment extends TensorShape {
  readonly rows: readonly G1Point[];
}

/** The prover's side: the tensor (shaped rows × cols), its commitment and its row blindings. */
export interface CommittedTensor {
  readonly tensor: Tensor;
  readonly commitment: TensorCommitment;
  readonly blinds: readonly bigint[];
}

export const numVars = (s: TensorShape): number => s.logRows + s.logCols;

export const sameShape = (a: TensorShape, b: TensorShape): boolean => a.logRows === b.logRows && a.logCols === b.logCols;

/** A tensor of n copies of one element (shifts by a constant: β before an inversion, a range's offset). */
export function constantTensor(engine: ProverEngine, value: bigint, n: number, shape?: number[]): Tensor {
  const one = bigIntsToBytes([fr(value)]);
  const bytes = new Uint8Array(32 * n);
  if (n > 0) bytes.set(one);
  for (let filled = 32; filled < bytes.length; filled *= 2) bytes.copyWithin(filled, 0, Math.min(filled, bytes.length - filled));
  return engine.fromBytes(bytes, shape);
}

/** The default split of n variables: ⌈n/2⌉ column variables. */
export function shapeFor(n: number): TensorShape {
  if (!Number.isInteger(n) || n < 0 || n > MAX_VARS) throw new RangeError(`a committed tensor has 0 to ${MAX_VARS} variables, got ${n}`);
  const logCols = Math.ceil(n / 2);
  return { logRows: n - logCols, logCols };
}

export function log2Length(length: number): number {
  const n = Math.log2(length);
  if (!Number.isInteger(n)) throw new RangeError(`tensor length must be a power of two, got ${length}`);
  return n;
}

/** Binds a commitment (shape, then rows) into the transcript. */
export function absorbCommitment(t: Transcript, name: string, c: TensorCommitment): void {
  t.absorbU32s(`${name}/shape`, [c.logRows, c.logCols]);
  t.absorbPoints(`${name}/rows`, c.rows);
}

/** Commits a tensor of 2^n entries row by row with fresh blindings (native MSMs over the key). */
export function commitTensor(
  ctx: ProverContext,
  tensor: Tensor,
  shape: TensorShape = shapeFor(log2Length(tensor.length)),
  blinds: readonly bigint[] = Array.from({ length: 1 << shape.logRows }, randomFr),
): CommittedTensor {
  const rows = 1 << shape.logRows;
  const cols = 1 << shape.logCols;
  if (rows * cols !== tensor.length) throw new RangeError(`tensor of ${tensor.length} entries is not ${rows}×${cols}`);
  if (cols > ctx.key.size) throw new RangeError(`${cols} columns need ${cols} generators; the key has ${ctx.key.size}`);
  const matrix = hasShape(tensor, [rows, cols]) ? tensor : tensor.reshape([rows, cols]);
  if (blinds.length !== rows) throw new RangeError(`${rows} rows need ${rows} blindings, got ${blinds.length}`);
  const bytes = matrix.commitRows(concatPoints(ctx.key.G.slice(0, cols)), concatPoints([ctx.key.H]), bigIntsToBytes(blinds));
  const points = Array.from({ length: rows }, (_, j) => decodeRow(bytes, j));
  return { tensor: matrix, commitment: { ...shape, rows: points }, blinds };
}

function hasShape(t: Tensor, shape: number[]): boolean {
  const s = t.shape;
  return s.length === shape.length && s.every((v, i) => v === shape[i]);
}

function decodeRow(bytes: Uint8Array, j: number): G1Point {
  return pointFromBytes(bytes.slice(64 * j, 64 * j + 64));
}

/**
 * T + c (c added to every entry) as a commitment: each row gains c·Σ_i G_i and keeps its blinding.
 * Prover and verifier derive it alike, so a range check can look up a shifted tensor for free.
 */
export function shiftedCommitment(key: CommitmentKey, c: TensorCommitment, shift: bigint): TensorCommitment {
  const s = fr(shift);
  if (s === 0n) return c;
  const delta = sumOfGenerators(key, 1 << c.logCols).multiply(s);
  return { logRows: c.logRows, logCols: c.logCols, rows: c.rows.map((row) => row.add(delta)) };
}

/** The prover's side of shiftedCommitment: the same object for a zero shift, as on the verifier's side (claims key on it). */
export function shiftCommitted(ctx: ProverContext, ct: CommittedTensor, shift: bigint): CommittedTensor {
  if (fr(shift) === 0n) return ct;
  const n = ct.tensor.length;
  const constant = constantTensor(ctx.engine, shift, n, ct.tensor.shape);
  return { tensor: ct.tensor.add(constant), commitment: shiftedCommitment(ctx.key, ct.commitment, shift), blinds: ct.blinds };
}

const generatorSums = new WeakMap<readonly G1Point[], Map<number, G1Point>>();
function sumOfGenerators(key: CommitmentKey, cols: number): G1Point {
  let byCols = generatorSums.get(key.G);
  if (!byCols) generatorSums.set(key.G, (byCols = new Map()));
  let sum = byCols.get(cols);
  if (!sum) {
    sum = key.G.slice(0, cols).reduce((acc, g) => acc.add(g), G1.ZERO);
    byCols.set(cols, sum);
  }
  return sum;
}

function checkPoint(shape: TensorShape, z: readonly bigint[], what: string): void {
  if (z.length !== numVars(shape)) throw new RangeError(`${what}: a ${numVars(shape)}-variable tensor opened at a ${z.length}-coordinate point`);
}

/** x = eq(z_row)ᵀ·T: the row combination the verifier's folded commitment holds. */
function foldRows(engine: ProverEngine, ct: CommittedTensor, zRow: readonly bigint[]): { x: bigint[]; blind: bigint } {
  const eqRow = eqTable(zRow);
  const rows = eqRow.length;
  return {
    x: bytesToBigInts(engine.fromBytes(bigIntsToBytes(eqRow), [1, rows]).matmul(ct.tensor).toBytes()),
    blind: innerProduct(eqRow, ct.blinds as bigint[]),
  };
}

/** T~(z) for a committed tensor, through the same row fold the opening uses (no copy of T). */
export function evaluateCommitted(ctx: ProverContext, ct: CommittedTensor, z: readonly bigint[]): bigint {
  checkPoint(ct.commitment, z, "evaluation");
  return innerProduct(foldRows(ctx.engine, ct, z.slice(ct.commitment.logCols)).x, eqTable(z.slice(0, ct.commitment.logCols)));
}

/**
 * Proves T_i~(z) = y_i for every i (tensors of one shape, one point): with ρ from the transcript,
 * one dot-product argument for Σ ρ^i·T_i against Σ ρ^i·y_i. The values stay committed.
 */
export function proveEvaluations(ctx: ProverContext, tensors: readonly CommittedTensor[], z: readonly bigint[], values: readonly OpenScalar[]): DotProductProof {
  if (tensors.length === 0 || tensors.length !== values.length) throw new RangeError("one value per opened tensor");
  const shape = tensors[0].commitment;
  for (const ct of tensors) {
    if (!sameShape(ct.commitment, shape)) throw new RangeError("tensors opened together must share a shape");
  }
  checkPoint(shape, z, "opening");
  ctx.transcript.absorbScalars("hyrax/point", z);
  const rho = tensors.length > 1 ? powers(ctx.transcript.challenge("hyrax/combine"), tensors.length) : [1n];
  const cols = 1 << shape.logCols;
  const x = new Array<bigint>(cols).fill(0n);
  let xBlind = 0n;
  let yValue = 0n;
  let yBlind = 0n;
  tensors.forEach((ct, i) => {
    const f = foldRows(ctx.engine, ct, z.slice(shape.logCols));
    for (let c = 0; c < cols; c++) x[c] = add(x[c], mul(rho[i], f.x[c]));
    xBlind = add(xBlind, mul(rho[i], f.blind));
    yValue = add(yValue, mul(rho[i], values[i].value));
    yBlind = add(yBlind, mul(rho[i], values[i].blind));
  });
  return proveDotProduct(ctx, x, xBlind, eqTable(z.slice(0, shape.logCols)), { value: yValue, blind: yBlind });
}

export function verifyEvaluations(
  ctx: VerifierContext,
  commitments: readonly TensorCommitment[],
  z: readonly bigint[],
  values: readonly Lin[],
  proof: DotProductProof,
  what = "opening",
): void {
  if (commitments.length === 0 || commitments.length !== values.length) throw new Rejection(`${what}: one value per opened tensor`);
  const shape = commitments[0];
  for (const c of commitments) {
    if (!sameShape(c, shape) || c.rows.length !== 1 << c.logRows) {
      throw new Rejection(`${what}: tensors opened together must share a shape`);
    }
  }
  if (z.length !== numVars(shape)) throw new Rejection(`${what}: point has ${z.length} coordinates, tensor ${numVars(shape)} variables`);
  ctx.transcript.absorbScalars("hyrax/point", z);
  const rho = commitments.length > 1 ? powers(ctx.transcript.challenge("hyrax/combine"), commitments.length) : [1n];
  const eqRow = eqTable(z.slice(shape.logCols));
  const Cx = new Lin();
  const Cy = new Lin();
  commitments.forEach((c, i) => {
    c.rows.forEach((row, j) => Cx.add(row, mul(rho[i], eqRow[j])));
    Cy.addLin(values[i], rho[i]);
  });
  const zCol = z.slice(0, shape.logCols);
  const b = shape.logCols;
  // ⟨s, eq(z_col)⟩ in closed form: round k splits on column variable b−1−k.
  const fold = (u: readonly bigint[], uInv: readonly bigint[]) => {
    let acc = 1n;
    for (let k = 0; k < b; k++) {
      const zv = zCol[b - 1 - k];
      acc = mul(acc, add(mul(uInv[k], sub(1n, zv)), mul(u[k], zv)));
    }
    return acc;
  };
  verifyDotProduct(ctx, Cx, Cy, { length: 1 << b, fold }, proof, what);
}

export const hyraxCodec = {
  writeCommitment(w: ProofWriter, c: TensorCommitment): void {
    w.u32(c.logRows).u32(c.logCols).points(c.rows);
  },
  /** With `expected`, a header of another shape is refused before any row is decoded (rows cost time and memory). */
  readCommitment(r: ProofReader, what = "commitment", expected?: TensorShape): TensorCommitment {
    const logRows = r.u32(`${what}.logRows`, MAX_VARS);
    const logCols = r.u32(`${what}.logCols`, MAX_VARS);
    if (expected && !sameShape({ logRows, logCols }, expected)) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `${what}: 2^${logRows} × 2^${logCols}, expected 2^${expected.logRows} × 2^${expected.logCols}`);
    if (logRows + logCols > MAX_VARS) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `${what}: ${logRows + logCols} variables exceed ${MAX_VARS}`);
    return { logRows, logCols, rows: r.points(1 << logRows, `${what}.rows`) };
  },
  writeOpening: (w: ProofWriter, p: DotProductProof) => ipaCodec.write(w, p),
  readOpening: (r: ProofReader, shape: TensorShape) => ipaCodec.read(r, shape.logCols),
};
