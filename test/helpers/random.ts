/**
 * Seeded randomness for tests: every run draws a fresh seed (or takes ZKDL_TEST_SEED) and prints it,
 * so a failure found on random inputs can be replayed exactly.
 */
import { randomBytes } from "node:crypto";
import { keccak256, toBeHex, concat } from "ethers";

const seedHex = process.env.ZKDL_TEST_SEED ?? randomBytes(16).toString("hex");
let announced = false;

export class Rng {
  private counter = 0n;
  constructor(private readonly seed: string) {}

  /** 32 pseudo-random bytes as 0x-hex. */
  bytes32(): string {
    return keccak256(concat([toBeHex(BigInt("0x" + this.seed), 32), toBeHex(this.counter++, 32)]));
  }

  /** A uniform bigint in [0, 2^256). */
  uint256(): bigint {
    return BigInt(this.bytes32());
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0)) throw new RangeError("n must be positive");
    return Number(this.uint256() % BigInt(n));
  }

  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bool(): boolean {
    return this.int(2) === 1;
  }
}

/** A generator for one test file; `label` separates the streams of different files. */
export function rng(label: string): Rng {
  if (!announced) {
    announced = true;
    console.log(`      (random seed ${seedHex}; replay with ZKDL_TEST_SEED=${seedHex})`);
  }
  return new Rng(keccak256(concat([toBeHex(BigInt("0x" + seedHex), 32), Buffer.from(label)])).slice(2));
}
