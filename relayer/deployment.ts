/**
 * Deploying the registry and the example gate, and the deployment file the other parts read
 * (relayer, attestor, API, demo): one JSON file per network, written atomically.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { getAddress, type Signer } from "ethers";
import { z } from "zod";
import { bytes32Hex } from "../core/crypto/hex";
import { CertifiedModelGate__factory, ProofRegistry__factory } from "../typechain-types";
import { InputError } from "../core/errors";

export const DEPLOYMENT_FORMAT = "zkdl-deployment/1";

const address = z.string().refine((s) => {
  try {
    getAddress(s);
    return true;
  } catch {
    return false;
  }
}, "not an Ethereum address");
const txHash = bytes32Hex("not a transaction hash");
const deployedContract = z.object({ address, transactionHash: txHash, blockNumber: z.number().int().nonnegative() });

const deploymentSchema = z.object({
  format: z.literal(DEPLOYMENT_FORMAT),
  network: z.string().min(1),
  chainId: z.string().regex(/^[0-9]+$/, "chainId must be a decimal string"),
  deployer: address,
  admin: address,
  quorum: z.number().int().min(1).max(65535),
  verifiers: z.array(address),
  deployedAt: z.string().datetime(),
  contracts: z.object({ ProofRegistry: deployedContract, CertifiedModelGate: deployedContract }),
});

/** The contents of a deployment file. */
export type Deployment = z.infer<typeof deploymentSchema>;

export interface DeployOptions {
  /** Name recorded in the file (hardhat, localhost, a chain name). */
  network: string;
  /** Holder of DEFAULT_ADMIN_ROLE; the deployer if absent. */
  admin?: string;
  /** Attestations that decide a run; at least 1. */
  quorum: number;
  /** Accounts granted VERIFIER_ROLE (only possible when the deployer is the admin). */
  verifiers?: string[];
}

/** Deploys ProofRegistry and CertifiedModelGate from `deployer` and returns what was deployed. */
export async function deployZkdl(deployer: Signer, options: DeployOptions): Promise<Deployment> {
  const provider = deployer.provider;
  if (!provider) throw new Error("the deployer signer has no provider");
  const deployerAddress = await deployer.getAddress();
  const admin = getAddress(options.admin ?? deployerAddress);
  const verifiers = (options.verifiers ?? []).map((v) => getAddress(v));
  if (verifiers.length > 0 && admin !== deployerAddress) {
    throw new Error("verifiers can be granted at deployment only when the deployer is the admin");
  }
  if (!Number.isInteger(options.quorum) || options.quorum < 1 || options.quorum > 65535) {
    throw new InputError(`quorum must be an integer in [1, 65535], got ${options.quorum}`);
  }

  const registry = await new ProofRegistry__factory(deployer).deploy(admin, options.quorum);
  const registryReceipt = await registry.deploymentTransaction()!.wait();
  const registryAddress = await registry.getAddress();
  const gate = await new CertifiedModelGate__factory(deployer).deploy(registryAddress);
  const gateReceipt = await gate.deploymentTransaction()!.wait();

  const verifierRole = await registry.VERIFIER_ROLE();
  for (const verifier of verifiers) {
    await (await registry.grantRole(verifierRole, verifier)).wait();
  }

  const { chainId } = await provider.getNetwork();
  return deploymentSchema.parse({
    format: DEPLOYMENT_FORMAT,
    network: options.network,
    chainId: chainId.toString(),
    deployer: deployerAddress,
    admin,
    quorum: options.quorum,
    verifiers,
    deployedAt: new Date().toISOString(),
    contracts: {
      ProofRegistry: { address: registryAddress, transactionHash: registryReceipt!.hash, blockNumber: registryReceipt!.blockNumber },
      CertifiedModelGate: { address: await gate.getAddress(), transactionHash: gateReceipt!.hash, blockNumber: gateReceipt!.blockNumber },
    },
  });
}

/** Writes a deployment file atomically (temp file + rename), creating its folder. */
export function writeDeployment(file: string, deployment: Deployment): void {
  const checked = deploymentSchema.parse(deployment);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(checked, null, 2) + "\n");
  renameSync(tmp, file);
}

/** Reads and validates a deployment file; errors name the file and what is wrong. */
export function readDeployment(file: string): Deployment {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`cannot read deployment file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`deployment file ${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new Error(`deployment file ${file} is malformed: ${problems}`);
  }
  return parsed.data;
}
