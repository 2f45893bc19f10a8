/**
 * The zkdl program loads only what a command needs (cli/main.ts): `--help` and a command's `--help`
 * load the command table and nothing of the protocol, the prover or the chain; `verify` and `train`
 * never load the API server, the chain library, the store or Hardhat. Each child runs with
 * test/cli/load-log.cjs preloaded, which lists every CommonJS module the process loaded.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { trainRun } from "../../prover/train";
import { syntheticRecords, tinyConfig } from "../helpers/training";

const ROOT = join(__dirname, "../..");
const ZKDL = join(ROOT, "bin/zkdl.js");
const LOAD_LOG = join(__dirname, "load-log.cjs");
const PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/** The server, the chain and the store: no run command needs any of them. */
const CHAIN_SIDE = ["express", "ethers", "better-sqlite3", "hardhat", "pino", "prom-client", "pngjs"];

describe("the zkdl program loads only what each command needs", function () {
  this.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-loading-"));
  const run = join(root, "run");
  before(() => trainRun({ config: tinyConfig, publisher: PUBLISHER, steps: 1, records: syntheticRecords(16, 8, 4, 16), source: "csv", out: run }));
  after(() => rmSync(root, { recursive: true, force: true }));

  /** `zkdl <args>` with the load log: its exit status and output, the packages and project files it loaded. */
  function zkdl(...args: string[]) {
    const log = join(root, "modules.json");
    rmSync(log, { force: true });
    const p = spawnSync(process.execPath, ["-r", LOAD_LOG, ZKDL, ...args], { encoding: "utf8", env: { ...process.env, ZKDL_LOAD_LOG: log, ZKDL_PUBLISHER_KEY: "" } });
    const loaded = JSON.parse(readFileSync(log, "utf8")) as string[];
    const packages = new Set(loaded.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((n) => n !== undefined));
    // relayer/limits.ts: the attestor's default limits, shown in `zkdl attest --help` (no imports).
    const files = loaded.filter((f) => !f.includes("node_modules")).map((f) => relative(ROOT, f)).filter((f) => f !== "relayer/limits.ts");
    return { ...p, packages, files };
  }

  it("zkdl --help and each command's --help load the command table only: commander, no protocol, prover or chain code", () => {
    for (const args of [["--help"], ["verify", "--help"], ["train", "--help"], ["attest", "--help"]]) {
      const r = zkdl(...args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).to.equal(0);
      expect(r.stdout, args.join(" ")).to.match(/^Usage: zkdl/);
      expect([...r.packages].filter((p) => p !== "tsx" && p !== "esbuild" && p !== "get-tsconfig" && p !== "commander"), args.join(" ")).to.deep.equal([]);
      expect(r.files.filter((f) => /^(core|prover|relayer|client|native|typechain-types)\//.test(f)), args.join(" ")).to.deep.equal([]);
    }
  });

  it("zkdl verify checks a run without the server, the chain library, the store or Hardhat", () => {
    const r = zkdl("verify", run, "--publisher", PUBLISHER);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^VALID/);
    expect(r.stdout).to.include(`publisher     ${PUBLISHER}`);
    expect(CHAIN_SIDE.filter((p) => r.packages.has(p))).to.deep.equal([]);
    expect(r.files.filter((f) => /^(relayer|client|typechain-types|cli\/demo)/.test(f))).to.deep.equal([]);
  });

  it("zkdl train trains and proves without the server, the chain library, the store or Hardhat", () => {
    const csv = join(root, "tiny.csv");
    const rec = syntheticRecords(16, 8, 4, 16);
    writeFileSync(csv, Array.from({ length: rec.count }, (_, r) => [...Array.from(rec.x.subarray(r * 8, r * 8 + 8), (v) => v / 2 ** 16), rec.labels[r]].join(",")).join("\n") + "\n");
    const r = zkdl("train", "--data", csv, "--layers", "8,8,4", "--batch", "4", "--steps", "3", "--window", "2", "--lr-shift", "8", "--publisher", PUBLISHER, "--out", join(root, "trained"), "--json");
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ steps: 3, window: 2, windows: 2, publisher: PUBLISHER });
    expect(CHAIN_SIDE.filter((p) => r.packages.has(p))).to.deep.equal([]);
    expect(r.files.filter((f) => /^(relayer|client|typechain-types|cli\/demo)/.test(f))).to.deep.equal([]);
  });
});
