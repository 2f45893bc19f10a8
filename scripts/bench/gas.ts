/**
 * Gas benchmark of the registry, one row per scenario (gas is deterministic: one run each suffices).
 * Transactions report receipt gasUsed (intrinsic included); views report execution gas measured inside
 * the EVM by GasProbe (cold storage, warm target account), as the "execution gas" target means.
 *
 *   npm run bench:gas
 */
import hre from "hardhat";
import { standardLeafHash, standardNodeHash } from "@openzeppelin/merkle-tree/dist/hashes.js";
import type { ContractTransactionResponse } from "ethers";
import { buildDatasetTree, datasetLeafHash } from "../../core/dataset/tree";
import { registryDomain, runIdOf, signRegistration, type RunRecord } from "../../client/registry";

const { ethers } = hre;
let counter = 0;
const fresh = () => ethers.keccak256(ethers.toBeHex(++counter, 32));
// The fingerprint values come from a stream of their own, so the other rows' inputs stay those of
// earlier tables (same leaves, proofs and multiproof positions) and their figures compare exactly.
let fingerprintCounter = 0;
const freshFingerprint = () => ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("fingerprint"), ethers.toBeHex(++fingerprintCounter, 32)]));

function record(modelId = fresh()): RunRecord {
  const manifestDigest = fresh();
  return {
    modelId,
    datasetRoot: fresh(),
    fingerprintRoot: freshFingerprint(),
    datasetSize: 10_000n,
    manifestDigest,
    initialWeightsDigest: fresh(),
    finalWeightsDigest: fresh(),
    numSteps: 100n,
    bundleURI: `http://127.0.0.1:8080/v1/runs/${fresh()}/bundle`,
  };
}

async function gas(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  return (await (await tx).wait())!.gasUsed;
}

async function main() {
  const [admin, publisher, relayer, vA, vB] = await ethers.getSigners();
  const registry = await ethers.deployContract("ProofRegistry", [admin!.address, 2]);
  const role = await registry.VERIFIER_ROLE();
  await registry.grantRole(role, vA!.address);
  await registry.grantRole(role, vB!.address);
  const probe = await ethers.deployContract("GasProbe");
  const rows: [string, bigint, string][] = [];

  const register = async (modelId?: string) => {
    const rec = record(modelId);
    const g = await gas(registry.connect(publisher!).registerRun(rec));
    return { rec, runId: runIdOf(publisher!.address, rec.manifestDigest), g };
  };

  const first = await register();
  rows.push(["registerRun (URI of 98 bytes)", first.g, "≤ 170,000"]);

  const { chainId } = await ethers.provider.getNetwork();
  const domain = registryDomain(await registry.getAddress(), chainId);
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
  for (const label of ["registerRunFor (publisher's first nonce)", "registerRunFor (later nonce)"]) {
    const rec = record();
    const s = await signRegistration(publisher!, domain, rec, await registry.nonces(publisher!.address), deadline);
    rows.push([label, await gas(registry.connect(relayer!).registerRunFor(rec, s.publisher, deadline, s.signature)), ""]);
  }

  rows.push(["attest, not deciding", await gas(registry.connect(vA!).attest(first.runId, true, fresh())), "≤ 80,000"]);
  rows.push(["attest, deciding → Verified (model's first)", await gas(registry.connect(vB!).attest(first.runId, true, fresh())), ""]);
  const second = await register(first.rec.modelId);
  await registry.connect(vA!).attest(second.runId, true, fresh());
  rows.push(["attest, deciding → Verified (model seen before)", await gas(registry.connect(vB!).attest(second.runId, true, fresh())), ""]);
  const third = await register();
  await registry.connect(vA!).attest(third.runId, false, fresh());
  rows.push(["attest, deciding → Rejected", await gas(registry.connect(vB!).attest(third.runId, false, fresh())), ""]);
  rows.push(["revoke (Verified, 16-byte reason)", await gas(registry.connect(publisher!).revoke(second.runId, "weights replaced")), ""]);

  for (const depth of [10, 16, 20]) {
    const leaf = { index: 12345n, cxHash: fresh(), cyHash: fresh() };
    const proof = Array.from({ length: depth }, fresh);
    const root = proof.reduce((node, sibling) => standardNodeHash(node, sibling), datasetLeafHash(leaf));
    const rec = { ...record(), datasetRoot: root, datasetSize: 1n << BigInt(depth) };
    await registry.connect(publisher!).registerRun(rec);
    const data = registry.interface.encodeFunctionData("verifyRecord", [runIdOf(publisher!.address, rec.manifestDigest), leaf.index, leaf.cxHash, leaf.cyHash, proof]);
    const [used, result] = await probe.measure(await registry.getAddress(), data);
    if (!registry.interface.decodeFunctionResult("verifyRecord", result)[0]) throw new Error("membership proof rejected");
    rows.push([`verifyRecord, depth ${depth} (execution)`, used, depth === 20 ? "≤ 10,000" : ""]);
  }

  const afterVerifyRecord = rows.length;

  // Multiproofs over a real 4,096-leaf tree (depth 12), records spread evenly over the dataset (the tree
  // sorts leaves by hash, so their tree positions are scattered).
  const n = 4096;
  const tree = buildDatasetTree(Array.from({ length: n }, (_, i) => ({ index: BigInt(i), cxHash: fresh(), cyHash: fresh() })));
  const multiRec = { ...record(), datasetRoot: tree.root, datasetSize: BigInt(n) };
  await registry.connect(publisher!).registerRun(multiRec);
  const multiRun = runIdOf(publisher!.address, multiRec.manifestDigest);
  for (const k of [1, 4, 16, 64]) {
    const multi = tree.getMultiProof(Array.from({ length: k }, (_, j) => Math.floor((j * n) / k) + 7));
    const records = multi.leaves.map(([index, cxHash, cyHash]) => ({ index: BigInt(index), cxHash, cyHash }));
    const data = registry.interface.encodeFunctionData("verifyRecords", [multiRun, records, multi.proof, multi.proofFlags]);
    const [used, result] = await probe.measure(await registry.getAddress(), data);
    if (!registry.interface.decodeFunctionResult("verifyRecords", result)[0]) throw new Error("multiproof rejected");
    rows.push([`verifyRecords, ${k} of ${n.toLocaleString("en-US")} records (execution; proof ${multi.proof.length})`, used, ""]);
  }

  // Non-membership: a real fingerprint-tree leaf (a gap (low, high) around the fingerprint), folded with
  // random siblings up to the registered root. Run last (so the rows above keep their inputs), listed
  // after verifyRecord.
  const nonMemberRows: typeof rows = [];
  for (const depth of [10, 16, 20]) {
    const [low, fingerprint, high] = [freshFingerprint(), freshFingerprint(), freshFingerprint()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)) as [string, string, string];
    const proof = Array.from({ length: depth }, freshFingerprint);
    const root = proof.reduce((node, sibling) => standardNodeHash(node, sibling), standardLeafHash(["bytes32", "bytes32"], [low, high]));
    const rec = { ...record(), fingerprintRoot: root, datasetSize: 1n << BigInt(depth) };
    await registry.connect(publisher!).registerRun(rec);
    const data = registry.interface.encodeFunctionData("verifyNonMember", [runIdOf(publisher!.address, rec.manifestDigest), fingerprint, low, high, proof]);
    const [used, result] = await probe.measure(await registry.getAddress(), data);
    if (!registry.interface.decodeFunctionResult("verifyNonMember", result)[0]) throw new Error("non-membership proof rejected");
    nonMemberRows.push([`verifyNonMember, depth ${depth} (execution)`, used, depth === 20 ? "≤ 10,000" : ""]);
  }
  rows.splice(afterVerifyRecord, 0, ...nonMemberRows);

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${"scenario".padEnd(w)}  ${"gas".padStart(9)}  target`);
  for (const [name, g, target] of rows) console.log(`${name.padEnd(w)}  ${g.toLocaleString("en-US").padStart(9)}  ${target}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
