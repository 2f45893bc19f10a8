/**
 * The client SDK, for a dApp backend or a copyright owner's script: ask a zkdl API whether a record
 * was trained on, and check every part of the answer without trusting the server.
 *
 * `checkMembership` fetches the run's canonical manifest, checks that its digest and its publisher give
 * the run id (runIdOf) and, with an RPC, that the on-chain publisher does too and that its dataset root
 * is the registered one, quantizes
 * the record locally exactly as the server and the trainer do, and for a member verifies
 *   - the Schnorr proof that the leaf's commitment opens to this record (@noble/curves),
 *   - the leaf hash and the Merkle proof against the root (@openzeppelin/merkle-tree),
 *   - the same proof on-chain through ProofRegistry.verifyRecord (with an RPC);
 * and for a non-member, with the record's fingerprint computed here (keccak256(Σ x_k·G_k), §5.3),
 *   - that the answer's gap of the fingerprint tree holds it strictly, and the gap's Merkle proof
 *     against the manifest's fingerprint root (@openzeppelin/merkle-tree),
 *   - the same on-chain through ProofRegistry.verifyNonMember (with an RPC): "not a member, proven on
 *     chain" — which holds while the run is certified (attestors checked that the tree is exactly the
 *     dataset's fingerprints; `certified` says whether it is).
 * Any failed check throws MembershipCheckError naming it, so a server that lies either way is caught.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak256 } from "ethers";
import type { z } from "zod";
import { fromHex, g1FromBytes, toHex } from "../core/crypto/bn254";
import { BYTES32_HEX_LOWER as HEX32 } from "../core/crypto/hex";
import { recordDigest, verifyRecordOpening } from "../core/dataset/membership";
import { type FingerprintGap, fingerprintLeafHash, inGap, verifyNonMembership } from "../core/dataset/fingerprint-tree";
import { fingerprintOf, fingerprintPoint } from "../core/dataset/fingerprints";
import { DATASET_LEAF_ENCODING, datasetLeafHash } from "../core/dataset/tree";
import { commitmentKey, generatorSetId } from "../core/protocol/generators";
import { type Manifest, digestHex, parseManifest } from "../core/run/manifest";
import { type DatasetLeaf, type MembershipRequest, errorAnswer, firstIssue, membershipAnswer } from "./api";
import { quantizeRequest } from "./membership-request";
import { type ChainEndpoint, WrongChainError, openRegistry } from "./registry-abi";
import { RunStatus, type RunStatusName, runIdOf } from "./registry";

/** An answer that does not check out; `check` names what failed ("api", "answer", "opening proof", …). */
export class MembershipCheckError extends Error {
  constructor(readonly check: string, message: string) {
    super(`${check}: ${message}`);
    this.name = "MembershipCheckError";
  }
}

export interface CheckMembershipOptions extends Partial<ChainEndpoint> {
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  readonly api: string;
  readonly runId: string;
  /** The record: 8-bit pixels, the same as base64 bytes, or real features (see the API). */
  readonly record: MembershipRequest;
  readonly fetch?: typeof fetch;
}

export interface MembershipResult {
  readonly member: boolean;
  readonly runId: string;
  readonly root: string;
  readonly recordDigest: string;
  /** The record's fingerprint, computed here (a non-member's gap holds it). */
  readonly fingerprint: string;
  readonly index?: number;
  readonly leaf?: DatasetLeaf;
  /** A non-member's gap of the fingerprint tree (its leaf). */
  readonly gap?: FingerprintGap;
  /** The Merkle proof: of the dataset leaf for a member, of the gap for a non-member. */
  readonly proof?: string[];
  /** Whether the answer was also checked by the registry (verifyRecord / verifyNonMember). */
  readonly provenOnChain: boolean;
  /**
   * Whether the answer is proven: checked on chain against a certified run. The registry checks
   * Merkle proofs against whatever roots the publisher registered; only the attestors' quorum says
   * the roots are the dataset's (for non-membership: that the fingerprint tree is exactly its
   * fingerprints, docs/protocol.md §5.3).
   */
  readonly proven: boolean;
  /** The run's on-chain status (with an RPC). */
  readonly status?: RunStatusName;
  readonly certified?: boolean;
  /** What was verified, by name. */
  readonly checked: string[];
}


/**
 * Fetches `url` and parses the JSON answer with `schema`: an error status or a body that is not JSON is
 * a MembershipCheckError "api", a body that does not match the schema one "answer".
 */
async function getJson<T>(f: typeof fetch, url: string, schema: z.ZodType<T>, init?: RequestInit): Promise<T> {
  const res = await f(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MembershipCheckError("api", `${url} answered ${res.status} with non-JSON`);
  }
  if (!res.ok) {
    const e = errorAnswer.safeParse(body);
    throw new MembershipCheckError("api", `${url} answered ${res.status}: ${e.success ? e.data.error.message : text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new MembershipCheckError("answer", `malformed: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** Asks the API whether `record` is in the run, and verifies the answer (see the module comment). */
export async function checkMembership(o: CheckMembershipOptions): Promise<MembershipResult> {
  const f = o.fetch ?? fetch;
  const api = o.api.replace(/\/+$/, "");
  const runId = o.runId.toLowerCase();
  if (!HEX32.test(runId)) throw new TypeError("runId must be a 0x-prefixed 32-byte hex string");
  // Half a chain is a mistake, not a request to skip the chain's checks.
  if (!o.rpc !== !o.registry || (o.chainId !== undefined && !o.rpc)) throw new TypeError("give rpc and registry together (and chainId only with them), or none of them to check without the chain");
  const checked: string[] = [];
  const fail: (check: string, message: string) => never = (check, message) => {
    throw new MembershipCheckError(check, message);
  };

  // The manifest fixes the quantization, the generators and the root.
  const manifestRes = await f(`${api}/v1/runs/${runId}/manifest`);
  if (!manifestRes.ok) fail("api", `manifest request answered ${manifestRes.status}`);
  const manifestBytes = new Uint8Array(await manifestRes.arrayBuffer());
  let manifest: Manifest;
  try {
    manifest = parseManifest("manifest", manifestBytes);
  } catch (e) {
    return fail("manifest", (e as Error).message);
  }
  const manifestDigest = digestHex(manifestBytes);
  // Without a chain, the run id is the only thing that binds the served manifest to the run asked
  // about: it must be runIdOf(manifest.publisher, digest), or a server could answer for any run id
  // with a run of its own.
  if (runIdOf(manifest.publisher, manifestDigest).toLowerCase() !== runId) fail("manifest", `the served manifest (digest ${manifestDigest}, publisher ${manifest.publisher}) does not give run id ${runId}`);

  let chain: Awaited<ReturnType<typeof openRegistry>> | undefined;
  try {
    chain = o.rpc && o.registry ? await openRegistry({ rpc: o.rpc, registry: o.registry, ...(o.chainId === undefined ? {} : { chainId: o.chainId }) }) : undefined;
  } catch (e) {
    if (e instanceof WrongChainError) fail("chain", e.message);
    throw e;
  }
  try {
    const registry = chain?.registry;
    let status: RunStatusName | undefined;
    let certified: boolean | undefined;
    if (registry) {
      const run = await registry.getRun(runId);
      const code = Number(run.status);
      if (code === RunStatus.None) fail("chain", `run ${runId} is not registered`);
      if (runIdOf(run.publisher, manifestDigest) !== runId) fail("manifest", "the served manifest is not the one the run id commits to");
      if (run.datasetRoot.toLowerCase() !== manifest.dataset.root) fail("chain", "the manifest's dataset root is not the registered one");
      if (run.fingerprintRoot.toLowerCase() !== manifest.dataset.fingerprintRoot) fail("chain", "the manifest's fingerprint root is not the registered one");
      status = RunStatus[code] as RunStatusName | undefined;
      if (status === undefined) fail("chain", `the registry reports an unknown status ${code}`);
      certified = await registry.isCertified(runId);
      checked.push("manifest matches the run id and the on-chain roots (dataset, fingerprints)");
    }

    const x = quantizeRequest(o.record, manifest.data.features, manifest.model.fracBits);
    const digest = recordDigest(x);
    if (toHex(generatorSetId(manifest.generators.label, manifest.generators.size)) !== manifest.generators.id) fail("manifest", "generator-set id does not match its label and size");
    // Feature rows are committed over the set's first paddedLayers[0] generators (dataset/commitments.ts).
    const key = commitmentKey(manifest.model.paddedLayers[0], { label: manifest.generators.label });
    const fingerprint = fingerprintOf(fingerprintPoint(key, x));
    const request = { ...o.record, fingerprint };
    const answer = await getJson(f, `${api}/v1/runs/${runId}/membership`, membershipAnswer, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    if (answer.runId !== runId) fail("answer", "answers for another run");
    if (answer.root !== manifest.dataset.root) fail("answer", "gives another root than the manifest's");
    if (answer.recordDigest !== digest) fail("answer", "is about another record (digest differs)");
    const base = { runId, root: manifest.dataset.root, recordDigest: digest, fingerprint, status, certified };
    if (!answer.member) {
      // "Not a member" is proven: the record's fingerprint lies strictly inside a gap of the run's fingerprint tree.
      const { gap, proof } = answer;
      if (answer.fingerprint !== fingerprint) fail("answer", "is about another fingerprint than this record's");
      if (answer.fingerprintRoot !== manifest.dataset.fingerprintRoot) fail("answer", "gives another fingerprint root than the manifest's");
      if (!inGap(fingerprint, gap)) fail("gap", "does not hold the record's fingerprint (a trained record's fingerprint is in no gap)");
      if (answer.leafHash !== fingerprintLeafHash(gap)) fail("gap", "leaf hash is not the gap's");
      if (!verifyNonMembership(manifest.dataset.fingerprintRoot, fingerprint, gap, proof)) fail("merkle proof", "the gap's proof does not lead to the fingerprint root");
      checked.push("non-membership: the fingerprint's gap and its Merkle proof (@openzeppelin/merkle-tree)");
      if (registry) {
        if (!(await registry.verifyNonMember(runId, fingerprint, gap.low, gap.high, proof))) fail("chain", "ProofRegistry.verifyNonMember rejects the proof");
        checked.push("non-membership on-chain (ProofRegistry.verifyNonMember)");
      }
      return { member: false, ...base, gap, proof, provenOnChain: registry !== undefined, proven: registry !== undefined && certified === true, checked };
    }

    const { index, leaf, proof } = answer;
    if (index >= manifest.dataset.size) fail("answer", `index ${index} out of range (the run has ${manifest.dataset.size} records)`);
    if (leaf.index !== String(index)) fail("answer", "the leaf is not the answer's index");
    if (answer.generators.id !== manifest.generators.id || answer.generators.label !== manifest.generators.label) fail("answer", "names other generators than the manifest's");
    if (keccak256(answer.commitment) !== leaf.cxHash) fail("commitment", "does not hash to the leaf's cxHash");

    let cx;
    try {
      cx = g1FromBytes(fromHex(answer.commitment));
    } catch (e) {
      return fail("commitment", (e as Error).message);
    }
    let opens = false;
    try {
      opens = verifyRecordOpening({ key, runId, index, cx, x }, answer.opening);
    } catch (e) {
      fail("opening proof", (e as Error).message);
    }
    if (!opens) fail("opening proof", "the commitment does not provably open to this record");
    checked.push("opening proof (Schnorr, @noble/curves)");

    const tuple = [leaf.index, leaf.cxHash, leaf.cyHash];
    if (answer.leafHash !== datasetLeafHash({ index: BigInt(leaf.index), cxHash: leaf.cxHash, cyHash: leaf.cyHash })) fail("leaf", "leaf hash is not the leaf's");
    if (!StandardMerkleTree.verify(manifest.dataset.root, [...DATASET_LEAF_ENCODING], tuple, proof)) fail("merkle proof", "does not lead to the root");
    checked.push("Merkle proof (@openzeppelin/merkle-tree)");

    if (registry) {
      if (!(await registry.verifyRecord(runId, BigInt(leaf.index), leaf.cxHash, leaf.cyHash, proof))) fail("chain", "ProofRegistry.verifyRecord rejects the proof");
      checked.push("Merkle proof on-chain (ProofRegistry.verifyRecord)");
    }
    return { member: true, ...base, index, leaf, proof, provenOnChain: registry !== undefined, proven: registry !== undefined && certified === true, checked };
  } finally {
    chain?.close();
  }
}

/**
 * The answer in one line, as `zkdl check` and the web page say it: "proven on chain" only for a
 * certified run on a chain the asker chose (`chain`: "own", the default — flags, a deployment file, a
 * page address that pins it — or "server", named by the server being checked, which could name a
 * chain of its own); for a run checked on chain but not certified, that its trees are the publisher's
 * word; without a chain, that only the manifest the run id commits to was checked.
 */
export function membershipHeadline(r: MembershipResult, chain: "own" | "server" = "own"): string {
  const what = r.member ? `member — record #${r.index}` : "not a member";
  if (r.proven && chain === "own") return `${what} — proven on chain`;
  if (r.proven) return `${what} on the chain this server named — not a proof until you pin your own chain (?rpc=…&registry=…)`;
  if (r.provenOnChain) return `${what} by the run's registered trees, NOT proven: the run is ${r.status}, not certified (its trees are the publisher's word until attestors verify the run)`;
  return `${what} — checked against the run's manifest only (no chain to check it on)`;
}

/** Whether the run is Verified on chain (what a gate checks); WrongChainError if the RPC is not on `chainId`. */
export async function isCertified(o: ChainEndpoint & { runId: string }): Promise<boolean> {
  const chain = await openRegistry(o);
  try {
    return await chain.registry.isCertified(o.runId);
  } finally {
    chain.close();
  }
}
