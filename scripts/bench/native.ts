/**
 * Native-core benchmark (`npm run bench:native`): Fr multiplication, MSM (2^10 … 2^20 with full-width,
 * 32-bit and 16-bit signed scalars), Hyrax row commitments of a 2^20-entry tensor, and the fold and
 * sumcheck-round kernels at 2^20, against ffjavascript (snarkjs's WASM engine; worker threads for
 * MSM), @noble/curves (pure JS) and, for MSM, mcl-wasm, on the same random inputs. Every peer's MSM
 * result is checked equal to the native one before timing; fold and round results are checked too.
 * Prints medians of several runs and each peer's time as a multiple of the native time.
 *
 *   npm run bench:native [-- --sizes 10,12,14,16,18,20 --runs 3 --only msm,kernels]
 */
import { Command } from "commander";
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { pippenger } from "@noble/curves/abstract/curve.js";
import * as native from "../../native";
import { Fr, G1, bigIntToBytes, bigIntsToBytes, bytesToBigInt, frToBytes, g1FromBytes, g1ToBytes } from "../../core/crypto/bn254";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildBn128 } = require("ffjavascript") as { buildBn128: (singleThread?: boolean) => Promise<FfCurve> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mcl = require("mcl-wasm") as McL;

interface FfField {
  e(v: bigint | string): Uint8Array;
  mul(a: Uint8Array, b: Uint8Array): Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  sub(a: Uint8Array, b: Uint8Array): Uint8Array;
  toObject(a: Uint8Array): bigint;
}
interface FfCurve {
  Fr: FfField;
  G1: {
    fromRprUncompressed(buf: Uint8Array, o: number): Uint8Array;
    toRprLEM(buf: Uint8Array, o: number, p: Uint8Array): void;
    toRprUncompressed(buf: Uint8Array, o: number, p: Uint8Array): void;
    multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  };
  terminate(): Promise<void>;
}
interface McLPoint {
  setStr(s: string, base: number): void;
  getStr(base: number): string;
  normalize(): void;
}
interface McL {
  init(curve: number): Promise<void>;
  BN_SNARK1: number;
  G1: new () => McLPoint;
  Fr: new () => McLPoint;
  mulVec(points: McLPoint[], scalars: McLPoint[]): McLPoint;
  add(a: McLPoint, b: McLPoint): McLPoint;
}

/** mcl-wasm's mulVec allocates on a fixed WASM stack and fails above 2^12 terms: chunk and sum. */
const MCL_CHUNK = 1 << 12;
function mclMsm(points: McLPoint[], scalars: McLPoint[]): McLPoint {
  let acc = mcl.mulVec(points.slice(0, MCL_CHUNK), scalars.slice(0, MCL_CHUNK));
  for (let i = MCL_CHUNK; i < points.length; i += MCL_CHUNK) {
    acc = mcl.add(acc, mcl.mulVec(points.slice(i, i + MCL_CHUNK), scalars.slice(i, i + MCL_CHUNK)));
  }
  return acc;
}

const opts = new Command()
  .option("--sizes <list>", "log2 of the MSM sizes", "10,12,14,16,18,20")
  .option("--runs <n>", "timed runs per cell (median reported)", "3")
  .option("--noble-max <log2>", "largest log2 MSM size run on @noble/curves (slow)", "12")
  .option("--mcl-max <log2>", "largest log2 MSM size run on mcl-wasm", "16")
  .option("--only <sections>", "comma-separated subset of: field,msm,commit,kernels", "field,msm,commit,kernels")
  .parse()
  .opts<{ sizes: string; runs: string; nobleMax: string; mclMax: string; only: string }>();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(runs: number, f: () => unknown): Promise<number> {
  await f(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

const fmt = (t: number) => (Number.isNaN(t) ? "—" : t < 10 ? t.toFixed(2) : t.toFixed(1));
const ratio = (t: number, base: number) => (Number.isNaN(t) ? "—" : (t / base).toFixed(1));
function row(cells: string[], widths: number[]): void {
  console.log(cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" "));
}

type ScalarKind = "full" | "s32" | "s16";
function randomScalars(n: number, kind: ScalarKind): bigint[] {
  return Array.from({ length: n }, () => {
    const v = bytesToBigInt(randomBytes(32));
    if (kind === "full") return Fr.create(v);
    const magnitude = v % (1n << (kind === "s32" ? 31n : 15n)); // signed 32- / 16-bit values
    return v & 1n ? Fr.neg(magnitude) : magnitude;
  });
}

function randomPoints(n: number): Uint8Array {
  const out = new Uint8Array(64 * n);
  const step = g1ToBytes(G1.BASE.multiply(bytesToBigInt(randomBytes(31))));
  let p = g1ToBytes(G1.BASE.multiply(bytesToBigInt(randomBytes(31))));
  for (let i = 0; i < n; i++) {
    out.set(p, 64 * i);
    p = native.g1Add(p, step);
  }
  return out;
}

/** ffjavascript wants bases as affine Montgomery little-endian and scalars little-endian. */
function ffBasesOf(ff: FfCurve, pointBytes: Uint8Array): Uint8Array {
  const n = pointBytes.length / 64;
  const out = new Uint8Array(64 * n);
  for (let i = 0; i < n; i++) ff.G1.toRprLEM(out, 64 * i, ff.G1.fromRprUncompressed(pointBytes, 64 * i));
  return out;
}
function ffScalarsOf(scalars: bigint[]): Uint8Array {
  const out = new Uint8Array(32 * scalars.length);
  scalars.forEach((s, i) => out.set(frToBytes(s).reverse(), 32 * i));
  return out;
}
async function ffMsm(ff: FfCurve, bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(64);
  ff.G1.toRprUncompressed(out, 0, await ff.G1.multiExpAffine(bases, scalars));
  return out;
}
function same(a: Uint8Array, b: Uint8Array, what: string): void {
  if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) throw new Error(`${what} disagrees with native`);
}

async function fieldSection(ff: FfCurve, runs: number): Promise<void> {
  const n = 1 << 20, jsN = 1 << 16;
  const a = Array.from({ length: n }, () => Fr.create(bytesToBigInt(randomBytes(32))));
  const b = Array.from({ length: n }, () => Fr.create(bytesToBigInt(randomBytes(32))));
  const ta = native.FrTensor.fromBytes(bigIntsToBytes(a)), tb = native.FrTensor.fromBytes(bigIntsToBytes(b));
  const tNative = (await time(runs, () => ta.mul(tb))) / n;
  const ffA = a.slice(0, jsN).map((v) => ff.Fr.e(v)), ffB = b.slice(0, jsN).map((v) => ff.Fr.e(v));
  const tFf = (await time(runs, () => { for (let i = 0; i < jsN; i++) ff.Fr.mul(ffA[i]!, ffB[i]!); })) / jsN;
  const tNoble = (await time(runs, () => { for (let i = 0; i < jsN; i++) Fr.mul(a[i]!, b[i]!); })) / jsN;
  console.log("\nFr multiplication (ns per product; native: a 2^20 element-wise tensor product on all threads; peers: one call per product)");
  const w = [22, 8, 10, 10, 6, 10, 6];
  row(["kernel", "", "native", "ffjs", "×", "noble", "×"], w);
  row(["Fr mul", "", fmt(tNative * 1e6), fmt(tFf * 1e6), ratio(tFf, tNative), fmt(tNoble * 1e6), ratio(tNoble, tNative)], w);
}

async function msmSection(ff: FfCurve, runs: number, sizes: number[]): Promise<void> {
  await mcl.init(mcl.BN_SNARK1);
  console.log("\nMSM (ms; native and ffjs use every core, noble and mcl-wasm one)");
  const w = [7, 8, 10, 10, 6, 9, 6, 9, 6];
  row(["n", "scalars", "native", "noble", "×", "ffjs", "×", "mcl", "×"], w);
  for (const logN of sizes) {
    const n = 1 << logN;
    const pointBytes = randomPoints(n);
    const points = Array.from({ length: n }, (_, i) => g1FromBytes(pointBytes.subarray(64 * i, 64 * i + 64)));
    const ffBases = ffBasesOf(ff, pointBytes);
    const withMcl = logN <= Number(opts.mclMax);
    const mclPoints = withMcl
      ? points.map((p) => {
          const q = new mcl.G1();
          const { x, y } = p.toAffine();
          q.setStr(`1 ${x} ${y}`, 10);
          return q;
        })
      : [];
    for (const kind of ["full", "s32", "s16"] as ScalarKind[]) {
      const scalars = randomScalars(n, kind);
      const scalarBytes = bigIntsToBytes(scalars);
      const ffScalars = ffScalarsOf(scalars);
      const expected = native.msm(pointBytes, scalarBytes);
      same(await ffMsm(ff, ffBases, ffScalars), expected, `ffjavascript at n=${n}`);
      const tNative = await time(runs, () => native.msm(pointBytes, scalarBytes));
      let tNoble = NaN, tMcl = NaN;
      if (logN <= Number(opts.nobleMax)) {
        same(g1ToBytes(pippenger(G1, points, scalars)), expected, `noble at n=${n}`);
        tNoble = await time(Math.min(runs, 3), () => pippenger(G1, points, scalars));
      }
      const tFf = await time(runs, () => ff.G1.multiExpAffine(ffBases, ffScalars));
      if (withMcl) {
        const mclScalars = scalars.map((s) => {
          const f = new mcl.Fr();
          f.setStr(s.toString(10), 10);
          return f;
        });
        const m = mclMsm(mclPoints, mclScalars);
        m.normalize();
        const [, mx, my] = m.getStr(10).split(" ");
        same(bigIntsToBytes([BigInt(mx!), BigInt(my!)]), expected, `mcl-wasm at n=${n}`);
        tMcl = await time(runs, () => mclMsm(mclPoints, mclScalars));
      }
      row([`2^${logN}`, kind, fmt(tNative), fmt(tNoble), ratio(tNoble, tNative), fmt(tFf), ratio(tFf, tNative), fmt(tMcl), ratio(tMcl, tNative)], w);
    }
  }
}

async function commitSection(ff: FfCurve, runs: number): Promise<void> {
  const rows = 1024, cols = 1024;
  const dst = new TextEncoder().encode("zkdl-chain/bench/generators");
  const gens = Array.from({ length: cols + 1 }, (_, i) => native.hashToG1(dst, bigIntToBytes(BigInt(i), 4)));
  const g = new Uint8Array(64 * cols);
  gens.slice(0, cols).forEach((p, i) => g.set(p, 64 * i));
  const values = BigInt64Array.from({ length: rows * cols }, () => BigInt(randomBytes(2).readInt16BE(0)));
  const blindings = Array.from({ length: rows }, () => Fr.create(bytesToBigInt(randomBytes(32))));
  const tensor = native.FrTensor.fromInts(values, [rows, cols]);
  const blindBytes = bigIntsToBytes(blindings);
  const commits = tensor.commitRows(g, gens[cols]!, blindBytes);
  const tNative = await time(runs, () => tensor.commitRows(g, gens[cols]!, blindBytes));
  // ffjavascript: one multiExpAffine per row over (G_0..G_{cols−1}, H); checked on the first row.
  const bases = new Uint8Array(64 * (cols + 1));
  bases.set(g, 0);
  bases.set(gens[cols]!, 64 * cols);
  const ffBases = ffBasesOf(ff, bases);
  const rowScalars = Array.from({ length: rows }, (_, j) =>
    ffScalarsOf([...Array.from(values.subarray(j * cols, (j + 1) * cols), (v) => Fr.create(v)), blindings[j]!]),
  );
  same(await ffMsm(ff, ffBases, rowScalars[0]!), commits.subarray(0, 64), "ffjavascript row 0");
  const tFf = await time(1, async () => {
    for (const s of rowScalars) await ff.G1.multiExpAffine(ffBases, s);
  });
  console.log("\nHyrax row commitments of a 1024×1024 tensor of signed 16-bit values (ms; ffjs: one MSM per row, 1 run)");
  const w = [22, 8, 10, 10, 6];
  row(["kernel", "", "native", "ffjs", "×"], w);
  row(["commit 2^20", "", fmt(tNative), fmt(tFf), ratio(tFf, tNative)], w);
}

async function kernelSection(ff: FfCurve, runs: number): Promise<void> {
  const n = 1 << 20;
  const rand = () => Array.from({ length: n }, () => Fr.create(bytesToBigInt(randomBytes(32))));
  const f = [rand(), rand(), rand()];
  const challenge = Fr.create(bytesToBigInt(randomBytes(32)));
  const tensors = f.map((v) => native.FrTensor.fromBytes(bigIntsToBytes(v)));
  const chBytes = frToBytes(challenge);

  // References: fold and a degree-3 round (three factors) in plain loops.
  const nobleFold = (a: bigint[]) => {
    const out = new Array<bigint>(a.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = Fr.add(a[2 * i]!, Fr.mul(challenge, Fr.sub(a[2 * i + 1]!, a[2 * i]!)));
    return out;
  };
  const nobleRound = () => {
    const s = [0n, 0n, 0n, 0n];
    for (let i = 0; i < n / 2; i++) {
      const v = f.map((x) => x[2 * i]!), d = f.map((x, j) => Fr.sub(x[2 * i + 1]!, v[j]!));
      for (let t = 0; t < 4; t++) {
        s[t] = Fr.add(s[t]!, Fr.mul(Fr.mul(v[0]!, v[1]!), v[2]!));
        for (let j = 0; j < 3; j++) v[j] = Fr.add(v[j]!, d[j]!);
      }
    }
    return s;
  };
  const ffF = f.map((x) => x.map((v) => ff.Fr.e(v)));
  const ffCh = ff.Fr.e(challenge);
  const ffFold = () => {
    const a = ffF[0]!;
    const out = new Array<Uint8Array>(n / 2);
    for (let i = 0; i < n / 2; i++) out[i] = ff.Fr.add(a[2 * i]!, ff.Fr.mul(ffCh, ff.Fr.sub(a[2 * i + 1]!, a[2 * i]!)));
    return out;
  };
  const ffRound = () => {
    const zero = ff.Fr.e(0n);
    const s = [zero, zero, zero, zero];
    for (let i = 0; i < n / 2; i++) {
      const v = ffF.map((x) => x[2 * i]!), d = ffF.map((x, j) => ff.Fr.sub(x[2 * i + 1]!, v[j]!));
      for (let t = 0; t < 4; t++) {
        s[t] = ff.Fr.add(s[t]!, ff.Fr.mul(ff.Fr.mul(v[0]!, v[1]!), v[2]!));
        for (let j = 0; j < 3; j++) v[j] = ff.Fr.add(v[j]!, d[j]!);
      }
    }
    return s;
  };

  // Agreement.
  const folded = tensors[0]!.fold(chBytes).toBytes();
  same(bigIntsToBytes(nobleFold(f[0]!)), folded, "noble fold");
  const round = native.FrTensor.sumcheckRound(tensors);
  same(bigIntsToBytes(nobleRound()), round, "noble round");
  same(bigIntsToBytes(ffRound().map((x) => ff.Fr.toObject(x))), round, "ffjavascript round");

  const tFold = await time(runs, () => tensors[0]!.fold(chBytes));
  const tRound = await time(runs, () => native.FrTensor.sumcheckRound(tensors));
  const tFfFold = await time(1, ffFold), tFfRound = await time(1, ffRound);
  const tNobleFold = await time(1, () => nobleFold(f[0]!)), tNobleRound = await time(1, nobleRound);
  console.log("\nMLE kernels at 2^20 (ms; peers: plain loops over their field API, 1 run)");
  const w = [22, 8, 10, 10, 6, 10, 6];
  row(["kernel", "", "native", "ffjs", "×", "noble", "×"], w);
  row(["fold (bind 1 var)", "", fmt(tFold), fmt(tFfFold), ratio(tFfFold, tFold), fmt(tNobleFold), ratio(tNobleFold, tFold)], w);
  row(["round poly, 3 factors", "", fmt(tRound), fmt(tFfRound), ratio(tFfRound, tRound), fmt(tNobleRound), ratio(tNobleRound, tRound)], w);
}

async function main() {
  const runs = Number(opts.runs);
  const only = new Set(opts.only.split(","));
  const ff = await buildBn128();
  const b = native.backend();
  console.log(
    `zkdl native core benchmark, median of ${runs} runs; ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, ` +
      `native ${b.device} (${b.threads} threads${b.cudaDevice ? `, ${b.cudaDevice}` : ""}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  if (only.has("field")) await fieldSection(ff, runs);
  if (only.has("msm")) await msmSection(ff, runs, opts.sizes.split(",").map(Number));
  if (only.has("commit")) await commitSection(ff, runs);
  if (only.has("kernels")) await kernelSection(ff, runs);
  await ff.terminate();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
