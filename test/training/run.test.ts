import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { nativeAccelerators } from "../../prover/native-engine";
import { decodeBundle, encodeBundle, encodeDataset } from "../../core/run/formats";
import { type Manifest, digestHex, manifestBytes, parseManifest, weightsDigest } from "../../core/run/manifest";
import { proveRun, trainRun } from "../../prover/train";
import { folderFiles, verifyRunFolder } from "../../prover/run-folder";
import { verifyRunFiles } from "../../core/run/verify";
import { InputError } from "../../core/errors";
import { G1, toHex } from "../../core/crypto/bn254";
import { datasetTree } from "../../core/dataset/commitments";
import { paddedLayers } from "../../core/model/fixed";
import { generatorSetId } from "../../core/protocol/generators";
import { stepDims, weightShape } from "../../core/training/circuit";
import { stepKeySize } from "../../core/training/window";
import { syntheticRecords, tinyConfig } from "../helpers/training";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("training: runs, their verification and the CLI", function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-run-"));
  const dir = join(root, "run");
  const otherDir = join(root, "other");
  const fast = nativeAccelerators;
  let manifest: Manifest;

  before(() => {
    const records = syntheticRecords(16, 8, 4, 16);
    manifest = trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 3, records, source: "csv", out: dir }).manifest;
    trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 3, records: syntheticRecords(16, 8, 4, 16, 99), source: "csv", out: otherDir });
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
    const v = verifyRunFolder(dir);
    expect(v.reason).to.equal(undefined);
    expect(v.valid).to.equal(true);
    expect(v.steps).to.have.length(3);
    expect(verifyRunFolder(dir, fast).valid).to.equal(true);
  });

  it("publishes the dataset tree in OpenZeppelin's dump format with the manifest's root", () => {
    const tree = StandardMerkleTree.load(JSON.parse(readFileSync(join(dir, "dataset-tree.json"), "utf8")));
    expect(tree.root).to.equal(manifest.dataset.root);
    expect(tree.length).to.equal(16);
  });

  it("rejects a step removed, duplicated or reordered (even with the manifest rewritten to match)", () => {
    for (const order of [[0, 2], [0, 0, 2], [1, 0, 2], [0, 1]]) {
      const v = verifyRunFolder(variant(`order-${order.join("")}`, (d) => reshuffle(d, order)), fast);
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
    const v = verifyRunFolder(d, fast);
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
      ["an unknown data source", (m) => (m.data.source = "imagenet"), /data\.source/],
      ["the zero publisher", (m) => (m.publisher = "0x" + "0".repeat(40)), /publisher: the zero address/],
      ["no publisher", (m) => delete m.publisher, /publisher/],
      ["a format-1 manifest", (m) => (m.format = "zkdl-run/1"), /format zkdl-run\/1 is not read by zkdl-chain\/[\d.]+ \(it reads zkdl-run\/2\): .*train it again/],
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

  it("verifies a step proof before seeding the initial weights: a tiny bundle claiming a large model is refused at once", () => {
    // 784 → 4096 → 4096 → 10 (2^24 + padded weights to seed) with an empty step proof.
    const config = { layers: [784, 4096, 4096, 10], fracBits: 16, lrShift: 9, batch: 1, seed: "large" };
    const p = paddedLayers(config);
    const Z = G1.ZERO;
    const commitments = { featureCols: p[0], labelCols: p[p.length - 1], cx: [Z], cy: [Z] };
    const datasetBytes = encodeDataset(commitments);
    const tree = datasetTree(commitments);
    const initial = p.slice(1).map((_, l) => {
      const shape = weightShape(Math.log2(p[l] * p[l + 1]));
      return { ...shape, rows: new Array(1 << shape.logRows).fill(Z) };
    });
    const proof = encodeBundle({ initial, steps: [new Uint8Array(0)] });
    const size = stepKeySize(stepDims(config, "int32"));
    const m: Manifest = {
      ...manifest,
      model: { ...manifest.model, layers: config.layers, paddedLayers: p, lrShift: 9, batch: 1 },
      training: { ...manifest.training, steps: 1, seed: "large" },
      data: { source: "csv", records: 1, features: 784, classes: 10, featureRange: "int32" },
      generators: { ...manifest.generators, size, id: toHex(generatorSetId(manifest.generators.label, size)) },
      dataset: { ...manifest.dataset, size: 1, root: tree.root, commitmentsDigest: digestHex(datasetBytes) },
      weights: { initial: weightsDigest(initial), final: "0x" + "00".repeat(32), steps: ["0x" + "00".repeat(32)] },
      bundle: { ...manifest.bundle, digest: digestHex(proof), bytes: proof.length },
    };
    const files: Record<string, Uint8Array> = { "manifest.json": manifestBytes(m), "dataset.bin": datasetBytes, "dataset-tree.json": new TextEncoder().encode(JSON.stringify(tree.dump())), "proof.bin": proof };
    const started = performance.now();
    const v = verifyRunFiles({ path: (n) => n, read: (n) => files[n] }, fast);
    expect(v.reason).to.match(/^step 0: malformed step proof/);
    expect(performance.now() - started).to.be.below(5000);
  });

  it("checks sizes against the manifest before hashing: dataset.bin and step proofs of the wrong length", () => {
    const short = verifyRunFolder(variant("size-dataset", (d) => writeFileSync(join(d, "dataset.bin"), readFileSync(join(d, "dataset.bin")).subarray(0, 100))), fast);
    expect(short.reason).to.match(/dataset\.bin holds 100 bytes; 16 records take 2068/);
    const uneven = verifyRunFolder(
      variant("size-steps", (d) => {
        const b = decodeBundle("proof.bin", readFileSync(join(d, "proof.bin")));
        const bytes = encodeBundle({ initial: b.initial, steps: [b.steps[0], b.steps[1].subarray(0, 1000), b.steps[2]] });
        writeFileSync(join(d, "proof.bin"), bytes);
        rewrite(d, (m) => ((m.bundle.digest = digestHex(bytes)), (m.bundle.bytes = bytes.length)));
      }),
      fast,
    );
    expect(uneven.reason).to.match(/step 1: its proof is 1000 bytes/);
  });

  it("binds the publisher: the run verifies only for the publisher it names, and renaming it breaks every step", () => {
    expect(manifest.publisher).to.equal(PUBLISHER.toLowerCase());
    expect(verifyRunFolder(dir, { ...fast, publisher: PUBLISHER }).valid).to.equal(true);
    const other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    expect(verifyRunFolder(dir, { ...fast, publisher: other }).reason).to.equal(`the manifest names publisher ${PUBLISHER.toLowerCase()}, not ${other.toLowerCase()}`);
    // A copycat naming itself in the manifest: the step proofs are bound to the real publisher.
    const copycat = verifyRunFolder(variant("copycat", (d) => rewrite(d, (m) => (m.publisher = other.toLowerCase()))), { ...fast, publisher: other });
    expect(copycat.valid).to.equal(false);
    expect(copycat.reason).to.match(/^step 0/);
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
    expect(cheat.reason).to.match(/^step 0: .*(features|labels): .*zero padding/);
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
    // The proof is bound to its publisher: train needs to know who that is.
    const env = { ...process.env, ZKDL_PUBLISHER_KEY: "" };
    const anonymous = spawnSync(process.execPath, [ZKDL, "train", "--steps", "1", "--out", join(root, "anonymous")], { encoding: "utf8", env });
    expect(anonymous.status).to.equal(2);
    expect(anonymous.stderr).to.match(/^zkdl: name the run's publisher: --publisher <address>/);
    expect(run("train", "--publisher", "0x1234", "--out", join(root, "anonymous")).stderr).to.match(/--publisher 0x1234 is not an address/);
    const wrong = run("verify", dir, "--publisher", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    expect(wrong.status).to.equal(1);
    expect(wrong.stdout).to.match(/the manifest names publisher 0x7099/);
  });
});
