/**
 * anvil (Foundry's node) as a second chain client for the relayer tests: nodes differ in what they
 * refuse and how they word it, in their pools and in their fee rules, so the relayer is tried against a
 * node that is not the one its project is built with.
 *
 * The binary comes from the npm package @foundry-rs/anvil-linux-amd64 (a devDependency through
 * @foundry-rs/anvil), resolved from node_modules: nothing is downloaded. Each chain is a child process
 * on a free loopback port with anvil's defaults (automining, chain id 31337, the same development
 * mnemonic as Hardhat), on the same hardfork as Hardhat's network.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

/** Hardhat's network runs Osaka; the contracts compile for Prague, which Osaka runs. */
const HARDFORK = "osaka";

/** The development mnemonic Hardhat and anvil both derive their funded accounts from. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** Thrown when the anvil binary is not installed for this platform. */
export class AnvilMissing extends Error {
  constructor(why: string) {
    super(`anvil is not available: ${why} (npm ci installs it from @foundry-rs/anvil)`);
    this.name = "AnvilMissing";
  }
}

/** The anvil executable of this platform's package. */
export function anvilBinary(): string {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const platform = { linux: "linux", darwin: "darwin", win32: "win32" }[process.platform as string];
  if (!arch || !platform) throw new AnvilMissing(`no package for ${process.platform}-${process.arch}`);
  const name = `@foundry-rs/anvil-${platform}-${arch}/bin/anvil${platform === "win32" ? ".exe" : ""}`;
  let path: string;
  try {
    path = require.resolve(name);
  } catch {
    throw new AnvilMissing(`${name} is not installed`);
  }
  if (!existsSync(path)) throw new AnvilMissing(`${path} does not exist`);
  return path;
}

export interface AnvilNode {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res, rej) => server.once("error", rej).listen(0, "127.0.0.1", res));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
    return res.ok;
  } catch {
    return false;
  }
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts anvil on a free loopback port and resolves once it answers JSON-RPC. */
export async function startAnvil(extraArgs: string[] = []): Promise<AnvilNode> {
  const binary = anvilBinary();
  // The port is free when looked up, and may be taken before anvil binds it: then try another.
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(binary, ["--host", "127.0.0.1", "--port", String(port), "--silent", "--hardfork", HARDFORK, ...extraArgs], { stdio: ["ignore", "ignore", "pipe"] });
    running.add(child);
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<void>((res) => child.once("exit", () => res()));
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + 30_000;
    while (!gone && Date.now() < deadline && !(await answers(url))) await new Promise((r) => setTimeout(r, 50));
    if (!gone && Date.now() < deadline) {
      return {
        url,
        port,
        async close() {
          if (!gone) child.kill("SIGTERM");
          await exited;
          running.delete(child);
        },
      };
    }
    running.delete(child);
    if (!gone) {
      child.kill("SIGKILL");
      throw new Error(`anvil did not answer on ${url} within 30 s: ${stderr.trim()}`);
    }
    if (!/address already in use|in use/i.test(stderr)) throw new Error(`anvil exited: ${stderr.trim()}`);
  }
  throw new Error("anvil found no free port in 5 tries");
}
