/**
 * Deterministic randomness from public seeds (docs/protocol.md §4.2): a keccak-256 counter stream,
 *   block_c = keccak256(u8(len dst) ‖ dst ‖ seed ‖ u32be(c)),  c = 0, 1, …
 * read as 256-bit big-endian integers. Uniform integers below n use rejection sampling (no modulo
 * bias); uniform reals in [0, 1) take the top 53 bits. Anyone can recompute the initial weights and
 * every batch from the manifest's seed.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { bytesToBigInt } from "../crypto/bn254";

const TWO_256 = 1n << 256n;

export class SeededStream {
  private counter = 0;
  private readonly prefix: Uint8Array;

  constructor(dst: string, seed: Uint8Array) {
    const d = new TextEncoder().encode(dst);
    if (d.length < 1 || d.length > 255) throw new RangeError("stream label must be 1 to 255 bytes");
    this.prefix = concatBytes(Uint8Array.of(d.length), d, seed);
  }

  private block(): bigint {
    const c = this.counter++;
    return bytesToBigInt(keccak_256(concatBytes(this.prefix, Uint8Array.of(c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff))));
  }

  /** Uniform in [0, n). */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`cannot draw below ${n}`);
    const N = BigInt(n);
    const limit = TWO_256 - (TWO_256 % N);
    for (;;) {
      const v = this.block();
      if (v < limit) return Number(v % N);
    }
  }

  /** Uniform in [0, 1), 53 bits. */
  unit(): number {
    return Number(this.block() >> 203n) / 2 ** 53;
  }
}

/** A seed as bytes: the UTF-8 of its text (the manifest stores the text). */
export const seedBytes = (seed: string): Uint8Array => new TextEncoder().encode(seed);

/** Fisher–Yates permutation of 0..n−1 drawn from the stream. */
export function permutation(stream: SeededStream, n: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = stream.below(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
