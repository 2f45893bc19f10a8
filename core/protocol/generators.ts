/**
 * Commitment keys: the generator sets of docs/protocol.md §2.3, derived in pure TypeScript (what the
 * verifier's default) or by an injected deriver (the prover's native core: prover/native-engine.ts;
 * tests check both agree).
 *
 *   G_i = hashToG1("zkdl-chain/v1/generators", label ‖ 0x00 ‖ "G" ‖ u32be(i)),  H: tag "H",  g: tag "g"
 *   id(label, n) = keccak256(u8(len label) ‖ label ‖ u32be(n))
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type G1Point, hashToG1 } from "../crypto/bn254";
import type { GeneratorDeriver } from "./backend";

export const DEFAULT_LABEL = "zkdl-chain/v1/hyrax";
export const MAX_GENERATORS = 1 << 24;
const DST = new TextEncoder().encode("zkdl-chain/v1/generators");

export interface CommitmentKey {
  readonly label: string;
  /** Number of vector generators G_0 … G_{size−1}. */
  readonly size: number;
  readonly G: readonly G1Point[];
  /** Blinding generator. */
  readonly H: G1Point;
  /** Base of committed scalars. */
  readonly g: G1Point;
  /** The set id, bound into every transcript that uses the key. */
  readonly id: Uint8Array;
}

function checkLabel(label: string): Uint8Array {
  const bytes = new TextEncoder().encode(label);
  if (bytes.length < 1 || bytes.length > 64 || !/^[\x20-\x7e]+$/.test(label)) {
    throw new RangeError(`generator label must be 1 to 64 printable ASCII characters: ${JSON.stringify(label)}`);
  }
  return bytes;
}

export function generatorSetId(label: string, n: number): Uint8Array {
  const l = checkLabel(label);
  const buf = new Uint8Array(1 + l.length + 4);
  buf[0] = l.length;
  buf.set(l, 1);
  new DataView(buf.buffer).setUint32(1 + l.length, n);
  return keccak_256(buf);
}

function tagged(label: Uint8Array, tag: string, index?: number): Uint8Array {
  const t = new TextEncoder().encode(tag);
  const buf = new Uint8Array(label.length + 1 + t.length + (index === undefined ? 0 : 4));
  buf.set(label, 0);
  buf[label.length] = 0;
  buf.set(t, label.length + 1);
  if (index !== undefined) new DataView(buf.buffer).setUint32(label.length + 1 + t.length, index);
  return buf;
}

interface Cached {
  G: G1Point[];
  H: G1Point;
  g: G1Point;
}
const cache = new Map<string, Cached>();

/**
 * The key with `size` vector generators. `derive` derives them elsewhere (the native core on all
 * cores: prover/native-engine.ts's nativeGenerators); the default derives in TypeScript, so a verifier
 * needs no addon. Both cache per label.
 */
export function commitmentKey(size: number, opts: { label?: string; derive?: GeneratorDeriver } = {}): CommitmentKey {
  const label = opts.label ?? DEFAULT_LABEL;
  const l = checkLabel(label);
  if (!Number.isInteger(size) || size < 1 || size > MAX_GENERATORS) throw new RangeError(`generator count must be 1 to 2^24, got ${size}`);
  let entry = cache.get(label);
  if (!entry || entry.G.length < size) {
    if (opts.derive) {
      const set = opts.derive(label, size);
      if (set.G.length < size) throw new RangeError(`the generator deriver gave ${set.G.length} generators, not ${size}`);
      // The cache is shared by every caller in the process, the pure-TypeScript verifier included: a
      // deriver that disagrees with the definition (a wrong label or domain) must not fill it. Spot
      // checks against the TypeScript derivation: H, g, the first and the last new generator.
      const from = entry?.G.length ?? 0;
      const spot: [string, G1Point, G1Point][] = [
        ["H", set.H, hashToG1(DST, tagged(l, "H"))],
        ["g", set.g, hashToG1(DST, tagged(l, "g"))],
        [`G_${from}`, set.G[from], hashToG1(DST, tagged(l, "G", from))],
        [`G_${size - 1}`, set.G[size - 1], hashToG1(DST, tagged(l, "G", size - 1))],
      ];
      for (const [name, got, want] of spot) if (!got.equals(want)) throw new Error(`the generator deriver's ${name} for ${JSON.stringify(label)} is not the one docs/protocol.md §2.3 defines`);
      entry = { G: [...(entry?.G ?? []), ...set.G.slice(from, size)], H: entry?.H ?? set.H, g: entry?.g ?? set.g };
    } else {
      const G = entry?.G.slice() ?? [];
      for (let i = G.length; i < size; i++) G.push(hashToG1(DST, tagged(l, "G", i)));
      entry = { G, H: entry?.H ?? hashToG1(DST, tagged(l, "H")), g: entry?.g ?? hashToG1(DST, tagged(l, "g")) };
    }
    cache.set(label, entry);
  }
  return { label, size, G: entry.G.slice(0, size), H: entry.H, g: entry.g, id: generatorSetId(label, size) };
}
