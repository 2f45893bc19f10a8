/**
 * Start-time benchmark of the `zkdl` program (`npm run bench:cli`): wall time of `node bin/zkdl.js
 * <args>` from spawn to exit, for `--help` and `verify --help` (and any other argument lists given),
 * run back to back in turn so that a busy machine slows each equally. Prints the median, min and max
 * of each, and how many modules each loaded (counted by test/cli/load-log.cjs).
 *
 *   npm run bench:cli [-- --runs 9]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
const cases: string[][] = [["--help"], ["verify", "--help"], ["train", "--help"]];
const times = cases.map(() => [] as number[]);
const tmp = mkdtempSync(join(tmpdir(), "zkdl-start-"));
const modules: number[] = [];

// One untimed run each with the load log: how many modules the command loads.
cases.forEach((args, i) => {
  const log = join(tmp, `${i}.json`);
  spawnSync(process.execPath, ["-r", join(root, "test/cli/load-log.cjs"), join(root, "bin/zkdl.js"), ...args], { cwd: root, env: { ...process.env, ZKDL_LOAD_LOG: log } });
  modules.push((JSON.parse(readFileSync(log, "utf8")) as string[]).length);
});
rmSync(tmp, { recursive: true, force: true });

for (let r = 0; r < runs; r++) {
  cases.forEach((args, i) => {
    const t = performance.now();
    const p = spawnSync(process.execPath, [join(root, "bin/zkdl.js"), ...args], { cwd: root, stdio: "ignore" });
    times[i].push(performance.now() - t);
    if (p.status !== 0) throw new Error(`zkdl ${args.join(" ")} exited ${p.status}`);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| command | median (ms) | min | max | modules loaded |\n|---|---:|---:|---:|---:|`);
cases.forEach((args, i) =>
  console.log(`| \`zkdl ${args.join(" ")}\` | ${median(times[i]).toFixed(0)} | ${Math.min(...times[i]).toFixed(0)} | ${Math.max(...times[i]).toFixed(0)} | ${modules[i]} |`),
);
console.log(`\n${runs} runs each, node ${process.version}`);
