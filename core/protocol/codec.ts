/**
 * Canonical proof encoding (docs/protocol.md §3.3): a proof is the concatenation of its elements in
 * a fixed order, Fr as 32 bytes big-endian (< r), G1 as 64 bytes x‖y (on the curve, identity = zeros),
 * counts as u32 big-endian. The reader knows from the statement how many elements to expect, so every
 * byte string decodes to at most one proof; anything else (short, long, non-canonical, off the curve)
 * is a ProofFormatError, never a verdict.
 */
import { type G1Point, EncodingError, bigIntToBytes, frFromBytes, g1FromBytes, g1ToBytes } from "../crypto/bn254";

export class ProofFormatError extends Error {
  constructor(
    readonly code: "ZKDL_PROOF_TRUNCATED" | "ZKDL_PROOF_TRAILING" | "ZKDL_PROOF_ENCODING" | "ZKDL_PROOF_SHAPE",
    message: string,
  ) {
    super(message);
    this.name = "ProofFormatError";
  }
}

/** Where each element of an encoded proof lies (tests tamper with every one of them). */
export interface ProofSlot {
  readonly offset: number;
  readonly kind: "scalar" | "point" | "u32";
}

export class ProofWriter {
  private parts: Uint8Array[] = [];
  private size = 0;
  readonly layout: ProofSlot[] = [];

  private push(bytes: Uint8Array, kind: ProofSlot["kind"]): this {
    this.layout.push({ offset: this.size, kind });
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }

  scalar(v: bigint): this {
    return this.push(bigIntToBytes(v), "scalar");
  }

  scalars(vs: readonly bigint[]): this {
    for (const v of vs) this.scalar(v);
    return this;
  }

  point(p: G1Point): this {
    return this.push(g1ToBytes(p), "point");
  }

  points(ps: readonly G1Point[]): this {
    for (const p of ps) this.point(p);
    return this;
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a u32: ${n}`);
    return this.push(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), "u32");
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export class ProofReader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  private take(n: number, what: string): Uint8Array {
    if (this.at + n > this.buf.length) {
      throw new ProofFormatError("ZKDL_PROOF_TRUNCATED", `proof ends at byte ${this.buf.length} while reading ${what} at byte ${this.at}`);
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  private decode<T>(what: string, at: number, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof EncodingError) throw new ProofFormatError("ZKDL_PROOF_ENCODING", `${what} at byte ${at}: ${e.message}`);
      throw e;
    }
  }

  scalar(what = "scalar"): bigint {
    const at = this.at;
    const bytes = this.take(32, what);
    return this.decode(what, at, () => frFromBytes(bytes));
  }

  scalars(n: number, what = "scalar"): bigint[] {
    return Array.from({ length: n }, (_, i) => this.scalar(`${what}[${i}]`));
  }

  point(what = "point"): G1Point {
    const at = this.at;
    const bytes = this.take(64, what);
    return this.decode(what, at, () => g1FromBytes(bytes));
  }

  points(n: number, what = "point"): G1Point[] {
    return Array.from({ length: n }, (_, i) => this.point(`${what}[${i}]`));
  }

  /** Raw bytes (a nested encoding the caller parses). */
  bytesOf(n: number, what = "bytes"): Uint8Array {
    return this.take(n, what);
  }

  u32(what = "count", max = 0xffffffff): number {
    const b = this.take(4, what);
    const n = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
    if (n > max) throw new ProofFormatError("ZKDL_PROOF_SHAPE", `${what} = ${n} exceeds ${max}`);
    return n;
  }

  /** Every byte must have been read. */
  end(): void {
    if (this.at !== this.buf.length) {
      throw new ProofFormatError("ZKDL_PROOF_TRAILING", `${this.buf.length - this.at} unexpected bytes after the proof`);
    }
  }
}
