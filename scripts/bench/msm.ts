/**
 * MSM benchmark: the native core against @noble/curves, ffjavascript (snarkjs's WASM engine, worker
 * threads) and mcl-wasm (chunked by 2^12 terms, its stack limit), on the same random inputs. Every
 * peer's result is checked against the native one before timing. Prints the median of several runs and each peer's time as a multiple
 * of the native time.
 *
 *   npm run bench:msm [-- --sizes 10,12,14,16 --runs 5]
 */
import { Command } from "commander";
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { pippenger } from "@noble/curves/abstract/curve.js";
import * as native from "../../native";
import { Fr, G1, bigIntToBytes, bytesToBigInt, frToBytes, g1FromBytes, g1ToBytes } from "../../prover/crypto/bn254";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildBn128 } = require("ffjavascript") as { buildBn128: (singleThread?: boolean) => Promise<FfCurve> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mcl = require("mcl-wasm") as McL;

interface FfCurve {
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
  .option("--sizes <list>", "log2 of the sizes", "10,12,14,16")
  .option("--runs <n>", "timed runs per cell (median reported)", "5")
  .option("--noble-max <log2>", "largest log2 size run on @noble/curves (slow)", "14")
  .parse()
  .opts<{ sizes: string; runs: string; nobleMax: string }>();

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

function randomScalars(n: number, kind: "full" | "fixed32"): bigint[] {
  return Array.from({ length: n }, () => {
    const v = bytesToBigInt(randomBytes(32));
    if (kind === "full") return Fr.create(v);
    const magnitude = v % (1n << 31n);
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

async function main() {
  const sizes = opts.sizes.split(",").map(Number);
  const runs = Number(opts.runs);
  const ff = await buildBn128();
  await mcl.init(mcl.BN_SNARK1);
  const b = native.backend();
  console.log(`MSM over BN254 G1, median of ${runs} runs; ${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, native ${b.device} ${b.threads} threads, Node ${process.version}`);
  console.log(`${"n".padStart(7)} ${"scalars".padEnd(8)} ${"native ms".padStart(10)} ${"noble ms".padStart(10)} ${"×".padStart(6)} ${"ffjs ms".padStart(9)} ${"×".padStart(6)} ${"mcl ms".padStart(9)} ${"×".padStart(6)}`);

  for (const logN of sizes) {
    const n = 1 << logN;
    const pointBytes = randomPoints(n);
    const points = Array.from({ length: n }, (_, i) => g1FromBytes(pointBytes.subarray(64 * i, 64 * i + 64)));
    // ffjavascript: bases as affine Montgomery little-endian; mcl: decimal strings.
    const ffBases = new Uint8Array(64 * n);
    for (let i = 0; i < n; i++) ff.G1.toRprLEM(ffBases, 64 * i, ff.G1.fromRprUncompressed(pointBytes, 64 * i));
    const mclPoints = points.map((p) => {
      const q = new mcl.G1();
      const { x, y } = p.toAffine();
      q.setStr(`1 ${x} ${y}`, 10);
      return q;
    });

    for (const kind of ["full", "fixed32"] as const) {
      const scalars = randomScalars(n, kind);
      const scalarBytes = new Uint8Array(32 * n);
      const ffScalars = new Uint8Array(32 * n);
      scalars.forEach((s, i) => {
        const be = frToBytes(s);
        scalarBytes.set(be, 32 * i);
        ffScalars.set(be.slice().reverse(), 32 * i);
      });
      const mclScalars = scalars.map((s) => {
        const f = new mcl.Fr();
        f.setStr(s.toString(10), 10);
        return f;
      });

      // Agreement first.
      const expected = native.msm(pointBytes, scalarBytes);
      const ffOut = new Uint8Array(64);
      ff.G1.toRprUncompressed(ffOut, 0, await ff.G1.multiExpAffine(ffBases, ffScalars));
      const m = mclMsm(mclPoints, mclScalars);
      m.normalize();
      const [, mx, my] = m.getStr(10).split(" ");
      const mclOut = new Uint8Array(64);
      mclOut.set(bigIntToBytes(BigInt(mx!)), 0);
      mclOut.set(bigIntToBytes(BigInt(my!)), 32);
      for (const [name, got] of [["ffjavascript", ffOut], ["mcl-wasm", mclOut]] as const) {
        if (Buffer.compare(Buffer.from(got), Buffer.from(expected)) !== 0) throw new Error(`${name} disagrees with native at n=${n}`);
      }

      const tNative = await time(runs, () => native.msm(pointBytes, scalarBytes));
      let tNoble = NaN;
      if (logN <= Number(opts.nobleMax)) {
        if (Buffer.compare(Buffer.from(g1ToBytes(pippenger(G1, points, scalars))), Buffer.from(expected)) !== 0) throw new Error(`noble disagrees at n=${n}`);
        tNoble = await time(Math.min(runs, 3), () => pippenger(G1, points, scalars));
      }
      const tFf = await time(runs, () => ff.G1.multiExpAffine(ffBases, ffScalars));
      const tMcl = await time(runs, () => mclMsm(mclPoints, mclScalars));
      const f = (t: number) => (Number.isNaN(t) ? "—" : t.toFixed(1));
      const x = (t: number) => (Number.isNaN(t) ? "—" : (t / tNative).toFixed(1));
      console.log(
        `${("2^" + logN).padStart(7)} ${kind.padEnd(8)} ${f(tNative).padStart(10)} ${f(tNoble).padStart(10)} ${x(tNoble).padStart(6)} ${f(tFf).padStart(9)} ${x(tFf).padStart(6)} ${f(tMcl).padStart(9)} ${x(tMcl).padStart(6)}`,
      );
    }
  }
  await ff.terminate();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
