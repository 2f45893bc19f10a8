/**
 * The chain vocabulary of ProofRegistry that clients and servers share: the run record type, run ids
 * and model keys, status and verdict names, and the EIP-712 registration a publisher signs so that a
 * relayer can submit it. Pure ethers, for Node and browsers alike. Mirrors contracts/IProofRegistry.sol;
 * tests check that every value here equals the contract's.
 */
import { AbiCoder, keccak256, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";

/** The record a publisher registers (IProofRegistry.RunRecord). */
export interface RunRecord {
  modelId: string;
  datasetRoot: string;
  fingerprintRoot: string;
  datasetSize: bigint;
  manifestDigest: string;
  initialWeightsDigest: string;
  finalWeightsDigest: string;
  numSteps: bigint;
  bundleURI: string;
}

/** IProofRegistry.Status, by the numbers the contract returns. */
export enum RunStatus {
  None = 0,
  Registered = 1,
  Verified = 2,
  Rejected = 3,
  Revoked = 4,
}

/** A status by name ("Verified", …). */
export type RunStatusName = keyof typeof RunStatus;

/** An attestor's vote on a run (IProofRegistry.Verdict; named apart from the verifiers' verdicts). */
export enum AttestationVote {
  None = 0,
  Valid = 1,
  Invalid = 2,
}

const abi = AbiCoder.defaultAbiCoder();

/** The deterministic run id: keccak256(abi.encode(publisher, manifestDigest)). */
export function runIdOf(publisher: string, manifestDigest: string): string {
  return keccak256(abi.encode(["address", "bytes32"], [publisher, manifestDigest]));
}

/** The global key of a publisher's model: keccak256(abi.encode(publisher, modelId)). */
export function modelKeyOf(publisher: string, modelId: string): string {
  return keccak256(abi.encode(["address", "bytes32"], [publisher, modelId]));
}

/** EIP-712 types of a delegated registration (ProofRegistry.REGISTER_RUN_TYPEHASH). */
export const REGISTER_RUN_TYPES: Record<string, TypedDataField[]> = {
  RegisterRun: [
    { name: "record", type: "RunRecord" },
    { name: "publisher", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
  RunRecord: [
    { name: "modelId", type: "bytes32" },
    { name: "datasetRoot", type: "bytes32" },
    { name: "fingerprintRoot", type: "bytes32" },
    { name: "datasetSize", type: "uint64" },
    { name: "manifestDigest", type: "bytes32" },
    { name: "initialWeightsDigest", type: "bytes32" },
    { name: "finalWeightsDigest", type: "bytes32" },
    { name: "numSteps", type: "uint32" },
    { name: "bundleURI", type: "string" },
  ],
};

/** The registry's EIP-712 domain on a given chain. */
export function registryDomain(registryAddress: string, chainId: bigint): TypedDataDomain {
  return { name: "ProofRegistry", version: "1", chainId, verifyingContract: registryAddress };
}

/** What a publisher hands a relayer: the record, who publishes it, and the signature's terms. */
export interface SignedRegistration {
  record: RunRecord;
  publisher: string;
  nonce: bigint;
  deadline: bigint;
  signature: string;
}

/**
 * Signs a registration with the publisher's key, for the publisher's current registry nonce
 * (`registry.nonces(publisher)`), valid until `deadline` (unix seconds).
 */
export async function signRegistration(
  publisher: Signer,
  domain: TypedDataDomain,
  record: RunRecord,
  nonce: bigint,
  deadline: bigint,
): Promise<SignedRegistration> {
  const address = await publisher.getAddress();
  const value = { record, publisher: address, nonce, deadline };
  const signature = await publisher.signTypedData(domain, REGISTER_RUN_TYPES, value);
  return { record, publisher: address, nonce, deadline, signature };
}
