/**
 * Typed wrapper of the native BN254 core (native/src, built by `npm run build:native`, which
 * `npm ci` runs). Byte-level entry points use the encodings of docs/protocol.md: Fr as 32 bytes
 * big-endian canonical, G1 as 64 bytes x‖y big-endian with the identity as 64 zero bytes. Bad input
 * throws a NativeError whose `code` says what is wrong; it never crashes the process.
 */
import { join } from "node:path";

/** Error codes the native core raises. */
export type NativeErrorCode =
  | "ZKDL_INVALID_ARGUMENT"
  | "ZKDL_INVALID_LENGTH"
  | "ZKDL_NON_CANONICAL"
  | "ZKDL_NOT_ON_CURVE"
  | "ZKDL_DIVISION_BY_ZERO"
  | "ZKDL_SHAPE_MISMATCH"
  | "ZKDL_OUT_OF_RANGE"
  | "ZKDL_OUT_OF_MEMORY"
  | "ZKDL_CUDA"
  | "ZKDL_DISPOSED"
  | "ZKDL_INTERNAL";

export class NativeError extends Error {
  constructor(
    readonly code: NativeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "NativeError";
  }
}

/**
 * Where the heavy kernels (MSM, row commitments, element-wise ops, fold, sumcheck rounds) run:
 * - `cpu`: the multithreaded C++ kernels;
 * - `auto` (default): CUDA for work of 2^14 elements or more when a usable device is present, else cpu;
 * - `cuda`: CUDA for everything (fails when no device);
 * - `emulated`: the CUDA pipeline's own code run on the host, one index at a time (for checking it
 *   on machines without a GPU; slow).
 * `ZKDL_BACKEND` sets the mode at load time; `setBackend` changes it.
 */
export type BackendMode = "cpu" | "auto" | "cuda" | "emulated";

export interface Backend {
  mode: BackendMode;
  /** Where large kernels go now (auto resolved). */
  device: "cpu" | "cuda" | "emulated";
  /** CPU threads the kernels use (`ZKDL_THREADS` caps it). */
  threads: number;
  /** The addon was built with nvcc. */
  cudaCompiled: boolean;
  /** A device of compute capability 9.0 or newer answered at load time. */
  cudaAvailable: boolean;
  cudaDevice?: string;
  computeCapability?: string;
  gpuMemoryBytes?: number;
  /** Why CUDA is not available. */
  cudaReason?: string;
}

export type FieldName = "fr" | "fq";
export type BinaryFieldOp = "add" | "sub" | "mul";
export type UnaryFieldOp = "neg" | "sqr" | "inv";

/** The native handle; use FrTensor. */
interface NativeTensor {
  shape(): number[];
  toBytes(): Uint8Array;
  toInts(): BigInt64Array;
  add(o: NativeTensor): NativeTensor;
  sub(o: NativeTensor): NativeTensor;
  mul(o: NativeTensor): NativeTensor;
  scale(s: Uint8Array): NativeTensor;
  sum(): Uint8Array;
  innerProduct(o: NativeTensor): Uint8Array;
  fold(r: Uint8Array): NativeTensor;
  evaluate(point: Uint8Array): Uint8Array;
  batchInverse(): NativeTensor;
  matmul(o: NativeTensor): NativeTensor;
  reshape(shape: number[]): NativeTensor;
  dispose(): void;
}

interface Addon {
  tensorFromBytes(bytes: Uint8Array, shape?: number[]): NativeTensor;
  tensorFromInts(values: Int32Array | BigInt64Array, shape?: number[]): NativeTensor;
  eqVector(point: Uint8Array): NativeTensor;
  sumcheckRound(factors: NativeTensor[]): Uint8Array;
  tensorConcat(parts: NativeTensor[]): NativeTensor;
  fractionLeaves(values: NativeTensor[], numerators: (NativeTensor | null)[], beta: Uint8Array, length: number): [NativeTensor, NativeTensor];
  fractionLayer(p: NativeTensor, q: NativeTensor): [NativeTensor, NativeTensor];
  gkrFactors(p: NativeTensor, q: NativeTensor, lambda: Uint8Array): NativeTensor[];
  hyraxCommit(t: NativeTensor, generators: Uint8Array, h: Uint8Array, blindings: Uint8Array): Uint8Array;
  hyraxCommit(t: NativeTensor, generators: Uint8Array, h: Uint8Array, blindings: Uint8Array, async: true): Promise<Uint8Array>;
  backend(): Backend;
  setBackend(mode: string): Backend;
  generators(label: string, n: number): GeneratorSet;
  keccak256(data: Uint8Array): Uint8Array;
  keccak256Rows(data: Uint8Array, row: number): Uint8Array;
  g1Add(a: Uint8Array, b: Uint8Array): Uint8Array;
  g1Mul(point: Uint8Array, scalar: Uint8Array): Uint8Array;
  fixedBase(point: Uint8Array): FixedBase;
  hashToG1(dst: Uint8Array, msg: Uint8Array): Uint8Array;
  fieldOp(field: FieldName, op: string, a: Uint8Array, b?: Uint8Array): Uint8Array;
  msm(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  msmAsync(points: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  tensorMemory(): TensorMemory;
}

const ADDON_PATH = join(__dirname, "build", "Release", "zkdl_native.node");

let loaded: Addon | undefined;
function addon(): Addon {
  if (!loaded) {
    // ZKDL_NATIVE=off proves that a code path (the stand-alone verifier) runs without the addon.
    if (process.env.ZKDL_NATIVE === "off") throw new Error("native addon disabled (ZKDL_NATIVE=off)");
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(ADDON_PATH) as Addon;
    } catch (err) {
      throw new Error(`native addon not built (${ADDON_PATH}): run \`npm run build:native\` (${(err as Error).message})`);
    }
  }
  return loaded;
}

function rethrow(err: unknown): never {
  const e = err as Error & { code?: string };
  if (typeof e?.code === "string" && e.code.startsWith("ZKDL_")) throw new NativeError(e.code as NativeErrorCode, e.message);
  throw err;
}

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    rethrow(err);
  }
}

/** Which device runs the kernels, with how many threads, and whether CUDA was compiled in and found. */
export function backend(): Backend {
  return addon().backend();
}

/** A named generator set (docs/protocol.md §2.3), all points in the 64-byte encoding. */
export interface GeneratorSet {
  /** G_0 … G_{n−1}, n×64 bytes. */
  g: Uint8Array;
  /** The blinding generator. */
  h: Uint8Array;
  /** The scalar base g of committed scalars. */
  base: Uint8Array;
  /** keccak256(uint8(len(label)) ‖ label ‖ uint32_be(n)). */
  id: Uint8Array;
}

/**
 * The first n generators of the set `label` (1 to 64 printable ASCII bytes). Derived on all cores
 * on first use and cached per label; G_i does not depend on n, so sets of different sizes share a
 * prefix.
 */
export function generators(label: string, n: number): GeneratorSet {
  return call(() => addon().generators(label, n));
}

/** Switches where kernels run (see BackendMode); `cuda` throws ZKDL_CUDA when no device is usable. */
export function setBackend(mode: BackendMode): Backend {
  return call(() => addon().setBackend(mode));
}

/** Keccak-256 (Ethereum's). */
export function keccak256(data: Uint8Array): Uint8Array {
  return call(() => addon().keccak256(data));
}

/** Keccak-256 of each `row`-byte row of `data`, concatenated (rows hashed on all cores). */
export function keccak256Rows(data: Uint8Array, row: number): Uint8Array {
  return call(() => addon().keccak256Rows(data, row));
}

/** a + b in G1 (64-byte encodings). */
export function g1Add(a: Uint8Array, b: Uint8Array): Uint8Array {
  return call(() => addon().g1Add(a, b));
}

/** scalar · point in G1 (64-byte point, 32-byte canonical Fr scalar). */
export function g1Mul(point: Uint8Array, scalar: Uint8Array): Uint8Array {
  return call(() => addon().g1Mul(point, scalar));
}

/** A point with its multiples precomputed (33 × 128 affine points): `mul` is ~33 mixed additions. */
export interface FixedBase {
  /** scalar · point (32-byte canonical Fr scalar) as 64 bytes. */
  mul(scalar: Uint8Array): Uint8Array;
}

/** Precomputes a point's multiples for repeated single-point multiplications (e.g. the blinding generator H). */
export function fixedBase(point: Uint8Array): FixedBase {
  const table = call(() => addon().fixedBase(point));
  return { mul: (scalar) => call(() => table.mul(scalar)) };
}

/** Deterministic hash to G1 (docs/protocol.md, "Hash to G1"); `dst` is 1 to 255 bytes. */
export function hashToG1(dst: Uint8Array, msg: Uint8Array): Uint8Array {
  return call(() => addon().hashToG1(dst, msg));
}

/** Element-wise field arithmetic over arrays of 32-byte canonical elements. */
export function fieldOp(field: FieldName, op: BinaryFieldOp, a: Uint8Array, b: Uint8Array): Uint8Array;
export function fieldOp(field: FieldName, op: UnaryFieldOp, a: Uint8Array): Uint8Array;
export function fieldOp(field: FieldName, op: BinaryFieldOp | UnaryFieldOp, a: Uint8Array, b?: Uint8Array): Uint8Array {
  return call(() => addon().fieldOp(field, op, a, b));
}

/** Σ scalars[i]·points[i]: points n×64 bytes, scalars n×32 bytes; returns 64 bytes. Blocks the caller. */
export function msm(points: Uint8Array, scalars: Uint8Array): Uint8Array {
  return call(() => addon().msm(points, scalars));
}

/** As msm, computed off the event loop. Input is validated before the promise is returned. */
export async function msmAsync(points: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
  const pending = call(() => addon().msmAsync(points, scalars));
  return pending.catch(rethrow);
}

/** Native memory held by tensors: the live tensors and the bytes of their data. */
export interface TensorMemory {
  tensors: number;
  /** What the addon reports to V8 as external memory for them. */
  bytes: number;
}

/** The tensors alive in native memory now (not yet disposed or finalized) and their data bytes. */
export function tensorMemory(): TensorMemory {
  return addon().tensorMemory();
}

/** The open tensorScope frames, innermost first. */
interface ScopeFrame {
  readonly parent: ScopeFrame | undefined;
  readonly tensors: FrTensor[];
  readonly kept: Set<FrTensor>;
}
let openScope: ScopeFrame | undefined;

export interface TensorScope {
  /** Keeps the tensors in `value` (see tensorScope) past the end of the scope; returns `value`. */
  keep<T>(value: T): T;
}

/**
 * Runs `fn` and then disposes every FrTensor created while it ran, except those in its return value
 * and those passed to `scope.keep`: a tensor, or arrays, plain objects, Maps and Sets holding tensors
 * (searched deeply; other class instances are not searched: pass their tensors to keep). Kept
 * tensors pass to the enclosing scope, if any, else to the caller, who disposes them. Scopes nest.
 * If `fn` throws, its tensors are disposed all the same (those already kept pass on). `fn` must be
 * synchronous: a promise it returns is refused (TypeError) and its tensors disposed.
 *
 * Why: a tensor's buffer is freed by dispose() or when a GC finalizes its handle, and Node runs native
 * finalizers from the event loop, so a synchronous loop (a run proving step after step) would keep
 * every intermediate of every step until it returns. A scope around each step frees them when it ends.
 */
export function tensorScope<T>(fn: (scope: TensorScope) => T): T {
  const frame: ScopeFrame = { parent: openScope, tensors: [], kept: new Set() };
  const keep = <V>(value: V): V => {
    forEachTensor(value, (t) => frame.kept.add(t));
    return value;
  };
  openScope = frame;
  try {
    const result = fn({ keep });
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      throw new TypeError("tensorScope takes a synchronous function (tensors made after an await would escape the scope)");
    }
    return keep(result);
  } finally {
    openScope = frame.parent;
    for (const t of frame.tensors) {
      if (!frame.kept.has(t)) t.dispose();
      else frame.parent?.tensors.push(t);
    }
  }
}

/** Disposes every tensor in `value` (a tensor, or arrays, plain objects, Maps and Sets holding tensors). */
export function disposeTensors(value: unknown): void {
  forEachTensor(value, (t) => t.dispose());
}

function forEachTensor(value: unknown, f: (t: FrTensor) => void, seen = new Set<object>()): void {
  if (value === null || typeof value !== "object") return;
  if (value instanceof FrTensor) return f(value);
  if (seen.has(value) || ArrayBuffer.isView(value)) return;
  seen.add(value);
  if (Array.isArray(value) || value instanceof Set) {
    for (const v of value) forEachTensor(v, f, seen);
  } else if (value instanceof Map) {
    for (const [k, v] of value) {
      forEachTensor(k, f, seen);
      forEachTensor(v, f, seen);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) for (const v of Object.values(value)) forEachTensor(v, f, seen);
  }
}

/**
 * A tensor over Fr held in native memory: operations run in C++ and return new tensors; only
 * toBytes/toInts copy data back to JavaScript. Its multilinear extension puts bit k of the flat
 * (row-major) index on variable k. Field elements in and out are 32-byte canonical big-endian.
 *
 * Lifetime: `dispose()` (or `using`) frees the data now; any later use throws a NativeError with code
 * ZKDL_DISPOSED, and a second dispose does nothing. Undisposed tensors are freed after a GC once the
 * event loop runs; see tensorScope for loops that do not return to it.
 */
export class FrTensor {
  /** The native handle; undefined once disposed. */
  private handle: NativeTensor | undefined;

  private constructor(handle: NativeTensor) {
    this.handle = handle;
    openScope?.tensors.push(this);
  }

  /** The handle of a tensor not yet disposed. */
  private get live(): NativeTensor {
    if (!this.handle) throw new NativeError("ZKDL_DISPOSED", "the tensor was disposed: its native memory is freed (dispose() or the end of its tensorScope)");
    return this.handle;
  }

  /** Frees the native data now; later use throws ZKDL_DISPOSED; disposing again does nothing. */
  dispose(): void {
    const h = this.handle;
    this.handle = undefined;
    h?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get disposed(): boolean {
    return this.handle === undefined;
  }

  /**
   * The sumcheck round polynomial over variable 0 of Σ_x Π_j f_j(x), for 1 to 5 same-length factors
   * (up to four MLEs and an eq factor): its evaluations s(0), …, s(D) at X = 0..D, (D+1)×32 bytes.
   */
  static sumcheckRound(factors: FrTensor[]): Uint8Array {
    return call(() => addon().sumcheckRound(factors.map((f) => f?.live)));
  }

  /** The flat concatenation of the parts (the first part's entries first). */
  static concat(parts: FrTensor[]): FrTensor {
    return new FrTensor(call(() => addon().tensorConcat(parts.map((p) => p?.live))));
  }

  /**
   * The leaves of a GKR tree of fractions p/q (logUp) of `length` entries, in one pass: block b's
   * entries in order with q = β + values[b], p = numerators[b] (1 where null), then (0, 1).
   */
  static fractionLeaves(values: FrTensor[], numerators: (FrTensor | null)[], beta: Uint8Array, length: number): { p: FrTensor; q: FrTensor } {
    const [p, q] = call(() => addon().fractionLeaves(values.map((v) => v?.live), numerators.map((n) => (n === null ? null : n?.live)), beta, length));
    return { p: new FrTensor(p), q: new FrTensor(q) };
  }

  /**
   * One layer up a GKR tree of fractions p/q (logUp), in one pass: neighbours summed,
   * p'[i] = p[2i]·q[2i+1] + p[2i+1]·q[2i], q'[i] = q[2i]·q[2i+1].
   */
  static fractionLayer(p: FrTensor, q: FrTensor): { p: FrTensor; q: FrTensor } {
    const [pp, qq] = call(() => addon().fractionLayer(p?.live, q?.live));
    return { p: new FrTensor(pp), q: new FrTensor(qq) };
  }

  /** A GKR layer sumcheck's factors from the layer below, in one pass: [pE + λ·qE, qO, pO, qE] (E, O: even and odd entries). */
  static gkrFactors(p: FrTensor, q: FrTensor, lambda: Uint8Array): [FrTensor, FrTensor, FrTensor, FrTensor] {
    const f = call(() => addon().gkrFactors(p?.live, q?.live, lambda));
    return [new FrTensor(f[0]), new FrTensor(f[1]), new FrTensor(f[2]), new FrTensor(f[3])];
  }

  /** From n×32 bytes of canonical Fr elements; shape defaults to [n]. */
  static fromBytes(bytes: Uint8Array, shape?: number[]): FrTensor {
    return new FrTensor(call(() => addon().tensorFromBytes(bytes, shape)));
  }

  /** From signed integers, negatives as r − |v| (fixed-point values). */
  static fromInts(values: Int32Array | BigInt64Array, shape?: number[]): FrTensor {
    return new FrTensor(call(() => addon().tensorFromInts(values, shape)));
  }

  /** eq(z, x) for all x in {0,1}^k, for a point z of k coordinates (k×32 bytes). */
  static eq(point: Uint8Array): FrTensor {
    return new FrTensor(call(() => addon().eqVector(point)));
  }

  /**
   * Hyrax row commitments of this rows×cols tensor: C_j = Σ_i T[j,i]·G_i + ρ_j·H, returned as rows×64
   * bytes. `generators` is cols×64 bytes (G_0..G_{cols−1}), `h` 64 bytes, `blindings` rows×32 bytes.
   */
  commitRows(generators: Uint8Array, h: Uint8Array, blindings: Uint8Array): Uint8Array {
    return call(() => addon().hyraxCommit(this.live, generators, h, blindings));
  }

  /** commitRows off the event loop (a thread-pool job; the data stays alive until it settles, even if the tensor is disposed). */
  async commitRowsAsync(generators: Uint8Array, h: Uint8Array, blindings: Uint8Array): Promise<Uint8Array> {
    return call(() => addon().hyraxCommit(this.live, generators, h, blindings, true)).catch(rethrow);
  }

  get shape(): number[] {
    return call(() => this.live.shape());
  }

  get length(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toBytes(): Uint8Array {
    return call(() => this.live.toBytes());
  }

  /** Signed integers (x > (r−1)/2 reads as x − r); throws ZKDL_OUT_OF_RANGE past int64. */
  toInts(): BigInt64Array {
    return call(() => this.live.toInts());
  }

  add(o: FrTensor): FrTensor {
    return new FrTensor(call(() => this.live.add(o.live)));
  }

  sub(o: FrTensor): FrTensor {
    return new FrTensor(call(() => this.live.sub(o.live)));
  }

  /** Element-wise (Hadamard) product. */
  mul(o: FrTensor): FrTensor {
    return new FrTensor(call(() => this.live.mul(o.live)));
  }

  scale(scalar: Uint8Array): FrTensor {
    return new FrTensor(call(() => this.live.scale(scalar)));
  }

  sum(): Uint8Array {
    return call(() => this.live.sum());
  }

  innerProduct(o: FrTensor): Uint8Array {
    return call(() => this.live.innerProduct(o.live));
  }

  /** The same entries under another shape (a copy); the shape's product must equal the length. */
  reshape(shape: number[]): FrTensor {
    return new FrTensor(call(() => this.live.reshape(shape)));
  }

  /** The entries as a flat vector: this tensor when it already is one. */
  flat(): FrTensor {
    return this.shape.length === 1 ? this : this.reshape([this.length]);
  }

  /** Binds variable 0 to r: out[i] = a[2i] + r·(a[2i+1] − a[2i]). */
  fold(r: Uint8Array): FrTensor {
    return new FrTensor(call(() => this.live.fold(r)));
  }

  /** The multilinear extension at a point of log2(length) coordinates (k×32 bytes). */
  evaluate(point: Uint8Array): Uint8Array {
    return call(() => this.live.evaluate(point));
  }

  /** Every element inverted; throws ZKDL_DIVISION_BY_ZERO if one is zero. */
  batchInverse(): FrTensor {
    return new FrTensor(call(() => this.live.batchInverse()));
  }

  /**
   * (m×k)·(k×n) over Fr → [m, n]. A batch of T products when either side is 3-D: [T,m,k]·[T,k,n],
   * [m,k]·[T,k,n] or [T,m,k]·[k,n] → [T, m, n], a 2-D side shared by every batch entry. Any other
   * shape pairing throws ZKDL_SHAPE_MISMATCH.
   */
  matmul(o: FrTensor): FrTensor {
    return new FrTensor(call(() => this.live.matmul(o.live)));
  }
}
