import { subtask, type HardhatUserConfig } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";

/**
 * The Solidity compiler comes from the `solc` npm package, pinned exactly in
 * package.json, so a compile never downloads a compiler (Hardhat's default
 * fetches one from the network, which CI machines cannot reach).
 */
const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper(args);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  const longVersion = solc.version().replace(/\.Emscripten\.clang$/, "");
  if (!longVersion.startsWith(`${SOLC_VERSION}+`)) {
    throw new Error(`npm package solc is ${longVersion}, expected ${SOLC_VERSION}; run npm ci`);
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion,
  };
});

/** Any EVM network by URL: ZKDL_RPC_URL and, for writes, ZKDL_DEPLOYER_KEY (0x-prefixed hex). */
const rpcUrl = process.env.ZKDL_RPC_URL;
const deployerKey = process.env.ZKDL_DEPLOYER_KEY;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "prague",
    },
  },
  networks: {
    hardhat: {},
    localhost: { url: "http://127.0.0.1:8545" },
    ...(rpcUrl ? { rpc: { url: rpcUrl, accounts: deployerKey ? [deployerKey] : [] } } : {}),
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    currency: "USD",
    reportPureAndViewMethods: true,
    outputFile: process.env.GAS_REPORT_FILE,
    noColors: Boolean(process.env.GAS_REPORT_FILE),
  },
  mocha: {
    timeout: 120_000,
  },
};

export default config;
