/**
 * A run's memory does not grow with its step count. trainRun proves step after step synchronously,
 * so the native tensors of a step are freed only if they are disposed (Node runs native finalizers
 * from the event loop, which a synchronous run never reaches): without that each tiny step below
 * left ~30 MB behind. The run is measured in a fresh process (its own peak RSS), step by step.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STEPS = 10;
/** The peak after this many steps is the baseline (allocator and heap warmed up). */
const WARM = 3;
/** How far the peak may rise over the remaining steps (MB). Leaking steps add ~30 MB each. */
const MARGIN_MB = 40;

const from = (p: string) => JSON.stringify(join(__dirname, "../..", p));
const child = (out: string) => `
const { trainRun } = require(${from("prover/train")});
const { tensorMemory } = require(${from("native")});
const { syntheticRecords, tinyConfig } = require(${from("test/helpers/training")});
trainRun({
  config: tinyConfig, publisher: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", steps: ${STEPS}, records: syntheticRecords(64, 8, 4, 16), source: "csv", out: ${JSON.stringify(out)},
  onStep: ({ step }) => process.stdout.write(JSON.stringify({
    step, rssMB: process.memoryUsage().rss / 2 ** 20, peakMB: process.resourceUsage().maxRSS / 1024, tensors: tensorMemory().tensors,
  }) + "\\n"),
});
`;

describe("training: memory over a run", function () {
  this.timeout(300_000);

  it(`keeps the peak RSS after ${STEPS} steps within ${MARGIN_MB} MB of the peak after ${WARM}, and no step's tensors alive`, () => {
    const root = mkdtempSync(join(tmpdir(), "zkdl-memory-"));
    try {
      const out = spawnSync(process.execPath, ["--import", "tsx", "-e", child(join(root, "run"))], { encoding: "utf8" });
      expect(out.status, out.stderr).to.equal(0);
      const steps = out.stdout.trim().split("\n").map((l) => JSON.parse(l) as { step: number; rssMB: number; peakMB: number; tensors: number });
      expect(steps.map((s) => s.step)).to.deep.equal([...Array(STEPS).keys()]);
      const report = steps.map((s) => `step ${s.step + 1}: rss ${s.rssMB.toFixed(0)} MB, peak ${s.peakMB.toFixed(0)} MB, ${s.tensors} tensors`).join("\n");
      const growth = steps[STEPS - 1].peakMB - steps[WARM - 1].peakMB;
      expect(growth, `peak RSS rose ${growth.toFixed(0)} MB after step ${WARM}:\n${report}`).to.be.at.most(MARGIN_MB);
      // Between steps only the next weights (one tensor per layer) are alive in native memory.
      expect(steps.map((s) => s.tensors), report).to.deep.equal(steps.map(() => 2));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
