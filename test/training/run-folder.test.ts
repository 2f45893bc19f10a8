/**
 * The run folder module: its names (core/run/files.ts), every reader's wording for a missing,
 * unreadable or garbled file (prover/run-folder.ts), and the atomic writer.
 */
import { InputError } from "../../core/errors";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PRIVATE_DIR, PRIVATE_FILES, PUBLIC_FILES, RUN_FILES, RunFileError } from "../../core/run/files";
import { decodeDatasetTree } from "../../core/run/formats";
import { digestHex } from "../../core/run/manifest";
import {
  type RunFolderContents,
  checkRunFolder,
  folderFiles,
  readManifest,
  readRunDataset,
  readRunFile,
  readRunOpenings,
  readRunRecords,
  readRunReport,
  readRunWeights,
  verifyRunFolder,
  writeRunFolder,
} from "../../prover/run-folder";
import { trainRun } from "../../prover/train";
import { syntheticRecords, tinyConfig } from "../helpers/training";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/** Every file under `dir`, relative to it, with forward slashes, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort();
}

describe("training: the run folder module", function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-run-folder-"));
  const run = join(root, "run");
  after(() => rmSync(root, { recursive: true, force: true }));

  before(() => {
    trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 1, records: syntheticRecords(16, 8, 4, 16), source: "csv", out: run });
  });

  describe("names", () => {
    it("defines each file once: the public files in bundle order, the secret ones under private/", () => {
      expect(RUN_FILES).to.deep.equal({
        manifest: "manifest.json",
        dataset: "dataset.bin",
        tree: "dataset-tree.json",
        proof: "proof.bin",
        report: "report.json",
        openings: "private/openings.bin",
        records: "private/records.bin",
        weights: "private/weights.bin",
      });
      expect(PUBLIC_FILES).to.deep.equal(["manifest.json", "dataset.bin", "dataset-tree.json", "proof.bin"]);
      expect(Object.values(PRIVATE_FILES).every((f) => f.startsWith(`${PRIVATE_DIR}/`))).to.equal(true);
    });

    it("a trained run holds exactly these files, and its manifest names them", () => {
      expect(listFiles(run)).to.deep.equal(Object.values(RUN_FILES).sort());
      const { manifest, manifestDigest } = readManifest(run);
      expect(manifest.dataset.commitments).to.equal(RUN_FILES.dataset);
      expect(manifest.dataset.tree).to.equal(RUN_FILES.tree);
      expect(manifest.bundle.file).to.equal(RUN_FILES.proof);
      expect(manifestDigest).to.equal(digestHex(readFileSync(join(run, RUN_FILES.manifest))));
      expect(readdirSync(root).filter((n) => n.startsWith("run."))).to.deep.equal([]); // no run.partial-…, no run.old-…
      expect(verifyRunFolder(run).valid).to.equal(true);
    });
  });

  describe("readers: one vocabulary", () => {
    const manifest = () => readManifest(run).manifest;
    const readers: [string, string, (dir: string) => unknown, RegExp][] = [
      ["folderFiles.read", RUN_FILES.proof, (d) => folderFiles(d).read(RUN_FILES.proof), /.^/],
      ["readRunFile", RUN_FILES.tree, (d) => readRunFile(d, RUN_FILES.tree), /.^/],
      ["readManifest", RUN_FILES.manifest, readManifest, /: not JSON \(/],
      ["readRunDataset", RUN_FILES.dataset, (d) => readRunDataset(d, manifest()), /: not a dataset file \(expected the tag ZKDLDS02\)$/],
      ["readRunOpenings", RUN_FILES.openings, readRunOpenings, /: not an openings file \(expected the tag ZKDLOP01\)$/],
      ["readRunRecords", RUN_FILES.records, readRunRecords, /: not a records file \(expected the tag ZKDLRC01\)$/],
      ["readRunWeights", RUN_FILES.weights, readRunWeights, /: not a weights file \(expected the tag ZKDLWT01\)$/],
      ["readRunReport", RUN_FILES.report, readRunReport, /: not JSON \(/],
      ["decodeDatasetTree", RUN_FILES.tree, (d) => decodeDatasetTree(join(d, RUN_FILES.tree), readRunFile(d, RUN_FILES.tree)), /: not JSON \(/],
    ];
    /** A copy of the run with `name` changed by `edit`. */
    const variant = (tag: string, name: string, edit: (file: string) => void) => {
      const d = join(root, `${tag}-${name}`.replace(/\W/g, "_"));
      mkdirSync(d);
      for (const f of Object.values(RUN_FILES)) {
        mkdirSync(join(d, f, ".."), { recursive: true });
        writeFileSync(join(d, f), readFileSync(join(run, f)));
      }
      edit(join(d, name));
      return d;
    };
    const failure = (f: () => unknown): RunFileError => {
      try {
        f();
      } catch (e) {
        expect(e).to.be.instanceOf(RunFileError);
        return e as RunFileError;
      }
      throw new Error("did not throw");
    };
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

    for (const [reader, name, read, garbled] of readers) {
      it(`${reader} (${name}): "missing", "cannot read (…)", "not …"`, () => {
        if (name !== RUN_FILES.report) {
          // (report.json is optional: see below)
          const missing = variant(`missing-${reader}`, name, (f) => rmSync(f));
          const m = failure(() => read(missing));
          expect(m.file).to.equal(join(missing, name));
          expect(m.message).to.equal(`${join(missing, name)}: missing`);
        }
        const unreadable = variant(`unreadable-${reader}`, name, (f) => (rmSync(f), mkdirSync(f)));
        const u = failure(() => read(unreadable));
        expect(u.message).to.equal(`${join(unreadable, name)}: cannot read (EISDIR)`);
        if (garbled.source === ".^") return; // raw bytes: any content reads
        const bad = variant(`garbled-${reader}`, name, (f) => writeFileSync(f, "garbage"));
        const g = failure(() => read(bad));
        expect(g.message).to.match(new RegExp(`^${escape(join(bad, name))}${garbled.source}`));
      });
    }

    it("readRunReport: none is no report", () => {
      expect(readRunReport(variant("no-report", RUN_FILES.report, (f) => rmSync(f)))).to.deep.equal({});
      expect(readRunReport(run)).to.have.property("finalLoss");
    });

    it("checkRunFolder: missing, not a directory, no manifest", () => {
      const nowhere = join(root, "nowhere");
      expect(failure(() => checkRunFolder(nowhere)).message).to.equal(`${nowhere}: missing`);
      const file = join(root, "a-file");
      writeFileSync(file, "x");
      expect(failure(() => checkRunFolder(file)).message).to.equal(`${file}: not a run folder (not a directory)`);
      const empty = join(root, "empty");
      mkdirSync(empty);
      expect(failure(() => checkRunFolder(empty)).message).to.equal(`${empty}: not a run folder (no manifest.json)`);
      checkRunFolder(run);
    });

    it("the verifier reports the same words as a verdict", () => {
      for (const name of PUBLIC_FILES) {
        const d = variant("verdict", name, (f) => rmSync(f));
        const v = verifyRunFolder(d);
        expect(v.valid).to.equal(false);
        expect(v.malformed).to.equal(join(d, name));
        expect(v.reason).to.equal(`${join(d, name)}: missing`);
      }
      const d = variant("verdict-tree", RUN_FILES.tree, (f) => writeFileSync(f, "{"));
      expect(verifyRunFolder(d).reason).to.match(new RegExp(`^${escape(join(d, RUN_FILES.tree))}: not JSON \\(`));
    });

    it("zkdl inspect words a folder without a manifest the same way (exit 2)", () => {
      const empty = join(root, "inspect-empty");
      mkdirSync(empty);
      const r = spawnSync(process.execPath, [ZKDL, "inspect", empty], { encoding: "utf8" });
      expect(r.status).to.equal(2);
      expect(r.stderr).to.equal(`zkdl: ${empty}: not a run folder (no manifest.json)\n`);
    });
  });

  describe("the atomic writer", () => {
    const contents = (tag: string, over: Partial<RunFolderContents> = {}): RunFolderContents => ({
      manifest: `manifest ${tag}`,
      dataset: Uint8Array.of(1, 2, 3),
      tree: "tree",
      proof: () => Uint8Array.of(4, 5),
      openings: "openings",
      records: () => "records",
      weights: "weights",
      ...over,
    });
    const leftovers = (out: string) => readdirSync(join(out, "..")).filter((n) => n.startsWith(`${out.split(/[\\/]/).pop()}.`));

    it("writes every file given, and nothing else", () => {
      const out = join(root, "w-fresh");
      writeRunFolder(out, contents("a"));
      expect(listFiles(out)).to.deep.equal(Object.values(RUN_FILES).filter((f) => f !== RUN_FILES.report).sort());
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest a");
      expect([...readFileSync(join(out, RUN_FILES.proof))]).to.deep.equal([4, 5]);
      expect(readFileSync(join(out, RUN_FILES.records), "utf8")).to.equal("records");
      expect(leftovers(out)).to.deep.equal([]);
    });

    it("refuses to overwrite without overwrite, and replaces with it", () => {
      const out = join(root, "w-over");
      writeRunFolder(out, contents("old"));
      expect(() => writeRunFolder(out, contents("new"))).to.throw(InputError, `${out} exists; choose another --out or pass --force`);
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest old");
      writeFileSync(join(out, "stray"), "from the old run");
      writeRunFolder(out, contents("new"), { overwrite: true });
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest new");
      expect(existsSync(join(out, "stray"))).to.equal(false);
      expect(leftovers(out)).to.deep.equal([]);
      // trainRun refuses before any proving.
      expect(() => trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 1, records: syntheticRecords(16, 8, 4, 16), source: "csv", out })).to.throw(InputError, /exists; choose another --out or pass --force/);
    });

    it("a failure midway leaves no half-written folder, and an existing run as it was", () => {
      const boom = () => {
        throw new Error("injected failure");
      };
      const fresh = join(root, "w-fail");
      expect(() => writeRunFolder(fresh, contents("x", { records: boom }))).to.throw("injected failure");
      expect(existsSync(fresh)).to.equal(false);
      expect(leftovers(fresh)).to.deep.equal([]);

      const existing = join(root, "w-fail-existing");
      writeRunFolder(existing, contents("kept"));
      const before = statSync(join(existing, RUN_FILES.manifest)).mtimeMs;
      expect(() => writeRunFolder(existing, contents("lost", { weights: boom }), { overwrite: true })).to.throw("injected failure");
      expect(readFileSync(join(existing, RUN_FILES.manifest), "utf8")).to.equal("manifest kept");
      expect(statSync(join(existing, RUN_FILES.manifest)).mtimeMs).to.equal(before);
      expect(leftovers(existing)).to.deep.equal([]);
    });

    it("--out with a trailing slash writes the folder itself, fresh or over an existing one (no dir/.partial)", () => {
      const out = join(root, "w-slash");
      writeRunFolder(`${out}/`, contents("a"));
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest a");
      expect(readdirSync(out).sort()).to.deep.equal([...PUBLIC_FILES, PRIVATE_DIR].sort());
      expect(() => writeRunFolder(`${out}/`, contents("b"))).to.throw(InputError, /exists; choose another --out or pass --force/);
      writeRunFolder(`${out}/`, contents("b"), { overwrite: true });
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest b");
      expect(leftovers(out)).to.deep.equal([]);
      // zkdl train --out dir/: trainRun proves and writes there (it used to prove, then fail "exists").
      const trained = join(root, "t-slash");
      trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 1, records: syntheticRecords(16, 8, 4, 16), source: "csv", out: `${trained}/` });
      expect(verifyRunFolder(trained).valid).to.equal(true);
      trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 1, records: syntheticRecords(16, 8, 4, 16), source: "csv", out: `${trained}/`, overwrite: true });
      expect(verifyRunFolder(trained).valid).to.equal(true);
      expect(leftovers(trained)).to.deep.equal([]);
    });

    it("never removes what it did not create: an unrelated <out>.partial survives; a stale <out>.old… is kept and warned about", () => {
      const out = join(root, "w-theirs");
      for (const n of [".partial", ".old", ".old-abc"]) {
        mkdirSync(`${out}${n}`);
        writeFileSync(join(`${out}${n}`, "keep"), n);
      }
      const warnings: string[] = [];
      writeRunFolder(out, contents("a"), { warn: (m) => warnings.push(m) });
      writeRunFolder(out, contents("b"), { overwrite: true, warn: (m) => warnings.push(m) });
      expect(readFileSync(join(out, RUN_FILES.manifest), "utf8")).to.equal("manifest b");
      for (const n of [".partial", ".old", ".old-abc"]) expect(readFileSync(join(`${out}${n}`, "keep"), "utf8"), n).to.equal(n);
      expect(leftovers(out).sort()).to.deep.equal(["w-theirs.old", "w-theirs.old-abc", "w-theirs.partial"]);
      expect(warnings).to.have.length(2);
      expect(warnings[0]).to.include(`${out}.old`).and.include(`${out}.old-abc`).and.match(/interrupted overwrite/);
    });

    it("an unwritable target fails without leaving anything behind", () => {
      const file = join(root, "w-not-a-dir");
      writeFileSync(file, "x");
      const out = join(file, "run");
      expect(() => writeRunFolder(out, contents("x"))).to.throw(/ENOTDIR|EEXIST/);
      expect(readFileSync(file, "utf8")).to.equal("x");
      expect(readdirSync(root).filter((n) => n.startsWith("w-not-a-dir"))).to.deep.equal(["w-not-a-dir"]);
    });
  });
});
