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
  | "ZKDL_OUT_OF_MEMORY"
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

/** Where kernels run. */
export interface Backend {
  device: "cpu" | "cuda";
  threads: number;
  cudaCompiled: boolean;
  cudaAvailable: boolean;
}

export type FieldName = "fr" | "fq";
export type BinaryFieldOp = "add" | "sub" | "mul";
export type UnaryFieldOp = "neg" | "sqr" | "inv";

interface Addon {
  backend(): Backend;
  keccak256(data: Uint8Array): Uint8Array;
  g1Add(a: Uint8Array, b: Uint8Array): Uint8Array;
  g1Mul(point: Uint8Array, scalar: Uint8Array): Uint8Array;
  hashToG1(dst: Uint8Array, msg: Uint8Array): Uint8Array;
  fieldOp(field: FieldName, op: string, a: Uint8Array, b?: Uint8Array): Uint8Array;
  msm(points: Uint8Array, scalars: Uint8Array): Uint8Array;
  msmAsync(points: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
}

const ADDON_PATH = join(__dirname, "build", "Release", "zkdl_native.node");

let loaded: Addon | undefined;
function addon(): Addon {
  if (!loaded) {
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

/** Keccak-256 (Ethereum's). */
export function keccak256(data: Uint8Array): Uint8Array {
  return call(() => addon().keccak256(data));
}

/** a + b in G1 (64-byte encodings). */
export function g1Add(a: Uint8Array, b: Uint8Array): Uint8Array {
  return call(() => addon().g1Add(a, b));
}

/** scalar · point in G1 (64-byte point, 32-byte canonical Fr scalar). */
export function g1Mul(point: Uint8Array, scalar: Uint8Array): Uint8Array {
  return call(() => addon().g1Mul(point, scalar));
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
