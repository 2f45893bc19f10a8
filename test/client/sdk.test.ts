/**
 * The SDK against a lying server: a real run served by the API (test/helpers/served.ts), with the
 * answers rewritten on the way. Every malformed field, wrong length, missing or extra field, and every
 * well-formed answer that contradicts the manifest must end in a MembershipCheckError that says what
 * is wrong; the untouched answers must pass. And the API itself refuses to send an answer its clients
 * would refuse (validateAnswers).
 */
import { expect } from "chai";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { join } from "node:path";
import { MembershipCheckError, WrongChainError, checkMembership, isCertified, membershipHeadline } from "../../client";
import { SqliteStore } from "../../relayer/store";
import { createApi } from "../../relayer/api";
import { daemonProvider } from "../../relayer/chain";
import { RunCatalog } from "../../relayer/runs";
import { mnistDigit } from "../../prover/records";
import { quantizeRequest } from "../../client/membership-request";
import { fingerprintLeafHash } from "../../core/dataset/fingerprint-tree";
import { fingerprintOf, fingerprintPoint } from "../../core/dataset/fingerprints";
import { type ServedRun, serveVerifiedRun } from "../helpers/served";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const pixels = (set: "train" | "test", i: number) => Array.from(mnistDigit(set, i).pixels);
const flip = (hex: string) => hex.slice(0, -1) + (hex.endsWith("0") ? "1" : "0");

/** A fetch that passes everything through but hands the membership answer to `lie` first. */
function lyingFetch(lie: (answer: Json, status: number) => { body: string; status?: number } | Json): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!String(input).endsWith("/membership")) return res;
    const out = lie(await res.json(), res.status);
    const { body, status } = typeof out?.body === "string" ? out : { body: JSON.stringify(out), status: undefined };
    return new Response(body, { status: status ?? 200, headers: { "content-type": "application/json" } });
  };
}

describe("client: the SDK against a lying server", function () {
  this.timeout(600_000);
  let served: ServedRun;
  before(async () => {
    served = await serveVerifiedRun({ brokenRun: true });
  });
  after(async () => {
    await served?.close();
  });

  async function outcome(record: number[], lie: Parameters<typeof lyingFetch>[0], chain = false): Promise<MembershipCheckError | "accepted"> {
    try {
      await checkMembership({ api: served.api, runId: served.runId, record: { pixels: record }, fetch: lyingFetch(lie), ...(chain ? { rpc: served.provider, registry: served.deployment.contracts.ProofRegistry.address } : {}) });
      return "accepted";
    } catch (e) {
      expect(e).to.be.instanceOf(MembershipCheckError);
      return e as MembershipCheckError;
    }
  }

  it("accepts the true answers, member and not, with and without the chain", async () => {
    expect(await outcome(pixels("train", 3), (a) => a, true)).to.equal("accepted");
    expect(await outcome(pixels("train", 3), (a) => a)).to.equal("accepted");
    expect(await outcome(pixels("test", 0), (a) => a)).to.equal("accepted");
    expect(await outcome(pixels("test", 0), (a) => a, true)).to.equal("accepted");
  });

  it("proves 'not a member' for a test digit, locally and on chain (ProofRegistry.verifyNonMember)", async () => {
    const registry = served.deployment.contracts.ProofRegistry.address;
    const r = await checkMembership({ api: served.api, runId: served.runId, record: { pixels: pixels("test", 0) }, rpc: served.provider, registry });
    expect(r.member).to.equal(false);
    expect(r.provenOnChain).to.equal(true);
    expect(r.certified).to.equal(true);
    expect(BigInt(r.gap!.low) < BigInt(r.fingerprint) && BigInt(r.fingerprint) < BigInt(r.gap!.high)).to.equal(true);
    expect(r.checked).to.include("non-membership on-chain (ProofRegistry.verifyNonMember)");
    // The fingerprint is the one the trainer's dataset would hold for this record (computed independently here).
    const run = served.catalog.get(served.runId)!;
    const x = quantizeRequest({ pixels: pixels("test", 0) }, run.manifest.data.features, run.manifest.model.fracBits);
    expect(r.fingerprint).to.equal(fingerprintOf(fingerprintPoint(run.key, x)));
    const offline = await checkMembership({ api: served.api, runId: served.runId, record: { pixels: pixels("test", 0) } });
    expect(offline.provenOnChain).to.equal(false);
    expect(offline.gap).to.deep.equal(r.gap);
  });

  it("says 'not proven' for a run on chain that is not certified (a Rejected run's trees are the publisher's word)", async () => {
    const registry = served.deployment.contracts.ProofRegistry.address;
    const r = await checkMembership({ api: served.api, runId: served.brokenRunId!, record: { pixels: pixels("test", 0) }, rpc: served.provider, registry });
    expect([r.member, r.provenOnChain, r.certified, r.status, r.proven]).to.deep.equal([false, true, false, "Rejected", false]);
    expect(membershipHeadline(r)).to.equal("not a member by the run's registered trees, NOT proven: the run is Rejected, not certified (its trees are the publisher's word until attestors verify the run)");
    const certified = await checkMembership({ api: served.api, runId: served.runId, record: { pixels: pixels("test", 0) }, rpc: served.provider, registry });
    expect([certified.proven, membershipHeadline(certified)]).to.deep.equal([true, "not a member — proven on chain"]);
    // A chain the checked server named (the page's default) could be its own: not called a proof.
    expect(membershipHeadline(certified, "server")).to.equal("not a member on the chain this server named — not a proof until you pin your own chain (?rpc=…&registry=…)");
    const offline = await checkMembership({ api: served.api, runId: served.runId, record: { pixels: pixels("train", 3) } });
    expect([offline.proven, membershipHeadline(offline)]).to.deep.equal([false, "member — record #3 — checked against the run's manifest only (no chain to check it on)"]);
  });

  it("catches a server that lies either way: 'not a member' for a trained record, 'member' for another", async () => {
    const run = served.catalog.get(served.runId)!;
    const trained = pixels("train", 3);
    const outsider = pixels("test", 0);
    const fingerprintOfRecord = (p: number[]) => fingerprintOf(fingerprintPoint(run.key, quantizeRequest({ pixels: p }, run.manifest.data.features, run.manifest.model.fracBits)));
    const f = fingerprintOfRecord(trained);
    expect(run.fingerprints.locate(f)).to.deep.equal({ member: true });
    // Every leaf of the real tree, each with its real proof, offered as the trained record's gap.
    const notMember = (a: Json, gap: number) => ({
      member: false,
      runId: a.runId,
      root: a.root,
      recordDigest: a.recordDigest,
      fingerprint: f,
      fingerprintRoot: run.manifest.dataset.fingerprintRoot,
      gap: run.fingerprints.gap(gap),
      leafHash: run.fingerprints.leafHash(gap),
      proof: run.fingerprints.getProof(gap),
    });
    for (let g = 0; g <= run.fingerprints.fingerprints; g++) {
      for (const chain of g % 16 === 0 ? [false, true] : [false]) {
        const e = await outcome(trained, (a) => notMember(a, g), chain);
        expect(e, `gap ${g}`).to.not.equal("accepted");
        expect((e as MembershipCheckError).check, `gap ${g}`).to.equal("gap");
      }
    }
    // A gap made up around the fingerprint: it is no leaf of the registered tree.
    const made = (a: Json) => ({ ...notMember(a, 0), gap: { low: "0x" + (BigInt(f) - 1n).toString(16).padStart(64, "0"), high: "0x" + (BigInt(f) + 1n).toString(16).padStart(64, "0") } });
    expect(((await outcome(trained, (a) => ({ ...made(a), leafHash: fingerprintLeafHash(made(a).gap) }))) as MembershipCheckError).check).to.equal("merkle proof");
    // A not-member answer about another fingerprint or under another root.
    expect(((await outcome(trained, (a) => ({ ...notMember(a, 0), fingerprint: fingerprintOfRecord(outsider) }))) as MembershipCheckError).check).to.equal("answer");
    expect(((await outcome(outsider, (a) => ({ ...a, fingerprintRoot: flip(a.fingerprintRoot) }))) as MembershipCheckError).check).to.equal("answer");
    // 'Member' for the outsider: the trained record's whole answer, relabelled with the outsider's digest.
    const memberAnswer: Json = await (await fetch(`${served.api}/v1/runs/${served.runId}/membership`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels: trained }) })).json();
    for (const chain of [false, true]) {
      const e = await outcome(outsider, (a) => ({ ...memberAnswer, recordDigest: a.recordDigest }), chain);
      expect((e as MembershipCheckError).check).to.equal("opening proof");
    }
  });

  it("the API answers non-membership with or without the client's fingerprint, and refuses a trained record's fingerprint for another record", async () => {
    const post = (body: Json) => fetch(`${served.api}/v1/runs/${served.runId}/membership`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const run = served.catalog.get(served.runId)!;
    const x = quantizeRequest({ pixels: pixels("test", 0) }, run.manifest.data.features, run.manifest.model.fracBits);
    const f = fingerprintOf(fingerprintPoint(run.key, x));
    const given: Json = await (await post({ pixels: pixels("test", 0), fingerprint: f.toUpperCase().replace("0X", "0x") })).json();
    expect(given.fingerprint).to.equal(f);
    // This server runs the TypeScript backend: it computes no fingerprint (170 ms of event loop each).
    const missing = await post({ pixels: pixels("test", 0) });
    expect([missing.status, ((await missing.json()) as Json).error.code]).to.deep.equal([400, "fingerprint_required"]);
    // A server on the native core computes it, and answers the same.
    const store = new SqliteStore(join(served.root, "zkdl.sqlite"));
    const server = createApi({ catalog: new RunCatalog(store, "native"), log: pino({ level: "silent" }), validateAnswers: true, web: false }).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/runs/${served.runId}/membership`;
      const computed: Json = await (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels: pixels("test", 0) }) })).json();
      expect(computed).to.deep.equal(given);
    } finally {
      server.close();
      store.close();
    }
    const trained = fingerprintOf(fingerprintPoint(run.key, quantizeRequest({ pixels: pixels("train", 3) }, run.manifest.data.features, run.manifest.model.fracBits)));
    const wrong = await post({ pixels: pixels("test", 0), fingerprint: trained });
    expect(wrong.status).to.equal(400);
    expect(((await wrong.json()) as Json).error.code).to.equal("wrong_fingerprint");
    const bad = await post({ pixels: pixels("test", 0), fingerprint: "0x1234" });
    expect(bad.status).to.equal(400);
    // A sentinel bounds a gap but lies in none: an answer about it would prove nothing.
    for (const sentinel of ["0x" + "00".repeat(32), "0x" + "ff".repeat(32)]) {
      const res = await post({ pixels: pixels("test", 0), fingerprint: sentinel });
      expect([res.status, ((await res.json()) as Json).error.code], sentinel).to.deep.equal([400, "wrong_fingerprint"]);
    }
  });

  it("refuses a chain endpoint on another chain id than the one expected, before reading the registry", async () => {
    const chainId = (await served.provider.getNetwork()).chainId;
    const registry = served.deployment.contracts.ProofRegistry.address;
    const record = { pixels: pixels("train", 3) };
    const wrong = await checkMembership({ api: served.api, runId: served.runId, record, rpc: served.provider, registry, chainId: chainId + 1n }).then(
      () => "accepted",
      (e: unknown) => e,
    );
    expect(wrong).to.be.instanceOf(MembershipCheckError);
    expect((wrong as MembershipCheckError).check).to.equal("chain");
    expect((wrong as Error).message).to.match(new RegExp(`on chain ${chainId}, not the expected chain ${chainId + 1n}`));
    expect((await checkMembership({ api: served.api, runId: served.runId, record, rpc: served.provider, registry, chainId })).member).to.equal(true);
    // Through a URL, as the page and the README pass it.
    const byUrl = await checkMembership({ api: served.api, runId: served.runId, record, rpc: served.chain.url, registry, chainId: String(chainId + 1n) }).then(
      () => "accepted",
      (e: unknown) => e,
    );
    expect((byUrl as MembershipCheckError).check).to.equal("chain");
    expect((await checkMembership({ api: served.api, runId: served.runId, record, rpc: served.chain.url, registry, chainId: "0x" + chainId.toString(16) })).member).to.equal(true);
    // A provider fixed to the expected network while its node is on another: the node is asked, not the setting.
    const pretending = daemonProvider(served.chain.url, chainId + 1n);
    try {
      const fooled = await checkMembership({ api: served.api, runId: served.runId, record, rpc: pretending, registry, chainId: chainId + 1n }).then(
        () => "accepted",
        (e: unknown) => e,
      );
      expect((fooled as MembershipCheckError).check, String(fooled)).to.equal("chain");
    } finally {
      pretending.destroy();
    }
    // A chain id that is not one, and half a chain, are the caller's mistakes.
    for (const bad of ["", "abc", "1.5", "-1", 0n]) {
      const e = await checkMembership({ api: served.api, runId: served.runId, record, rpc: served.chain.url, registry, chainId: bad }).then(() => "accepted", (x: unknown) => x);
      expect(e, JSON.stringify(String(bad))).to.be.instanceOf(TypeError);
    }
    for (const half of [{ rpc: served.chain.url }, { registry }, { chainId }]) {
      const e = await checkMembership({ api: served.api, runId: served.runId, record, ...half }).then(() => "accepted", (x: unknown) => x);
      expect(e, Object.keys(half).join()).to.be.instanceOf(TypeError);
    }
    let err: unknown;
    await isCertified({ rpc: served.provider, registry, runId: served.runId, chainId: chainId + 1n }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(WrongChainError);
    expect(await isCertified({ rpc: served.provider, registry, runId: served.runId, chainId: String(chainId) })).to.equal(true);
  });

  it("rejects a member answer with a malformed, missing or extra field, naming it", async () => {
    const cases: [string, (a: Json) => void, RegExp][] = [
      ["commitment one digit short", (a) => (a.commitment = a.commitment.slice(0, -1)), /commitment/],
      ["commitment one byte long", (a) => (a.commitment += "00"), /commitment/],
      ["commitment in capitals", (a) => (a.commitment = "0x" + a.commitment.slice(2).toUpperCase()), /commitment/],
      ["commitment without 0x", (a) => (a.commitment = a.commitment.slice(2)), /commitment/],
      ["opening z of 31 bytes", (a) => (a.opening.z = a.opening.z.slice(0, -2)), /opening\.z/],
      ["opening A missing", (a) => delete a.opening.A, /opening\.A/],
      ["opening with a blinding", (a) => (a.opening.rho = a.opening.z), /opening/],
      ["a Merkle sibling of 33 bytes", (a) => (a.proof[0] += "00"), /proof\.0/],
      ["a Merkle sibling as a number", (a) => (a.proof[1] = 7), /proof\.1/],
      ["the Merkle proof as a string", (a) => (a.proof = a.proof.join("")), /proof/],
      ["cxHash of 31 bytes", (a) => (a.leaf.cxHash = a.leaf.cxHash.slice(0, -2)), /leaf\.cxHash/],
      ["leaf index as a number", (a) => (a.leaf.index = Number(a.leaf.index)), /leaf\.index/],
      ["leaf index with a leading zero", (a) => (a.leaf.index = "0" + a.leaf.index), /leaf\.index/],
      ["index as a string", (a) => (a.index = String(a.index)), /index/],
      ["negative index", (a) => (a.index = -1), /index/],
      ["fractional index", (a) => (a.index = 2.5), /index/],
      ["leafHash missing", (a) => delete a.leafHash, /leafHash/],
      ["root of 31 bytes", (a) => (a.root = a.root.slice(0, -2)), /root/],
      ["record digest missing", (a) => delete a.recordDigest, /recordDigest/],
      ["run id of 20 bytes", (a) => (a.runId = a.runId.slice(0, 42)), /runId/],
      ["an extra field", (a) => (a.blinding = "0x" + "11".repeat(32)), /blinding|unrecognized/i],
      ["an extra leaf field", (a) => (a.leaf.x = [1, 2]), /leaf/],
      ["generators missing", (a) => delete a.generators, /generators/],
      ["member as a string", (a) => (a.member = "true"), /member/],
      ["no member flag", (a) => delete a.member, /member/],
    ];
    const record = pixels("train", 3);
    for (const [what, change, names] of cases) {
      const e = await outcome(record, (a) => (change(a), a));
      expect(e, what).to.not.equal("accepted");
      expect((e as MembershipCheckError).check, what).to.equal("answer");
      expect((e as MembershipCheckError).message, what).to.match(/malformed/).and.match(names);
    }
  });

  it("rejects well-formed answers that contradict the manifest or themselves", async () => {
    const cases: [string, (a: Json) => void, string, RegExp][] = [
      ["another run", (a) => (a.runId = flip(a.runId)), "answer", /another run/],
      ["another root", (a) => (a.root = flip(a.root)), "answer", /another root/],
      ["another record", (a) => (a.recordDigest = flip(a.recordDigest)), "answer", /another record/],
      ["a leaf for another index", (a) => (a.leaf.index = "4"), "answer", /leaf/],
      ["an index past the run", (a) => ((a.index = 64), (a.leaf.index = "64")), "answer", /out of range/],
      ["other generators", (a) => (a.generators.id = flip(a.generators.id)), "answer", /generators/],
      ["a commitment not in the leaf", (a) => (a.commitment = flip(a.commitment)), "commitment", /cxHash/],
      ["a leaf hash not the leaf's", (a) => (a.leafHash = flip(a.leafHash)), "leaf", /leaf hash/],
      ["a Merkle proof off the root", (a) => (a.proof[0] = flip(a.proof[0])), "merkle proof", /root/],
      ["an opening that does not open", (a) => (a.opening.z = flip(a.opening.z)), "opening proof", /./],
    ];
    for (const [what, change, check, says] of cases) {
      const e = await outcome(pixels("train", 3), (a) => (change(a), a));
      expect(e, what).to.not.equal("accepted");
      expect([(e as MembershipCheckError).check, (e as MembershipCheckError).message], what).to.satisfy(([c, m]: [string, string]) => c === check && says.test(m));
    }
  });

  it("without a chain, refuses a server that answers for an unrelated run id with a real run's manifest and answers", async () => {
    const fake = "0x" + "ab".repeat(32);
    // Everything asked about `fake` is answered from the real run, the answer's run id rewritten to match.
    const impersonating: typeof fetch = async (input, init) => {
      const url = String(input).replace(fake, served.runId);
      const res = await fetch(url, init);
      if (!url.endsWith("/membership")) return res;
      const answer: Json = await res.json();
      return new Response(JSON.stringify({ ...answer, runId: fake }), { status: res.status, headers: { "content-type": "application/json" } });
    };
    for (const [what, record] of [
      // Before the check, "not a member" for any run id was accepted, and a member was refused only by
      // the opening proof (its transcript binds the run id).
      ["a non-member", pixels("test", 0)],
      ["a member", pixels("train", 3)],
    ] as const) {
      const e = await checkMembership({ api: served.api, runId: fake, record: { pixels: record }, fetch: impersonating }).then(
        () => "accepted" as const,
        (err: unknown) => err,
      );
      expect(e, what).to.be.instanceOf(MembershipCheckError);
      expect((e as MembershipCheckError).check, what).to.equal("manifest");
      expect((e as MembershipCheckError).message, what).to.match(/does not give run id 0x(ab){32}/);
    }
  });

  it("rejects malformed not-member answers and bodies that are not answers", async () => {
    const outsider = pixels("test", 0);
    const cases: [string, (a: Json, status: number) => Json, string, RegExp][] = [
      ["a not-member answer without its proof", (a) => (delete a.proof, a), "answer", /malformed: proof/],
      ["a not-member answer with a member's field", (a) => ({ ...a, index: 0 }), "answer", /malformed/],
      ["a not-member answer without its root", (a) => ({ member: false, runId: a.runId, recordDigest: a.recordDigest }), "answer", /root/],
      ["an array", () => [], "answer", /malformed/],
      ["null", () => null, "answer", /malformed/],
      ["a string", () => "member", "answer", /malformed/],
      ["not JSON", () => ({ body: "<html>" }), "api", /non-JSON/],
      ["an error", () => ({ body: JSON.stringify({ error: { code: "busy", message: "try later" } }), status: 503 }), "api", /503: try later/],
      ["a malformed error", () => ({ body: JSON.stringify({ oops: 1 }), status: 500 }), "api", /500/],
    ];
    for (const [what, lie, check, says] of cases) {
      const e = await outcome(outsider, lie);
      expect(e, what).to.not.equal("accepted");
      expect([(e as MembershipCheckError).check, (e as MembershipCheckError).message], what).to.satisfy(([c, m]: [string, string]) => c === check && says.test(m));
    }
  });
});

describe("client: the API sends only answers its clients accept (validateAnswers)", () => {
  const log = pino({ level: "silent" });
  const catalog = { list: () => [], get: () => undefined } as unknown as RunCatalog;
  // A configuration the schema refuses: the registry is not an address.
  const publicChain = { rpcUrl: "http://127.0.0.1:8545", chainId: "31337", registry: "nope" };

  async function config(validateAnswers: boolean): Promise<{ status: number; body: Json }> {
    const server = createApi({ catalog, log, publicChain, validateAnswers, web: false }).listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/config`);
      return { status: res.status, body: await res.json() };
    } finally {
      server.close();
    }
  }

  it("answers 500 instead of an answer that does not match the client's schema, and sends it unchecked otherwise", async () => {
    expect(await config(true)).to.deep.equal({ status: 500, body: { error: { code: "internal", message: "internal error" } } });
    expect(await config(false)).to.deep.equal({ status: 200, body: { chain: publicChain } });
  });
});
