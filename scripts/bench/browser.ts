/**
 * Whole-run verification, browser against Node (`npm run bench:browser`): trains and proves the run
 * `zkdl demo` trains (MNIST 784-32-10, batch 16, 3 steps in windows of 2, 256 records, seed "zkdl-demo"; --hidden,
 * --steps, --window, --records change it), then verifies its public bundle
 *   - in Node with core/run/verify.ts on pure @noble/curves (a fresh generator derivation, like a
 *     browser's), and with the native MSM for reference;
 *   - in Debian's Chromium (playwright-core), through the web page's "Verify the whole run here"
 *     (web/verify-worker.ts: the same verifier on @noble/curves in a Web Worker), served by the API
 *     without a chain (the bundle is bound to the run id alone; a chain read costs milliseconds).
 * Node and the browser take turns (the machine's load hits both alike); Node's first verification
 * derives the generators as a fresh browser worker does, its later ones reuse them. Prints the total
 * and per-window times of each, and Node's CPU time.
 *
 *   npm run bench:browser [-- --hidden 32 --steps 3 --window 2 --records 256 --runs 3 --run <dir>]
 */
import { Command } from "commander";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import pino from "pino";
import { chromium } from "playwright-core";
import { nobleEngine } from "../../core/protocol/group";
import { packPublicBundle, unpackPublicBundle } from "../../core/run/public-bundle";
import { verifyRunFiles } from "../../core/run/verify";
import { mnistRecords } from "../../prover/records";
import { nativeAccelerators, nativeEngine } from "../../prover/native-engine";
import { folderFiles } from "../../prover/run-folder";
import { trainRun } from "../../prover/train";
import { createApi } from "../../relayer/api";
import { RunCatalog, addRunToStore } from "../../relayer/runs";
import { SqliteStore } from "../../relayer/store";

const o = new Command()
  .name("bench:browser")
  .option("--hidden <n>", "hidden width of the 784-n-10 MLP", "32")
  .option("--steps <n>", "SGD steps", "3")
  .option("--window <T>", "window length (as zkdl demo: 2)", "2")
  .option("--records <n>", "MNIST records", "256")
  .option("--runs <n>", "verifications of each kind (each browser one in a fresh worker)", "3")
  .option("--run <dir>", "the run folder: reused if it holds a run, else trained there (default: a temporary folder)")
  .option("--chromium <path>", "Chromium binary", process.env.ZKDL_CHROMIUM ?? "/usr/bin/chromium")
  .parse()
  .opts<{ hidden: string; steps: string; window: string; records: string; runs: string; chromium: string; run?: string }>();

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const perWindow = (ms: number[]) => ms.map((m) => (m / 1000).toFixed(2)).join(", ");

async function main() {
  const root = mkdtempSync(join(tmpdir(), "zkdl-bench-browser-"));
  const publisher = Wallet.createRandom().address;
  const layers = [784, Number(o.hidden), 10];
  try {
    const dir = o.run ?? join(root, "run");
    let t = performance.now();
    if (!existsSync(join(dir, "manifest.json"))) {
      trainRun({ config: { layers, fracBits: 16, lrShift: 9, batch: 16, seed: "zkdl-demo" }, publisher, steps: Number(o.steps), window: Number(o.window), records: mnistRecords(Number(o.records), 16), source: "mnist", out: dir, overwrite: true });
      console.log(`trained and proved MLP ${layers.join("-")}, batch 16, ${o.steps} steps in windows of ${o.window}, ${o.records} records in ${s(performance.now() - t)}`);
    }
    const bytes = packPublicBundle(folderFiles(dir));
    const bundle = unpackPublicBundle("bundle", bytes);
    const m = bundle.manifest;
    console.log(`run: MLP ${m.model.layers.join("-")}, batch ${m.model.batch}, ${m.training.steps} steps in ${m.weights.windows.length} windows, ${m.dataset.size} records; public bundle ${(bytes.length / 1024).toFixed(1)} KiB`);

    const inNode = (name: string, engine: typeof nobleEngine) => {
      const cpu = process.cpuUsage();
      const v = verifyRunFiles(unpackPublicBundle("bundle", bytes), engine === nativeEngine ? nativeAccelerators : {});
      const used = process.cpuUsage(cpu);
      if (!v.valid) throw new Error(`${name}: ${v.reason}`);
      console.log(`${name}: ${s(v.ms)} for ${v.windows.length} windows (per window: ${perWindow(v.windows.map((r) => r.ms))} s; CPU ${s((used.user + used.system) / 1000)})`);
    };
    const store = new SqliteStore(join(root, "zkdl.sqlite"));
    const { runId } = addRunToStore(store, dir, m.publisher);
    const server = createApi({ catalog: new RunCatalog(store), log: pino({ level: "silent" }) }).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const api = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const browser = await chromium.launch({ executablePath: o.chromium, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      await page.goto(api);
      await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });
      console.log(`browser: ${await browser.version()}`);
      for (let i = 0; i < Number(o.runs); i++) {
        inNode(`Node, @noble/curves${i === 0 ? " (generators derived)" : " (generators cached)"}`, nobleEngine);
        t = performance.now();
        await page.click(`[data-testid=run][title="${runId}"] [data-testid=verify-run]`);
        const panel = `[data-testid=verification][data-run-id="${runId}"]`;
        await page.waitForSelector(`${panel}:not([data-state=running])`, { timeout: 3_600_000 });
        const wall = performance.now() - t;
        const el = page.locator(panel);
        const state = await el.getAttribute("data-state");
        // No chain here: valid proofs are "unanchored" (bound to the run id alone).
        if (state !== "unanchored") throw new Error(`browser: ${state}: ${await el.innerText()}`);
        const windowMs = (await el.getAttribute("data-window-ms"))!.split(",").map(Number);
        console.log(`Chromium worker, @noble/curves (generators derived): ${s(Number(await el.getAttribute("data-ms")))} for ${windowMs.length} windows (per window: ${perWindow(windowMs)} s); ${s(wall)} from the click, download included`);
      }
      inNode("Node, native MSM", nativeEngine);
    } finally {
      await browser.close();
      server.close();
      store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
