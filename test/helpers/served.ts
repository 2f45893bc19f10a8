/**
 * A certified run being served, as copyright owners meet it: a small MNIST run published, relayed and
 * attested by two attestors (Verified) on a Hardhat JSON-RPC chain, and the API (with its web page)
 * serving it on a free loopback port. Optionally a second run by the same publisher whose first window
 * proof has one byte changed and whose manifest was made consistent with it (badProofCopy): registered
 * like any other, Rejected by the attestors.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import pino from "pino";
import type { JsonRpcProvider } from "ethers";
import { serveApi } from "./api";
import { runAttestor } from "../../relayer/attestor";
import { daemonProvider } from "../../relayer/chain";
import type { Deployment } from "../../relayer/deployment";
import { publishRun, runRelayer } from "../../relayer/relay";
import { RunCatalog } from "../../relayer/runs";
import { SqliteStore } from "../../relayer/store";
import { ProofRegistry__factory } from "../../typechain-types";
import { type LocalChain, badProofCopy, deployForTest, fundedWallet, serveHardhat, trainSmallRun } from "./chain";

export interface ServedRun {
  readonly chain: LocalChain;
  readonly deployment: Deployment;
  readonly provider: JsonRpcProvider;
  /** The API's base URL. */
  readonly api: string;
  readonly runId: string;
  /** The run with a broken window proof (with `brokenRun`). */
  readonly brokenRunId?: string;
  /** The API's catalogue (a test can make the server lie through it). */
  readonly catalog: RunCatalog;
  /** A scratch folder, removed by close(). */
  readonly root: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** SGD steps of the run (default 1). */
  readonly steps?: number;
  /** MNIST records it commits (default 64). */
  readonly records?: number;
  /** Also publish a copy with a broken window proof (see the module comment). */
  readonly brokenRun?: boolean;
}

export async function serveVerifiedRun(o: ServeOptions = {}): Promise<ServedRun> {
  const silent = pino({ level: "silent" });
  const root = mkdtempSync(join(tmpdir(), "zkdl-served-"));
  const chain = await serveHardhat();
  const [publisher, relayer, attestorA, attestorB] = [await fundedWallet(), await fundedWallet(), await fundedWallet(), await fundedWallet()];
  const deployment = await deployForTest([attestorA.address, attestorB.address]);
  const registry = deployment.contracts.ProofRegistry.address;
  const provider = daemonProvider(chain.url, BigInt(deployment.chainId));
  trainSmallRun(join(root, "run"), publisher.address, { steps: o.steps, records: o.records });
  if (o.brokenRun) badProofCopy(join(root, "run"), join(root, "broken"));
  const store = new SqliteStore(join(root, "zkdl.sqlite"));
  const catalog = new RunCatalog(store);
  const { server, url: api } = await serveApi({
    catalog,
    registry: ProofRegistry__factory.connect(registry, provider),
    log: silent,
    statusTtlMs: 0,
    publicChain: { rpcUrl: chain.url, chainId: deployment.chainId, registry },
  });

  const { runId } = await publishRun({ store, dir: join(root, "run"), publisher: publisher.connect(provider), registry, relayer: relayer.address, apiUrl: api });
  const brokenRunId = o.brokenRun ? (await publishRun({ store, dir: join(root, "broken"), publisher: publisher.connect(provider), registry, relayer: relayer.address, apiUrl: api })).runId : undefined;
  await runRelayer({ store, wallet: relayer, provider, registry, log: silent, once: true, sender: { pollMs: 50 } });
  for (const w of [attestorA, attestorB])
    await runAttestor({ store, wallet: w, provider, registry, fromBlock: deployment.contracts.ProofRegistry.blockNumber, log: silent, once: true, sender: { pollMs: 50 } });

  return {
    chain,
    deployment,
    provider,
    api,
    runId,
    ...(brokenRunId ? { brokenRunId } : {}),
    catalog,
    root,
    async close() {
      server.close();
      store.close();
      provider.destroy();
      await chain.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A 28×28 digit's pixels as a grayscale PNG file, as a copyright owner would have it. */
export function digitPng(pixels: Uint8Array): Buffer {
  const png = new PNG({ width: 28, height: 28, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = Buffer.from(pixels);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0 });
}
