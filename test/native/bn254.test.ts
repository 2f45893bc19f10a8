/**
 * The native BN254 core against independent implementations: @noble/curves (fields, G1, MSM),
 * @noble/hashes (Keccak), the EVM precompiles 0x06/0x07 on the Hardhat network, and the TypeScript
 * hash to G1 of core/crypto/bn254.ts. Random inputs; the seed is printed.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { pippenger } from "@noble/curves/abstract/curve.js";
import * as native from "../../native";
import { NativeError } from "../../native";
import { Fq, Fr, G1, type G1Point, bigIntToBytes, frToBytes, g1FromBytes, g1ToBytes, hashToG1 } from "../../core/crypto/bn254";
import { rng, type Rng } from "../helpers/random";
import { concat, decodeFr, encodeFr, expectCode } from "../helpers/native";

function randomScalar(r: Rng): bigint {
  return Fr.create(r.uint256());
}

/** Edge-case and random elements of a field of order `order`. */
function fieldSamples(r: Rng, order: bigint, n: number): bigint[] {
  const edges = [0n, 1n, 2n, order - 1n, order - 2n, (order - 1n) / 2n, (order + 1n) / 2n, 1n << 64n, (1n << 128n) - 1n];
  return [...edges, ...Array.from({ length: n }, () => r.uint256() % order)];
}

function randomPoint(r: Rng): G1Point {
  return G1.BASE.multiply(1n + (r.uint256() % (Fr.ORDER - 1n)));
}

describe("native BN254 core", () => {
  const r = rng("native-bn254");

  it("reports its backend", () => {
    const b = native.backend();
    expect(b.device).to.equal("cpu");
    expect(b.threads).to.be.greaterThan(0);
    expect(b.cudaAvailable).to.equal(false);
  });

  describe("fields", () => {
    for (const [name, F] of [["fr", Fr], ["fq", Fq]] as const) {
      it(`${name}: add, sub, mul, neg, sqr, inv agree with @noble/curves on edge and random values`, () => {
        const a = fieldSamples(r, F.ORDER, 200);
        const b = [...a].reverse().map((v, i) => (i % 3 === 0 ? r.uint256() % F.ORDER : v));
        const enc = encodeFr;
        const dec = decodeFr;
        expect(dec(native.fieldOp(name, "add", enc(a), enc(b)))).to.deep.equal(a.map((x, i) => F.add(x, b[i]!)));
        expect(dec(native.fieldOp(name, "sub", enc(a), enc(b)))).to.deep.equal(a.map((x, i) => F.sub(x, b[i]!)));
        expect(dec(native.fieldOp(name, "mul", enc(a), enc(b)))).to.deep.equal(a.map((x, i) => F.mul(x, b[i]!)));
        expect(dec(native.fieldOp(name, "neg", enc(a)))).to.deep.equal(a.map((x) => F.neg(x)));
        expect(dec(native.fieldOp(name, "sqr", enc(a)))).to.deep.equal(a.map((x) => F.sqr(x)));
        const nonzero = a.filter((x) => x !== 0n);
        expect(dec(native.fieldOp(name, "inv", enc(nonzero)))).to.deep.equal(nonzero.map((x) => F.inv(x)));
      });

      it(`${name}: rejects non-canonical elements, the inverse of zero, bad lengths and unknown ops`, () => {
        for (const bad of [F.ORDER, F.ORDER + 1n, (1n << 256n) - 1n]) {
          expectCode(() => native.fieldOp(name, "neg", bigIntToBytes(bad)), "ZKDL_NON_CANONICAL", /not below the modulus/);
        }
        expectCode(() => native.fieldOp(name, "inv", new Uint8Array(32)), "ZKDL_DIVISION_BY_ZERO");
        expectCode(() => native.fieldOp(name, "neg", new Uint8Array(31)), "ZKDL_INVALID_LENGTH");
        expectCode(() => native.fieldOp(name, "add", new Uint8Array(32), new Uint8Array(64)), "ZKDL_INVALID_LENGTH");
        expectCode(() => native.fieldOp(name, "pow" as "neg", new Uint8Array(32)), "ZKDL_INVALID_ARGUMENT");
      });
    }
    it("rejects a field name it does not know", () => {
      expectCode(() => native.fieldOp("fp" as "fr", "neg", new Uint8Array(32)), "ZKDL_INVALID_ARGUMENT", /fr.*fq/);
    });
  });

  describe("keccak-256", () => {
    it("agrees with @noble/hashes on lengths across block boundaries and random data", () => {
      const lengths = [0, 1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 1000, ...Array.from({ length: 20 }, () => r.int(2000))];
      for (const n of lengths) {
        const data = Uint8Array.from({ length: n }, () => r.int(256));
        expect(Buffer.from(native.keccak256(data)).toString("hex")).to.equal(Buffer.from(keccak_256(data)).toString("hex"));
      }
    });
    it("rejects input that is not a Uint8Array", () => {
      expectCode(() => native.keccak256("abc" as unknown as Uint8Array), "ZKDL_INVALID_ARGUMENT");
      expectCode(() => native.keccak256(new Uint16Array(4) as unknown as Uint8Array), "ZKDL_INVALID_ARGUMENT");
    });
  });

  describe("G1", () => {
    it("adds like @noble/curves: random, doubling, inverse, identity", () => {
      const pts = Array.from({ length: 24 }, () => randomPoint(r));
      const cases: [G1Point, G1Point][] = [
        ...pts.slice(0, 12).map((p, i) => [p, pts[i + 12]!] as [G1Point, G1Point]),
        [pts[0]!, pts[0]!],
        [pts[1]!, pts[1]!.negate()],
        [G1.ZERO, pts[2]!],
        [pts[3]!, G1.ZERO],
        [G1.ZERO, G1.ZERO],
        [G1.BASE, G1.BASE],
      ];
      for (const [a, b] of cases) {
        expect(native.g1Add(g1ToBytes(a), g1ToBytes(b))).to.deep.equal(g1ToBytes(a.add(b)));
      }
    });

    it("multiplies like @noble/curves: 0, 1, r-1, small, random", () => {
      const scalars = [0n, 1n, 2n, Fr.ORDER - 1n, 65535n, ...Array.from({ length: 12 }, () => randomScalar(r))];
      for (const s of scalars) {
        const p = randomPoint(r);
        const expected = s === 0n ? G1.ZERO : p.multiply(s);
        expect(native.g1Mul(g1ToBytes(p), frToBytes(s))).to.deep.equal(g1ToBytes(expected));
      }
      expect(native.g1Mul(new Uint8Array(64), frToBytes(randomScalar(r)))).to.deep.equal(new Uint8Array(64));
    });

    it("multiplies a fixed base through its table like @noble/curves, across every carry pattern of the signed bytes", () => {
      const p = randomPoint(r);
      const table = native.fixedBase(g1ToBytes(p));
      // Bytes of 0x80 (the largest positive digit), 0x81 (the first negative one, carrying) and 0xff runs.
      const fromByte = (b: number) => Fr.create(BigInt("0x" + b.toString(16).padStart(2, "0").repeat(32)));
      const scalars = [0n, 1n, 2n, 128n, 129n, 255n, 256n, Fr.ORDER - 1n, (Fr.ORDER - 1n) / 2n, (1n << 128n) - 1n, 1n << 128n, (1n << 128n) + 1n, (1n << 253n) + 0x81n];
      for (const s of [...scalars, fromByte(0x80), fromByte(0x81), fromByte(0xff), fromByte(0x7f), ...Array.from({ length: 24 }, () => randomScalar(r))]) {
        const expected = s === 0n ? G1.ZERO : p.multiply(s);
        expect(table.mul(frToBytes(s)), `${s}`).to.deep.equal(g1ToBytes(expected));
      }
      expect(native.fixedBase(new Uint8Array(64)).mul(frToBytes(randomScalar(r)))).to.deep.equal(new Uint8Array(64));
      const off = g1ToBytes(p);
      off[63] ^= 1;
      expectCode(() => native.fixedBase(off), "ZKDL_NOT_ON_CURVE");
      expectCode(() => table.mul(bigIntToBytes(Fr.ORDER)), "ZKDL_NON_CANONICAL");
      expectCode(() => table.mul(new Uint8Array(31)), "ZKDL_INVALID_LENGTH");
    });

    it("agrees with the EVM precompiles ecAdd (0x06) and ecMul (0x07)", async () => {
      const call = (to: string, data: Uint8Array) => ethers.provider.call({ to, data: ethers.hexlify(data) });
      for (let i = 0; i < 10; i++) {
        const a = g1ToBytes(randomPoint(r));
        const b = i === 0 ? a : i === 1 ? new Uint8Array(64) : g1ToBytes(randomPoint(r));
        expect(await call("0x0000000000000000000000000000000000000006", concat([a, b]))).to.equal(ethers.hexlify(native.g1Add(a, b)));
        const s = i === 2 ? 0n : i === 3 ? Fr.ORDER - 1n : randomScalar(r);
        expect(await call("0x0000000000000000000000000000000000000007", concat([a, frToBytes(s)]))).to.equal(ethers.hexlify(native.g1Mul(a, frToBytes(s))));
      }
    });

    it("rejects points off the curve, non-canonical coordinates, scalars >= r and bad lengths", () => {
      const p = g1ToBytes(randomPoint(r));
      const off = p.slice();
      off[63] ^= 1;
      expectCode(() => native.g1Add(off, p), "ZKDL_NOT_ON_CURVE");
      expectCode(() => native.g1Mul(off, frToBytes(1n)), "ZKDL_NOT_ON_CURVE");
      // (x + q, y) encodes the same point with a non-canonical x.
      const { x, y } = g1FromBytes(p).toAffine();
      const nonCanonical = concat([bigIntToBytes(x + Fq.ORDER), bigIntToBytes(y)]);
      if (x + Fq.ORDER < 1n << 256n) expectCode(() => native.g1Add(nonCanonical, p), "ZKDL_NON_CANONICAL");
      expectCode(() => native.g1Mul(p, bigIntToBytes(Fr.ORDER)), "ZKDL_NON_CANONICAL");
      expectCode(() => native.g1Add(p.subarray(0, 63), p), "ZKDL_INVALID_LENGTH", /64 bytes, got 63/);
      expectCode(() => native.g1Mul(p, new Uint8Array(33)), "ZKDL_INVALID_LENGTH");
      expectCode(() => (native.g1Add as (a: Uint8Array) => Uint8Array)(p), "ZKDL_INVALID_ARGUMENT");
      // (0, 0) is the identity, but (0, y != 0) is not a point.
      const zeroX = new Uint8Array(64);
      zeroX[63] = 2;
      expectCode(() => native.g1Add(zeroX, p), "ZKDL_NOT_ON_CURVE");
    });
  });

  describe("hash to G1", () => {
    it("equals the TypeScript re-derivation on @noble/curves, lands on the curve, and separates domains", () => {
      const enc = new TextEncoder();
      const seen = new Set<string>();
      for (let i = 0; i < 24; i++) {
        const dst = enc.encode(i % 2 ? "zkdl-chain/v1/test" : "zkdl-chain/v1/other");
        const msg = Uint8Array.from({ length: 1 + r.int(80) }, (_, k) => (k === 0 ? i : r.int(256)));
        const nat = native.hashToG1(dst, msg);
        expect(nat).to.deep.equal(g1ToBytes(hashToG1(dst, msg)));
        const point = g1FromBytes(nat);
        point.assertValidity();
        expect(point.equals(G1.ZERO)).to.equal(false);
        const { y } = point.toAffine();
        expect(y <= (Fq.ORDER - 1n) / 2n).to.equal(true);
        seen.add(Buffer.from(nat).toString("hex"));
      }
      expect(seen.size).to.equal(24);
      expectCode(() => native.hashToG1(new Uint8Array(0), new Uint8Array(1)), "ZKDL_INVALID_ARGUMENT");
      expect(() => hashToG1(new Uint8Array(0), new Uint8Array(1))).to.throw(/1 to 255 bytes/);
      expectCode(() => native.hashToG1(new Uint8Array(256), new Uint8Array(1)), "ZKDL_INVALID_ARGUMENT");
    });
  });

  it("matches the hash-to-G1 test vectors of docs/protocol.md", () => {
    const enc = new TextEncoder();
    const vectors: [string, string, string][] = [
      ["zkdl-chain/v1/test", "", "234fc68a842f0fefc9d050b371cc277eb7f5a18390608a13cbf2298a5be4c4f2165d40d6e29f8f48646ffa1bbbbecc85445946d969d9b1182c42181081d4f090"],
      ["zkdl-chain/v1/test", "abc", "1055151067536c1d7f9e89579e1c9dda3491599242be07c4b394a4dd190afe840928f3429632669cf9f3cc5fd3ed90c24f4ed0a2138fb7841a6bddd922fe3842"],
    ];
    for (const [dst, msg, expected] of vectors) {
      expect(Buffer.from(native.hashToG1(enc.encode(dst), enc.encode(msg))).toString("hex")).to.equal(expected);
      expect(Buffer.from(g1ToBytes(hashToG1(enc.encode(dst), enc.encode(msg)))).toString("hex")).to.equal(expected);
    }
  });

  describe("MSM", () => {
    type Kind = "full" | "small+" | "small-" | "mixed";
    function scalarsOf(kind: Kind, n: number): bigint[] {
      return Array.from({ length: n }, (_, i) => {
        const k: Kind = kind === "mixed" ? (["full", "small+", "small-"] as Kind[])[i % 3]! : kind;
        if (i % 17 === 5) return 0n; // zeros sprinkled in
        if (k === "full") return randomScalar(r);
        const small = BigInt(r.int(1 << 16)) * BigInt(1 + r.int(1 << 16));
        return k === "small+" ? small : Fr.neg(small);
      });
    }
    function pointsOf(n: number): G1Point[] {
      const base = Array.from({ length: Math.min(n, 8) }, () => randomPoint(r));
      const pts: G1Point[] = [];
      let acc = base[0]!;
      for (let i = 0; i < n; i++) {
        if (i % 13 === 7) pts.push(G1.ZERO); // identity terms
        else if (i % 11 === 3 && i > 0) pts.push(pts[i - 1]!); // repeated points
        else pts.push((acc = acc.add(base[i % base.length]!)));
      }
      return pts;
    }
    const encode = (pts: G1Point[], scs: bigint[]) => [concat(pts.map(g1ToBytes)), concat(scs.map(frToBytes))] as const;
    const reference = (pts: G1Point[], scs: bigint[]) => g1ToBytes(pippenger(G1, pts, scs));

    const sizes = [1, 2, 3, 5, 16, 100, 1000, 4096];
    for (const kind of ["full", "small+", "small-", "mixed"] as Kind[]) {
      it(`equals @noble/curves' pippenger for ${kind} scalars, n = ${sizes.join(", ")}`, () => {
        for (const n of sizes) {
          const pts = pointsOf(n);
          const scs = scalarsOf(kind, n);
          const [p, s] = encode(pts, scs);
          expect(native.msm(p, s), `n=${n}`).to.deep.equal(reference(pts, scs));
        }
      });
    }

    it("equals @noble/curves at n = 2^14 (multithreaded path), sync and async", async function () {
      this.timeout(60_000);
      const n = 1 << 14;
      const pts = pointsOf(n);
      const scs = scalarsOf("mixed", n);
      const [p, s] = encode(pts, scs);
      const expected = reference(pts, scs);
      expect(native.msm(p, s)).to.deep.equal(expected);
      expect(await native.msmAsync(p, s)).to.deep.equal(expected);
    });

    it("splits edge scalars with the endomorphism correctly (λ, r − 1, (r ± 1)/2, 2^128 ± 1, …)", () => {
      const lambda = 0xb3c4d79d41a917585bfc41088d8daaa78b17ea66b99c90ddn; // φ(P) = λ·P
      const half = (Fr.ORDER - 1n) / 2n;
      const edges = [1n, 2n, lambda, Fr.neg(lambda), Fr.mul(lambda, lambda), Fr.ORDER - 1n, half, half + 1n, half - 1n,
        (1n << 128n) - 1n, 1n << 128n, (1n << 128n) + 1n, (1n << 127n) + 12345n, (1n << 253n) - 1n, Fr.ORDER - (1n << 128n)];
      for (let rep = 0; rep < 3; rep++) {
        // One point per scalar, and every scalar on one shared point too (same-bucket additions and
        // doublings inside the affine accumulation).
        const shared = randomPoint(r);
        const pts = edges.map(() => randomPoint(r)).concat(edges.map(() => shared));
        const scs = edges.concat(edges.map((e) => Fr.add(e, BigInt(rep))));
        const [p, s] = encode(pts, scs);
        expect(native.msm(p, s)).to.deep.equal(reference(pts, scs));
        for (const [i, e] of edges.entries()) {
          const [p1, s1] = encode([pts[i]!], [e]);
          expect(native.msm(p1, s1), `scalar ${e}`).to.deep.equal(g1ToBytes(pts[i]!.multiply(e)));
        }
      }
    });

    it("takes ≤ 16 terms (Straus) as signed magnitudes, from the widest scalar's top window down", () => {
      // Scalars of a few bits (tables of 1, 3 or 7 multiples), negatives, a lone wide one among small
      // ones, zeros and identity points.
      for (const n of [1, 2, 3, 7, 16]) {
        for (const kind of ["tiny", "tiny-signed", "one-wide", "nibble"] as const) {
          const pts = pointsOf(n);
          const scs = Array.from({ length: n }, (_, i) => {
            if (kind === "one-wide" && i === n - 1) return randomScalar(r);
            const v = BigInt(r.int(kind === "nibble" ? 16 : 4));
            return kind === "tiny-signed" && r.bool() ? Fr.neg(v) : v;
          });
          const [p, s] = encode(pts, scs);
          expect(native.msm(p, s), `${kind} n=${n}`).to.deep.equal(reference(pts, scs));
        }
      }
    });

    it("sums equal and opposite points landing in one bucket (doubling and cancellation)", () => {
      const pt = randomPoint(r);
      for (const n of [2, 3, 7, 64, 5000]) {
        const pts = Array.from({ length: n }, (_, i) => (i % 3 === 1 ? pt.negate() : pt));
        const scs = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? 9n : 3n));
        const [p, s] = encode(pts, scs);
        expect(native.msm(p, s), `n=${n}`).to.deep.equal(reference(pts, scs));
      }
    });

    it("handles the empty sum, all-zero scalars and cancelling terms", () => {
      expect(native.msm(new Uint8Array(0), new Uint8Array(0))).to.deep.equal(new Uint8Array(64));
      const pt = randomPoint(r);
      const [p, s] = encode([pt, pt, G1.ZERO], [0n, 0n, 5n]);
      expect(native.msm(p, s)).to.deep.equal(new Uint8Array(64));
      const [p2, s2] = encode([pt, pt], [7n, Fr.neg(7n)]);
      expect(native.msm(p2, s2)).to.deep.equal(new Uint8Array(64));
    });

    it("rejects mismatched lengths, bad scalars and bad points, naming the term", async () => {
      const pts = pointsOf(4);
      const [p, s] = encode(pts, scalarsOf("full", 4));
      expectCode(() => native.msm(p, s.subarray(0, 96)), "ZKDL_INVALID_LENGTH", /4 points but 3 scalars/);
      expectCode(() => native.msm(p.subarray(0, 100), s), "ZKDL_INVALID_LENGTH");
      const badScalar = s.slice();
      badScalar.set(bigIntToBytes(Fr.ORDER), 64);
      expectCode(() => native.msm(p, badScalar), "ZKDL_NON_CANONICAL", /term 2/);
      const badPoint = p.slice();
      badPoint[64 * 3 + 10] ^= 0x40;
      expectCode(() => native.msm(badPoint, s), "ZKDL_NOT_ON_CURVE", /term 3/);
      let rejected: unknown;
      await native.msmAsync(badPoint, s).catch((e: unknown) => (rejected = e));
      expect(rejected).to.be.instanceOf(NativeError);
      expect((rejected as NativeError).code).to.equal("ZKDL_NOT_ON_CURVE");
    });
  });
});
