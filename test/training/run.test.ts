import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { nativeEngine } from "../../prover/protocol/native-engine";
import { decodeBundle, encodeBundle } from "../../prover/run/formats";
import { type Manifest, digestHex, manifestBytes, parseManifest } from "../../prover/run/manifest";
import { trainRun } from "../../prover/run/train";
import { verifyRun } from "../../prover/run/verify";
import { syntheticRecords, tinyConfig } from "../helpers/training";

const ZKDL = join(__dirname, "../../bin/zkdl.js");

describe("training: runs, their verification and the CLI", function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-run-"));
  const dir = join(root, "run");
  const otherDir = join(root, "other");
  const fast = { engine: nativeEngine, nativeGenerators: true };
  let manifest: Manifest;

  before(() => {
    const records = syntheticRecords(16, 8, 4, 16);
    manifest = trainRun({ config: tinyConfig, steps: 3, records, source: "csv", out: dir }).manifest;
    trainRun({ config: tinyConfig, steps: 3, records: syntheticRecords(16, 8, 4, 16, 99), source: "csv", out: otherDir });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A copy of the run with `edit` applied to it. */
  const variant = (name: string, edit: (d: string) => void) => {
    const d = join(root, name);
    rmSync(d, { recursive: true, force: true });
    cpSync(dir, d, { recursive: true });
    edit(d);
    return d;
  };
  /** Rewrites the manifest canonically with `change` applied. */
  const rewrite = (d: string, change: (m: Manifest) => void) => {
    const m = parseManifest("manifest.json", readFileSync(join(d, "manifest.json")));
    change(m);
    writeFileSync(join(d, "manifest.json"), manifestBytes(m));
  };
  /** Replaces the bundle's step list, keeping the manifest consistent with it (digests, counts). */
  const reshuffle = (d: string, order: number[]) => {
    const b = decodeBundle("proof.bin", readFileSync(join(d, "proof.bin")));
    const bytes = encodeBundle({ initial: b.initial, steps: order.map((i) => b.steps[i]) });
    writeFileSync(join(d, "proof.bin"), bytes);
    rewrite(d, (m) => {
      const digests = m.weights.steps;
      m.training.steps = order.length;
      m.weights.steps = order.map((i) => digests[i]);
      m.weights.final = m.weights.steps[order.length - 1];
      m.bundle.digest = digestHex(bytes);
      m.bundle.bytes = bytes.length;
    });
  };

  it("verifies from the public files alone with the pure-TypeScript verifier", () => {
    const v = verifyRun(dir);
    expect(v.reason).to.equal(undefined);
    expect(v.valid).to.equal(true);
    expect(v.steps).to.have.length(3);
    expect(verifyRun(dir, fast).valid).to.equal(true);
  });

  it("publishes the dataset tree in OpenZeppelin's dump format with the manifest's root", () => {
    const tree = StandardMerkleTree.load(JSON.parse(readFileSync(join(dir, "dataset-tree.json"), "utf8")));
    expect(tree.root).to.equal(manifest.dataset.root);
    expect(tree.length).to.equal(16);
  });

  it("rejects a step removed, duplicated or reordered (even with the manifest rewritten to match)", () => {
    for (const order of [[0, 2], [0, 0, 2], [1, 0, 2], [0, 1]]) {
      const v = verifyRun(variant(`order-${order.join("")}`, (d) => reshuffle(d, order)), fast);
      expect(v.valid, `order ${order}`).to.equal(false);
      expect(v.reason).to.match(/step \d/);
    }
  });

  it("rejects a manifest pointing to another dataset (root, commitments and tree swapped in)", () => {
    const d = variant("other-dataset", (d) => {
      for (const f of ["dataset.bin", "dataset-tree.json"]) cpSync(join(otherDir, f), join(d, f));
      const other = parseManifest("m", readFileSync(join(otherDir, "manifest.json")));
      rewrite(d, (m) => (m.dataset = other.dataset));
    });
    const v = verifyRun(d, fast);
    expect(v.valid).to.equal(false);
    expect(v.reason).to.match(/step 0/);
  });

  it("fails with a reason when any public file is tampered with", () => {
    const flip = (file: string, at: (n: number) => number) => (d: string) => {
      const b = readFileSync(join(d, file));
      b[at(b.length)] ^= 1;
      writeFileSync(join(d, file), b);
    };
    const cases: [string, (d: string) => void, RegExp][] = [
      ["manifest byte", flip("manifest.json", (n) => n - 5), /manifest\.json|digest|initial|root|step/],
      ["manifest field", (d) => rewrite(d, (m) => (m.model.lrShift += 1)), /step 0|initial/],
      ["manifest seed", (d) => rewrite(d, (m) => (m.training.seed = "another")), /initial|step 0/],
      ["dataset.bin", flip("dataset.bin", (n) => n - 10), /dataset\.bin/],
      ["dataset-tree.json", (d) => writeFileSync(join(d, "dataset-tree.json"), readFileSync(join(otherDir, "dataset-tree.json"))), /dataset-tree\.json/],
      ["proof.bin", flip("proof.bin", (n) => n >> 1), /proof\.bin/],
      ["proof.bin with a matching digest", (d) => {
        flip("proof.bin", (n) => n - 40)(d);
        const bytes = readFileSync(join(d, "proof.bin"));
        rewrite(d, (m) => (m.bundle.digest = digestHex(bytes)));
      }, /step 2/],
    ];
    for (const [name, edit, reason] of cases) {
      let v;
      try {
        v = verifyRun(variant(name.replace(/\W+/g, "-"), edit), fast);
      } catch (e) {
        expect((e as Error).message, name).to.match(reason);
        continue;
      }
      expect(v.valid, name).to.equal(false);
      expect(v.reason, name).to.match(reason);
    }
  });

  it("zkdl verify exits 0 on a valid run, 1 on an invalid one, 2 on a missing file; inspect summarises", () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [ZKDL, ...args], { encoding: "utf8" });
    const ok = run("verify", dir, "--json");
    expect(ok.status, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout)).to.include({ valid: true, steps: 3 });
    const bad = run("verify", variant("cli-bad", (d) => reshuffle(d, [1, 0, 2])));
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.match(/INVALID[\s\S]*reason/);
    const missing = run("verify", variant("cli-missing", (d) => rmSync(join(d, "proof.bin"))));
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/proof\.bin: missing/);
    const inspect = run("inspect", dir);
    expect(inspect.status).to.equal(0);
    expect(inspect.stdout).to.include(manifest.dataset.root);
    const help = run("train", "--help");
    expect(help.stdout).to.match(/--layers[\s\S]*--lr-shift/);
    const badFlag = run("train", "--batch", "3");
    expect(badFlag.status).to.not.equal(0);
  });
});
