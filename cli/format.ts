/** Output helpers of the run commands and the demo (no chain library: `zkdl verify` prints addresses without ethers). */
import { keccak_256 } from "@noble/hashes/sha3.js";

/** A window's steps for people, counted from 1: "steps 5–8", "step 9". */
export const stepSpan = (first: number, steps: number): string => (steps === 1 ? `step ${first + 1}` : `steps ${first + 1}–${first + steps}`);

/** A fraction as a percentage with one decimal ("n/a" when absent). */
export const pct = (v?: number): string => (v === undefined ? "n/a" : `${(100 * v).toFixed(1)}%`);

/** An address (0x + 40 hex digits, any case) in its EIP-55 mixed-case checksum form. */
export function checksumAddress(address: string): string {
  const hex = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(hex));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0x8 ? hex[i].toUpperCase() : hex[i];
  return out;
}
