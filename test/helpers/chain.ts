/**
 * A real chain for relayer tests: the Hardhat network served over JSON-RPC on a free loopback port (so
 * child processes and ethers providers reach it as they would any node), funded throwaway keys, and a
 * fresh deployment; plus a small run to publish.
 */
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { Wallet, parseEther } from "ethers";
import { mnistRecords } from "../../prover/data/records";
import { decodeBundle, encodeBundle } from "../../prover/run/formats";
import { digestHex, manifestBytes, parseManifest } from "../../prover/run/manifest";
import { trainRun } from "../../prover/run/train";
import { type Deployment, deployZkdl } from "../../relayer/deployment";

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

/** A copy of a run whose first step proof has one byte flipped, its manifest rewritten to match (so only the proof is wrong). */
export function badProofCopy(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  const b = decodeBundle("proof.bin", readFileSync(join(to, "proof.bin")));
  const step = b.steps[0].slice();
  step[step.length - 7] ^= 0x01;
  const bytes = encodeBundle({ initial: b.initial, steps: [step, ...b.steps.slice(1)] });
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
