/**
 * The few ProofRegistry functions the SDK calls, as a human-readable ABI (no generated bindings: the
 * client ships without typechain output), and a typed read-only view over them. test/client checks
 * each fragment against the compiled contract's ABI.
 */
import { Contract, type ContractRunner, JsonRpcApiProvider, JsonRpcProvider, type Provider } from "ethers";

export const PROOF_REGISTRY_CLIENT_ABI = [
  "function getRun(bytes32 runId) view returns (tuple(address publisher, uint8 status, uint40 registeredAt, uint40 updatedAt, uint64 datasetSize, uint32 numSteps, uint16 validCount, uint16 invalidCount, bytes32 modelId, bytes32 datasetRoot, bytes32 finalWeightsDigest, bytes32 fingerprintRoot))",
  "function isCertified(bytes32 runId) view returns (bool)",
  "function verifyRecord(bytes32 runId, uint256 index, bytes32 cxHash, bytes32 cyHash, bytes32[] proof) view returns (bool)",
  "function verifyNonMember(bytes32 runId, bytes32 fingerprint, bytes32 low, bytes32 high, bytes32[] proof) view returns (bool)",
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
  readonly fingerprintRoot: string;
}

/** Read-only ProofRegistry calls, typed. */
export interface RegistryReader {
  getRun(runId: string): Promise<RegistryRun>;
  isCertified(runId: string): Promise<boolean>;
  verifyRecord(runId: string, index: bigint, cxHash: string, cyHash: string, proof: readonly string[]): Promise<boolean>;
  verifyNonMember(runId: string, fingerprint: string, low: string, high: string, proof: readonly string[]): Promise<boolean>;
}

/** The registry at `address`, read through `runner` (a provider is enough). */
export function registryReader(address: string, runner: ContractRunner): RegistryReader {
  const c = new Contract(address, PROOF_REGISTRY_CLIENT_ABI, runner);
  return {
    getRun: (runId) => c.getFunction("getRun").staticCall(runId) as Promise<RegistryRun>,
    isCertified: (runId) => c.getFunction("isCertified").staticCall(runId) as Promise<boolean>,
    verifyRecord: (runId, index, cxHash, cyHash, proof) => c.getFunction("verifyRecord").staticCall(runId, index, cxHash, cyHash, [...proof]) as Promise<boolean>,
    verifyNonMember: (runId, fingerprint, low, high, proof) => c.getFunction("verifyNonMember").staticCall(runId, fingerprint, low, high, [...proof]) as Promise<boolean>,
  };
}

/** A chain endpoint: a JSON-RPC URL (or an ethers provider), the ProofRegistry address and, if known, the chain id it must report. */
export interface ChainEndpoint {
  readonly rpc: string | Provider;
  readonly registry: string;
  /**
   * When given, the endpoint's eth_chainId must equal it (WrongChainError otherwise): asked of the node
   * itself, also through a JSON-RPC provider fixed to a network; another Provider answers getNetwork().
   */
  readonly chainId?: string | bigint;
}

/** A chain id as given: a positive bigint, or its decimal or 0x-hex string; TypeError otherwise. */
function chainIdOf(id: string | bigint): bigint {
  if (typeof id === "bigint" ? id > 0n : /^(0x[0-9a-fA-F]+|[1-9][0-9]*)$/.test(id)) {
    const n = BigInt(id);
    if (n > 0n) return n;
  }
  throw new TypeError(`chainId must be a positive integer (a bigint, or a decimal or 0x-hex string), not ${JSON.stringify(String(id))}`);
}

/** The chain endpoint reports another chain id than the one expected of it. */
export class WrongChainError extends Error {
  constructor(readonly expected: bigint, readonly actual: bigint) {
    super(`the RPC endpoint is on chain ${actual}, not the expected chain ${expected}: refusing to read the run from it`);
    this.name = "WrongChainError";
  }
}

/**
 * The registry at the endpoint, read-only, once its chain id is checked (when one is expected);
 * `close()` releases a provider made here from a URL.
 */
export async function openRegistry(o: ChainEndpoint): Promise<{ registry: RegistryReader; close(): void }> {
  const expected = o.chainId === undefined ? undefined : chainIdOf(o.chainId);
  const own = typeof o.rpc === "string";
  const provider = typeof o.rpc === "string" ? new JsonRpcProvider(o.rpc, undefined, { staticNetwork: true }) : o.rpc;
  const close = () => {
    if (own) (provider as JsonRpcProvider).destroy();
  };
  try {
    if (expected !== undefined) {
      // A JSON-RPC provider built with a static network answers getNetwork() from that setting: ask the node.
      const actual = provider instanceof JsonRpcApiProvider ? BigInt(await provider.send("eth_chainId", [])) : (await provider.getNetwork()).chainId;
      if (actual !== expected) throw new WrongChainError(expected, actual);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { registry: registryReader(o.registry, provider), close };
}
