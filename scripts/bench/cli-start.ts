/**
 * Start-time benchmark of the `zkdl` program (`npm run bench:cli`): wall time of `node bin/zkdl.js
 * <args>` from spawn to exit, for `--help` and `verify --help` (and any other argument lists given),
 * run back to back in turn so that a busy machine slows each equally. Prints the median, min and max
 * of each, and how many modules each loaded (counted by test/cli/load-log.cjs). With --against DIR,
 * the same commands of another checkout (e.g. an older commit, `git archive` into DIR with
 * node_modules linked) run in the same rounds, for a before/after table.
 *
 *   npm run bench:cli [-- --runs 9 --against /tmp/zkdl-before]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const flag = (name: string) => (process.argv.indexOf(name) > 0 ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const runs = Number(flag("--runs") ?? 9);
const roots = [resolve(__dirname, "../.."), ...(flag("--against") ? [resolve(flag("--against")!)] : [])];
const commands: string[][] = [["--help"], ["verify", "--help"], ["train", "--help"]];
const cases = roots.flatMap((root) => commands.map((args) => ({ root, args })));
const times = cases.map(() => [] as number[]);
const tmp = mkdtempSync(join(tmpdir(), "zkdl-start-"));
const modules: number[] = [];

// One untimed run each with the load log: how many modules the command loads.
cases.forEach(({ root, args }, i) => {
  const log = join(tmp, `${i}.json`);
  spawnSync(process.execPath, ["-r", join(roots[0], "test/cli/load-log.cjs"), join(root, "bin/zkdl.js"), ...args], { cwd: root, env: { ...process.env, ZKDL_LOAD_LOG: log } });
  modules.push((JSON.parse(readFileSync(log, "utf8")) as string[]).length);
});
rmSync(tmp, { recursive: true, force: true });

for (let r = 0; r < runs; r++) {
  cases.forEach(({ root, args }, i) => {
    const t = performance.now();
    const p = spawnSync(process.execPath, [join(root, "bin/zkdl.js"), ...args], { cwd: root, stdio: "ignore" });
    times[i].push(performance.now() - t);
    if (p.status !== 0) throw new Error(`zkdl ${args.join(" ")} exited ${p.status}`);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| checkout | command | median (ms) | min | max | modules loaded |\n|---|---|---:|---:|---:|---:|`);
cases.forEach(({ root, args }, i) =>
  console.log(`| ${root} | \`zkdl ${args.join(" ")}\` | ${median(times[i]).toFixed(0)} | ${Math.min(...times[i]).toFixed(0)} | ${Math.max(...times[i]).toFixed(0)} | ${modules[i]} |`),
);
console.log(`\n${runs} runs each, node ${process.version}, ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}, ${new Date().toISOString().slice(0, 10)}`);
