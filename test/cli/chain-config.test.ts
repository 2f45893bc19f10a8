/**
 * Where the chain commands find the chain (cli/actions/chain.ts): a chain that is configured — by
 * --registry or ZKDL_REGISTRY, by --deployment or ZKDL_DEPLOYMENT, or by a file at the default
 * deployments/localhost.json — but cannot be used is one line and exit 2 for `zkdl check` and `zkdl
 * serve`, before anything is asked of the API; only when no chain is configured at all do they go on
 * without one. And `zkdl outbox`, a read-only listing, never creates a store. No chain is needed: every
 * RPC here is a closed port.
 */
import { expect } from "chai";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ZKDL = join(__dirname, "../../bin/zkdl.js");
const RUN_ID = "0x" + "ab".repeat(32);
const REGISTRY = "0x" + "22".repeat(20);
const DOWN = "http://127.0.0.1:9"; // nothing listens on the discard port

describe("zkdl check and serve: a configured chain that cannot be used is exit 2; no chain configured is said", function () {
  this.timeout(120_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-chain-config-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  /** No chain in the environment: only what a case gives. */
  const bare = { ...process.env, ZKDL_REGISTRY: undefined, ZKDL_DEPLOYMENT: undefined, ZKDL_RPC_URL: undefined, ZKDL_LOG_LEVEL: "warn" };

  // A timeout: a serve that wrongly starts would otherwise run forever.
  function zkdl(args: string[], o: { env?: Record<string, string>; cwd?: string } = {}) {
    return spawnSync(process.execPath, [ZKDL, ...args], { encoding: "utf8", cwd: o.cwd ?? root, env: { ...bare, ...o.env }, timeout: 30_000 });
  }
  const lines = (s: string) => s.trim().split("\n");

  it("check: an unreachable RPC, a bad registry or an unusable deployment file is one line and exit 2, before the API is asked", () => {
    writeFileSync(join(root, "malformed.json"), JSON.stringify({ format: "zkdl-deployment/1", chainId: "x" }));
    writeFileSync(join(root, "not-json.json"), "{");
    const check = ["check", RUN_ID, "--mnist", "train:1", "--api-url", DOWN];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--registry", REGISTRY, "--rpc", DOWN], {}, /^zkdl: cannot reach the RPC at http:\/\/127\.0\.0\.1:9/],
      [["--registry", REGISTRY, "--rpc", DOWN, "--json"], {}, /^zkdl: cannot reach the RPC/],
      [["--rpc", DOWN], { ZKDL_REGISTRY: REGISTRY }, /^zkdl: cannot reach the RPC/],
      [["--registry", "0x1234"], {}, /^zkdl: --registry 0x1234 is not an address/],
      [["--deployment", join(root, "malformed.json"), "--json"], {}, /^zkdl: deployment file .*malformed\.json is malformed/],
      [["--deployment", join(root, "not-json.json")], {}, /^zkdl: deployment file .*not-json\.json is not JSON/],
      [[], { ZKDL_DEPLOYMENT: join(root, "missing.json") }, /^zkdl: no deployment file .*missing\.json/],
    ];
    for (const [flags, env, message] of cases) {
      const r = zkdl([...check, ...flags], { env });
      const what = `${flags.join(" ")} ${JSON.stringify(env)}: ${r.stderr}`;
      expect(r.status, what).to.equal(2);
      expect(lines(r.stderr), what).to.have.length(1);
      expect(r.stderr, what).to.match(message);
      expect(r.stdout, what).to.equal("");
    }
  });

  it("check: a file at the default deployments/localhost.json is a configured chain; without one, check goes on to the API", () => {
    const cwd = join(root, "with-default");
    mkdirSync(join(cwd, "deployments"), { recursive: true });
    writeFileSync(join(cwd, "deployments/localhost.json"), "not json");
    const withDefault = zkdl(["check", RUN_ID, "--mnist", "train:1", "--api-url", DOWN], { cwd });
    expect(withDefault.status, withDefault.stderr).to.equal(2);
    expect(withDefault.stderr).to.match(/^zkdl: deployment file deployments\/localhost\.json is not JSON/);
    // No chain configured at all: past the chain, to the API (which is down: exit 1, not a chain error).
    const none = zkdl(["check", RUN_ID, "--mnist", "train:1", "--api-url", DOWN, "--json"]);
    expect(none.status, none.stderr).to.equal(1);
    expect(none.stderr).to.not.match(/chain|RPC|registry|deployment/i);
  });

  describe("serve", () => {
    const children: ChildProcess[] = [];
    after(() => children.forEach((c) => c.exitCode === null && c.kill("SIGTERM")));

    it("serve: an unusable --deployment or --registry is a startup error, exit 2", () => {
      writeFileSync(join(root, "malformed.json"), JSON.stringify({ format: "zkdl-deployment/1" }));
      for (const flags of [["--deployment", join(root, "malformed.json")], ["--registry", REGISTRY, "--rpc", DOWN], ["--deployment", join(root, "missing.json")]]) {
        const r = zkdl(["serve", "--port", "0", "--data", join(root, "serve-data"), ...flags]);
        expect(r.status, `${flags.join(" ")}: ${r.stderr}`).to.equal(2);
        expect(lines(r.stderr), flags.join(" ")).to.have.length(1);
        expect(r.stderr).to.match(/^zkdl: (deployment file|cannot reach the RPC|no deployment file)/);
      }
    });

    it("serve: with no chain configured it serves, statuses Unknown", async () => {
      const child = spawn(process.execPath, [ZKDL, "serve", "--port", "0", "--no-web", "--data", join(root, "serve-data")], { cwd: root, env: bare, stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      let [stdout, stderr] = ["", ""];
      child.stderr.on("data", (d) => (stderr += d));
      const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
      const serving = new Promise<void>((res) =>
        child.stdout.on("data", (d) => {
          stdout += d;
          if (/serving http/.test(stdout)) res();
        }),
      );
      const first = await Promise.race([serving.then(() => "serving"), exited.then((code) => `exited ${code}`)]);
      expect(first, stderr).to.equal("serving");
      expect(stderr).to.match(/no chain configured/);
      child.kill("SIGTERM");
      await exited;
    });
  });
});

describe("zkdl outbox: a read-only listing creates no store", function () {
  this.timeout(60_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-outbox-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("outbox --data <a folder with no store> is exit 2 'no store at …', and creates nothing", () => {
    for (const data of [join(root, "nonexistent"), root]) {
      const r = spawnSync(process.execPath, [ZKDL, "outbox", "--data", data], { encoding: "utf8" });
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stderr.trim().split("\n")).to.have.length(1);
      expect(r.stderr).to.match(/^zkdl: no store at /);
    }
    expect(existsSync(join(root, "nonexistent"))).to.equal(false);
    expect(existsSync(join(root, "zkdl.sqlite"))).to.equal(false);
  });
});
