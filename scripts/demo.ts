/**
 * The main job (`npm start`). Today: start a local Hardhat chain on 127.0.0.1, deploy the registry and
 * the example gate with two independent verifiers, write deployments/localhost.json, and check the
 * deployment over JSON-RPC as any outside client would. The later stages (train and prove, publish,
 * attest, serve membership proofs) extend this script as they land.
 */
import { Command, InvalidArgumentError } from "commander";
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { createServer } from "node:net";
import { JsonRpcProvider } from "ethers";
import { deployZkdl, writeDeployment } from "../relayer/deployment";
import { ProofRegistry__factory, CertifiedModelGate__factory } from "../typechain-types";

const program = new Command()
  .name("npm start --")
  .description("zkdl-chain demo: local chain, registry deployment and checks")
  .option("--port <n>", "JSON-RPC port of the local chain", parsePort, 8545)
  .option("--quorum <n>", "attestations that decide a run", parsePositive, 2)
  .option("--deployment <file>", "where to write the deployment file", "deployments/localhost.json")
  .option("--keep", "keep the chain running after the demo (Ctrl-C to stop)", false)
  .parse();

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("not a TCP port");
  return n;
}
function parsePositive(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("not a positive integer");
  return n;
}

/** Fails with a clear message if the port is taken (Hardhat's server would crash on it instead). */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
      .once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? new Error(`port ${port} is in use: stop what runs there or pass --port`) : err),
      )
      .once("listening", () => probe.close(() => resolve()))
      .listen(port, host);
  });
}

async function stage<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  process.stdout.write(`• ${label} … `);
  try {
    const result = await work();
    console.log(`done (${((performance.now() - start) / 1000).toFixed(2)} s)`);
    return result;
  } catch (err) {
    console.log("FAILED");
    throw err;
  }
}

async function main() {
  const opts = program.opts<{ port: number; quorum: number; deployment: string; keep: boolean }>();
  const host = "127.0.0.1";
  let server: { listen(): Promise<{ address: string; port: number }>; close(): Promise<void> };
  const rpcUrl = await stage(`start local chain on ${host}:${opts.port}`, async () => {
    await assertPortFree(host, opts.port);
    server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: host, port: opts.port, provider: hre.network.provider });
    const { address, port } = await server.listen();
    return `http://${address}:${port}`;
  });

  try {
    const [deployer, verifierA, verifierB] = await hre.ethers.getSigners();
    const deployment = await stage("deploy ProofRegistry and CertifiedModelGate", () =>
      deployZkdl(deployer!, { network: "localhost", quorum: opts.quorum, verifiers: [verifierA!.address, verifierB!.address] }),
    );
    writeDeployment(opts.deployment, deployment);

    await stage(`check the deployment over JSON-RPC (${rpcUrl})`, async () => {
      const client = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
      try {
        const registry = ProofRegistry__factory.connect(deployment.contracts.ProofRegistry.address, client);
        const gate = CertifiedModelGate__factory.connect(deployment.contracts.CertifiedModelGate.address, client);
        const role = await registry.VERIFIER_ROLE();
        const checks: [string, boolean][] = [
          ["chain id", (await client.getNetwork()).chainId.toString() === deployment.chainId],
          ["quorum", Number(await registry.quorum()) === opts.quorum],
          ["verifier A", await registry.hasRole(role, verifierA!.address)],
          ["verifier B", await registry.hasRole(role, verifierB!.address)],
          ["gate wiring", (await gate.registry()) === deployment.contracts.ProofRegistry.address],
        ];
        const failed = checks.filter(([, ok]) => !ok).map(([name]) => name);
        if (failed.length > 0) throw new Error(`deployment check failed: ${failed.join(", ")}`);
      } finally {
        client.destroy();
      }
    });

    console.log("");
    console.log(`  RPC URL             ${rpcUrl} (chain id ${deployment.chainId})`);
    console.log(`  ProofRegistry       ${deployment.contracts.ProofRegistry.address}`);
    console.log(`  CertifiedModelGate  ${deployment.contracts.CertifiedModelGate.address}`);
    console.log(`  verifiers           ${deployment.verifiers.join(", ")} (quorum ${deployment.quorum})`);
    console.log(`  deployment file     ${opts.deployment}`);
    console.log("");

    if (opts.keep) {
      console.log("chain running; Ctrl-C to stop");
      await new Promise<void>((resolve) => process.once("SIGINT", resolve));
    }
  } finally {
    await server!.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
