/**
 * The run folder's binary files (docs/protocol.md §4.5), each a magic tag, a version-bearing name,
 * and fixed-width fields; readers name the file and what is wrong with it (RunFileError, ./files.ts,
 * which also holds the files' names).
 *
 *   dataset.bin       "ZKDLDS02" ‖ u32 N ‖ u32 featureCols ‖ u32 labelCols ‖ N × (Cx_i ‖ Cy_i ‖ P_i)
 *                     ‖ fingerprint proof (T ‖ S ‖ featureCols × z_k ‖ z_H)                          (public)
 *   proof.bin         "ZKDLPB02" ‖ u32 L ‖ L × initial W<l> commitment ‖ u32 windows ‖ windows × (u32 steps ‖ u32 length ‖ window proof)
 *   private/openings.bin "ZKDLOP01" ‖ u32 N ‖ N × ρx_i ‖ N × ρy_i                                   (secret)
 *   private/records.bin  "ZKDLRC01" ‖ u32 N ‖ u32 features ‖ u32 classes ‖ N×features i32le ‖ N i32le labels
 *   private/weights.bin  "ZKDLWT01" ‖ u32 L ‖ per layer: u32 rows ‖ u32 cols ‖ rows·cols i64le ‖ u32 n ‖ n × ρ
 */
import { ProofFormatError, ProofReader, ProofWriter } from "../protocol/codec";
import type { G1Point } from "../crypto/bn254";
import { type TensorCommitment, type TensorShape, hyraxCodec } from "../protocol/hyrax";
import type { DatasetCommitments, DatasetOpenings } from "../dataset/commitments";
import type { Records } from "../data/records";
import { type Matrix, matrix } from "../model/fixed";
import { loadDatasetTree } from "../dataset/tree";
import { fingerprintCodec } from "../dataset/fingerprints";
import { MAX_WINDOW } from "../training/window";
import { RunFileError } from "./files";

// Kept importable from here for existing callers; defined in ./files (the run folder's names and errors).

const MAGIC = {
  dataset: "ZKDLDS02",
  bundle: "ZKDLPB02",
  openings: "ZKDLOP01",
  records: "ZKDLRC01",
  weights: "ZKDLWT01",
} as const;

const ascii = (s: string) => new TextEncoder().encode(s);

function withMagic(kind: keyof typeof MAGIC, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  out.set(ascii(MAGIC[kind]));
  out.set(body, 8);
  return out;
}

/** Tags of earlier versions of a file, and why a reader of this version refuses them. */
const RETIRED: Partial<Record<keyof typeof MAGIC, Record<string, string>>> = {
  dataset: {
    ZKDLDS01: "the dataset commitments of an earlier version of the prover, without record fingerprints; prove the run again with this version (zkdl train)",
  },
  bundle: {
    ZKDLPB01: "one proof per step, written by an earlier version of the prover; runs are now proven in windows of steps, so prove it again with this version (zkdl train)",
  },
};

/** Parses `bytes` as `kind`, turning any format error into a RunFileError naming the file. */
function parse<T>(file: string, kind: keyof typeof MAGIC, bytes: Uint8Array, f: (r: ProofReader, raw: Uint8Array) => T): T {
  const tag = bytes.length < 8 ? "" : new TextDecoder().decode(bytes.subarray(0, 8));
  const retired = RETIRED[kind]?.[tag];
  if (retired !== undefined) throw new RunFileError(file, `format ${tag} is not read by this version (it reads ${MAGIC[kind]}): ${retired}`);
  if (tag !== MAGIC[kind]) {
    throw RunFileError.not(file, `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} file`, `expected the tag ${MAGIC[kind]}`);
  }
  try {
    const body = bytes.subarray(8);
    const r = new ProofReader(body);
    const out = f(r, body);
    r.end();
    return out;
  } catch (e) {
    if (e instanceof ProofFormatError || e instanceof RangeError) throw new RunFileError(file, e.message);
    throw e;
  }
}

/** The size of dataset.bin for n records of featureCols padded columns (magic, three counts, three points per record, the fingerprint proof). */
export const datasetFileBytes = (n: number, featureCols: number): number => 8 + 12 + 192 * n + fingerprintCodec.bytes(featureCols);

export function encodeDataset(c: DatasetCommitments): Uint8Array {
  const w = new ProofWriter().u32(c.cx.length).u32(c.featureCols).u32(c.labelCols);
  c.cx.forEach((x, i) => w.point(x).point(c.cy[i]).point(c.fingerprints[i]));
  fingerprintCodec.write(w, c.fingerprintProof);
  return withMagic("dataset", w.bytes());
}

export function decodeDataset(file: string, bytes: Uint8Array): DatasetCommitments {
  return parse(file, "dataset", bytes, (r) => {
    const n = r.u32("record count", 1 << 24);
    const featureCols = r.u32("feature columns", 1 << 16);
    const labelCols = r.u32("label columns", 1 << 16);
    const cx: G1Point[] = [];
    const cy: G1Point[] = [];
    const fingerprints: G1Point[] = [];
    for (let i = 0; i < n; i++) {
      cx.push(r.point(`Cx[${i}]`));
      cy.push(r.point(`Cy[${i}]`));
      fingerprints.push(r.point(`P[${i}]`));
    }
    return { featureCols, labelCols, cx, cy, fingerprints, fingerprintProof: fingerprintCodec.read(r, featureCols) };
  });
}

/** dataset-tree.json (OpenZeppelin's StandardMerkleTree dump of the dataset leaves), loaded and validated. */
export function decodeDatasetTree(file: string, bytes: Uint8Array): ReturnType<typeof loadDatasetTree> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw RunFileError.not(file, "JSON", (e as Error).message);
  }
  try {
    return loadDatasetTree(json);
  } catch (e) {
    throw new RunFileError(file, (e as Error).message);
  }
}

/** One window's proof: `steps` consecutive steps (a power of two) proven as one instance. */
export interface WindowProof {
  readonly steps: number;
  readonly proof: Uint8Array;
}

export interface Bundle {
  /** Commitments to the seeded initial weights (zero blinding: anyone can check them). */
  readonly initial: TensorCommitment[];
  /** The window proofs in step order (their lengths are windowSizes(steps, window), checked by the verifier). */
  readonly windows: WindowProof[];
}

export function encodeBundle(b: Bundle): Uint8Array {
  const w = new ProofWriter().u32(b.initial.length);
  for (const c of b.initial) hyraxCodec.writeCommitment(w, c);
  w.u32(b.windows.length);
  const head = w.bytes();
  const parts: Uint8Array[] = [head];
  for (const win of b.windows) parts.push(new ProofWriter().u32(win.steps).u32(win.proof.length).bytes(), win.proof);
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (body.set(p, at), (at += p.length));
  return withMagic("bundle", body);
}

/**
 * `initialShapes` (the manifest's weight shapes) bounds the initial commitments before their rows are
 * decoded: a hostile header could otherwise make a reader decode millions of points before any check.
 */
export function decodeBundle(file: string, bytes: Uint8Array, initialShapes?: readonly TensorShape[]): Bundle {
  return parse(file, "bundle", bytes, (r) => {
    const L = r.u32("layer count", 64);
    if (initialShapes && L !== initialShapes.length) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `${L} initial weight commitments for ${initialShapes.length} layers`);
    const initial = Array.from({ length: L }, (_, l) => hyraxCodec.readCommitment(r, `initial W${l + 1}`, initialShapes?.[l]));
    const n = r.u32("window count", 1 << 24);
    const windows: WindowProof[] = [];
    for (let i = 0; i < n; i++) {
      const steps = r.u32(`window ${i} steps`, MAX_WINDOW);
      if (steps < 1 || (steps & (steps - 1)) !== 0) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `window ${i} holds ${steps} steps, not a power of two`);
      const len = r.u32(`window ${i} length`);
      windows.push({ steps, proof: r.bytesOf(len, `window ${i}`) });
    }
    return { initial, windows };
  });
}

export function encodeOpenings(o: DatasetOpenings): Uint8Array {
  return withMagic("openings", new ProofWriter().u32(o.xBlinds.length).scalars(o.xBlinds).scalars(o.yBlinds).bytes());
}

export function decodeOpenings(file: string, bytes: Uint8Array): DatasetOpenings {
  return parse(file, "openings", bytes, (r) => {
    const n = r.u32("record count", 1 << 24);
    return { xBlinds: r.scalars(n, "ρx"), yBlinds: r.scalars(n, "ρy") };
  });
}

export function encodeRecords(rec: Records): Uint8Array {
  const head = new ProofWriter().u32(rec.count).u32(rec.features).u32(rec.classes).bytes();
  const body = new Uint8Array(head.length + 4 * rec.x.length + 4 * rec.labels.length);
  body.set(head);
  const view = new DataView(body.buffer);
  let at = head.length;
  for (const v of rec.x) (view.setInt32(at, v, true), (at += 4));
  for (const v of rec.labels) (view.setInt32(at, v, true), (at += 4));
  return withMagic("records", body);
}

export function decodeRecords(file: string, bytes: Uint8Array): Records {
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC.records) throw RunFileError.not(file, "a records file", `expected the tag ${MAGIC.records}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(8);
  const features = view.getUint32(12);
  const classes = view.getUint32(16);
  if (bytes.length !== 20 + 4 * count * (features + 1)) throw new RunFileError(file, `size does not match ${count} records of ${features} features`);
  const x = new Int32Array(count * features);
  const labels = new Int32Array(count);
  let at = 20;
  for (let i = 0; i < x.length; i++, at += 4) x[i] = view.getInt32(at, true);
  for (let i = 0; i < count; i++, at += 4) labels[i] = view.getInt32(at, true);
  return { features, classes, x, labels, count };
}

export interface WeightsFile {
  readonly weights: Matrix[];
  /** Row blindings of each layer's commitment. */
  readonly blinds: bigint[][];
}

export function encodeWeights(f: WeightsFile): Uint8Array {
  const w = new ProofWriter().u32(f.weights.length);
  const parts: Uint8Array[] = [w.bytes()];
  f.weights.forEach((m, l) => {
    const head = new ProofWriter().u32(m.rows).u32(m.cols).bytes();
    const vals = new Uint8Array(8 * m.data.length);
    const view = new DataView(vals.buffer);
    m.data.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    parts.push(head, vals, new ProofWriter().u32(f.blinds[l].length).scalars(f.blinds[l]).bytes());
  });
  const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (body.set(p, at), (at += p.length));
  return withMagic("weights", body);
}

export function decodeWeights(file: string, bytes: Uint8Array): WeightsFile {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC.weights) throw RunFileError.not(file, "a weights file", `expected the tag ${MAGIC.weights}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new RunFileError(file, "truncated");
  };
  need(4);
  const L = view.getUint32(at);
  at += 4;
  const weights: Matrix[] = [];
  const blinds: bigint[][] = [];
  for (let l = 0; l < L; l++) {
    need(8);
    const rows = view.getUint32(at);
    const cols = view.getUint32(at + 4);
    at += 8;
    need(8 * rows * cols);
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < data.length; i++, at += 8) data[i] = Number(view.getBigInt64(at, true));
    weights.push(matrix(rows, cols, data));
    need(4);
    const n = view.getUint32(at);
    at += 4;
    need(32 * n);
    const r = new ProofReader(bytes.subarray(at, at + 32 * n));
    try {
      blinds.push(r.scalars(n, "ρ"));
    } catch (e) {
      throw new RunFileError(file, (e as Error).message);
    }
    at += 32 * n;
  }
  if (at !== bytes.length) throw new RunFileError(file, "trailing bytes");
  return { weights, blinds };
}
