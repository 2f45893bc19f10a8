/**
 * client/verify-run.ts without a browser and without training: the chain endpoint must report the
 * expected chain id (WrongChainError before anything is read from it), and a bundle download is capped
 * by Content-Length and, without one or past it, while streaming.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { MAX_BUNDLE_BYTES, downloadBundle, verifyServedRun } from "../../client/verify-run";
import { WrongChainError } from "../../client/registry-abi";

/** The message a promise fails with ("resolved" if it does not). */
const failure = (p: Promise<unknown>): Promise<string> => p.then(() => "resolved", (e: Error) => e.message);

describe("client: verifyServedRun's chain id and downloadBundle's cap", () => {
  const runId = "0x" + "ab".repeat(32);
  const registry = "0x" + "12".repeat(20); // never reached: the chain id is checked first

  it("refuses an RPC that reports another chain id than the expected one", async () => {
    const actual = (await ethers.provider.getNetwork()).chainId;
    let err: unknown;
    await verifyServedRun({ bundle: new Uint8Array(8), runId, chain: { rpc: ethers.provider, registry, chainId: actual + 1n } }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(WrongChainError);
    expect((err as WrongChainError).actual).to.equal(actual);
    expect((err as Error).message).to.match(new RegExp(`on chain ${actual}, not the expected chain ${actual + 1n}`));
    // The expected id (as a string, the way /v1/config gives it) passes the check: the call then fails reading the registry, not on the id.
    let other: unknown;
    await verifyServedRun({ bundle: new Uint8Array(8), runId, chain: { rpc: ethers.provider, registry, chainId: String(actual) } }).catch((e) => (other = e));
    expect(other).to.not.be.instanceOf(WrongChainError);
  });

  it("caps a bundle download at 1 GiB by default, by Content-Length and while streaming", async () => {
    expect(MAX_BUNDLE_BYTES).to.equal(2 ** 30);
    const body = (n: number, chunk = 100) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (let sent = 0; sent < n; sent += chunk) c.enqueue(new Uint8Array(Math.min(chunk, n - sent)).fill(7));
          c.close();
        },
      });
    const serve = (n: number, headers: Record<string, string> = {}): typeof fetch => async () => new Response(body(n), { headers });
    // A declared size past the default limit is refused before reading.
    expect(await failure(downloadBundle("http://x/bundle", { fetch: serve(10, { "content-length": String(MAX_BUNDLE_BYTES + 1) }) }))).to.match(/is 1073741825 bytes \(Content-Length\), over the limit of 1073741824 bytes/);
    // No Content-Length (or a lying one): counted while streaming.
    expect(await failure(downloadBundle("http://x/bundle", { maxBytes: 1000, fetch: serve(1001) }))).to.match(/more than 1000 bytes/);
    expect(await failure(downloadBundle("http://x/bundle", { maxBytes: 1000, fetch: serve(1001, { "content-length": "10" }) }))).to.match(/more than 1000 bytes/);
    const ok = await downloadBundle("http://x/bundle", { maxBytes: 1000, fetch: serve(1000) });
    expect(ok.length).to.equal(1000);
    expect(ok.every((b) => b === 7)).to.equal(true);
    expect(await failure(downloadBundle("http://x/bundle", { fetch: async () => new Response("no", { status: 404 }) }))).to.match(/answered HTTP 404/);
  });
});
