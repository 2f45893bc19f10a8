/**
 * A real chain for relayer tests: the Hardhat network served over JSON-RPC on a free loopback port (so
 * child processes and ethers providers reach it as they would any node), funded throwaway keys, and a
 * fresh deployment; plus a small run to publish. `startChain` gives the same for either chain client,
 * Hardhat's network or anvil (./anvil.ts), so that a suite runs once per client.
 */
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { type JsonRpcProvider, type Signer, Wallet, parseEther, toQuantity } from "ethers";
import { mnistRecords } from "../../prover/records";
import { decodeBundle, encodeBundle } from "../../core/run/formats";
import { digestHex, manifestBytes, parseManifest } from "../../core/run/manifest";
import { trainRun } from "../../prover/train";
import { daemonProvider } from "../../relayer/chain";
import { type Deployment, deployZkdl } from "../../relayer/deployment";
import { DEV_MNEMONIC, startAnvil } from "./anvil";

export interface LocalChain {
  url: string;
  close(): Promise<void>;
}

/** Serves the in-process Hardhat network over HTTP on 127.0.0.1 (a free port). */
export async function serveHardhat(): Promise<LocalChain> {
  const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** A random key holding `eth` ether. */
export async function fundedWallet(eth = "100"): Promise<Wallet> {
  const [funder] = await hre.ethers.getSigners();
  const w = Wallet.createRandom();
  await (await funder.sendTransaction({ to: w.address, value: parseEther(eth) })).wait();
  return new Wallet(w.privateKey);
}

/** Deploys the registry (quorum 2) with the two attestors as verifiers. */
export async function deployForTest(verifiers: string[], quorum = 2): Promise<Deployment> {
  const [deployer] = await hre.ethers.getSigners();
  return deployZkdl(deployer, { network: "hardhat", quorum, verifiers });
}

export type ChainClient = "hardhat" | "anvil";

/** The clients every chain-facing relayer suite runs against. */
export const CHAIN_CLIENTS: readonly ChainClient[] = ["hardhat", "anvil"];

/** A chain for a relayer suite, the same whichever client serves it. */
export interface TestChain extends LocalChain {
  readonly client: ChainClient;
  readonly chainId: bigint;
  /** A provider made as the daemons make theirs (closed by close()). */
  readonly provider: JsonRpcProvider;
  /** A raw JSON-RPC request to the node (evm_mine, evm_setAutomine: both clients know these). */
  send(method: string, params?: unknown[]): Promise<unknown>;
  /** A random key holding `eth` ether. */
  fundedWallet(eth?: string): Promise<Wallet>;
  /** Deploys the registry with these verifiers (quorum 2 by default). */
  deploy(verifiers: string[], quorum?: number): Promise<Deployment>;
  setBalance(address: string, wei: bigint): Promise<void>;
  /** A signer for any address, whose transactions the node takes without its key. */
  impersonate(address: string): Promise<Signer>;
}

/** Starts a chain of the given client on a free loopback port. */
export async function startChain(client: ChainClient): Promise<TestChain> {
  if (client === "hardhat") {
    const served = await serveHardhat();
    const provider = daemonProvider(served.url, (await hre.ethers.provider.getNetwork()).chainId);
    const network = hre.network.provider;
    return {
      client,
      url: served.url,
      chainId: (await provider.getNetwork()).chainId,
      provider,
      send: (method, params = []) => network.send(method, params),
      fundedWallet,
      deploy: deployForTest,
      setBalance: async (address, wei) => void (await network.send("hardhat_setBalance", [address, toQuantity(wei)])),
      async impersonate(address) {
        await network.send("hardhat_impersonateAccount", [address]);
        return hre.ethers.getSigner(address);
      },
      async close() {
        provider.destroy();
        await served.close();
      },
    };
  }
  const node = await startAnvil();
  const provider = daemonProvider(node.url, 31337n);
  const funder = Wallet.fromPhrase(DEV_MNEMONIC).connect(provider);
  const send = (method: string, params: unknown[] = []) => provider.send(method, params);
  return {
    client,
    url: node.url,
    chainId: 31337n,
    provider,
    send,
    async fundedWallet(eth = "100") {
      const w = Wallet.createRandom();
      await (await funder.sendTransaction({ to: w.address, value: parseEther(eth) })).wait();
      return new Wallet(w.privateKey);
    },
    deploy: (verifiers, quorum = 2) => deployZkdl(funder, { network: "anvil", quorum, verifiers }),
    setBalance: async (address, wei) => void (await send("anvil_setBalance", [address, toQuantity(wei)])),
    async impersonate(address) {
      await send("anvil_impersonateAccount", [address]);
      return provider.getSigner(address);
    },
    async close() {
      provider.destroy();
      await node.close();
    },
  };
}

/** Trains and proves a small MNIST run (784-16-10, batch 16, `steps` steps, `records` records) for `publisher`. */
export function trainSmallRun(dir: string, publisher: string, o: { steps?: number; records?: number; seed?: string } = {}) {
  return trainRun({
    config: { layers: [784, 16, 10], fracBits: 16, lrShift: 9, batch: 16, seed: o.seed ?? "relayer-test" },
    publisher,
    steps: o.steps ?? 1,
    records: mnistRecords(o.records ?? 64, 16),
    source: "mnist",
    out: dir,
    overwrite: true,
  });
}

/**
 * A small run (16 records, one step) proven for a fresh random publisher, under `root`: a new run id
 * every time, for tests that publish many runs (the proof names its publisher, so a run cannot be
 * re-published by another account).
 */
export function runOfFreshPublisher(root: string): { dir: string; publisher: Wallet } {
  const publisher = new Wallet(Wallet.createRandom().privateKey);
  const dir = join(root, `run-${publisher.address}`);
  trainSmallRun(dir, publisher.address, { records: 16 });
  return { dir, publisher };
}

/** A copy of a run whose first window proof has one byte flipped, its manifest rewritten to match (so only the proof is wrong). */
export function badProofCopy(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  const b = decodeBundle("proof.bin", readFileSync(join(to, "proof.bin")));
  const proof = b.windows[0].proof.slice();
  proof[proof.length - 7] ^= 0x01;
  const bytes = encodeBundle({ initial: b.initial, windows: [{ steps: b.windows[0].steps, proof }, ...b.windows.slice(1)] });
  writeFileSync(join(to, "proof.bin"), bytes);
  const m = parseManifest("manifest.json", readFileSync(join(to, "manifest.json")));
  m.bundle.digest = digestHex(bytes);
  m.bundle.bytes = bytes.length;
  writeFileSync(join(to, "manifest.json"), manifestBytes(m));
}

/**
 * A TCP relay to `target` that can be stopped (every connection cut) and started again on the same
 * port, or told to go down by itself right after answering a given JSON-RPC method.
 */
export class RpcOutage {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cut?: { method: string; ms: number };
  private restart?: NodeJS.Timeout;
  private closed = false;
  port = 0;
  /** Outages caused by cutAfter so far. */
  cuts = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.closed) return;
    this.server = createServer((client) => {
      const up = connect(this.target.port, this.target.host);
      for (const s of [client, up]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      let cutAfterAnswer = false;
      client.on("data", (chunk: Buffer) => {
        if (this.cut && chunk.includes(this.cut.method)) cutAfterAnswer = true;
        up.write(chunk);
      });
      up.on("data", (chunk: Buffer) => {
        // The answer reaches the client in full before the endpoint goes down.
        client.write(chunk, () => {
          if (!cutAfterAnswer || !this.cut) return;
          const { ms } = this.cut;
          this.cut = undefined;
          this.cuts++;
          void this.stop().then(() => {
            if (!this.closed) this.restart = setTimeout(() => void this.start(), ms);
          });
        });
      });
    });
    await new Promise<void>((res) => this.server!.listen(this.port, "127.0.0.1", res));
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Goes down for `ms` right after the next answer to a request naming `method`. */
  cutAfter(method: string, ms: number): void {
    this.cut = { method, ms };
  }

  async stop(): Promise<void> {
    clearTimeout(this.restart);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // Stop accepting first, then cut what is open: close() calls back once every connection is gone.
    const closed = new Promise<void>((res) => server.close(() => res()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Stops for good (no pending restart). */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }
}
