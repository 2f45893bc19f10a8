/**
 * Argument-layer benchmark (`npm run bench:protocols`): for tensors of 2^12 … 2^20 entries, the
 * time to commit, prove and verify, and the proof size, of
 *   - opening:  a Hyrax evaluation proof of T~(z) (T: 2^s entries, s/2 row and column variables);
 *   - matmul:   C = A·B with A of 2^s entries (2^⌊s/2⌋ × 2^⌈s/2⌉) and B of 2^⌈s/2⌉ × 16, proof
 *               including the three openings its claims need;
 *   - range:    a logUp range check of 2^s entries against a 2^16-entry table [−2^15, 2^15).
 * Verification runs with the native MSM and with pure @noble/curves (generators derived beforehand:
 * a verifier derives them once per size). Every proof is checked valid before it is timed. Medians
 * of several runs; the targets of the argument-layer issue are printed beside the 2^20 opening.
 *
 *   npm run bench:protocols [-- --sizes 12,14,16,18,20 --runs 3 --only opening,matmul,range]
 */
import { Command } from "commander";
import { cpus } from "node:os";
import { FrTensor, backend } from "../../native";
import { randomFr } from "../../core/crypto/fr";
import { commitmentKey } from "../../core/protocol/generators";
import { nativeEngine, nativeGenerators } from "../../prover/native-engine";

/** The prover's engine and generator derivation: the native core. */
const P = { engine: nativeEngine, generators: nativeGenerators };
import * as S from "../../core/protocol/statements";

const program = new Command()
  .name("bench:protocols")
  .description("Commit / prove / verify times and proof sizes of the argument layer's statements")
  .option("--sizes <list>", "log2 tensor sizes", "12,14,16,18,20")
  .option("--runs <n>", "runs per measurement (median reported)", "3")
  .option("--only <list>", "opening,matmul,range", "opening,matmul,range")
  .parse();
const opts = program.opts<{ sizes: string; runs: string; only: string }>();
const sizes = opts.sizes.split(",").map(Number);
const runs = Number(opts.runs);
const only = new Set(opts.only.split(","));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

interface Row {
  what: string;
  size: number;
  commit: number;
  prove: number;
  verifyNative: number;
  verifyNoble: number;
  bytes: number;
}

function measure(what: string, size: number, setup: () => { commit: () => unknown; prove: (c: unknown) => Uint8Array; verify: (c: unknown, p: Uint8Array, native: boolean) => S.StatementVerdict }): Row {
  const { commit, prove, verify } = setup();
  const commits: number[] = [];
  const proves: number[] = [];
  const vNative: number[] = [];
  const vNoble: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const c = timed(commit);
    const p = timed(() => prove(c.value));
    const vn = timed(() => verify(c.value, p.value, true));
    const vj = timed(() => verify(c.value, p.value, false));
    if (!vn.value.valid || !vj.value.valid) throw new Error(`${what} 2^${size}: proof did not verify`);
    commits.push(c.ms);
    proves.push(p.ms);
    vNative.push(vn.ms);
    vNoble.push(vj.ms);
    bytes = p.value.length;
  }
  const row = { what, size, commit: median(commits), prove: median(proves), verifyNative: median(vNative), verifyNoble: median(vNoble), bytes };
  console.log(
    `${what.padEnd(8)} 2^${String(size).padEnd(3)} commit ${row.commit.toFixed(0).padStart(7)} ms  prove ${row.prove.toFixed(0).padStart(7)} ms  ` +
      `verify native ${row.verifyNative.toFixed(1).padStart(7)} ms  noble ${row.verifyNoble.toFixed(0).padStart(6)} ms  proof ${row.bytes} B`,
  );
  return row;
}

const randInts = (n: number, bits: number) => {
  const out = new Int32Array(n);
  const span = 2 ** bits;
  for (let i = 0; i < n; i++) out[i] = Math.floor(Math.random() * span) - span / 2;
  return out;
};

const rows: Row[] = [];
const b = backend();
console.log(`zkdl-chain protocol benchmark — ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, backend ${b.mode} (${b.threads} threads), median of ${runs}`);
for (const s of sizes) {
  // A verifier derives its generators once per size; do it before timing.
  commitmentKey(1 << Math.ceil(s / 2));
  commitmentKey(1 << 8);
  if (only.has("opening")) {
    rows.push(
      measure("opening", s, () => {
        const values = FrTensor.fromInts(randInts(1 << s, 16));
        const z = Array.from({ length: s }, randomFr);
        return {
          commit: () => S.commit(values, P),
          prove: (c) => S.proveEvaluation(c as S.CommittedTensor, z, P),
          verify: (c, p, nat) => S.verifyEvaluation((c as S.CommittedTensor).commitment, z, p, nat ? { engine: nativeEngine } : {}),
        };
      }),
    );
  }
  if (only.has("matmul")) {
    rows.push(
      measure("matmul", s, () => {
        const m = 2 ** Math.floor(s / 2);
        const k = 2 ** Math.ceil(s / 2);
        const n = 16;
        const d = { logM: Math.log2(m), logK: Math.log2(k), logN: Math.log2(n) };
        const A = FrTensor.fromInts(randInts(m * k, 8), [m, k]);
        const B = FrTensor.fromInts(randInts(k * n, 8), [k, n]);
        const C = A.matmul(B);
        const flat = (t: FrTensor) => FrTensor.fromBytes(t.toBytes());
        return {
          commit: () => [S.commit(flat(A), P), S.commit(flat(B), P), S.commit(flat(C), P)],
          prove: (c) => {
            const [a, bb, cc] = c as S.CommittedTensor[];
            return S.proveMatmulStatement(d, a, bb, cc, P);
          },
          verify: (c, p, nat) => {
            const [a, bb, cc] = (c as S.CommittedTensor[]).map((t) => t.commitment);
            return S.verifyMatmulStatement(d, a, bb, cc, p, nat ? { engine: nativeEngine } : {});
          },
        };
      }),
    );
  }
  if (only.has("range")) {
    rows.push(
      measure("range", s, () => {
        const values = FrTensor.fromInts(randInts(1 << s, 16));
        const range = { lo: -(1n << 15n), bits: 16 };
        return {
          commit: () => S.commit(values, P),
          prove: (c) => S.proveRangeStatement([c as S.CommittedTensor], range, P),
          verify: (c, p, nat) => S.verifyRangeStatement([(c as S.CommittedTensor).commitment], range, p, nat ? { engine: nativeEngine } : {}),
        };
      }),
    );
  }
}

console.log("\n| statement | size | commit (ms) | prove (ms) | verify, native MSM (ms) | verify, @noble/curves (ms) | proof (bytes) |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.what} | 2^${r.size} | ${r.commit.toFixed(0)} | ${r.prove.toFixed(0)} | ${r.verifyNative.toFixed(1)} | ${r.verifyNoble.toFixed(0)} | ${r.bytes} |`);
}
const top = rows.find((r) => r.what === "opening" && r.size === 20);
if (top) {
  const check = (ok: boolean) => (ok ? "met" : "NOT met");
  console.log(`\nTargets at 2^20 (opening): commit + prove ${(top.commit + top.prove).toFixed(0)} ms < 1500 ms: ${check(top.commit + top.prove < 1500)}; ` +
    `verify native ${top.verifyNative.toFixed(0)} ms < 150 ms: ${check(top.verifyNative < 150)}; verify noble ${top.verifyNoble.toFixed(0)} ms < 2000 ms: ${check(top.verifyNoble < 2000)}; ` +
    `proof ${top.bytes} B < 3000 B: ${check(top.bytes < 3000)}`);
}
