/**
 * The Fiat–Shamir transcript (docs/protocol.md §3.2): one implementation for prover and verifier.
 *
 * A 32-byte keccak-256 state, chained:
 *   start            s = keccak(0x00 ‖ u8(len dst) ‖ dst)
 *   absorb(l, data)  s = keccak(s ‖ 0x01 ‖ u8(len l) ‖ l ‖ u32be(len data) ‖ data)
 *   challenge(l)     s = keccak(s ‖ 0x02 ‖ u8(len l) ‖ l);
 *                    c = (keccak(s ‖ 0x00) ‖ keccak(s ‖ 0x01)) as a 512-bit big-endian integer mod r
 * Every tag byte and length prefix keeps different message sequences from hashing alike; a handful
 * of keccak calls per step is all a Solidity verifier needs.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { type G1Point, bigIntsToBytes, bytesToBigInt } from "../crypto/bn254";
import { concatPoints } from "./backend";
import { R } from "../crypto/fr";

const ASCII = new TextEncoder();

function label(text: string): Uint8Array {
  const bytes = ASCII.encode(text);
  if (bytes.length < 1 || bytes.length > 255) throw new RangeError(`transcript label must be 1 to 255 bytes: ${JSON.stringify(text)}`);
  return bytes;
}

const concat = (parts: Uint8Array[]): Uint8Array => concatBytes(...parts);
const u8 = (n: number) => Uint8Array.of(n);
const u32be = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

export class Transcript {
  private state: Uint8Array;

  /** `domain` names the protocol and version, e.g. "zkdl-chain/v1/hyrax-open". */
  constructor(domain: string) {
    const dst = label(domain);
    this.state = keccak_256(concat([u8(0), u8(dst.length), dst]));
  }

  absorb(name: string, data: Uint8Array): this {
    const l = label(name);
    this.state = keccak_256(concat([this.state, u8(1), u8(l.length), l, u32be(data.length), data]));
    return this;
  }

  absorbScalars(name: string, values: readonly bigint[]): this {
    return this.absorb(name, bigIntsToBytes(values));
  }

  /** The points' 64-byte encodings (cached per point: a dataset's commitments are absorbed and hashed again). */
  absorbPoints(name: string, points: readonly G1Point[]): this {
    return this.absorb(name, concatPoints(points));
  }

  /** Unsigned 32-bit integers (shapes, counts) as big-endian words. */
  absorbU32s(name: string, values: readonly number[]): this {
    return this.absorb(name, concat(values.map(u32be)));
  }

  challenge(name: string): bigint {
    const l = label(name);
    this.state = keccak_256(concat([this.state, u8(2), u8(l.length), l]));
    const wide = concat([keccak_256(concat([this.state, u8(0)])), keccak_256(concat([this.state, u8(1)]))]);
    return bytesToBigInt(wide) % R;
  }

  challenges(name: string, n: number): bigint[] {
    return Array.from({ length: n }, () => this.challenge(name));
  }

  /** The current state (for test vectors and for binding a proof to its transcript). */
  digest(): Uint8Array {
    return this.state.slice();
  }
}
