/**
 * The attestor's bundle download (relayer/fetch-bundle.ts) against a local server that lies: redirect
 * loops and redirects to file: or other schemes, a trickle, an endless body, a wrong manifest first,
 * Content-Length lies, 404/500/429, and bundles whose sizes disagree with their manifest.
 */
import { expect } from "chai";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { digestHex } from "../../core/run/manifest";
import { packPublicBundle } from "../../core/run/public-bundle";
import { folderFiles } from "../../prover/run-folder";
import { trainRun } from "../../prover/train";
import { Stopped } from "../../relayer/chain";
import { datasetFileBytes } from "../../core/run/formats";
import { BundleFetchError, BundleStream, type FetchBundleOptions, fetchBundle, manifestCap, treeCap } from "../../relayer/fetch-bundle";

/** "ZKDLPUB1" ‖ u32 n ‖ entries × (u8 len ‖ name ‖ u32 size ‖ bytes); n and the sizes may lie. */
function pack(entries: [string, Uint8Array, number?][], n = entries.length): Buffer {
  const parts: Buffer[] = [Buffer.from("ZKDLPUB1"), u32(n)];
  for (const [name, bytes, size] of entries) parts.push(Buffer.from([name.length]), Buffer.from(name), u32(size ?? bytes.length), Buffer.from(bytes));
  return Buffer.concat(parts);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** What a route did: bytes written before the client went away. */
interface Served {
  written: number;
  closed: Promise<void>;
}

describe("relayer: fetching a bundle from an untrusted URI", function () {
  this.timeout(60_000);
  const root = mkdtempSync(join(tmpdir(), "zkdl-fetch-"));
  const run = join(root, "run");
  let good: Buffer;
  let files: Record<"manifest" | "dataset" | "tree" | "proof", Buffer>;
  let digest: string;
  let numSteps: number;
  let http: Server;
  let base: string;
  let raw: TcpServer;
  let rawBase: string;
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse, served: Served) => void>();
  const rawRoutes = new Map<string, (socket: Socket) => void>();
  const served = new Map<string, Served>();
  const sockets = new Set<Socket>();

  before(async () => {
    // A tiny real run (4-2 network, 8 records, one step): its manifest parses whatever the schema becomes.
    const x = new Int32Array(32).map((_, i) => ((i * 7919) % 13) * 4096);
    trainRun({
      config: { layers: [4, 2], fracBits: 16, lrShift: 9, batch: 2, seed: "fetch-bundle-test" },
      publisher: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      steps: 1,
      records: { features: 4, classes: 2, x, labels: new Int32Array(8).map((_, i) => i % 2), count: 8 },
      source: "csv",
      out: run,
      overwrite: true,
    });
    good = Buffer.from(packPublicBundle(folderFiles(run)));
    files = {
      manifest: readFileSync(join(run, "manifest.json")),
      dataset: readFileSync(join(run, "dataset.bin")),
      tree: readFileSync(join(run, "dataset-tree.json")),
      proof: readFileSync(join(run, "proof.bin")),
    };
    digest = digestHex(files.manifest);
    numSteps = 1;
    http = createHttpServer((req, res) => {
      const route = routes.get(req.url!.split("?")[0]);
      let done!: () => void;
      const s: Served = { written: 0, closed: new Promise((r) => (done = r)) };
      served.set(req.url!, s);
      res.on("close", () => done());
      if (!route) {
        res.writeHead(404).end("no such route");
        return;
      }
      route(req, res, s);
    });
    http.on("connection", (s) => (sockets.add(s), s.on("close", () => sockets.delete(s))));
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    raw = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      socket.once("data", (d) => {
        const path = /^GET (\S+)/.exec(d.toString("latin1"))?.[1] ?? "";
        rawRoutes.get(path)?.(socket);
      });
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    rawBase = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => http?.close(r));
    await new Promise((r) => raw?.close(r));
    rmSync(root, { recursive: true, force: true });
  });

  const opts = (o: Partial<FetchBundleOptions> = {}): FetchBundleOptions => ({ manifestDigest: digest, numSteps, timeoutMs: 2_000, ...o });
  /** The BundleFetchError `fetchBundle` fails with (or the test fails). */
  async function failure(uri: string, o: Partial<FetchBundleOptions> = {}): Promise<BundleFetchError> {
    try {
      await fetchBundle(uri, opts(o));
    } catch (e) {
      if (e instanceof BundleFetchError) return e;
      throw e;
    }
    throw new Error(`${uri} was fetched`);
  }
  const send = (bytes: Uint8Array, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(bytes.length), ...headers });
    res.end(bytes);
  };
  const redirect = (status: number, location: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { location });
    res.end();
  };
  /** `prefix`, then `fill` forever (honouring backpressure), counting what was written. */
  const endless = (prefix: Uint8Array, fill: Uint8Array) => (_req: IncomingMessage, res: ServerResponse, s: Served) => {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.write(prefix);
    s.written += prefix.length;
    const more = () => {
      while (!res.destroyed) {
        s.written += fill.length;
        if (!res.write(fill)) return void res.once("drain", more);
      }
    };
    more();
  };

  it("reads a bundle in any chunking, and keeps exactly its bytes", () => {
    for (const size of [1, 3, 7, 1000, good.length]) {
      const stream = new BundleStream({ manifestDigest: digest, numSteps, maxBundleBytes: 1 << 30 });
      for (let at = 0; at < good.length; at += size) stream.push(good.subarray(at, at + size));
      expect(Buffer.from(stream.end()).equals(good), `chunks of ${size}`).to.equal(true);
      expect(stream.manifest!.dataset.size).to.equal(8);
    }
    // The sizes the manifest implies are the real files'.
    const m = JSON.parse(files.manifest.toString());
    expect(files.dataset.length).to.equal(datasetFileBytes(m.dataset.size, m.model.paddedLayers[0]));
    expect(files.proof.length).to.equal(m.bundle.bytes);
    expect(files.tree.length).to.be.at.most(treeCap(m.dataset.size));
    expect(files.manifest.length).to.be.at.most(manifestCap(1));
  });

  it("fetches over http, chunked, and through up to three redirects (relative and absolute)", async () => {
    routes.set("/good", send(good));
    routes.set("/chunked", (_req, res) => {
      res.writeHead(200);
      for (let at = 0; at < good.length; at += 1000) res.write(good.subarray(at, at + 1000));
      res.end();
    });
    routes.set("/r1", redirect(301, "/r2"));
    routes.set("/r2", redirect(307, `${base}/r3`));
    routes.set("/r3", redirect(302, "r4"));
    routes.set("/r4", redirect(308, "/good"));
    for (const path of ["/good", "/chunked", "/r2"]) expect(Buffer.from(await fetchBundle(base + path, opts())).equals(good), path).to.equal(true);
    // Four hops are one too many.
    const e = await failure(`${base}/r1`);
    expect([e.kind, e.message]).to.deep.equal(["unavailable", "more than 3 redirects"]);
  });

  it("gives up on a redirect loop, and never follows a redirect to file: or another scheme", async () => {
    routes.set("/loop", redirect(302, "/loop"));
    routes.set("/to-file", redirect(302, pathToFileURL(join(run, "manifest.json")).href));
    routes.set("/to-ftp", redirect(301, "ftp://127.0.0.1/bundle"));
    routes.set("/to-data", redirect(307, "data:application/octet-stream;base64,WktETFBVQjE="));
    routes.set("/no-location", (_req, res) => res.writeHead(302).end());
    const loop = await failure(`${base}/loop`);
    expect([loop.kind, loop.message]).to.deep.equal(["unavailable", "more than 3 redirects"]);
    // Even with file: URIs allowed, a server cannot send the attestor to a local file.
    const file = await failure(`${base}/to-file`, { allowFileUris: true });
    expect([file.kind, file.message]).to.deep.equal(["refused", "redirected to a file: URI (only http and https are followed)"]);
    expect((await failure(`${base}/to-ftp`)).message).to.match(/^redirected to a ftp: URI/);
    expect((await failure(`${base}/to-data`)).message).to.match(/^redirected to a data: URI/);
    expect((await failure(`${base}/no-location`)).kind).to.equal("unavailable");
  });

  it("reads file: URIs only when allowed, and refuses URIs that are not http(s)", async () => {
    const file = join(root, "bundle.bin");
    writeFileSync(file, good);
    const uri = pathToFileURL(file).href;
    const refused = await failure(uri);
    expect(refused.kind).to.equal("refused");
    expect(refused.message).to.match(/file: URIs are not fetched .*--allow-file-uris/);
    expect(Buffer.from(await fetchBundle(uri, opts({ allowFileUris: true }))).equals(good)).to.equal(true);
    expect((await failure(pathToFileURL(join(root, "missing.bin")).href, { allowFileUris: true })).kind).to.equal("unavailable");
    // A local file is held to the same limits.
    writeFileSync(file, Buffer.concat([good, Buffer.alloc(10)]));
    expect((await failure(uri, { allowFileUris: true })).message).to.match(/more than the \d+ bytes its manifest allows|trailing bytes/);
    for (const [bad, message] of [
      ["not a uri", /is not a URL/],
      ["ftp://127.0.0.1/bundle", /unsupported URI scheme ftp:/],
      ["data:,ZKDLPUB1", /unsupported URI scheme data:/],
      ["javascript:alert(1)", /unsupported URI scheme javascript:/],
    ] as const) {
      const e = await failure(bad);
      expect([e.kind, e.message], bad).to.satisfy(([kind, m]: [string, string]) => kind === "refused" && message.test(m));
    }
  });

  it("cuts off a server that trickles or never answers at the deadline for the whole download", async () => {
    // Valid bytes, one every 20 ms: headers come at once, the body would take minutes.
    routes.set("/trickle", (_req, res, s) => {
      res.writeHead(200, { "content-length": String(good.length) });
      const t = setInterval(() => {
        if (s.written < good.length) res.write(good.subarray(s.written, ++s.written));
      }, 20);
      res.on("close", () => clearInterval(t));
    });
    routes.set("/silent", () => {});
    for (const path of ["/trickle", "/silent"]) {
      const started = Date.now();
      const e = await failure(base + path, { timeoutMs: 500 });
      expect(e.kind, path).to.equal("unavailable");
      expect(e.message, path).to.match(/^not downloaded within 500 ms/);
      expect(Date.now() - started, path).to.be.lessThan(1_500);
      await served.get(path)!.closed; // the connection is dropped, not left open
    }
    expect(served.get("/trickle")!.written).to.be.within(1, 100);
  });

  it("stops an endless body: garbage at once, a good bundle followed by more bytes right after its last file", async () => {
    routes.set("/garbage", endless(Buffer.alloc(0), Buffer.alloc(1 << 16, 0x41)));
    routes.set("/good-then-more", endless(good, Buffer.alloc(1 << 16)));
    const garbage = await failure(`${base}/garbage`);
    expect([garbage.kind, garbage.message]).to.deep.equal(["malformed", "not a public bundle (expected the tag ZKDLPUB1)"]);
    const more = await failure(`${base}/good-then-more`);
    expect(more.kind).to.equal("malformed");
    expect(more.message).to.match(/trailing bytes after proof.bin|more than the \d+ bytes its manifest allows/);
    for (const path of ["/garbage", "/good-then-more"]) {
      await served.get(path)!.closed;
      // What the server got written before the attestor hung up is the socket buffers' worth, not an endless stream.
      expect(served.get(path)!.written, path).to.be.lessThan(good.length + (32 << 20));
    }
  });

  it("stops at a manifest that is not the registered one, before the rest", async () => {
    const other = Buffer.from(files.manifest.toString().replace('"seed": "fetch-bundle-test"', '"seed": "another-seed-entirely"'));
    // The wrong manifest, then a dataset.bin that claims 4 GiB and never ends.
    routes.set("/wrong-manifest", endless(pack([["manifest.json", other], ["dataset.bin", Buffer.alloc(0), 2 ** 32 - 1]], 4), Buffer.alloc(1 << 16)));
    const e = await failure(`${base}/wrong-manifest`);
    expect(e.kind).to.equal("malformed");
    expect(e.message).to.equal(`its manifest is not the registered one (digest ${digestHex(other)})`);
    await served.get("/wrong-manifest")!.closed;
    expect(served.get("/wrong-manifest")!.written).to.be.lessThan(32 << 20);
    // A registered manifest that does not parse is the run's fault too.
    const junk = Buffer.from("{}\n");
    routes.set("/junk-manifest", send(pack([["manifest.json", junk], ["dataset.bin", files.dataset], ["dataset-tree.json", files.tree], ["proof.bin", files.proof]])));
    const j = await failure(`${base}/junk-manifest`, { manifestDigest: digestHex(junk) });
    expect(j.kind).to.equal("malformed");
    expect(j.message).to.match(/^the registered manifest is malformed: manifest.json: /);
  });

  it("believes no Content-Length: above the cap it stops before reading; above the manifest's bound or short of the body, the bundle is bad", async () => {
    // Announces 2 GiB (more than the 1 GiB default cap) and then streams: refused on the headers alone.
    rawRoutes.set("/huge", (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${2 ** 31}\r\n\r\n`);
      socket.write(good.subarray(0, 100));
    });
    const huge = await failure(`${rawBase}/huge`);
    expect([huge.kind, huge.message]).to.deep.equal(["refused", `the server announces ${2 ** 31} bytes; this attestor reads at most ${2 ** 30} (--max-bundle-bytes)`]);
    // Announces more than this manifest allows (but under the cap): bad as soon as the manifest is in.
    rawRoutes.set("/more", (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${good.length + 10_000_000}\r\n\r\n`);
      socket.write(good);
    });
    const more = await failure(`${rawBase}/more`);
    expect(more.kind).to.equal("malformed");
    expect(more.message).to.match(new RegExp(`^the server announces ${good.length + 10_000_000} bytes; the registered manifest allows at most \\d+$`));
    // Announces less than it sends: the client reads what was announced, a truncated bundle.
    rawRoutes.set("/less", (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${good.length - 100}\r\n\r\n`);
      socket.end(good);
    });
    const less = await failure(`${rawBase}/less`);
    expect(less.kind).to.equal("malformed");
    expect(less.message).to.match(/^truncated after \d+ bytes \(inside proof.bin\)$/);
    // Announces the real length and hangs up early: a broken transfer, tried again later.
    rawRoutes.set("/cut", (socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${good.length}\r\n\r\n`);
      socket.end(good.subarray(0, 500));
    });
    expect((await failure(`${rawBase}/cut`)).kind).to.equal("unavailable");
  });

  it("counts 404, 429, 5xx and other statuses as unavailable (tried again later), naming the status", async () => {
    for (const status of [404, 429, 500, 503, 403, 204]) {
      routes.set(`/status-${status}`, (_req, res) => res.writeHead(status).end());
      const e = await failure(`${base}/status-${status}`);
      expect([e.kind, e.message]).to.deep.equal(["unavailable", `${base}/status-${status} answered ${status}`]);
    }
    // Nothing listening.
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await failure(`http://127.0.0.1:${port}/bundle`);
    expect(refused.kind).to.equal("unavailable");
    expect(refused.message).to.match(/ECONNREFUSED/);
  });

  it("holds every file to the size its manifest implies, and the manifest to its cap", async () => {
    const { manifest, dataset, tree, proof } = files;
    const cases: [string, Buffer, "malformed" | "refused", RegExp][] = [
      ["dataset.bin too long", pack([["manifest.json", manifest], ["dataset.bin", Buffer.concat([dataset, Buffer.alloc(128)])], ["dataset-tree.json", tree], ["proof.bin", proof]]), "malformed", new RegExp(`^dataset.bin is ${dataset.length + 128} bytes; for its manifest it must be ${dataset.length}$`)],
      ["proof.bin too short", pack([["manifest.json", manifest], ["dataset.bin", dataset], ["dataset-tree.json", tree], ["proof.bin", proof.subarray(1)]]), "malformed", /^proof.bin is \d+ bytes; for its manifest it must be \d+$/],
      ["tree too large", pack([["manifest.json", manifest], ["dataset.bin", dataset], ["dataset-tree.json", Buffer.alloc(treeCap(8) + 1, 0x20)], ["proof.bin", proof]]), "malformed", /^dataset-tree.json is \d+ bytes; for its manifest it must be at most 69632$/],
      ["files out of order", pack([["manifest.json", manifest], ["proof.bin", proof], ["dataset.bin", dataset], ["dataset-tree.json", tree]]), "malformed", /^file 2 is "proof.bin", expected dataset.bin$/],
      ["a fifth file", Buffer.concat([Buffer.from("ZKDLPUB1"), u32(5), good.subarray(12)]), "malformed", /^holds 5 files, expected 4$/],
      // The manifest's header claims 100 MB: refused before a byte of it is read.
      ["a huge manifest", pack([["manifest.json", manifest, 100_000_000]], 4), "refused", /^manifest.json of 100000000 bytes; this attestor reads at most 16480 for a run of 1 steps$/],
    ];
    for (const [what, bytes, kind, message] of cases) {
      // Chunked (no Content-Length): the file headers alone must give it away.
      routes.set(`/sizes`, (_req, res) => res.writeHead(200).end(bytes));
      const e = await failure(`${base}/sizes`);
      expect([e.kind, e.message], `${what}: ${e.kind}: ${e.message}`).to.satisfy(([k, m]: [string, string]) => k === kind && message.test(m));
    }
    // A bundle larger than this attestor reads: refused once its manifest says how large it will be.
    routes.set("/sizes", (_req, res) => {
      res.writeHead(200);
      res.write(good.subarray(0, 5000));
      res.end(good.subarray(5000));
    });
    const big = await failure(`${base}/sizes`, { maxBundleBytes: 10_000 });
    expect(big.kind).to.equal("refused");
    expect(big.message).to.match(/^its manifest allows a bundle of up to \d+ bytes; this attestor reads at most 10000 \(--max-bundle-bytes\)$/);
    // Announced up front, it is refused on the headers.
    routes.set("/sizes", send(good));
    expect((await failure(`${base}/sizes`, { maxBundleBytes: 10_000 })).message).to.equal(`the server announces ${good.length} bytes; this attestor reads at most 10000 (--max-bundle-bytes)`);
    // A registration of more steps than a run may have cannot be valid: bad before any request (the
    // manifest cap follows the step count, so the count must not be the registrant's to inflate).
    let requested = false;
    routes.set("/sizes", (_req, res) => ((requested = true), res.end(good)));
    const steps = await failure(`${base}/sizes`, { numSteps: 2n ** 32n - 1n });
    expect([steps.kind, steps.message, requested]).to.deep.equal(["malformed", `registered with ${2n ** 32n - 1n} steps; a run has at most ${2 ** 20}`, false]);
    expect(manifestCap(2n ** 32n - 1n)).to.equal(manifestCap(2 ** 20));
  });

  it("stops with Stopped when the daemon shuts down mid-download", async () => {
    routes.set("/slow", () => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    let error: unknown;
    try {
      await fetchBundle(`${base}/slow`, opts({ signal: controller.signal, timeoutMs: 10_000 }));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Stopped);
  });
});
