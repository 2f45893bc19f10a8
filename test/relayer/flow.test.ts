import { expect } from "chai";
import hre from "hardhat";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { JsonRpcProvider } from "ethers";
import { mnistRecords, mnistTestRecords } from "../../prover/records";
import { decodeOpenings } from "../../core/run/formats";
import { serveApi } from "../helpers/api";
import { runAttestor } from "../../relayer/attestor";
import { daemonProvider } from "../../relayer/chain";
import { RunStatus } from "../../client/registry";
import { publishRun, runRelayer } from "../../relayer/relay";
import { RunCatalog } from "../../relayer/runs";
import { MembershipCheckError, checkMembership, isCertified } from "../../client/sdk";
import { SqliteStore } from "../../relayer/store";
import { ProofRegistry__factory } from "../../typechain-types";
import { CHAIN_CLIENTS, type TestChain, badProofCopy, startChain, trainSmallRun } from "../helpers/chain";
import { readFileSync } from "node:fs";
import { Wallet, parseEther } from "ethers";
import type { Deployment } from "../../relayer/deployment";

const silent = pino({ level: "silent" });

/** The 8-bit pixels of a quantized MNIST record (x = round(b·2^16/255) is invertible). */
const pixelsOf = (x: Int32Array, i: number) => Array.from(x.subarray(i * 784, (i + 1) * 784), (v) => Math.round((v * 255) / 65536));

describe("relayer: publish → relay → attest → Verified, and the membership API", function () {
  this.timeout(600_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-flow-"));
  const good = join(root, "good");
  const bad = join(root, "bad");
  // One publisher for both chains: the run is proven for it.
  const publisherKey = Wallet.createRandom();
  before(() => {
    trainSmallRun(good, publisherKey.address);
    badProofCopy(good, bad);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  // Once per chain client: the same story against Hardhat's network and against anvil.
  for (const client of CHAIN_CLIENTS)
    describe(`on ${client}`, () => {
      let chain: TestChain;
      let deployment: Deployment;
      let publisher: Wallet, relayer: Wallet, attestorA: Wallet, attestorB: Wallet;
      let store: SqliteStore;
      let server: Server;
      let api: string;
      let provider: JsonRpcProvider;
      let goodId: string, badId: string;

      before(async () => {
        chain = await startChain(client);
        [relayer, attestorA, attestorB] = [await chain.fundedWallet(), await chain.fundedWallet(), await chain.fundedWallet()];
        publisher = new Wallet(publisherKey.privateKey);
        await chain.setBalance(publisher.address, parseEther("100"));
        deployment = await chain.deploy([attestorA.address, attestorB.address]);
        provider = daemonProvider(chain.url, BigInt(deployment.chainId));
        store = new SqliteStore(join(root, `${client}.sqlite`));
        const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, provider);
        ({ server, url: api } = await serveApi({ catalog: new RunCatalog(store), registry, log: silent, statusTtlMs: 0 }));
      });
      after(async () => {
        server?.close();
        store?.close();
        provider?.destroy();
        await chain?.close();
      });

      const registryAddress = () => deployment.contracts.ProofRegistry.address;
      const relay = () => runRelayer({ store, wallet: relayer, provider, registry: registryAddress(), log: silent, once: true, sender: { pollMs: 50 } });
      const attest = (w: Wallet) =>
        runAttestor({ store, wallet: w, provider, registry: registryAddress(), fromBlock: deployment.contracts.ProofRegistry.blockNumber, log: silent, once: true, sender: { pollMs: 50 } });
      const registry = () => ProofRegistry__factory.connect(registryAddress(), provider);
      const getJson = async (path: string) => {
        const res = await fetch(api + path);
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };

      it("publishes two runs, relays them once each, and two attestors decide them: Verified and Rejected", async () => {
        const pub = publisher.connect(provider);
        const a = await publishRun({ store, dir: good, publisher: pub, registry: registryAddress(), relayer: relayer.address, apiUrl: api });
        const b = await publishRun({ store, dir: bad, publisher: pub, registry: registryAddress(), relayer: relayer.address, apiUrl: api });
        [goodId, badId] = [a.runId, b.runId];
        expect(a.queued && b.queued).to.equal(true);
        // Publishing again is a no-op.
        expect((await publishRun({ store, dir: good, publisher: pub, registry: registryAddress(), relayer: relayer.address, apiUrl: api })).queued).to.equal(false);

        const settled = await relay();
        expect(settled.map((j) => j.status)).to.deep.equal(["confirmed", "confirmed"]);
        expect(Number(await registry().statusOf(goodId))).to.equal(RunStatus.Registered);
        const run = await registry().getRun(goodId);
        expect(run.publisher).to.equal(publisher.address); // the record names the publisher, the relayer paid
        const logs = await registry().queryFilter(registry().filters.RunRegistered(goodId));
        expect(logs).to.have.length(1);
        expect(logs[0].args.submitter).to.equal(relayer.address);
        expect(logs[0].args.record.bundleURI).to.equal(`${api}/v1/runs/${goodId}/bundle`);

        await attest(attestorA);
        expect(Number(await registry().statusOf(goodId))).to.equal(RunStatus.Registered); // one of two
        await attest(attestorB);
        expect(Number(await registry().statusOf(goodId))).to.equal(RunStatus.Verified);
        expect(Number(await registry().statusOf(badId))).to.equal(RunStatus.Rejected);
        const decided = store.attestation(badId, attestorA.address)!;
        expect(decided.valid).to.equal(false);
        expect(decided.reason).to.match(/window 0 \(steps? 0/);
        expect(store.attestation(goodId, attestorB.address)!.valid).to.equal(true);
        expect(await isCertified({ rpc: provider, registry: registryAddress(), runId: goodId })).to.equal(true);

        // Running everything again sends nothing.
        const nonces = await Promise.all([relayer, attestorA, attestorB].map((w) => provider.getTransactionCount(w.address)));
        await relay();
        await attest(attestorA);
        await attest(attestorB);
        expect(await Promise.all([relayer, attestorA, attestorB].map((w) => provider.getTransactionCount(w.address)))).to.deep.equal(nonces);
      });

      it("serves runs with their live on-chain status, the manifest, the dataset and the bundle", async () => {
        const runs = await getJson("/v1/runs");
        expect(runs.status).to.equal(200);
        const byId = Object.fromEntries(runs.body.runs.map((r: any) => [r.runId, r]));
        expect(byId[goodId].chain.status).to.equal("Verified");
        expect(byId[badId].chain.status).to.equal("Rejected");
        const one = await getJson(`/v1/runs/${goodId}`);
        expect(one.body.manifest.dataset.root).to.equal(one.body.dataset.root);
        const manifest = await fetch(`${api}/v1/runs/${goodId}/manifest`);
        expect(Buffer.from(await manifest.arrayBuffer()).equals(readFileSync(join(good, "manifest.json")))).to.equal(true);
        const dataset = await getJson(`/v1/runs/${goodId}/dataset`);
        expect(dataset.body.commitments).to.have.length(64);
        expect(dataset.body.tree.format).to.equal("standard-v1");
        const bundle = await fetch(`${api}/v1/runs/${goodId}/bundle`);
        expect(bundle.headers.get("content-type")).to.match(/octet-stream/);
        const health = await getJson("/healthz");
        expect(health.body.ok).to.equal(true);
        const metrics = await (await fetch(`${api}/metrics`)).text();
        expect(metrics).to.match(/zkdl_http_request_duration_seconds_bucket/);
        const openapi = await getJson("/v1/openapi.json");
        expect(openapi.body.paths).to.have.property("/v1/runs/{runId}/membership");
        expect((await getJson("/v1/config")).body).to.deep.equal({ chain: null });
        // Public MNIST digits: training digit i is record i of a run made from the mnist loader.
        const examples = (await getJson("/v1/examples/mnist?set=train&from=2&count=3")).body.examples;
        expect(examples.map((e: any) => e.index)).to.deep.equal([2, 3, 4]);
        const records = mnistRecords(5, 16);
        expect(examples[1].pixels.map((b: number) => Math.round((b * 65536) / 255))).to.deep.equal(Array.from(records.x.subarray(3 * 784, 4 * 784)));
        expect(examples[1].label).to.equal(records.labels[3]);
        const distinct = (await getJson("/v1/examples/mnist?set=test&count=10&distinct=true")).body.examples;
        expect(new Set(distinct.map((e: any) => e.label)).size).to.equal(10);
        for (const q of ["set=valid", "set=train&count=65", "set=train&from=-1", "set=train&extra=1", "count=2"]) {
          const bad = await getJson(`/v1/examples/mnist?${q}`);
          expect([bad.status, bad.body.error.code], q).to.deep.equal([400, "bad_query"]);
        }
      });

      it("answers membership with proofs that verify locally, with OpenZeppelin's library and on-chain", async () => {
        const records = mnistRecords(64, 16);
        for (const i of [0, 17, 63]) {
          const result = await checkMembership({ api, rpc: provider, registry: registryAddress(), runId: goodId, record: { pixels: pixelsOf(records.x, i) } });
          expect(result.member).to.equal(true);
          expect(result.index).to.equal(i);
          expect(result.status).to.equal("Verified");
          expect(result.checked).to.have.length(4);
        }
        const viaImage = await checkMembership({ api, runId: goodId, record: { image: Buffer.from(pixelsOf(records.x, 5)).toString("base64") } });
        expect(viaImage.index).to.equal(5);
        // A test digit was never trained on.
        const test = mnistTestRecords(16);
        const outsider = await checkMembership({ api, rpc: provider, registry: registryAddress(), runId: goodId, record: { pixels: pixelsOf(test.x, 0) } });
        expect(outsider.member).to.equal(false);
      });

      it("never sends a blinding factor, and the SDK rejects every tampered answer", async () => {
        const records = mnistRecords(64, 16);
        const pixels = pixelsOf(records.x, 3);
        const res = await fetch(`${api}/v1/runs/${goodId}/membership`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels }) });
        const text = await res.text();
        const openings = decodeOpenings("openings", readFileSync(join(good, "private/openings.bin")));
        for (const rho of [...openings.xBlinds, ...openings.yBlinds]) expect(text).to.not.include(rho.toString(16).padStart(64, "0"));
        const answer = JSON.parse(text);
        expect(Object.keys(answer).sort()).to.deep.equal(["commitment", "generators", "index", "leaf", "leafHash", "member", "opening", "proof", "recordDigest", "root", "runId"]);

        const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");
        const tamperings: [string, (a: any) => void][] = [
          ["nothing (control)", () => {}],
          ["opening z", (a) => (a.opening.z = flip(a.opening.z))],
          ["opening A", (a) => (a.opening.A = answer.commitment)],
          ["index", (a) => (a.index = 4)],
          ["leaf index", (a) => (a.leaf.index = "4")],
          ["cyHash", (a) => (a.leaf.cyHash = flip(a.leaf.cyHash))],
          ["Merkle proof", (a) => (a.proof[0] = flip(a.proof[0]))],
          ["commitment", (a) => (a.commitment = flip(a.commitment))],
          ["root", (a) => (a.root = flip(a.root))],
          ["record digest", (a) => (a.recordDigest = flip(a.recordDigest))],
        ];
        for (const [what, change] of tamperings) {
          const evil: typeof fetch = async (input, init) => {
            const r = await fetch(input, init);
            if (!String(input).endsWith("/membership")) return r;
            const body = await r.json();
            change(body);
            return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
          };
          let error: unknown;
          try {
            await checkMembership({ api, rpc: provider, registry: registryAddress(), runId: goodId, record: { pixels }, fetch: evil });
          } catch (e) {
            error = e;
          }
          if (what.startsWith("nothing")) expect(error, what).to.equal(undefined);
          else expect(error, what).to.be.instanceOf(MembershipCheckError);
        }
      });

      it("shows a revocation", async () => {
        await (await registry().connect(publisher.connect(provider)).revoke(goodId, "withdrawn by the publisher")).wait();
        const one = await getJson(`/v1/runs/${goodId}`);
        expect(one.body.chain.status).to.equal("Revoked");
        expect(await isCertified({ rpc: provider, registry: registryAddress(), runId: goodId })).to.equal(false);
      });

      it("answers bad input with a 4xx and a reason, and stays up", async () => {
        const post = (path: string, body: string, type = "application/json") => fetch(api + path, { method: "POST", headers: { "content-type": type }, body });
        const m = `/v1/runs/${goodId}/membership`;
        const cases: [Promise<Response>, number, string][] = [
          [fetch(`${api}/v1/runs/0x1234`), 400, "bad_run_id"],
          [fetch(`${api}/v1/runs/0x${"ab".repeat(32)}`), 404, "unknown_run"],
          [post(`/v1/runs/0x${"ab".repeat(32)}/membership`, "{}"), 404, "unknown_run"],
          [post(m, "{not json"), 400, "bad_json"],
          [post(m, "{}"), 400, "bad_record"],
          [post(m, JSON.stringify({ pixels: [1, 2, 3] })), 400, "wrong_record_size"],
          [post(m, JSON.stringify({ pixels: new Array(784).fill(256) })), 400, "bad_record"],
          [post(m, JSON.stringify({ pixels: new Array(784).fill("a") })), 400, "bad_record"],
          [post(m, JSON.stringify({ pixels: new Array(784).fill(0), features: [1] })), 400, "bad_record"],
          [post(m, JSON.stringify({ features: new Array(784).fill(1e300) })), 400, "value_out_of_range"],
          [post(m, JSON.stringify({ image: "!!!" })), 400, "bad_record"],
          [post(m, JSON.stringify([1, 2])), 400, "bad_record"],
          [post(m, "null"), 400, "bad_json"],
          [post(m, "x".repeat(300_000)), 413, "body_too_large"],
          [post(m, "pixels=1", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"],
          [fetch(`${api}/v1/runs/${goodId}/records/64/proof`), 404, "unknown_record"],
          [fetch(`${api}/v1/runs/${goodId}/records/-1/proof`), 400, "bad_index"],
          [fetch(`${api}/v1/runs/${goodId}/records/1e3/proof`), 400, "bad_index"],
          [fetch(`${api}/v1/nothing`), 404, "not_found"],
        ];
        for (const [request, status, code] of cases) {
          const res = await request;
          const body = (await res.json()) as { error: { code: string; message: string } };
          expect([res.status, body.error.code], `${code}`).to.deep.equal([status, code]);
          expect(body.error.message).to.be.a("string").and.not.equal("");
        }
        // Random bodies: never a 5xx.
        let seed = 7;
        const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const junk = () => {
          const pick = Math.floor(rand() * 6);
          if (pick === 0) return JSON.stringify({ pixels: Array.from({ length: Math.floor(rand() * 900) }, () => Math.floor(rand() * 300) - 20) });
          if (pick === 1) return JSON.stringify({ features: Array.from({ length: 784 }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 12)) });
          if (pick === 2) return JSON.stringify({ image: Buffer.from(Array.from({ length: Math.floor(rand() * 1000) }, () => Math.floor(rand() * 256))).toString("base64") });
          if (pick === 3) return JSON.stringify({ [String(rand())]: rand() });
          if (pick === 4) return Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256))).toString("latin1");
          return JSON.stringify(rand() < 0.5 ? "string" : 42);
        };
        for (let i = 0; i < 60; i++) {
          const res = await post(m, junk());
          expect(res.status, `random body ${i}`).to.be.lessThan(500);
        }
        expect((await fetch(`${api}/healthz`)).status).to.equal(200);
        void hre;
      });

      it("rate-limits a client that sends too much", async () => {
        const { server: limited, url: base } = await serveApi({ catalog: new RunCatalog(store), log: silent, rateLimitPerMinute: 5 });
        const url = `${base}/v1/runs`;
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) statuses.push((await fetch(url)).status);
        limited.close();
        expect(statuses.slice(0, 5).every((s) => s === 200)).to.equal(true);
        expect(statuses.slice(5)).to.deep.equal([429, 429]);
      });
    });
});
