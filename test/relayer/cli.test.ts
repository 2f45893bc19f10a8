/**
 * The `zkdl` program as a user runs it (child processes): `demo` end to end (what `npm start` runs),
 * `deploy` against a JSON-RPC node, and `check` (the SDK's membership check) on PNG, JSON and MNIST
 * records, with its exit codes and one-line reasons.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JsonRpcProvider, Wallet } from "ethers";
import { mnistDigit } from "../../prover/records";
import { readDeployment } from "../../relayer/deployment";
import { ProofRegistry__factory } from "../../typechain-types";
import { type LocalChain, fundedWallet } from "../helpers/chain";
import { type ServedRun, digitPng, serveVerifiedRun } from "../helpers/served";

const ZKDL = join(__dirname, "../../bin/zkdl.js");

function zkdl(args: string[], env: Record<string, string | undefined> = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ZKDL, ...args], { cwd, env: { ...process.env, ZKDL_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let [stdout, stderr] = ["", ""];
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the zkdl program: demo, deploy, check", function () {
  this.timeout(300_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-cli-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("zkdl demo runs the whole story and passes every check (--json)", async () => {
    const r = await zkdl(["demo", "--json", "--port", "0", "--api-port", "0", "--steps", "1", "--hidden", "16", "--records", "64", "--out", join(root, "demo-run"), "--data", join(root, "demo-data"), "--deployment", join(root, "demo.json")]);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.ok).to.equal(true);
    expect(summary.status).to.equal("Verified");
    expect(summary.checks.length).to.be.at.least(10);
    expect(summary.checks.every((c: { ok: boolean }) => c.ok)).to.equal(true);
    expect(summary.stages.map((s: { name: string }) => s.name).join("\n")).to.match(/publish[\s\S]*relay[\s\S]*attest[\s\S]*membership[\s\S]*gate/);
    expect(summary.runId).to.match(/^0x[0-9a-f]{64}$/);
    expect(r.stderr).to.match(/train and prove MNIST 784-16-10/);
  });

  describe("against a chain and an API", () => {
    let served: ServedRun;
    let chain: LocalChain;
    let provider: JsonRpcProvider;
    let runId: string;
    const chainFlags = () => ["--rpc", chain.url, "--registry", served.deployment.contracts.ProofRegistry.address, "--api-url", served.api];

    before(async () => {
      served = await serveVerifiedRun();
      ({ chain, provider, runId } = served);
    });
    after(() => served?.close());

    it("zkdl deploy deploys both contracts from ZKDL_DEPLOYER_KEY and writes the deployment file", async () => {
      const file = join(root, "deployed.json");
      const deployer = await fundedWallet("10");
      const verifier = Wallet.createRandom().address;
      const r = await zkdl(["deploy", "--rpc", chain.url, "--deployment", file, "--quorum", "1", "--verifier", verifier, "--json"], { ZKDL_DEPLOYER_KEY: deployer.privateKey });
      expect(r.code, r.stderr).to.equal(0);
      const d = readDeployment(file);
      expect(JSON.parse(r.stdout).contracts.ProofRegistry.address).to.equal(d.contracts.ProofRegistry.address);
      expect(d.network).to.equal("localhost");
      expect(await provider.getCode(d.contracts.CertifiedModelGate.address)).to.not.equal("0x");
      const reg = ProofRegistry__factory.connect(d.contracts.ProofRegistry.address, provider);
      expect(await reg.hasRole(await reg.VERIFIER_ROLE(), verifier)).to.equal(true);
      expect(Number(await reg.quorum())).to.equal(1);
      // Without a key, or with an unreachable RPC: a one-line reason and exit code 2.
      const noKey = await zkdl(["deploy", "--rpc", chain.url, "--deployment", file], { ZKDL_DEPLOYER_KEY: "" });
      expect(noKey.code).to.equal(2);
      expect(noKey.stderr).to.match(/^zkdl: set ZKDL_DEPLOYER_KEY/);
      const down = await zkdl(["deploy", "--rpc", "http://127.0.0.1:1", "--deployment", file], { ZKDL_DEPLOYER_KEY: deployer.privateKey });
      expect(down.code).to.equal(2);
      expect(down.stderr).to.match(/cannot reach the RPC/);
    });

    it("zkdl check proves a trained digit from a PNG, a JSON file or MNIST, and proves 'not a member' on chain for a test digit", async () => {
      writeFileSync(join(root, "digit.png"), digitPng(mnistDigit("train", 3).pixels));
      writeFileSync(join(root, "digit.json"), JSON.stringify(Array.from(mnistDigit("train", 4).pixels)));

      const fromPng = await zkdl(["check", runId, ...chainFlags(), "--image", join(root, "digit.png")]);
      expect(fromPng.code, fromPng.stderr).to.equal(0);
      expect(fromPng.stdout).to.match(/^member — record #3 — proven on chain\n  run 0x[0-9a-f]{64} \(the run is Verified on chain\)/);
      expect(fromPng.stdout).to.match(/Verified on chain/);
      expect(fromPng.stdout).to.match(/✓ Merkle proof on-chain/);

      const fromJson = JSON.parse((await zkdl(["check", runId, ...chainFlags(), "--pixels", join(root, "digit.json"), "--json"])).stdout);
      expect([fromJson.member, fromJson.index, fromJson.status, fromJson.certified]).to.deep.equal([true, 4, "Verified", true]);

      const untrained = await zkdl(["check", runId, ...chainFlags(), "--mnist", "test:0", "--json"]);
      expect(untrained.code).to.equal(0);
      const answer = JSON.parse(untrained.stdout);
      expect([answer.member, answer.provenOnChain, answer.certified]).to.deep.equal([false, true, true]);
      expect(BigInt(answer.gap.low) < BigInt(answer.fingerprint) && BigInt(answer.fingerprint) < BigInt(answer.gap.high)).to.equal(true);
      const human = await zkdl(["check", runId, ...chainFlags(), "--mnist", "test:0"]);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stdout).to.match(/^not a member — proven on chain\n  run 0x[0-9a-f]{64} \(the run is Verified on chain\)/);
      expect(human.stdout).to.match(/✓ non-membership on-chain \(ProofRegistry\.verifyNonMember\)/);
    });

    it("zkdl check: with no chain configured it says so (anchored: false); a chain configured but unusable is exit 2", async () => {
      const noChain = { ZKDL_REGISTRY: undefined, ZKDL_DEPLOYMENT: undefined };
      const human = await zkdl(["check", runId, "--api-url", served.api, "--mnist", "train:3", "--rpc", chain.url], noChain, root);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stdout).to.match(/^member — record #3 — checked against the run's manifest only \(no chain to check it on\)/);
      expect(human.stdout).to.match(/not checked on chain: no chain configured/);
      const json = await zkdl(["check", runId, "--api-url", served.api, "--mnist", "train:3", "--json"], noChain, root);
      expect(json.code, json.stderr).to.equal(0);
      expect([JSON.parse(json.stdout).member, JSON.parse(json.stdout).anchored]).to.deep.equal([true, false]);
      const anchored = await zkdl(["check", runId, ...chainFlags(), "--mnist", "train:3", "--json"]);
      expect(JSON.parse(anchored.stdout).anchored).to.equal(true);

      // Configured but unusable: no contract at the registry address; a deployment file for another chain.
      const wrongChain = join(root, "wrong-chain.json");
      writeFileSync(wrongChain, JSON.stringify({ ...served.deployment, chainId: "999999" }));
      const cases: [string[], RegExp][] = [
        [["--registry", Wallet.createRandom().address], /^zkdl: no contract at the registry 0x[0-9a-fA-F]{40} \(--registry .*\) on the chain at/],
        [["--deployment", wrongChain], /^zkdl: the RPC at .* is chain \d+, but the deployment file .*wrong-chain\.json is for chain 999999/],
      ];
      for (const [flags, message] of cases) {
        const r = await zkdl(["check", runId, "--api-url", served.api, "--mnist", "train:3", "--rpc", chain.url, "--json", ...flags], noChain, root);
        expect(r.code, `${flags.join(" ")}: ${r.stderr}`).to.equal(2);
        expect(r.stderr.trim().split("\n")).to.have.length(1);
        expect(r.stderr).to.match(message);
        expect(r.stdout).to.equal("");
      }
    });

    it("zkdl check fails with a one-line reason on bad input and unknown runs", async () => {
      const cases: [string[], number, RegExp][] = [
        [["check", "0x1234", "--mnist", "train:1"], 2, /not a run id/],
        [["check", runId, "--mnist", "train:1", "--pixels", "x.json"], 2, /exactly one of/],
        [["check", runId, "--image", join(root, "missing.png")], 2, /no such file/],
        [["check", runId, "--image", join(root, "digit.json")], 2, /not a PNG file/],
        [["check", runId, "--mnist", "valid:1"], 2, /train:<index> or test:<index>/],
        [["check", "0x" + "ab".repeat(32), "--mnist", "train:1"], 1, /unknown run|not registered|404/],
      ];
      for (const [args, code, message] of cases) {
        const r = await zkdl([...args, ...(args[1].length === 66 ? chainFlags() : [])]);
        expect(r.code, `${args.join(" ")}: ${r.stderr}`).to.equal(code);
        expect(r.stderr.trim().split("\n"), args.join(" ")).to.have.length(1);
        expect(r.stderr, args.join(" ")).to.match(message);
      }
    });
  });
});
