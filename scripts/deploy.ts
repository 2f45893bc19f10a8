/**
 * Deploys ProofRegistry and CertifiedModelGate and writes the deployment file the other parts read.
 *
 *   npx hardhat run scripts/deploy.ts                      # in-process network (throwaway)
 *   npx hardhat run scripts/deploy.ts --network localhost  # a running `npm run node`
 *   ZKDL_RPC_URL=https://... ZKDL_DEPLOYER_KEY=0x... npx hardhat run scripts/deploy.ts --network rpc
 *
 * Environment: ZKDL_QUORUM (default 2), ZKDL_ADMIN (default: the deployer), ZKDL_VERIFIERS
 * (comma-separated addresses to grant VERIFIER_ROLE), ZKDL_DEPLOYMENT_FILE (default
 * deployments/<network>.json).
 */
import hre from "hardhat";
import { deployZkdl, writeDeployment } from "../relayer/deployment";

async function main() {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) {
    throw new Error(`network "${hre.network.name}" has no account: set ZKDL_DEPLOYER_KEY`);
  }
  const quorum = Number(process.env.ZKDL_QUORUM ?? "2");
  const verifiers = (process.env.ZKDL_VERIFIERS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const file = process.env.ZKDL_DEPLOYMENT_FILE ?? `deployments/${hre.network.name}.json`;

  const deployment = await deployZkdl(signers[0]!, {
    network: hre.network.name,
    quorum,
    admin: process.env.ZKDL_ADMIN,
    verifiers,
  });
  writeDeployment(file, deployment);
  console.log(`network            ${deployment.network} (chain id ${deployment.chainId})`);
  console.log(`ProofRegistry      ${deployment.contracts.ProofRegistry.address}`);
  console.log(`CertifiedModelGate ${deployment.contracts.CertifiedModelGate.address}`);
  console.log(`admin              ${deployment.admin}, quorum ${deployment.quorum}, ${deployment.verifiers.length} verifier(s)`);
  console.log(`written to         ${file}`);
}

main().catch((err) => {
  console.error(`deploy failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
