/** Fixtures and record factories shared by the contract tests. */
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import type { RunRecord } from "../../client/registry";
import type { Rng } from "./random";

export const ZERO32 = "0x" + "00".repeat(32);

/** A well-formed random run record. */
export function randomRecord(r: Rng, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    modelId: r.bytes32(),
    datasetRoot: r.bytes32(),
    fingerprintRoot: r.bytes32(),
    datasetSize: BigInt(r.between(1, 60_000)),
    manifestDigest: r.bytes32(),
    initialWeightsDigest: r.bytes32(),
    finalWeightsDigest: r.bytes32(),
    numSteps: BigInt(r.between(1, 10_000)),
    bundleURI: `http://127.0.0.1:8080/v1/runs/${r.bytes32()}/bundle`,
    ...overrides,
  };
}

/** Registry with quorum 2, three verifiers, and the gate on top. */
export async function deployRegistryFixture() {
  const [admin, publisher, otherPublisher, relayer, verifierA, verifierB, verifierC, outsider] = await ethers.getSigners();
  const registry = await ethers.deployContract("ProofRegistry", [admin.address, 2]);
  const verifierRole = await registry.VERIFIER_ROLE();
  for (const v of [verifierA, verifierB, verifierC]) await registry.grantRole(verifierRole, v.address);
  const gate = await ethers.deployContract("CertifiedModelGate", [await registry.getAddress()]);
  return {
    registry,
    gate,
    verifierRole,
    admin,
    publisher,
    otherPublisher,
    relayer,
    verifiers: [verifierA, verifierB, verifierC],
    verifierA,
    verifierB,
    verifierC,
    outsider,
  };
}

/** Gas used by a sent transaction. */
export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}
