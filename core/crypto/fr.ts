/**
 * Fr arithmetic on bigints for the protocol layer: the small, exact operations that the prover and
 * the verifier do outside the native tensor core (challenges, eq polynomials, MLE evaluation of short
 * vectors, Lagrange interpolation of round polynomials). Values are always canonical (0 ≤ v < r).
 */
import { Fr, bytesToBigInt } from "./bn254";

export const R = Fr.ORDER;

export const add = (a: bigint, b: bigint): bigint => Fr.add(a, b);
export const sub = (a: bigint, b: bigint): bigint => Fr.sub(a, b);
export const mul = (a: bigint, b: bigint): bigint => Fr.mul(a, b);
export const neg = (a: bigint): bigint => Fr.neg(a);
export const inv = (a: bigint): bigint => Fr.inv(a);
export const pow = (a: bigint, e: bigint): bigint => Fr.pow(a, e);
/** Any integer (negative ones as r − |v|) as a canonical element. */
export const fr = (v: bigint | number): bigint => Fr.create(BigInt(v));

/** A uniformly random element (512 random bits reduced mod r: bias below 2^-250). */
export function randomFr(): bigint {
  return bytesToBigInt(globalThis.crypto.getRandomValues(new Uint8Array(64))) % R;
}

export function sum(values: readonly bigint[]): bigint {
  let acc = 0n;
  for (const v of values) acc += v;
  return acc % R;
}

export function innerProduct(a: readonly bigint[], b: readonly bigint[]): bigint {
  if (a.length !== b.length) throw new RangeError(`inner product of lengths ${a.length} and ${b.length}`);
  let acc = 0n;
  for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
  return acc % R;
}

/** 1, x, x², …, x^(n−1). */
export function powers(x: bigint, n: number): bigint[] {
  const out = new Array<bigint>(n);
  let p = 1n;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p = mul(p, x);
  }
  return out;
}

/**
 * eq(z, x) for every x in {0,1}^k, indexed so that bit j of the index is variable j (the MLE
 * variable order of docs/protocol.md §3.1; the native `eqVector` builds the same table).
 */
export function eqTable(z: readonly bigint[]): bigint[] {
  const out = new Array<bigint>(1 << z.length).fill(0n);
  out[0] = 1n;
  for (let j = 0, len = 1; j < z.length; j++, len <<= 1) {
    for (let x = 0; x < len; x++) {
      const hi = mul(out[x], z[j]);
      out[x + len] = hi;
      out[x] = sub(out[x], hi);
    }
  }
  return out;
}

/** eq(a, b) = Π_j (a_j b_j + (1 − a_j)(1 − b_j)) for two points of equal length. */
export function eqEval(a: readonly bigint[], b: readonly bigint[]): bigint {
  if (a.length !== b.length) throw new RangeError("eq of points of different lengths");
  let acc = 1n;
  for (let j = 0; j < a.length; j++) {
    const ab = mul(a[j], b[j]);
    acc = mul(acc, add(sub(sub(1n + ab, a[j]), b[j]), ab));
  }
  return acc;
}

/**
 * Σ_{x < n} eq(z, x) over the first n indices of {0,1}^k (bit j = variable j) in O(k): walking n's
 * bits from the top, each set bit adds the block that agrees with n above it and has a 0 there. The
 * MLE of the indicator [x < n] at z — so padding masks cost a verifier nothing.
 */
export function eqPrefixSum(z: readonly bigint[], n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** z.length) throw new RangeError(`prefix of ${n} indices over ${z.length} variables`);
  if (n === 2 ** z.length) return 1n;
  let acc = 0n;
  let prefix = 1n;
  for (let j = z.length - 1; j >= 0; j--) {
    if (Math.floor(n / 2 ** j) % 2 === 1) {
      acc = add(acc, mul(prefix, sub(1n, z[j])));
      prefix = mul(prefix, z[j]);
    } else prefix = mul(prefix, sub(1n, z[j]));
  }
  return acc;
}

/** The multilinear extension of `values` (length 2^k, bit j of the index = variable j) at z. */
export function mleEvaluate(values: readonly bigint[], z: readonly bigint[]): bigint {
  if (values.length !== 1 << z.length) throw new RangeError(`MLE of ${values.length} values at a ${z.length}-variable point`);
  let layer = values.slice();
  for (let j = 0; j < z.length; j++) {
    const half = layer.length >> 1;
    const next = new Array<bigint>(half);
    for (let i = 0; i < half; i++) next[i] = add(layer[2 * i], mul(z[j], sub(layer[2 * i + 1], layer[2 * i])));
    layer = next;
  }
  return layer[0];
}

/** Every element inverted with one field inversion (Montgomery's trick); throws on a zero. */
export function batchInverse(values: readonly bigint[]): bigint[] {
  const prefix = new Array<bigint>(values.length);
  let acc = 1n;
  for (let i = 0; i < values.length; i++) {
    prefix[i] = acc;
    acc = mul(acc, values[i]);
  }
  if (acc === 0n) throw new RangeError("batch inverse of a zero element");
  let invAcc = inv(acc);
  const out = new Array<bigint>(values.length);
  for (let i = values.length - 1; i >= 0; i--) {
    out[i] = mul(invAcc, prefix[i]);
    invAcc = mul(invAcc, values[i]);
  }
  return out;
}

/**
 * Coefficients c_0…c_d of the polynomial of degree ≤ d through (0, e_0), …, (d, e_d): how round
 * polynomials given as evaluations at 0..d become the coefficient form that gets committed.
 */
export function interpolate(evals: readonly bigint[]): bigint[] {
  const n = evals.length;
  const coeffs = new Array<bigint>(n).fill(0n);
  for (let i = 0; i < n; i++) {
    // Lagrange basis ℓ_i(X) = Π_{j≠i} (X − j) / (i − j), expanded into coefficients.
    let basis = [1n];
    let denom = 1n;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const next = new Array<bigint>(basis.length + 1).fill(0n);
      for (let k = 0; k < basis.length; k++) {
        next[k + 1] = add(next[k + 1], basis[k]);
        next[k] = sub(next[k], mul(basis[k], BigInt(j)));
      }
      basis = next;
      denom = mul(denom, fr(BigInt(i - j)));
    }
    const scale = mul(evals[i], inv(denom));
    for (let k = 0; k < n; k++) coeffs[k] = add(coeffs[k], mul(basis[k], scale));
  }
  return coeffs;
}

/** Σ_k c_k x^k. */
export function evalPoly(coeffs: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = add(mul(acc, x), coeffs[k]);
  return acc;
}
