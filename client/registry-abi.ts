/**
 * The few ProofRegistry functions the SDK calls, as a human-readable ABI (no generated bindings: the
 * client ships without typechain output), and a typed read-only view over them. test/client checks
 * each fragment against the compiled contract's ABI.
 */
import { Contract, type ContractRunner } from "ethers";

export const PROOF_REGISTRY_CLIENT_ABI = [
  "function getRun(bytes32 runId) view returns (tuple(address publisher, uint8 status, uint40 registeredAt, uint40 updatedAt, uint64 datasetSize, uint32 numSteps, uint16 validCount, uint16 invalidCount, bytes32 modelId, bytes32 datasetRoot, bytes32 finalWeightsDigest))",
  "function isCertified(bytes32 runId) view returns (bool)",
  "function verifyRecord(bytes32 runId, uint256 index, bytes32 cxHash, bytes32 cyHash, bytes32[] proof) view returns (bool)",
] as const;

/** IProofRegistry.Run, as getRun returns it (the fields the SDK reads). */
export interface RegistryRun {
  readonly publisher: string;
  readonly status: bigint;
  readonly registeredAt: bigint;
  readonly datasetSize: bigint;
  readonly numSteps: bigint;
  readonly validCount: bigint;
  readonly invalidCount: bigint;
  readonly datasetRoot: string;
  readonly finalWeightsDigest: string;
}

/** Read-only ProofRegistry calls, typed. */
export interface RegistryReader {
  getRun(runId: string): Promise<RegistryRun>;
  isCertified(runId: string): Promise<boolean>;
  verifyRecord(runId: string, index: bigint, cxHash: string, cyHash: string, proof: readonly string[]): Promise<boolean>;
}

/** The registry at `address`, read through `runner` (a provider is enough). */
export function registryReader(address: string, runner: ContractRunner): RegistryReader {
  const c = new Contract(address, PROOF_REGISTRY_CLIENT_ABI, runner);
  return {
    getRun: (runId) => c.getFunction("getRun").staticCall(runId) as Promise<RegistryRun>,
    isCertified: (runId) => c.getFunction("isCertified").staticCall(runId) as Promise<boolean>,
    verifyRecord: (runId, index, cxHash, cyHash, proof) => c.getFunction("verifyRecord").staticCall(runId, index, cxHash, cyHash, [...proof]) as Promise<boolean>,
  };
}
