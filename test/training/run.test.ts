import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { nativeAccelerators } from "../../prover/native-engine";
import { type WindowProof, decodeBundle, decodeDataset, encodeBundle, encodeDataset } from "../../core/run/formats";
import { type Manifest, digestHex, manifestBytes, parseManifest, weightsDigest } from "../../core/run/manifest";
import { DEFAULT_WINDOW_CAP, WINDOW_MEMORY_BUDGET, WINDOW_MEMORY_FACTOR, defaultWindow, proveRun, stepWitnessEntries, trainRun } from "../../prover/train";
import { folderFiles, verifyRunFolder } from "../../prover/run-folder";
import { SETTLE_BATCH, stepsVerified, verifyRunFiles } from "../../core/run/verify";
import type { MsmEngine } from "../../core/protocol/group";
import { InputError } from "../../core/errors";
import { G1, toHex } from "../../core/crypto/bn254";
import { datasetTree, fingerprintTree } from "../../core/dataset/commitments";
import { paddedLayers } from "../../core/model/fixed";
import { RunFileError } from "../../core/run/files";
import { commitmentKey, generatorSetId } from "../../core/protocol/generators";
import { stepDims, weightShape } from "../../core/training/circuit";
import { MAX_WINDOW, maxWindow, windowKeySize, windowSizes } from "../../core/training/window";
import { syntheticRecords, tinyConfig } from "../helpers/training";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER_PUBLISHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

describe("training: window lengths and the default window", () => {
  it("windowSizes: full windows, then the rest in decreasing powers of two", () => {
    expect(windowSizes(1024, 64)).to.deep.equal(new Array(16).fill(64));
    expect(windowSizes(6, 4)).to.deep.equal([4, 2]);
    expect(windowSizes(7, 4)).to.deep.equal([4, 2, 1]);
    expect(windowSizes(3, 1)).to.deep.equal([1, 1, 1]);
    expect(windowSizes(3, 4)).to.deep.equal([2, 1]);
    expect(windowSizes(1, MAX_WINDOW)).to.deep.equal([1]);
    for (const bad of [0, 3, 6, 2 * MAX_WINDOW, 1.5, -4]) expect(() => windowSizes(8, bad), String(bad)).to.throw(RangeError);
    expect(() => windowSizes(0, 4)).to.throw(RangeError);
  });

  it("the default window: the largest power of two ≤ 64 and ≤ the steps whose prover fits the memory budget", () => {
    const d = stepDims(tinyConfig, "int32");
    expect(defaultWindow(d, 1000)).to.equal(DEFAULT_WINDOW_CAP);
    expect(defaultWindow(d, 6)).to.equal(4);
    expect(defaultWindow(d, 1)).to.equal(1);
    // MNIST 784-128-10, batch 64: about a million entries a step, so a few steps fit 8 GiB.
    const mnist = stepDims({ layers: [784, 128, 10], fracBits: 16, lrShift: 9, batch: 64, seed: "s" }, "unit");
    const T = defaultWindow(mnist, 1000);
    const bytes = (t: number) => t * stepWitnessEntries(mnist) * 32 * WINDOW_MEMORY_FACTOR;
    expect(T).to.be.within(1, DEFAULT_WINDOW_CAP);
    expect(bytes(T)).to.be.at.most(WINDOW_MEMORY_BUDGET);
    if (T < DEFAULT_WINDOW_CAP) expect(bytes(2 * T)).to.be.above(WINDOW_MEMORY_BUDGET);
    // A network too large for even two steps in the budget gets windows of one.
    const huge = stepDims({ layers: [4096, 4096, 4096, 10], fracBits: 16, lrShift: 9, batch: 4096, seed: "s" }, "unit");
    expect(defaultWindow(huge, 1000)).to.equal(1);
    // Never past the network's longest window (its stacked tensors within 2^30 entries).
    for (const dims of [d, mnist, huge]) expect(defaultWindow(dims, 1 << 20)).to.be.at.most(maxWindow(dims));
  });

  it("trainRun refuses a window that is not a power of two up to MAX_WINDOW, or past the network's longest, before any work", () => {
    const out = join(tmpdir(), "never-written");
    for (const window of [0, 3, 2 * MAX_WINDOW]) {
      expect(() => trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 2, window, records: syntheticRecords(16, 8, 4, 16), source: "csv", out }), String(window)).to.throw(
        InputError,
        `window must be a power of two from 1 to ${MAX_WINDOW} (got ${window})`,
      );
    }
    // A 4096×4096 weight matrix has 2^24 entries: 64 steps of it stack to 2^30.
    const wide = { ...tinyConfig, layers: [8, 4096, 4096, 4] };
    expect(maxWindow(stepDims(wide, "int32"))).to.equal(64);
    const started = performance.now();
    expect(() => trainRun({ config: wide, publisher: PUBLISHER, steps: 2, window: 128, records: syntheticRecords(16, 8, 4, 16), source: "csv", out })).to.throw(
      InputError,
      "a window of 128 steps is longer than this network allows (64: its stacked tensors would pass 2^30 entries)",
    );
    expect(performance.now() - started).to.be.below(2000);
  });
});

describe("training: runs, their verification and the CLI", function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-run-"));
  /** The run under test: 6 steps in windows of 4, so windows of 4 and 2 steps. */
  const dir = join(root, "run");
  /** Another dataset (other records), 2 steps in one window. */
  const otherDir = join(root, "other");
  /** The same records under another training seed, 6 steps in windows of 2 (three windows of 2). */
  const seedDir = join(root, "other-seed");
  /** The same records and seed for another publisher, 2 steps in one window. */
  const publisherDir = join(root, "other-publisher");
  const fast = nativeAccelerators;
  let manifest: Manifest;

  before(() => {
    const records = syntheticRecords(16, 8, 4, 16);
    manifest = trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 6, window: 4, records, source: "csv", out: dir }).manifest;
    trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 2, window: 2, records: syntheticRecords(16, 8, 4, 16, 99), source: "csv", out: otherDir });
    trainRun({ config: { ...tinyConfig, seed: "another seed" }, publisher: PUBLISHER, steps: 6, window: 2, records, source: "csv", out: seedDir });
    trainRun({ config: tinyConfig, publisher: OTHER_PUBLISHER, steps: 2, window: 2, records, source: "csv", out: publisherDir });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A copy of the run (or of `from`) with `edit` applied to it. */
  const variant = (name: string, edit: (d: string) => void, from = dir) => {
    const d = join(root, name);
    rmSync(d, { recursive: true, force: true });
    cpSync(from, d, { recursive: true });
    edit(d);
    return d;
  };
  /** Rewrites the manifest in canonical layout with `change` applied, without the schema's checks. */
  const rewriteRaw = (d: string, change: (m: Record<string, any>) => void) => {
    const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
    change(m);
    writeFileSync(join(d, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
  };
  /** Rewrites the manifest canonically with `change` applied. */
  const rewrite = (d: string, change: (m: Manifest) => void) => {
    const m = parseManifest("manifest.json", readFileSync(join(d, "manifest.json")));
    change(m);
    writeFileSync(join(d, "manifest.json"), manifestBytes(m));
  };
  const bundleOf = (d: string) => decodeBundle("proof.bin", readFileSync(join(d, "proof.bin")));
  /** Writes proof.bin with these windows, and the manifest's bundle digest and size to match. */
  const writeWindows = (d: string, windows: WindowProof[], change: (m: Manifest) => void = () => {}) => {
    const bytes = encodeBundle({ initial: bundleOf(d).initial, windows });
    writeFileSync(join(d, "proof.bin"), bytes);
    rewrite(d, (m) => {
      change(m);
      m.bundle.digest = digestHex(bytes);
      m.bundle.bytes = bytes.length;
    });
  };
  /** Replaces the bundle's windows by `order` (indices), keeping the manifest consistent with it: steps, window digests, final. */
  const reshuffle = (d: string, order: number[]) => {
    const b = bundleOf(d);
    writeWindows(
      d,
      order.map((i) => b.windows[i]),
      (m) => {
        const digests = m.weights.windows;
        m.training.steps = order.reduce((n, i) => n + b.windows[i].steps, 0);
        m.weights.windows = order.map((i) => digests[i]);
        m.weights.final = m.weights.windows[order.length - 1];
      },
    );
  };

  it("proves 6 steps in windows of 4 as two windows (4 and 2 steps) and verifies them from the public files alone, pure TypeScript", () => {
    expect(manifest.format).to.equal("zkdl-run/5");
    expect(manifest.training).to.include({ steps: 6, window: 4 });
    expect(manifest.weights.windows).to.have.length(2);
    expect(manifest.weights.windows[1]).to.equal(manifest.weights.final);
    const b = bundleOf(dir);
    expect(b.windows.map((w) => w.steps)).to.deep.equal([4, 2]);
    expect(readFileSync(join(dir, "proof.bin")).subarray(0, 8).toString()).to.equal("ZKDLPB02");
    const seen: unknown[] = [];
    const v = verifyRunFolder(dir, { onWindow: (r, total) => seen.push([r.window, r.first, r.steps, r.valid, total]) });
    expect(v.reason).to.equal(undefined);
    expect(v.valid).to.equal(true);
    expect(v.windows.map((w) => [w.first, w.steps])).to.deep.equal([[0, 4], [4, 2]]);
    expect(stepsVerified(v.windows)).to.equal(6);
    expect(seen).to.deep.equal([[0, 0, 4, true, 2], [1, 4, 2, true, 2]]);
    expect(verifyRunFolder(dir, fast).valid).to.equal(true);
    for (const d of [otherDir, seedDir, publisherDir]) expect(verifyRunFolder(d, fast).reason, d).to.equal(undefined);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(report).to.include({ window: 4 });
    expect(report.proveMsPerStep).to.be.above(0);
  });

  it("publishes the dataset tree in OpenZeppelin's dump format with the manifest's root", () => {
    const tree = StandardMerkleTree.load(JSON.parse(readFileSync(join(dir, "dataset-tree.json"), "utf8")));
    expect(tree.root).to.equal(manifest.dataset.root);
    expect(tree.length).to.equal(16);
  });

  it("rejects a window dropped, duplicated, swapped or reordered, even with the manifest rewritten to match", () => {
    const cases: [string, (d: string) => void, RegExp, string?][] = [
      // The manifest's step count is in the run binding: window 0 proves steps of a 6-step run.
      ["last window dropped", (d) => reshuffle(d, [0]), /^window 0 \(steps 0–3\): /],
      ["first window dropped", (d) => reshuffle(d, [1]), /^window 0 \(steps 0–1\): /],
      ["first window duplicated", (d) => reshuffle(d, [0, 0, 1]), /^window 0 \(steps 0–3\): /],
      ["windows swapped", (d) => reshuffle(d, [1, 0]), /^window 0 \(steps 0–3\): its proof is of 2 steps, not 4$/],
      ["a window dropped, the manifest as it was", (d) => writeWindows(d, [bundleOf(d).windows[0]]), /^the bundle has 1 window proofs; 6 steps in windows of 4 make 2$/],
      ["a window duplicated, the manifest as it was", (d) => writeWindows(d, [bundleOf(d).windows[0], bundleOf(d).windows[0]]), /^window 1 \(steps 4–5\): its proof is of 4 steps, not 2$/],
      // Windows of equal length reordered (the run of three windows of 2): the first one out of place fails.
      ["equal windows reordered", (d) => reshuffle(d, [0, 2, 1]), /^window 1 \(steps 2–3\): /, seedDir],
      ["equal windows swapped", (d) => reshuffle(d, [1, 0, 2]), /^window 0 \(steps 0–1\): /, seedDir],
    ];
    for (const [name, edit, reason, from] of cases) {
      const v = verifyRunFolder(variant(`order-${name.replace(/\W+/g, "-")}`, edit, from), fast);
      expect(v.valid, name).to.equal(false);
      expect(v.malformed, name).to.equal(undefined);
      expect(v.reason, name).to.match(reason);
    }
  });

  it("rejects a window whose step count was altered: in proof.bin, in the manifest, or both", () => {
    const steps = (counts: number[]) => (d: string) => writeWindows(d, bundleOf(d).windows.map((w, i) => ({ ...w, steps: counts[i] })));
    const header = verifyRunFolder(variant("steps-header", steps([4, 4])), fast);
    expect(header.reason).to.equal("window 1 (steps 4–5): its proof is of 4 steps, not 2");
    const both = verifyRunFolder(variant("steps-both", steps([2, 4])), fast);
    expect(both.reason).to.equal("window 0 (steps 0–3): its proof is of 2 steps, not 4");
    // The manifest says 7 steps (windows 4, 2, 1) or a window of 2 (three windows): the proof has two.
    expect(verifyRunFolder(variant("steps-manifest", (d) => rewriteRaw(d, (m) => (m.training.steps = 7)))).reason).to.match(/weights\.windows: 2 window digests for 7 steps in windows of 4 \(3 windows\)/);
    const window2 = verifyRunFolder(variant("steps-window", (d) => rewrite(d, (m) => ((m.training.window = 2), (m.weights.windows = [m.weights.initial, m.weights.windows[0], m.weights.final])))), fast);
    expect(window2.reason).to.equal("the bundle has 2 window proofs; 6 steps in windows of 2 make 3");
    // 5 steps in windows of 4 are windows of 4 and 1: the second window's proof is of 2.
    const five = verifyRunFolder(variant("steps-five", (d) => rewrite(d, (m) => (m.training.steps = 5))), fast);
    expect(five.reason).to.equal("window 1 (step 4): its proof is of 2 steps, not 1");
    // With the headers rewritten to the manifest's schedule, the proof itself refuses the other length.
    const forged = verifyRunFolder(variant("steps-forged", (d) => writeWindows(d, bundleOf(d).windows.map((w, i) => ({ ...w, steps: [4, 1][i] })), (m) => (m.training.steps = 5))), fast);
    expect(forged.valid).to.equal(false);
    expect(forged.reason).to.match(/^window 0 \(steps 0–3\): /); // the step count is in the run binding
    // A step count that is not a power of two is not a window: proof.bin is malformed.
    const three = verifyRunFolder(variant("steps-three", steps([4, 3])), fast);
    expect(three.malformed).to.equal(join(root, "steps-three", "proof.bin"));
    expect(three.reason).to.match(/proof\.bin: window 1 holds 3 steps, not a power of two/);
  });

  it("rejects a window proof taken from another run: another training seed, another publisher", () => {
    const splice = (from: string, w: number) => (d: string) => {
      const ours = bundleOf(d).windows;
      writeWindows(d, [ours[0], bundleOf(from).windows[w]]);
    };
    // Each of these is a valid 2-step window of a run with the same model and shapes.
    for (const [name, from, w] of [["another seed", seedDir, 2], ["another publisher", publisherDir, 0], ["another dataset", otherDir, 0]] as const) {
      expect(bundleOf(from).windows[w].proof.length, name).to.equal(bundleOf(dir).windows[1].proof.length);
      const v = verifyRunFolder(variant(`splice-${name.replace(/\W+/g, "-")}`, splice(from, w)), fast);
      expect(v.valid, name).to.equal(false);
      expect(v.reason, name).to.match(/^window 1 \(steps 4–5\): /);
    }
    // The other publisher's whole run, its manifest claiming our publisher: the binding names theirs.
    const renamed = verifyRunFolder(variant("renamed", (d) => rewrite(d, (m) => (m.publisher = PUBLISHER.toLowerCase())), publisherDir), { ...fast, publisher: PUBLISHER });
    expect(renamed.valid).to.equal(false);
    expect(renamed.reason).to.match(/^window 0 \(steps 0–1\): /);
  });

  it("rejects a window digest in the manifest that does not match the window's weights", () => {
    const first = verifyRunFolder(variant("digest-0", (d) => rewrite(d, (m) => (m.weights.windows[0] = m.weights.initial))), fast);
    expect(first.reason).to.equal("window 0 (steps 0–3): its weights do not match the manifest's digest for that window");
    expect(first.windows).to.have.length(1);
    const last = verifyRunFolder(variant("digest-1", (d) => rewrite(d, (m) => (m.weights.windows[1] = m.weights.final = m.weights.windows[0]))), fast);
    expect(last.reason).to.equal("window 1 (steps 4–5): its weights do not match the manifest's digest for that window");
    // The last window's digest must be the final one (the schema).
    const final = verifyRunFolder(variant("digest-final", (d) => rewriteRaw(d, (m) => (m.weights.final = m.weights.windows[0]))));
    expect(final.reason).to.match(/weights\.final: not the last window's digest/);
  });

  it("refuses a run of an earlier format — a step-by-step manifest, a format-3 one, a ZKDLPB01 proof.bin — saying to prove it again", () => {
    for (const format of ["zkdl-run/1", "zkdl-run/2"]) {
      const d = variant(`old-${format.replace(/\W+/g, "-")}`, (d) => {
        // A format-2 manifest's shape: weights.steps (one digest per step), no training.window.
        const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
        m.format = format;
        delete m.training.window;
        m.weights = { initial: m.weights.initial, final: m.weights.final, steps: new Array(6).fill(m.weights.final) };
        writeFileSync(join(d, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
      });
      const v = verifyRunFolder(d);
      expect(v.valid).to.equal(false);
      expect(v.malformed).to.equal(join(d, "manifest.json"));
      expect(v.reason).to.equal(
        `${join(d, "manifest.json")}: format ${format} is not read by zkdl-chain/0.5.0 (it reads zkdl-run/5): it is a run proven step by step, by an earlier version of the prover; runs are now proven in windows of steps, so prove it again with this version (zkdl train)`,
      );
    }
    // A format-3 run has this run's files, with window proofs of the earlier layout.
    const three = verifyRunFolder(variant("old-zkdl-run-3", (d) => rewriteRaw(d, (m) => (m.format = "zkdl-run/3"))));
    expect(three.valid).to.equal(false);
    expect(three.reason).to.match(/format zkdl-run\/3 is not read by zkdl-chain\/0\.5\.0 \(it reads zkdl-run\/5\): its window proofs are an earlier version's .* prove it again/);
    // A format-4 run has no record fingerprints: its manifest, and its dataset.bin of the earlier tag.
    const four = verifyRunFolder(variant("old-zkdl-run-4", (d) => rewriteRaw(d, (m) => (m.format = "zkdl-run/4"))));
    expect(four.reason).to.match(/format zkdl-run\/4 is not read by zkdl-chain\/0\.5\.0 \(it reads zkdl-run\/5\): its records have no fingerprints, so it cannot prove that a record was not trained on; prove it again/);
    const ds01 = variant("old-dataset", (d) => {
      const bytes = readFileSync(join(d, "dataset.bin"));
      bytes.write("ZKDLDS01", 0, "ascii");
      writeFileSync(join(d, "dataset.bin"), bytes);
      rewrite(d, (m) => (m.dataset.commitmentsDigest = digestHex(bytes)));
    });
    expect(verifyRunFolder(ds01).reason).to.equal(`${join(ds01, "dataset.bin")}: format ZKDLDS01 is not read by this version (it reads ZKDLDS02): the dataset commitments of an earlier version of the prover, without record fingerprints; prove the run again with this version (zkdl train)`);
    const old = variant("old-proof", (d) => {
      const bytes = readFileSync(join(d, "proof.bin"));
      bytes.write("ZKDLPB01", 0, "ascii");
      writeFileSync(join(d, "proof.bin"), bytes);
      rewrite(d, (m) => (m.bundle.digest = digestHex(bytes)));
    });
    const v = verifyRunFolder(old);
    expect(v.malformed).to.equal(join(old, "proof.bin"));
    expect(v.reason).to.equal(
      `${join(old, "proof.bin")}: format ZKDLPB01 is not read by this version (it reads ZKDLPB02): one proof per step, written by an earlier version of the prover; runs are now proven in windows of steps, so prove it again with this version (zkdl train)`,
    );
    expect(() => decodeBundle("proof.bin", readFileSync(join(old, "proof.bin")))).to.throw(RunFileError, /format ZKDLPB01/);
  });

  it("refuses initial commitments of another shape before decoding their rows (a hostile header cannot make it decode millions of points)", () => {
    const d = variant("huge-initial", (d) => {
      const b = bundleOf(d);
      // A 2^20-row first layer, cheap to write as the identity point (64 zero bytes a row).
      const huge = { logRows: 20, logCols: b.initial[0].logCols, rows: new Array(1 << 20).fill(G1.ZERO) };
      const bytes = encodeBundle({ initial: [huge, ...b.initial.slice(1)], windows: b.windows });
      writeFileSync(join(d, "proof.bin"), bytes);
      rewrite(d, (m) => ((m.bundle.digest = digestHex(bytes)), (m.bundle.bytes = bytes.length)));
    });
    const started = performance.now();
    const v = verifyRunFolder(d);
    expect(v.malformed).to.equal(join(d, "proof.bin"));
    expect(v.reason).to.match(/initial W1: 2\^20 × 2\^\d+, expected 2\^\d+ × 2\^\d+/);
    expect(performance.now() - started, "refused before the rows").to.be.lessThan(5000);
  });

  it("rejects a manifest pointing to another dataset (root, commitments and tree swapped in)", () => {
    const d = variant("other-dataset", (d) => {
      for (const f of ["dataset.bin", "dataset-tree.json"]) cpSync(join(otherDir, f), join(d, f));
      const other = parseManifest("m", readFileSync(join(otherDir, "manifest.json")));
      rewrite(d, (m) => (m.dataset = other.dataset));
    });
    const v = verifyRunFolder(d, fast);
    expect(v.valid).to.equal(false);
    expect(v.reason).to.match(/^window 0 \(steps 0–3\): /);
  });

  it("refuses record fingerprints that are not the commitments' rows, even with every digest and root rewritten to match", () => {
    // Record 1's fingerprint point moved by G_0 (a fingerprint of another record) and by H (the same
    // row, blinded): dataset.bin's digest and the manifest's fingerprint root rebuilt around it.
    const key = commitmentKey(4);
    for (const [what, shift] of [["another record's row", key.G[0]!], ["the same row plus a multiple of H", key.H]] as const) {
      const d = variant(`fingerprint-${what.replace(/\W+/g, "-")}`, (d) => {
        const c = decodeDataset("dataset.bin", readFileSync(join(d, "dataset.bin")));
        const forged = { ...c, fingerprints: c.fingerprints.map((p, i) => (i === 1 ? p.add(shift) : p)) };
        const bytes = encodeDataset(forged);
        writeFileSync(join(d, "dataset.bin"), bytes);
        rewrite(d, (m) => ((m.dataset.commitmentsDigest = digestHex(bytes)), (m.dataset.fingerprintRoot = fingerprintTree(forged).root)));
      });
      const v = verifyRunFolder(d, fast);
      expect(v.valid, what).to.equal(false);
      expect(v.reason, what).to.match(/^the fingerprint points are not the dataset commitments without their blindings/);
    }
    // The manifest naming another fingerprint root than its points build.
    const root = verifyRunFolder(variant("fingerprint-root", (d) => rewrite(d, (m) => (m.dataset.fingerprintRoot = "0x" + "12".repeat(32)))), fast);
    expect(root.reason).to.match(/^the record fingerprints rebuild fingerprint root 0x[0-9a-f]{64}, not the manifest's 0x(12){32}$/);
  });

  it("fails with a reason when any public file is tampered with", () => {
    const flip = (file: string, at: (n: number) => number) => (d: string) => {
      const b = readFileSync(join(d, file));
      b[at(b.length)] ^= 1;
      writeFileSync(join(d, file), b);
    };
    const cases: [string, (d: string) => void, RegExp][] = [
      ["manifest byte", flip("manifest.json", (n) => n - 5), /manifest\.json|digest|initial|root|window/],
      ["manifest field", (d) => rewrite(d, (m) => (m.model.lrShift += 1)), /window 0|initial/],
      ["manifest seed", (d) => rewrite(d, (m) => (m.training.seed = "another")), /initial|window 0/],
      ["dataset.bin", flip("dataset.bin", (n) => n - 10), /dataset\.bin/],
      ["dataset-tree.json", (d) => writeFileSync(join(d, "dataset-tree.json"), readFileSync(join(otherDir, "dataset-tree.json"))), /dataset-tree\.json/],
      ["proof.bin", flip("proof.bin", (n) => n >> 1), /proof\.bin/],
      ["proof.bin with a matching digest", (d) => {
        flip("proof.bin", (n) => n - 40)(d);
        const bytes = readFileSync(join(d, "proof.bin"));
        rewrite(d, (m) => (m.bundle.digest = digestHex(bytes)));
      }, /^window 1 \(steps 4–5\)/],
    ];
    for (const [name, edit, reason] of cases) {
      let v;
      try {
        v = verifyRunFolder(variant(name.replace(/\W+/g, "-"), edit), fast);
      } catch (e) {
        expect((e as Error).message, name).to.match(reason);
        continue;
      }
      expect(v.valid, name).to.equal(false);
      expect(v.reason, name).to.match(reason);
    }
  });

  it("refuses, as a verdict and before any work, every manifest the prover cannot produce", () => {
    /** Writes the manifest with `change` applied, in canonical layout but without the schema's checks. */
    const raw = (change: (m: Record<string, any>) => void) => (d: string) => {
      const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
      change(m);
      writeFileSync(join(d, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
    };
    const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
      ["batch 3", (m) => (m.model.batch = 3), /model: batch must be a power of two/],
      ["fracBits 0", (m) => (m.model.fracBits = 0), /model: frac bits F must be 1 to 16/],
      ["F + k beyond 32", (m) => (m.model.lrShift = 17), /16 < F \+ k ≤ 32/],
      ["2^24 generators", (m) => (m.generators.size = 1 << 24), /generators\.size: the circuit's key has \d+ generators/],
      ["generators id of another size", (m) => (m.generators.id = "0x" + "ab".repeat(32)), /generators\.id/],
      ["a non-ASCII generator label", (m) => (m.generators.label = "zkdl-chain/v1/hyräx"), /generators\.label/],
      ["batch larger than the dataset", (m) => (m.model.batch = 32), /data\.records: 16 records cannot fill a batch of 32/],
      ["a layer wider than 2^16", (m) => ((m.model.layers[1] = 65537), (m.model.paddedLayers[1] = 131072)), /model: layers: each width/],
      ["a weight matrix past 2^24 entries", (m) => ((m.model.layers = [8, 65536, 4096, 4]), (m.model.paddedLayers = [8, 65536, 4096, 4])), /model: layer 2 has 65536×4096/],
      ["unpadded paddedLayers", (m) => (m.model.paddedLayers[0] = 16), /paddedLayers: not the layers padded/],
      ["features other than the input layer", (m) => (m.data.features = 6), /data\.features: 6 features for an input layer of 8/],
      ["classes other than the output layer", (m) => (m.data.classes = 3), /data\.classes: 3 classes for an output layer of 4/],
      ["records other than the dataset size", (m) => (m.data.records = 15), /dataset\.size: 16 commitments for 15 records/],
      ["2^21 steps", (m) => (m.training.steps = 1 << 21), /training\.steps/],
      ["0 steps", (m) => (m.training.steps = 0), /training\.steps/],
      ["1.5 steps", (m) => (m.training.steps = 1.5), /training\.steps/],
      ["a window of 3", (m) => (m.training.window = 3), /training\.window: a power of two from 1 to 1024/],
      ["a window of 2048", (m) => (m.training.window = 2048), /training\.window: a power of two from 1 to 1024/],
      // 4096×4096 weights (2^24 entries a step) stack to 2^30 entries at 64 steps.
      ["a window past the network's longest", (m) => ((m.model.layers = m.model.paddedLayers = [8, 4096, 4096, 4]), (m.training.window = 128)), /training\.window: 128 steps; this network's windows have at most 64/],
      ["no window", (m) => delete m.training.window, /training\.window/],
      ["a digest per step", (m) => (m.weights.windows = new Array(6).fill(m.weights.final)), /weights\.windows: 6 window digests for 6 steps in windows of 4 \(2 windows\)/],
      ["an unknown data source", (m) => (m.data.source = "imagenet"), /data\.source/],
      ["the zero publisher", (m) => (m.publisher = "0x" + "0".repeat(40)), /publisher: the zero address/],
      ["no publisher", (m) => delete m.publisher, /publisher/],
      ["a format-1 manifest", (m) => (m.format = "zkdl-run/1"), /format zkdl-run\/1 is not read by zkdl-chain\/[\d.]+ \(it reads zkdl-run\/5\): .*proven step by step.*zkdl train/],
      ["a format-2 manifest", (m) => (m.format = "zkdl-run/2"), /format zkdl-run\/2 is not read by zkdl-chain\/[\d.]+ \(it reads zkdl-run\/5\): .*proven step by step.*zkdl train/],
      ["a format-6 manifest", (m) => (m.format = "zkdl-run/6"), /format zkdl-run\/6 is not read by zkdl-chain\/[\d.]+ \(it reads zkdl-run\/5\): the run was made by another version/],
      // JSON of a million small objects takes some twenty times its size on the heap: refused unparsed.
      ["a JSON bomb", (m) => (m.training.seed = [...new Array(1 << 20)].map(() => ({})) as unknown as string), /not shaped like a manifest \(1048588 brackets/],
    ];
    for (const [name, change, reason] of cases) {
      const d = variant(`refuse-${name.replace(/\W+/g, "-")}`, raw(change));
      const started = performance.now();
      let v;
      expect(() => (v = verifyRunFolder(d)), name).to.not.throw();
      expect(performance.now() - started, `${name}: refused before any work`).to.be.below(1500);
      expect(v!.valid, name).to.equal(false);
      expect(v!.malformed, name).to.equal(join(d, "manifest.json"));
      expect(v!.reason, name).to.match(reason);
    }
  });

  it("lets an error that is not about the run through: a RangeError (as V8 throws when memory runs out) is not a verdict", () => {
    const files = folderFiles(dir);
    const starved = { path: files.path, read: (name: string) => (name === "proof.bin" ? (() => { throw new RangeError("Array buffer allocation failed"); })() : files.read(name)) };
    expect(() => verifyRunFiles(starved, fast)).to.throw(RangeError, "Array buffer allocation failed");
  });

  it("settles windows' group checks in batches, one MSM each, and still names the failing window", () => {
    // Three windows of 2 steps: window 0 settles alone (before the initial weights are seeded), then
    // windows 1 and 2 together.
    let msms = 0;
    const engine: MsmEngine = { name: "counting", msm: (points, scalars) => (msms++, fast.engine.msm(points, scalars)) };
    const counting = { ...fast, engine };
    const valid = verifyRunFolder(seedDir, counting);
    expect(valid.valid, valid.reason).to.equal(true);
    expect(valid.windows.map((w) => w.valid)).to.deep.equal([true, true, true]);
    expect(msms).to.equal(4); // the fingerprint proof, window 0, the initial weights, windows 1–2
    expect(SETTLE_BATCH).to.be.at.least(2);
    // The batch is bounded in proof bytes too (a few large windows settle one by one), and in windows.
    for (const settleBatch of [{ bytes: 1 }, { windows: 1 }]) {
      msms = 0;
      expect(verifyRunFolder(seedDir, { ...counting, settleBatch }).valid).to.equal(true);
      expect(msms, JSON.stringify(settleBatch)).to.equal(5);
    }
    // The last window's last scalar (a Σ-protocol response) changed: only a group equation fails,
    // in the batch with window 1, which still verifies.
    const broken = variant("late-group-failure", (d) => {
      const b = bundleOf(d);
      const proof = b.windows[2].proof.slice();
      proof[proof.length - 1] ^= 1;
      writeWindows(d, [b.windows[0], b.windows[1], { steps: 2, proof }]);
    }, seedDir);
    const v = verifyRunFolder(broken, fast);
    expect(v.valid).to.equal(false);
    expect(v.windows.map((w) => w.valid)).to.deep.equal([true, true, false]);
    expect(v.reason).to.match(/^window 2 \(steps 4–5\): /);
    expect(v.reason).to.not.match(/malformed/);
    // Window 1 fails only a group equation and window 2 a check made while reading (its first point
    // not an encoding): the pending window 1 is settled first and named.
    const both = variant("pending-then-read-failure", (d) => {
      const b = bundleOf(d);
      const one = b.windows[1].proof.slice();
      one[one.length - 1] ^= 1;
      const two = b.windows[2].proof.slice();
      two.fill(0xff, 0, 64);
      writeWindows(d, [b.windows[0], { steps: 2, proof: one }, { steps: 2, proof: two }]);
    }, seedDir);
    const vb = verifyRunFolder(both, fast);
    expect(vb.windows.map((w) => w.valid)).to.deep.equal([true, false]);
    expect(vb.reason).to.match(/^window 1 \(steps 2–3\): /);
    // Window 0 failing only its group check is found before the initial weights are seeded.
    const first = variant("first-group-failure", (d) => {
      const b = bundleOf(d);
      const zero = b.windows[0].proof.slice();
      zero[zero.length - 1] ^= 1;
      writeWindows(d, [{ steps: 2, proof: zero }, b.windows[1], b.windows[2]]);
    }, seedDir);
    const v0 = verifyRunFolder(first, fast);
    expect(v0.windows.map((w) => w.valid)).to.deep.equal([false]);
    expect(v0.reason).to.match(/^window 0 \(steps 0–1\): /);
  });

  it("verifies a window proof before seeding the initial weights: a tiny bundle claiming a large model is refused at once", () => {
    // 784 → 4096 → 4096 → 10 (2^24 + padded weights to seed) with an empty window proof.
    const config = { layers: [784, 4096, 4096, 10], fracBits: 16, lrShift: 9, batch: 1, seed: "large" };
    const p = paddedLayers(config);
    const Z = G1.ZERO;
    // One all-zero record: its fingerprint point is zero too, and the all-zero fingerprint proof is valid.
    const fingerprintProof = { T: Z, S: Z, z: new Array<bigint>(p[0]).fill(0n), zH: 0n };
    const commitments = { featureCols: p[0], labelCols: p[p.length - 1], cx: [Z], cy: [Z], fingerprints: [Z], fingerprintProof };
    const datasetBytes = encodeDataset(commitments);
    const tree = datasetTree(commitments);
    const initial = p.slice(1).map((_, l) => {
      const shape = weightShape(Math.log2(p[l] * p[l + 1]));
      return { ...shape, rows: new Array(1 << shape.logRows).fill(Z) };
    });
    const proof = encodeBundle({ initial, windows: [{ steps: 1, proof: new Uint8Array(0) }] });
    const size = windowKeySize(stepDims(config, "int32"));
    const m: Manifest = {
      ...manifest,
      model: { ...manifest.model, layers: config.layers, paddedLayers: p, lrShift: 9, batch: 1 },
      training: { ...manifest.training, steps: 1, window: 1, seed: "large" },
      data: { source: "csv", records: 1, features: 784, classes: 10, featureRange: "int32" },
      generators: { ...manifest.generators, size, id: toHex(generatorSetId(manifest.generators.label, size)) },
      dataset: { ...manifest.dataset, size: 1, root: tree.root, fingerprintRoot: fingerprintTree(commitments).root, commitmentsDigest: digestHex(datasetBytes) },
      weights: { initial: weightsDigest(initial), final: "0x" + "00".repeat(32), windows: ["0x" + "00".repeat(32)] },
      bundle: { ...manifest.bundle, digest: digestHex(proof), bytes: proof.length },
    };
    const files: Record<string, Uint8Array> = { "manifest.json": manifestBytes(m), "dataset.bin": datasetBytes, "dataset-tree.json": new TextEncoder().encode(JSON.stringify(tree.dump())), "proof.bin": proof };
    const started = performance.now();
    const v = verifyRunFiles({ path: (n) => n, read: (n) => files[n] }, fast);
    expect(v.reason).to.match(/^window 0 \(step 0\): malformed window proof/);
    expect(performance.now() - started).to.be.below(5000);
  });

  it("checks sizes against the manifest before hashing: dataset.bin, and window proofs of one length but not one size", () => {
    const short = verifyRunFolder(variant("size-dataset", (d) => writeFileSync(join(d, "dataset.bin"), readFileSync(join(d, "dataset.bin")).subarray(0, 100))), fast);
    const [, cols, size] = /dataset\.bin holds 100 bytes; 16 records of (\d+) padded features take (\d+)$/.exec(short.reason ?? "") ?? [];
    // Tag, three counts, Cx ‖ Cy ‖ P per record, and the fingerprint proof (T, S, a response per column and z_H).
    expect(Number(size), short.reason).to.equal(8 + 12 + 16 * 3 * 64 + 2 * 64 + 32 * (Number(cols) + 1));
    const uneven = verifyRunFolder(
      variant(
        "size-windows",
        (d) => {
          const w = bundleOf(d).windows;
          writeWindows(d, [w[0], { steps: 2, proof: w[1].proof.subarray(0, 1000) }, w[2]]);
        },
        seedDir,
      ),
      fast,
    );
    expect(uneven.reason).to.match(/^window 1 \(steps 2–3\): its proof is 1000 bytes, window 0 \(steps 0–1\)'s \d+$/);
    expect(uneven.windows).to.deep.equal([]); // before any window is verified
  });

  it("binds the publisher: the run verifies only for the publisher it names, and renaming it breaks every window", () => {
    expect(manifest.publisher).to.equal(PUBLISHER.toLowerCase());
    expect(verifyRunFolder(dir, { ...fast, publisher: PUBLISHER }).valid).to.equal(true);
    const other = OTHER_PUBLISHER;
    expect(verifyRunFolder(dir, { ...fast, publisher: other }).reason).to.equal(`the manifest names publisher ${PUBLISHER.toLowerCase()}, not ${other.toLowerCase()}`);
    // A copycat naming itself in the manifest: the window proofs are bound to the real publisher.
    const copycat = verifyRunFolder(variant("copycat", (d) => rewrite(d, (m) => (m.publisher = other.toLowerCase()))), { ...fast, publisher: other });
    expect(copycat.valid).to.equal(false);
    expect(copycat.reason).to.match(/^window 0 \(steps 0–3\)/);
  });

  it("proves the records' padding: a run whose records hide features past the input width or labels past the last class is invalid", () => {
    const config = { layers: [6, 8, 3], fracBits: 16, lrShift: 8, batch: 4, seed: "padding" };
    const honest = trainRun({ config, publisher: PUBLISHER, steps: 2, records: syntheticRecords(16, 6, 3, 16, 5), source: "csv", out: join(root, "pad-honest") });
    expect(honest.manifest.model.paddedLayers).to.deep.equal([8, 8, 4]);
    expect(verifyRunFolder(join(root, "pad-honest"), fast).valid).to.equal(true);
    // A cheating publisher: records of 8 features and 4 classes committed for layers [6, 8, 3].
    expect(() => trainRun({ config, publisher: PUBLISHER, steps: 2, records: syntheticRecords(16, 8, 4, 16, 5), source: "csv", out: join(root, "pad-x") })).to.throw(InputError, /8 features/);
    proveRun({ config, publisher: PUBLISHER, steps: 2, records: syntheticRecords(16, 8, 4, 16, 5), source: "csv", out: join(root, "pad-cheat") });
    const cheat = verifyRunFolder(join(root, "pad-cheat"), fast);
    expect(cheat.valid).to.equal(false);
    expect(cheat.reason).to.match(/^window 0 \(steps 0–1\): .*(features|labels): .*zero padding/);
  });

  it("zkdl verify exits 0 on a valid run, 1 on an invalid one, 2 on a missing file; inspect summarises", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [ZKDL, ...args], { encoding: "utf8" });
    const ok = run("verify", dir, "--json");
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout)).to.include({ valid: true, steps: 6, windows: 2 });
    const progress = run("verify", dir);
    expect(progress.status, progress.stderr).to.equal(0);
    expect(progress.stderr).to.match(/^window 1\/2 \(steps 1–4\): valid \(\d+ ms\)\nwindow 2\/2 \(steps 5–6\): valid \(\d+ ms\)\n$/);
    expect(progress.stdout).to.match(/steps {9}6 verified in 2 windows/);
    const bad = run("verify", variant("cli-bad", (d) => reshuffle(d, [1, 0])));
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.match(/INVALID[\s\S]*reason   window 0 \(steps 0–3\): its proof is of 2 steps, not 4/);
    const missing = run("verify", variant("cli-missing", (d) => rmSync(join(d, "proof.bin"))));
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/proof\.bin: missing/);
    const inspect = run("inspect", dir);
    expect(inspect.status).to.equal(0);
    expect(inspect.stdout).to.include(manifest.dataset.root);
    expect(inspect.stdout).to.include(`fingerprints   root ${manifest.dataset.fingerprintRoot}`);
    expect(inspect.stdout).to.match(/run {12}.* \(zkdl-run\/5, zkdl-chain\/0\.5\.0\)/);
    expect(inspect.stdout).to.match(/training {7}6 steps, seed "test"\nproven in {6}2 windows of at most 4 steps\n/);
    const help = run("train", "--help");
    expect(help.stdout).to.match(/--layers[\s\S]*--window <T>[\s\S]*power of two[\s\S]*--lr-shift/);
    const badFlag = run("train", "--batch", "3");
    expect(badFlag.status).to.not.equal(0);
    for (const window of ["3", "0", "2048", "two"]) {
      const badWindow = run("train", "--window", window, "--publisher", PUBLISHER, "--out", join(root, "never"));
      expect(badWindow.status, window).to.equal(2);
      expect(badWindow.stderr, window).to.match(new RegExp(`^error: option '--window <T>' argument '${window}' is invalid\\. window must be a power of two from 1 to 1024`));
    }
    // The proof is bound to its publisher: train needs to know who that is.
    const env = { ...process.env, ZKDL_PUBLISHER_KEY: "" };
    const anonymous = spawnSync(process.execPath, [ZKDL, "train", "--steps", "1", "--out", join(root, "anonymous")], { encoding: "utf8", env });
    expect(anonymous.status).to.equal(2);
    expect(anonymous.stderr).to.match(/^zkdl: name the run's publisher: --publisher <address>/);
    expect(run("train", "--publisher", "0x1234", "--out", join(root, "anonymous")).stderr).to.match(/--publisher 0x1234 is not an address/);
    const wrong = run("verify", dir, "--publisher", OTHER_PUBLISHER);
    expect(wrong.status).to.equal(1);
    expect(wrong.stdout).to.match(/the manifest names publisher 0x7099/);
  });
});
