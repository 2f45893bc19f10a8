/**
 * A run's memory does not grow with its step count. trainRun proves window after window
 * synchronously, so the native tensors of a window are freed only if they are disposed (Node runs
 * native finalizers from the event loop, which a synchronous run never reaches): without that each
 * tiny step left ~30 MB behind. The run is measured in a fresh process (its own peak RSS), window by
 * window.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STEPS = 16;
const WINDOW = 2;
const WINDOWS = STEPS / WINDOW;
/** The peak after this many windows is the baseline (allocator and heap warmed up). */
const WARM = 3;
/** How far the peak may rise over the remaining windows (MB). Leaking windows add ~30 MB a step. */
const MARGIN_MB = 40;

const from = (p: string) => JSON.stringify(join(__dirname, "../..", p));
const child = (out: string) => `
const { trainRun } = require(${from("prover/train")});
const { tensorMemory } = require(${from("native")});
const { syntheticRecords, tinyConfig } = require(${from("test/helpers/training")});
trainRun({
  config: tinyConfig, publisher: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", steps: ${STEPS}, window: ${WINDOW}, records: syntheticRecords(64, 8, 4, 16), source: "csv", out: ${JSON.stringify(out)},
  onWindow: ({ window }) => process.stdout.write(JSON.stringify({
    window, rssMB: process.memoryUsage().rss / 2 ** 20, peakMB: process.resourceUsage().maxRSS / 1024, tensors: tensorMemory().tensors,
  }) + "\\n"),
});
`;

describe("training: memory over a run", function () {
  this.timeout(300_000);

  it(`keeps the peak RSS after ${WINDOWS} windows within ${MARGIN_MB} MB of the peak after ${WARM}, and no window's tensors alive`, () => {
    const root = mkdtempSync(join(tmpdir(), "zkdl-memory-"));
    try {
      const out = spawnSync(process.execPath, ["--import", "tsx", "-e", child(join(root, "run"))], { encoding: "utf8" });
      expect(out.status, out.stderr).to.equal(0);
      const windows = out.stdout.trim().split("\n").map((l) => JSON.parse(l) as { window: number; rssMB: number; peakMB: number; tensors: number });
      expect(windows.map((w) => w.window)).to.deep.equal([...Array(WINDOWS).keys()]);
      const report = windows.map((w) => `window ${w.window + 1}: rss ${w.rssMB.toFixed(0)} MB, peak ${w.peakMB.toFixed(0)} MB, ${w.tensors} tensors`).join("\n");
      const growth = windows[WINDOWS - 1].peakMB - windows[WARM - 1].peakMB;
      expect(growth, `peak RSS rose ${growth.toFixed(0)} MB after window ${WARM}:\n${report}`).to.be.at.most(MARGIN_MB);
      // Between windows only the next weights (one tensor per layer) are alive in native memory.
      expect(windows.map((w) => w.tensors), report).to.deep.equal(windows.map(() => 2));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
