/**
 * Downloading a registered run's public bundle (docs/protocol.md §5.1) without trusting the URI it was
 * registered with: anyone may register a run, so the URI may point anywhere and the server may lie.
 *
 * - Only http(s) is fetched (`file:` only when the attestor allows it, for local use); redirects are
 *   followed by hand, at most `maxRedirects`, and only to http(s).
 * - One deadline covers the whole download (every hop, headers and body), so a server that trickles
 *   bytes forever is cut off.
 * - The bundle is read as it arrives: "ZKDLPUB1" ‖ u32 n ‖ n × (u8 len ‖ name ‖ u32 size ‖ bytes) with
 *   manifest.json first. The manifest is capped (the most a canonical manifest of the registered step
 *   count can take; a registration of more steps than a run may have is invalid at once), hashed as
 *   soon as it is in (a manifest that is not the registered one stops the download), and then fixes
 *   the exact size of everything else: dataset.bin is 20 + 128·N bytes, proof.bin is
 *   `manifest.bundle.bytes`, dataset-tree.json is at most 512·N + 64 KiB. A byte past that bound, a
 *   Content-Length above it, or a bundle larger than `maxBundleBytes` stops the download.
 *
 * Failures come out as a `BundleFetchError` of one of three kinds, which the attestor's policy maps to
 * outcomes: `unavailable` (could not be fetched now: retry), `refused` (this attestor will not fetch or
 * judge it: cannot judge), `malformed` (what arrived is provably not the registered bundle: invalid).
 */
import { createReadStream, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { datasetFileBytes } from "../core/run/formats";
import { PUBLIC_FILES, type PublicFileName, RUN_FILES, RunFileError } from "../core/run/files";
import { type Manifest, RUN_LIMITS, digestHex, maxManifestBytes, parseManifest } from "../core/run/manifest";
import { PUBLIC_BUNDLE_MAGIC } from "../core/run/public-bundle";
import { Stopped } from "./chain";
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_BUNDLE_BYTES } from "./limits";

export const DEFAULT_MAX_REDIRECTS = 3;

/**
 * The largest manifest.json read for a run of `numSteps` registered steps (no larger than a canonical
 * manifest can be: it lists one digest per window, and a run has at most one window per step).
 */
export const manifestCap = (numSteps: bigint | number): number => maxManifestBytes(Math.min(Number(numSteps), RUN_LIMITS.steps));
/** The most dataset-tree.json (OpenZeppelin's dump, about 250 bytes a leaf) may take for N records. */
export const treeCap = (records: number): number => 512 * records + 65_536;

export type BundleFailure = "unavailable" | "refused" | "malformed";

export class BundleFetchError extends Error {
  constructor(readonly kind: BundleFailure, message: string) {
    super(message);
    this.name = "BundleFetchError";
  }
}

const unavailable = (why: string) => new BundleFetchError("unavailable", why);
const refused = (why: string) => new BundleFetchError("refused", why);
const malformed = (why: string) => new BundleFetchError("malformed", why);

export interface FetchBundleOptions {
  /** The registered manifest digest: the bundle's first file must hash to it. */
  readonly manifestDigest: string;
  /** The registered step count (sizes the manifest cap). */
  readonly numSteps: bigint | number;
  readonly maxBundleBytes?: number;
  /** Deadline for the whole download, every redirect and the body included. */
  readonly timeoutMs?: number;
  readonly maxRedirects?: number;
  /** Read `file:` URIs (local use only: a registration could name any file on the attestor's machine). */
  readonly allowFileUris?: boolean;
  /** Aborting it stops the download with `Stopped` (the daemon is shutting down). */
  readonly signal?: AbortSignal;
}

/**
 * Checks a public bundle as its bytes arrive and keeps them; throws a `BundleFetchError` (malformed or
 * refused) the moment the stream can no longer be the registered bundle or is more than this attestor reads.
 */
export class BundleStream {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  /** Where the next structural field starts, and which file comes next. */
  private at = 0;
  private file = 0;
  private phase: "head" | "entry" | "body" | "done" = "head";
  private bodyEnd = 0;
  /** The most bytes the stream may hold: the global cap until the manifest is in, then its layout's bound. */
  private limit: number;
  private announced?: number;
  manifest?: Manifest;

  constructor(private readonly o: { manifestDigest: string; numSteps: bigint | number; maxBundleBytes: number }) {
    this.limit = o.maxBundleBytes;
  }

  /** The bytes received so far. */
  get size(): number {
    return this.received;
  }

  /** The length the server announced (Content-Length): refused above the global cap, malformed above the manifest's bound. */
  announce(length: number): void {
    this.announced = length;
    if (length > this.o.maxBundleBytes) throw refused(`the server announces ${length} bytes; this attestor reads at most ${this.o.maxBundleBytes} (--max-bundle-bytes)`);
    this.checkAnnounced();
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.received += chunk.length;
    this.advance();
    if (this.received > this.limit) {
      throw this.manifest ? malformed(`more than the ${this.limit} bytes its manifest allows`) : refused(`more than ${this.limit} bytes (--max-bundle-bytes)`);
    }
  }

  /** The whole bundle, once the stream has ended. */
  end(): Uint8Array {
    if (this.phase !== "done") throw malformed(`truncated after ${this.received} bytes (inside ${this.phase === "head" ? "the header" : PUBLIC_FILES[this.file]})`);
    return Buffer.concat(this.chunks, this.received);
  }

  private checkAnnounced(): void {
    if (this.manifest && this.announced !== undefined && this.announced > this.limit) {
      throw malformed(`the server announces ${this.announced} bytes; the registered manifest allows at most ${this.limit}`);
    }
  }

  /** Copies `len` bytes at stream position `from` (all received). */
  private bytes(from: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let pos = 0;
    let filled = 0;
    for (const c of this.chunks) {
      if (filled === len) break;
      const start = Math.max(from - pos, 0);
      if (start < c.length && pos + c.length > from) {
        const n = Math.min(c.length - start, len - filled);
        out.set(c.subarray(start, start + n), filled);
        filled += n;
      }
      pos += c.length;
    }
    return out;
  }

  private has(n: number): boolean {
    return this.received >= this.at + n;
  }

  private advance(): void {
    for (;;) {
      if (this.phase === "head") {
        if (!this.has(12)) return;
        const head = this.bytes(0, 12);
        if (new TextDecoder().decode(head.subarray(0, 8)) !== PUBLIC_BUNDLE_MAGIC) throw malformed(`not a public bundle (expected the tag ${PUBLIC_BUNDLE_MAGIC})`);
        const count = new DataView(head.buffer).getUint32(8);
        if (count !== PUBLIC_FILES.length) throw malformed(`holds ${count} files, expected ${PUBLIC_FILES.length}`);
        this.at = 12;
        this.phase = "entry";
      } else if (this.phase === "entry") {
        if (!this.has(1)) return;
        const len = this.bytes(this.at, 1)[0];
        if (!this.has(1 + len + 4)) return;
        const entry = this.bytes(this.at + 1, len + 4);
        const name = new TextDecoder().decode(entry.subarray(0, len));
        const expected = PUBLIC_FILES[this.file];
        if (name !== expected) throw malformed(`file ${this.file + 1} is ${JSON.stringify(name.slice(0, 64))}, expected ${expected}`);
        const size = new DataView(entry.buffer).getUint32(len);
        this.checkSize(expected, size);
        this.at += 1 + len + 4;
        this.bodyEnd = this.at + size;
        this.phase = "body";
      } else if (this.phase === "body") {
        if (this.received < this.bodyEnd) return;
        if (this.file === 0) this.readManifest(this.bytes(this.at, this.bodyEnd - this.at));
        this.at = this.bodyEnd;
        this.file++;
        this.phase = this.file === PUBLIC_FILES.length ? "done" : "entry";
      } else {
        if (this.received > this.at) throw malformed(`trailing bytes after ${PUBLIC_FILES[PUBLIC_FILES.length - 1]}`);
        return;
      }
    }
  }

  private checkSize(name: PublicFileName, size: number): void {
    if (name === RUN_FILES.manifest) {
      const cap = Math.min(manifestCap(this.o.numSteps), this.o.maxBundleBytes);
      if (size > cap) throw refused(`${name} of ${size} bytes; this attestor reads at most ${cap} for a run of ${this.o.numSteps} steps`);
      return;
    }
    const m = this.manifest!;
    const [want, exact] =
      name === RUN_FILES.dataset ? [datasetFileBytes(m.dataset.size, m.model.paddedLayers[0]), true] : name === RUN_FILES.proof ? [m.bundle.bytes, true] : [treeCap(m.dataset.size), false];
    if (exact ? size !== want : size > want) throw malformed(`${name} is ${size} bytes; for its manifest it must be ${exact ? "" : "at most "}${want}`);
  }

  private readManifest(bytes: Uint8Array): void {
    const digest = digestHex(bytes);
    if (digest !== this.o.manifestDigest.toLowerCase()) throw malformed(`its manifest is not the registered one (digest ${digest})`);
    let m: Manifest;
    try {
      m = parseManifest(RUN_FILES.manifest, bytes);
    } catch (e) {
      if (e instanceof RunFileError) throw malformed(`the registered manifest is malformed: ${e.message}`);
      throw e;
    }
    this.manifest = m;
    // The rest: three entry headers and the three files at their largest.
    const rest = PUBLIC_FILES.slice(1).reduce((n, name) => n + 5 + name.length, 0) + datasetFileBytes(m.dataset.size, m.model.paddedLayers[0]) + treeCap(m.dataset.size) + m.bundle.bytes;
    const bound = this.bodyEnd + rest;
    if (bound > this.o.maxBundleBytes) throw refused(`its manifest allows a bundle of up to ${bound} bytes; this attestor reads at most ${this.o.maxBundleBytes} (--max-bundle-bytes)`);
    this.limit = bound;
    this.checkAnnounced();
  }
}

/**
 * Downloads the bundle at `uri` within the limits (module comment); returns its bytes, which start with
 * the registered manifest and have exactly the layout its manifest implies (not yet verified).
 */
export async function fetchBundle(uri: string, o: FetchBundleOptions): Promise<Uint8Array> {
  const stream = new BundleStream({ manifestDigest: o.manifestDigest, numSteps: o.numSteps, maxBundleBytes: o.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES });
  const timeoutMs = o.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
  /** Why the download stopped: shut down, out of time, or what the checker or the transfer said. */
  const why = (e: unknown): unknown => {
    if (o.signal?.aborted) return new Stopped();
    if (deadline.aborted) return unavailable(`not downloaded within ${timeoutMs} ms (${stream.size} bytes received)`);
    return e; // a BundleFetchError, or a bug (the caller's to report)
  };
  // A manifest lists a digest per window (at most one window per step), and a run has at most
  // RUN_LIMITS.steps: more cannot be valid.
  if (BigInt(o.numSteps) > BigInt(RUN_LIMITS.steps)) throw malformed(`registered with ${o.numSteps} steps; a run has at most ${RUN_LIMITS.steps}`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw refused(`the bundle URI ${JSON.stringify(uri.slice(0, 200))} is not a URL`);
  }
  try {
    if (url.protocol === "file:") {
      if (!o.allowFileUris) throw refused(`file: URIs are not fetched (a registration could name any local file; --allow-file-uris for local use)`);
      await readFile(url, stream, signal);
    } else if (url.protocol === "http:" || url.protocol === "https:") {
      await download(url, stream, signal, o.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
    } else {
      throw refused(`unsupported URI scheme ${url.protocol} (http and https only)`);
    }
    return stream.end();
  } catch (e) {
    throw why(e);
  }
}

async function download(start: URL, stream: BundleStream, signal: AbortSignal, maxRedirects: number): Promise<void> {
  let url = start;
  for (let hop = 0; ; hop++) {
    // identity: what the caps count is what arrives (a compressed bomb costs its sender as much as us).
    const res = await fetch(url, { redirect: "manual", signal, headers: { "accept-encoding": "identity" } }).catch((e: unknown) => {
      throw unavailable(`cannot fetch ${url.href.slice(0, 200)}: ${describe(e)}`);
    });
    if ([301, 302, 303, 307, 308].includes(res.status)) {
      await res.body?.cancel().catch(() => {});
      const location = res.headers.get("location");
      if (!location) throw unavailable(`${url.href.slice(0, 200)} answered ${res.status} without a Location`);
      if (hop >= maxRedirects) throw unavailable(`more than ${maxRedirects} redirects`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw refused(`redirected to ${JSON.stringify(location.slice(0, 200))}, not a URL`);
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") throw refused(`redirected to a ${next.protocol} URI (only http and https are followed)`);
      url = next;
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw unavailable(`${url.href.slice(0, 200)} answered ${res.status}`);
    }
    const declared = res.headers.get("content-length");
    if (declared !== null && /^\d+$/.test(declared)) stream.announce(Number(declared));
    if (!res.body) throw unavailable("the response has no body");
    await pump(res.body, stream, signal);
    return;
  }
}

async function readFile(url: URL, stream: BundleStream, signal: AbortSignal): Promise<void> {
  const path = fileURLToPath(url);
  const cannot = (e: unknown) => unavailable(`cannot read ${path.slice(0, 200)}: ${describe(e)}`);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    throw cannot(e);
  }
  stream.announce(size);
  const file = createReadStream(path, { highWaterMark: 1 << 16, signal });
  try {
    const chunks = file[Symbol.asyncIterator]();
    for (;;) {
      const next = await chunks.next().catch((e: unknown) => {
        throw cannot(e);
      });
      if (next.done) return;
      stream.push(next.value as Buffer);
    }
  } finally {
    file.destroy();
  }
}

/** Feeds the body into the checker until it ends, the checker objects, or the deadline passes. */
async function pump(body: ReadableStream<Uint8Array>, stream: BundleStream, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), aborted]).catch((e: unknown) => {
        throw unavailable(`the transfer broke off after ${stream.size} bytes: ${describe(e)}`);
      });
      if (done) return;
      stream.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err?.cause ? ` (${err.cause.code ?? err.cause.message})` : "";
  return `${err?.message ?? String(e)}${cause}`.slice(0, 300);
}
