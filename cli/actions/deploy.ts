/** `zkdl deploy`: ProofRegistry and CertifiedModelGate from ZKDL_DEPLOYER_KEY, and the deployment file. */
import { isAddress } from "ethers";
import { daemonProvider } from "../../relayer/chain";
import { deployZkdl, writeDeployment } from "../../relayer/deployment";
import { EXIT, die } from "../exit";
import { keyFromEnv } from "./chain";

export interface DeployFlags {
  rpc: string;
  deployment: string;
  quorum: number;
  verifier?: string[];
  admin?: string;
  name?: string;
  json?: boolean;
}

export async function deploy(o: DeployFlags): Promise<void> {
  for (const a of [...(o.verifier ?? []), ...(o.admin ? [o.admin] : [])]) if (!isAddress(a)) die(`${a} is not an address`);
  const probe = daemonProvider(o.rpc, 0n);
  let chainId: bigint;
  try {
    chainId = BigInt(await probe.send("eth_chainId", []));
  } catch (e) {
    die(`cannot reach the RPC at ${o.rpc}: ${(e as Error).message}`);
  } finally {
    probe.destroy();
  }
  const provider = daemonProvider(o.rpc, chainId);
  try {
    const deployer = keyFromEnv("ZKDL_DEPLOYER_KEY", "deployer").connect(provider);
    const loopback = /^https?:\/\/(127\.0\.0\.1|localhost)(:|\/|$)/.test(o.rpc);
    const d = await deployZkdl(deployer, { network: o.name ?? (loopback ? "localhost" : `chain-${chainId}`), quorum: o.quorum, verifiers: o.verifier, admin: o.admin });
    writeDeployment(o.deployment, d);
    if (o.json) process.stdout.write(JSON.stringify(d) + "\n");
    else process.stdout.write(`ProofRegistry ${d.contracts.ProofRegistry.address}, CertifiedModelGate ${d.contracts.CertifiedModelGate.address} on chain ${d.chainId}; written to ${o.deployment}\n`);
  } catch (e) {
    die((e as Error).message.split("\n")[0], EXIT.failed);
  } finally {
    provider.destroy();
  }
}
