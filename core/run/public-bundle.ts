/**
 * The public bundle (docs/protocol.md §4.5): a run's public files in one download, what the
 * registered bundle URI serves and what attestors verify.
 *
 *   "ZKDLPUB1" ‖ u32 n ‖ n × (u8 len ‖ name (ASCII) ‖ u32 size ‖ bytes)
 *
 * with exactly the public files, in this order: manifest.json, dataset.bin, dataset-tree.json,
 * proof.bin. The manifest's keccak-256 is the run's manifest digest, and it fixes the other files'
 * digests, so a bundle is checked against the chain by its first file alone.
 */
import { PUBLIC_FILES, RUN_FILES, RunFileError } from "./files";
import { type Manifest, digestHex, parseManifest } from "./manifest";
import { concatBytes } from "@noble/hashes/utils.js";
import type { RunFiles } from "./verify";

export const PUBLIC_BUNDLE_MAGIC = "ZKDLPUB1";
// The bundle's files and their order are the run format's public files (./files.ts).

/** Packs a run's public files (from a run folder, or any other RunFiles). */
export function packPublicBundle(files: RunFiles): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode(PUBLIC_BUNDLE_MAGIC), u32(PUBLIC_FILES.length)];
  for (const name of PUBLIC_FILES) {
    const bytes = files.read(name);
    const n = new TextEncoder().encode(name);
    parts.push(Uint8Array.of(n.length), n, u32(bytes.length), bytes);
  }
  return concatBytes(...parts);
}

/** An unpacked public bundle: its files, its manifest and that manifest's digest. */
export interface PublicBundle extends RunFiles {
  readonly manifest: Manifest;
  readonly manifestDigest: string;
}

/** Unpacks and checks the layout (names, order, sizes, canonical manifest); `label` names it in errors. */
export function unpackPublicBundle(label: string, bytes: Uint8Array): PublicBundle {
  const fail = (why: string): never => {
    throw new RunFileError(label, why);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== PUBLIC_BUNDLE_MAGIC) fail(`not a public bundle (expected the tag ${PUBLIC_BUNDLE_MAGIC})`);
  const count = view.getUint32(8);
  if (count !== PUBLIC_FILES.length) fail(`holds ${count} files, expected ${PUBLIC_FILES.length}`);
  const files = new Map<string, Uint8Array>();
  let at = 12;
  for (const expected of PUBLIC_FILES) {
    if (at + 1 > bytes.length) fail("truncated");
    const len = bytes[at];
    if (at + 1 + len + 4 > bytes.length) fail("truncated");
    const name = new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + len));
    if (name !== expected) fail(`file ${files.size + 1} is ${JSON.stringify(name)}, expected ${expected}`);
    const size = view.getUint32(at + 1 + len);
    at += 1 + len + 4;
    if (at + size > bytes.length) fail(`truncated inside ${name}`);
    files.set(name, bytes.subarray(at, at + size));
    at += size;
  }
  if (at !== bytes.length) fail("trailing bytes");
  const path = (name: string) => `${label}!${name}`;
  const manifestBytes = files.get(RUN_FILES.manifest)!;
  const manifest = parseManifest(path(RUN_FILES.manifest), manifestBytes);
  return {
    manifest,
    manifestDigest: digestHex(manifestBytes),
    path,
    read(name) {
      const f = files.get(name);
      if (!f) throw RunFileError.missing(path(name));
      return f;
    },
  };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}
