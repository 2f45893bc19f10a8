/**
 * How zkdl ends (cli/exit.ts): refused input — the project's typed errors (InputError, RunFileError,
 * RecordsFormatError, FixedPointOverflow) and bad flags — is one line and exit 2; any other error, a
 * RangeError or a TypeError from a bug among them, is "internal error" with its stack and exit 70, so a
 * bug never reads as bad input. A bug is planted with test/cli/throw-hook.cjs.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const THROW_HOOK = join(__dirname, "throw-hook.cjs");
const PUBLISHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("zkdl exit codes: bad input is one line and exit 2, a bug is a stack and exit 70", function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-exit-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  function zkdl(args: string[], plant?: { module: string; export: string; error: string; message: string }) {
    const env = { ...process.env, ZKDL_PUBLISHER_KEY: "", ...(plant ? { ZKDL_TEST_THROW: JSON.stringify(plant) } : {}) };
    return spawnSync(process.execPath, ["-r", THROW_HOOK, ZKDL, ...args], { encoding: "utf8", env });
  }
  const lines = (s: string) => s.trim().split("\n");

  it("bad input: a setting the circuit cannot prove, a missing file, a bad flag, a malformed CSV", () => {
    const csv = join(root, "bad.csv");
    writeFileSync(csv, "0.5,0.25,1\n0.5,oops,0\n");
    const cases: [string[], RegExp][] = [
      [["train", "--batch", "3", "--publisher", PUBLISHER, "--out", join(root, "a")], /^zkdl: batch must be a power of two/], // InputError (checkConfig)
      [["train", "--steps", "2000000", "--publisher", PUBLISHER, "--out", join(root, "b"), "--records", "64"], /^zkdl: steps must be an integer from 1 to 1048576/], // InputError (trainRun)
      [["train", "--data", csv, "--layers", "2,2", "--batch", "1", "--publisher", PUBLISHER, "--out", join(root, "c")], /^zkdl: .*bad\.csv/], // RecordsFormatError
      [["verify", join(root, "nowhere")], /^zkdl: .*nowhere: missing/],
      [["inspect", root], /^zkdl: .*not a run folder/],
    ];
    for (const [args, message] of cases) {
      const r = zkdl(args);
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).to.equal(2);
      expect(lines(r.stderr), args.join(" ")).to.have.length(1);
      expect(r.stderr, args.join(" ")).to.match(message);
    }
    const flag = zkdl(["verify", "--bogus"]);
    expect(flag.status).to.equal(2);
    expect(flag.stderr).to.match(/^error: unknown option '--bogus'/);
    const window = zkdl(["train", "--window", "3", "--publisher", PUBLISHER, "--out", join(root, "d")]);
    expect(window.status).to.equal(2);
    expect(window.stderr).to.match(/^error: option '--window <T>' argument '3' is invalid\. window must be a power of two from 1 to 1024/);
  });

  it("a bug: a RangeError or a TypeError thrown inside a command is an internal error with its stack, exit 70", () => {
    // Past the command's own checks (a manifest.json is there), into the planted bug.
    const dir = join(root, "run");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "manifest.json"), "{}");
    const plants = [
      [["verify", dir], "prover/run-folder", "verifyRunFolder"],
      [["inspect", dir], "core/run/manifest", "parseManifest"],
    ] as const;
    for (const [args, module, name] of plants) {
      for (const error of ["RangeError", "TypeError"]) {
        const r = zkdl([...args], { module, export: name, error, message: "planted bug" });
        expect(r.status, `${args[0]} ${error}: ${r.stderr}`).to.equal(70);
        expect(lines(r.stderr)[0]).to.equal("zkdl: internal error (a bug in zkdl, not a problem with the input; please report it with this trace):");
        expect(lines(r.stderr)[1]).to.equal(`${error}: planted bug`);
        expect(lines(r.stderr)[2]).to.match(/^\s+at /);
        expect(r.stdout).to.equal("");
      }
    }
  });
});
