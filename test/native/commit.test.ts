/** Hyrax row commitments from the native core against @noble/curves. */
import { expect } from "chai";
import * as native from "../../native";
import { FrTensor } from "../../native";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { Fr, G1, type G1Point, bigIntToBytes, frToBytes, g1FromBytes, g1ToBytes, hashToG1 } from "../../core/crypto/bn254";
import { rng } from "../helpers/random";
import { concat, encodeFr, expectCode } from "../helpers/native";
import { commitmentKey } from "../../core/protocol/generators";
import { nativeGenerators } from "../../prover/native-engine";

/** Test generators: hash-to-curve points under a test-only domain tag. */
function generators(n: number): Uint8Array[] {
  const dst = new TextEncoder().encode("zkdl-chain/test/generators");
  return Array.from({ length: n + 1 }, (_, i) => native.hashToG1(dst, bigIntToBytes(BigInt(i), 4)));
}

describe("native Hyrax row commitments", () => {
  const r = rng("native-commit");

  it("commits each row as Σ T[j,i]·G_i + ρ_j·H, like @noble/curves, for signed fixed-point rows", () => {
    for (const [rows, cols] of [[1, 1], [2, 3], [1, 64], [8, 8], [5, 32]] as const) {
      const gens = generators(cols);
      const g = gens.slice(0, cols);
      const h = gens[cols]!;
      const values = BigInt64Array.from({ length: rows * cols }, () => BigInt(r.int(1 << 20) - (1 << 19)));
      const blind = Array.from({ length: rows }, () => Fr.create(r.uint256()));
      const got = FrTensor.fromInts(values, [rows, cols]).commitRows(concat(g), h, concat(blind.map(frToBytes)));
      expect(got).to.have.length(64 * rows);
      for (let j = 0; j < rows; j++) {
        let expected: G1Point = g1FromBytes(h).multiplyUnsafe(blind[j]!);
        for (let i = 0; i < cols; i++) expected = expected.add(g1FromBytes(g[i]!).multiplyUnsafe(Fr.create(values[j * cols + i]!)));
        expect(got.subarray(64 * j, 64 * j + 64), `row ${j} of ${rows}×${cols}`).to.deep.equal(g1ToBytes(expected));
      }
    }
  });

  it("hides: the same row under fresh blinding commits differently, and zero blinding is the plain MSM", () => {
    const cols = 16;
    const gens = generators(cols);
    const g = concat(gens.slice(0, cols));
    const t = FrTensor.fromInts(Int32Array.from({ length: 2 * cols }, (_, i) => i % cols), [2, cols]);
    const a = t.commitRows(g, gens[cols]!, concat([frToBytes(Fr.create(r.uint256())), frToBytes(Fr.create(r.uint256()))]));
    expect(a.subarray(0, 64)).to.not.deep.equal(a.subarray(64));
    const zero = t.commitRows(g, gens[cols]!, new Uint8Array(64));
    expect(zero.subarray(0, 64)).to.deep.equal(zero.subarray(64));
    expect(zero.subarray(0, 64)).to.deep.equal(native.msm(g, t.toBytes().subarray(0, 32 * cols)));
    expect(g1FromBytes(zero.subarray(0, 64)).equals(G1.ZERO)).to.equal(false);
  });

  it("rejects a tensor that is not a matrix, mismatched generators or blindings, and bad points", () => {
    const gens = generators(4);
    const g = concat(gens.slice(0, 4));
    const h = gens[4]!;
    const m = FrTensor.fromInts(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]);
    expectCode(() => FrTensor.fromInts(Int32Array.from([1, 2, 3, 4])).commitRows(g, h, new Uint8Array(32)), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => m.commitRows(g.subarray(0, 192), h, new Uint8Array(64)), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => m.commitRows(g, h, new Uint8Array(32)), "ZKDL_SHAPE_MISMATCH");
    const bad = g.slice();
    bad[64 + 5] ^= 1;
    expectCode(() => m.commitRows(bad, h, new Uint8Array(64)), "ZKDL_NOT_ON_CURVE");
    expectCode(() => m.commitRows(g, h.subarray(0, 32), new Uint8Array(64)), "ZKDL_INVALID_LENGTH");
    expectCode(() => m.commitRows(g, h, bigIntToBytes(Fr.ORDER, 64)), "ZKDL_NON_CANONICAL");
  });

  it("commits off the event loop with the same result, and rejects bad input with a coded error", async () => {
    const gens = generators(16);
    const t = FrTensor.fromInts(BigInt64Array.from({ length: 64 }, () => BigInt(r.int(1 << 16) - (1 << 15))), [4, 16]);
    const blind = concat(Array.from({ length: 4 }, () => frToBytes(Fr.create(r.uint256()))));
    const g = concat(gens.slice(0, 16));
    expect(await t.commitRowsAsync(g, gens[16]!, blind)).to.deep.equal(t.commitRows(g, gens[16]!, blind));
    let rejected: unknown;
    await t.commitRowsAsync(g.subarray(0, 64 * 15), gens[16]!, blind).catch((e: unknown) => (rejected = e));
    expect(rejected).to.be.instanceOf(native.NativeError);
    expect((rejected as native.NativeError).code).to.equal("ZKDL_SHAPE_MISMATCH");
  });

  describe("all rows at once (the batched row kernel), against @noble/curves", () => {
    // The CPU kernel picks its window from the entries' widths, moves entries much wider than the rest
    // out of the buckets, splits full-width ones by the endomorphism, shifts the generators per window
    // for narrow rows, and adds ρ_j·H's table entries among the row's own: each case below lands on a
    // different mix of those.
    type Kind = "bit" | "int16" | "int32" | "int64" | "full" | "oneWide" | "fewWide" | "widths" | "threes";
    const signed = (bits: number) => {
      const v = r.uint256() % (1n << BigInt(bits));
      return r.bool() ? Fr.neg(v) : v;
    };
    function entry(kind: Kind, col: number, wideCol: number): bigint {
      switch (kind) {
        case "bit": return BigInt(r.int(2));
        case "int16": return signed(15);
        case "int32": return signed(31);
        case "int64": return signed(63);
        case "full": return Fr.create(r.uint256());
        case "oneWide": return col === wideCol ? Fr.create(r.uint256()) : signed(15);
        case "fewWide": return r.int(40) === 0 ? Fr.create(r.uint256()) : signed(15);
        case "widths": return signed(1 + r.int(253));
        case "threes": return col % 4 === 3 ? 0n : 3n;
      }
    }
    /** Σ v_i·P_i by one double-and-add chain over the rows' signed magnitudes (v > (r−1)/2 is −(r − v)). */
    const HALF = (Fr.ORDER - 1n) / 2n;
    function referenceRow(points: G1Point[], values: bigint[]): G1Point {
      const mags = values.map((v) => (v > HALF ? Fr.ORDER - v : v));
      const pts = values.map((v, i) => (v > HALF ? points[i]!.negate() : points[i]!));
      const bits = Math.max(0, ...mags.map((m) => (m === 0n ? 0 : m.toString(2).length)));
      let acc = G1.ZERO;
      for (let b = bits - 1; b >= 0; b--) {
        acc = acc.double();
        for (let i = 0; i < mags.length; i++) if ((mags[i]! >> BigInt(b)) & 1n) acc = acc.add(pts[i]!);
      }
      return acc;
    }
    function check(rows: number, cols: number, kind: Kind, opts: { zeroRows?: boolean; zeroBlinding?: boolean; gens?: Uint8Array[] } = {}) {
      const gens = opts.gens ?? generators(cols);
      const g = gens.slice(0, cols);
      const h = gens[cols]!;
      const values: bigint[] = [];
      for (let j = 0; j < rows; j++) {
        const wideCol = r.int(cols);
        for (let i = 0; i < cols; i++) values.push(opts.zeroRows && j % 3 === 1 ? 0n : entry(kind, i, wideCol));
      }
      const blind = Array.from({ length: rows }, (_, j) => (opts.zeroBlinding && j % 2 === 0 ? 0n : Fr.create(r.uint256())));
      const got = FrTensor.fromBytes(encodeFr(values), [rows, cols]).commitRows(concat(g), h, concat(blind.map(frToBytes)));
      const points = g.map(g1FromBytes);
      const hp = g1FromBytes(h);
      for (let j = 0; j < rows; j++) {
        const expected = referenceRow(points, values.slice(j * cols, (j + 1) * cols)).add(hp.multiplyUnsafe(blind[j]!));
        expect(got.subarray(64 * j, 64 * j + 64), `${kind} row ${j} of ${rows}×${cols}`).to.deep.equal(g1ToBytes(expected));
      }
    }

    it("narrow and wide rows of 1-, 16-, 32- and 64-bit signed entries", function () {
      this.timeout(120_000);
      check(40, 128, "bit");
      check(64, 16, "int16");
      check(300, 8, "int16");
      check(24, 64, "int16");
      check(9, 1, "int16");
      check(8, 100, "int32");
      check(6, 50, "int64");
      check(3, 1024, "int16");
    });

    it("full-width entries, one full-width entry among small ones per row, a few of them, and every width", function () {
      this.timeout(120_000);
      check(4, 24, "full");
      check(12, 128, "oneWide");
      check(10, 200, "fewWide");
      check(16, 32, "widths");
    });

    it("a single row, narrow or as wide as the key", function () {
      this.timeout(120_000);
      check(1, 300, "int16");
      check(1, 4096, "int16");
      check(1, 5, "full");
    });

    it("zero rows, zero blinding, and an all-zero matrix (the identity where ρ_j = 0 too)", function () {
      this.timeout(60_000);
      check(16, 64, "int16", { zeroRows: true, zeroBlinding: true });
      check(7, 300, "fewWide", { zeroRows: true });
      const gens = generators(32);
      const zero = FrTensor.fromInts(new Int32Array(4 * 32), [4, 32]);
      const blind = [0n, 5n, 0n, Fr.create(r.uint256())];
      const got = zero.commitRows(concat(gens.slice(0, 32)), gens[32]!, concat(blind.map(frToBytes)));
      for (let j = 0; j < 4; j++)
        expect(got.subarray(64 * j, 64 * j + 64), `row ${j}`).to.deep.equal(g1ToBytes(g1FromBytes(gens[32]!).multiplyUnsafe(blind[j]!)));
      expect(got.subarray(0, 64)).to.deep.equal(new Uint8Array(64));
    });

    it("repeated, opposite and identity generators (equal and cancelling points in one bucket)", function () {
      this.timeout(60_000);
      const gens = generators(16);
      const g0 = g1FromBytes(gens[0]!);
      gens[1] = gens[0]!;
      gens[2] = g1ToBytes(g0.negate());
      gens[3] = new Uint8Array(64);
      gens[5] = gens[0]!;
      check(5, 16, "threes", { gens });
      check(6, 16, "int16", { gens });
      check(3, 16, "full", { gens });
      check(64, 16, "int16", { gens }); // enough rows for the comb table of these generators
    });

    it("keeps comb tables per generator set: a narrower prefix reuses one, a changed generator gets its own", function () {
      this.timeout(60_000);
      const a = generators(64);
      const b = a.slice();
      b[5] = generators(70)[66]!; // one generator replaced
      const c = generators(64).map((_, i) => generators(200)[100 + i]!);
      check(48, 64, "int16", { gens: a });
      check(48, 16, "int16", { gens: [...a.slice(0, 16), a[64]!] }); // a prefix of a
      check(48, 64, "int16", { gens: b });
      check(48, 64, "bit", { gens: b });
      check(48, 64, "int16", { gens: c });
      check(48, 64, "int16", { gens: a }); // after two others
      check(48, 64, "oneWide", { gens: a });
    });
  });

  describe("generator sets", () => {
    const enc = new TextEncoder();
    /** docs/protocol.md §2.3, re-derived on @noble/curves. */
    function tsGenerator(label: string, tag: "G" | "H" | "g", i?: number): Uint8Array {
      const msg = concat([enc.encode(label), Uint8Array.of(0, tag.charCodeAt(0)), i === undefined ? new Uint8Array(0) : bigIntToBytes(BigInt(i), 4)]);
      return g1ToBytes(hashToG1(enc.encode("zkdl-chain/v1/generators"), msg));
    }

    it("equals the TypeScript re-derivation, with the documented id", () => {
      for (const [label, n] of [["zkdl-chain/test/a", 5], ["zkdl-chain/test/b", 17]] as const) {
        const set = native.generators(label, n);
        expect(set.g).to.have.length(64 * n);
        for (let i = 0; i < n; i++) expect(set.g.subarray(64 * i, 64 * i + 64), `G_${i}`).to.deep.equal(tsGenerator(label, "G", i));
        expect(set.h).to.deep.equal(tsGenerator(label, "H"));
        expect(set.base).to.deep.equal(tsGenerator(label, "g"));
        const id = keccak_256(concat([Uint8Array.of(label.length), enc.encode(label), bigIntToBytes(BigInt(n), 4)]));
        expect(set.id).to.deep.equal(id);
      }
    });

    it("serves every size from one cached prefix, and separates labels", () => {
      const big = native.generators("zkdl-chain/test/prefix", 300);
      const small = native.generators("zkdl-chain/test/prefix", 40);
      expect(small.g).to.deep.equal(big.g.subarray(0, 64 * 40));
      expect(small.h).to.deep.equal(big.h);
      expect(small.id).to.not.deep.equal(big.id);
      const other = native.generators("zkdl-chain/test/other", 40);
      expect(other.g.subarray(0, 64)).to.not.deep.equal(small.g.subarray(0, 64));
      const all = new Set<string>();
      for (let i = 0; i < 300; i++) all.add(Buffer.from(big.g.subarray(64 * i, 64 * i + 64)).toString("hex"));
      all.add(Buffer.from(big.h).toString("hex"));
      all.add(Buffer.from(big.base).toString("hex"));
      expect(all.size).to.equal(302);
    });

    it("commitmentKey takes injected generators only if they are the defined ones, and a refused deriver leaves the shared cache clean", () => {
      const label = "zkdl-chain/test/injected";
      // A deriver that answers for another label (a plausible bug): every point is a valid point, none is right.
      const wrongLabel = (_: string, n: number) => nativeGenerators("zkdl-chain/test/elsewhere", n);
      expect(() => commitmentKey(8, { label, derive: wrongLabel })).to.throw(Error, /generator deriver's H .* is not the one docs\/protocol.md §2.3 defines/);
      // One that is right except for its last generator.
      const lastWrong = (l: string, n: number) => {
        const set = nativeGenerators(l, n);
        return { ...set, G: [...set.G.slice(0, n - 1), set.G[0]] };
      };
      expect(() => commitmentKey(8, { label, derive: lastWrong })).to.throw(Error, /G_7/);
      const pure = commitmentKey(8, { label });
      for (let i = 0; i < 8; i++) expect(g1ToBytes(pure.G[i]), `G_${i}`).to.deep.equal(tsGenerator(label, "G", i));
      // The native deriver extends the cached prefix and agrees with it.
      const grown = commitmentKey(20, { label, derive: nativeGenerators });
      for (const i of [0, 7, 8, 19]) expect(g1ToBytes(grown.G[i]), `G_${i}`).to.deep.equal(tsGenerator(label, "G", i));
    });

    it("rejects bad labels and sizes", () => {
      expectCode(() => native.generators("", 1), "ZKDL_INVALID_ARGUMENT", /1 to 64 bytes/);
      expectCode(() => native.generators("x".repeat(65), 1), "ZKDL_INVALID_ARGUMENT", /1 to 64 bytes/);
      expectCode(() => native.generators("tab\there", 1), "ZKDL_INVALID_ARGUMENT", /printable ASCII/);
      expectCode(() => native.generators("ok", -1), "ZKDL_INVALID_ARGUMENT");
      expectCode(() => native.generators("ok", 1.5), "ZKDL_INVALID_ARGUMENT");
      expectCode(() => native.generators("ok", 2 ** 25), "ZKDL_OUT_OF_RANGE");
    });
  });
});
