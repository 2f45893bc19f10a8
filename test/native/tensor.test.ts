/**
 * Native Fr tensors against plain TypeScript references on bigint (@noble/curves' Fr). The MLE
 * reference evaluates the defining sum Σ_x a[x]·Π_k (x_k ? z_k : 1 − z_k) directly, independently of
 * the folding the native code uses.
 */
import { expect } from "chai";
import { FrTensor } from "../../native";
import { Fr, bigIntToBytes, bytesToBigInt } from "../../core/crypto/bn254";
import { rng, type Rng } from "../helpers/random";
import { decodeFr, encodeFr, expectCode } from "../helpers/native";

const enc = encodeFr;
const dec = decodeFr;
const one = (b: Uint8Array) => bytesToBigInt(b);

function randomFr(r: Rng, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0n : i % 7 === 4 ? Fr.ORDER - 1n : Fr.create(r.uint256())));
}

function eqRef(z: bigint[], x: number): bigint {
  let acc = 1n;
  z.forEach((zk, k) => (acc = Fr.mul(acc, (x >> k) & 1 ? zk : Fr.sub(1n, zk))));
  return acc;
}

function mleRef(a: bigint[], z: bigint[]): bigint {
  return a.reduce((acc, v, x) => Fr.add(acc, Fr.mul(v, eqRef(z, x))), 0n);
}

describe("native Fr tensors", () => {
  const r = rng("native-tensor");

  it("round-trips bytes and keeps the shape", () => {
    const a = randomFr(r, 24);
    const t = FrTensor.fromBytes(enc(a), [2, 3, 4]);
    expect(t.shape).to.deep.equal([2, 3, 4]);
    expect(t.length).to.equal(24);
    expect(dec(t.toBytes())).to.deep.equal(a);
    expect(FrTensor.fromBytes(enc(a)).shape).to.deep.equal([24]);
  });

  it("maps signed integers to Fr (negatives as r − |v|) and back, to the int64 limits", () => {
    const ints = BigInt64Array.from([0n, 1n, -1n, 65535n, -65536n, 2n ** 63n - 1n, -(2n ** 63n), ...Array.from({ length: 20 }, () => BigInt.asIntN(64, r.uint256()))]);
    const t = FrTensor.fromInts(ints);
    expect(dec(t.toBytes())).to.deep.equal(Array.from(ints, (v) => Fr.create(v)));
    expect(t.toInts()).to.deep.equal(ints);
    const small = Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 12345, -54321]);
    expect(Array.from(FrTensor.fromInts(small).toInts(), Number)).to.deep.equal(Array.from(small));
  });

  it("refuses to read back values that are not 64-bit signed integers", () => {
    for (const v of [2n ** 63n, Fr.ORDER - 2n ** 63n - 1n, Fr.create(r.uint256())]) {
      expectCode(() => FrTensor.fromBytes(enc([v])).toInts(), "ZKDL_OUT_OF_RANGE");
    }
  });

  it("adds, subtracts, multiplies, scales, sums and takes inner products like the reference", () => {
    for (const n of [1, 2, 7, 64, 1000]) {
      const a = randomFr(r, n);
      const b = randomFr(r, n).reverse();
      const s = Fr.create(r.uint256());
      const ta = FrTensor.fromBytes(enc(a));
      const tb = FrTensor.fromBytes(enc(b));
      expect(dec(ta.add(tb).toBytes())).to.deep.equal(a.map((x, i) => Fr.add(x, b[i]!)));
      expect(dec(ta.sub(tb).toBytes())).to.deep.equal(a.map((x, i) => Fr.sub(x, b[i]!)));
      expect(dec(ta.mul(tb).toBytes())).to.deep.equal(a.map((x, i) => Fr.mul(x, b[i]!)));
      expect(dec(ta.scale(bigIntToBytes(s)).toBytes())).to.deep.equal(a.map((x) => Fr.mul(x, s)));
      expect(one(ta.sum())).to.equal(a.reduce((acc, x) => Fr.add(acc, x), 0n));
      expect(one(ta.innerProduct(tb))).to.equal(a.reduce((acc, x, i) => Fr.add(acc, Fr.mul(x, b[i]!)), 0n));
    }
  });

  it("folds variable 0 and evaluates the multilinear extension like the defining sum", () => {
    for (const k of [0, 1, 2, 5, 9]) {
      const a = randomFr(r, 1 << k);
      const z = randomFr(r, k);
      const t = FrTensor.fromBytes(enc(a));
      expect(one(t.evaluate(enc(z)))).to.equal(mleRef(a, z));
      if (k > 0) {
        const folded = dec(t.fold(bigIntToBytes(z[0]!)).toBytes());
        expect(folded).to.deep.equal(Array.from({ length: a.length / 2 }, (_, i) => Fr.add(a[2 * i]!, Fr.mul(z[0]!, Fr.sub(a[2 * i + 1]!, a[2 * i]!)))));
        // Folding variable 0 and evaluating the rest is the same evaluation.
        expect(one(t.fold(bigIntToBytes(z[0]!)).evaluate(enc(z.slice(1))))).to.equal(mleRef(a, z));
      }
      // On the Boolean hypercube the MLE is the tensor itself: bit j of the index is variable j.
      const x = r.int(1 << k);
      const corner = Array.from({ length: k }, (_, j) => BigInt((x >> j) & 1));
      expect(one(t.evaluate(enc(corner)))).to.equal(a[x]);
    }
  });

  it("builds eq vectors like the product formula, summing to 1", () => {
    for (const k of [0, 1, 3, 8]) {
      const z = randomFr(r, k);
      const eq = dec(FrTensor.eq(enc(z)).toBytes());
      expect(eq).to.deep.equal(Array.from({ length: 1 << k }, (_, x) => eqRef(z, x)));
      expect(eq.reduce((acc, v) => Fr.add(acc, v), 0n)).to.equal(1n);
    }
  });

  it("computes sumcheck round polynomials for 1 to 5 factors: s(0)+s(1) is the sum, s(r) the folded sum", () => {
    /** Lagrange interpolation of s(0..D) at r. */
    const interpolate = (s: bigint[], x: bigint) =>
      s.reduce((acc, st, t) => {
        let term = st;
        s.forEach((_, u) => {
          if (u !== t) term = Fr.mul(term, Fr.div(Fr.sub(x, BigInt(u)), Fr.sub(BigInt(t), BigInt(u))));
        });
        return Fr.add(acc, term);
      }, 0n);
    for (const d of [1, 2, 3, 4, 5]) {
      for (const k of [1, 4]) {
        const fs = Array.from({ length: d }, () => randomFr(r, 1 << k));
        const ts = fs.map((f) => FrTensor.fromBytes(enc(f)));
        const s = dec(FrTensor.sumcheckRound(ts));
        expect(s).to.have.length(d + 1);
        const ref = Array.from({ length: d + 1 }, (_, t) => {
          let acc = 0n;
          for (let i = 0; i < 1 << (k - 1); i++) {
            acc = Fr.add(acc, fs.reduce((p, f) => Fr.mul(p, Fr.add(Fr.mul(Fr.sub(1n, BigInt(t)), f[2 * i]!), Fr.mul(BigInt(t), f[2 * i + 1]!))), 1n));
          }
          return acc;
        });
        expect(s).to.deep.equal(ref);
        const total = Array.from({ length: 1 << k }, (_, x) => fs.reduce((p, f) => Fr.mul(p, f[x]!), 1n)).reduce((a, b) => Fr.add(a, b), 0n);
        expect(Fr.add(s[0]!, s[1]!)).to.equal(total);
        const ch = Fr.create(r.uint256());
        const folded = ts.map((t) => dec(t.fold(bigIntToBytes(ch)).toBytes()));
        const foldedSum = folded[0]!.map((_, x) => folded.reduce((p, f) => Fr.mul(p, f[x]!), 1n)).reduce((a, b) => Fr.add(a, b), 0n);
        expect(interpolate(s, ch)).to.equal(foldedSum);
      }
    }
    const t2 = FrTensor.fromBytes(enc([1n, 2n]));
    expectCode(() => FrTensor.sumcheckRound([]), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.sumcheckRound(Array.from({ length: 6 }, () => t2)), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.sumcheckRound([t2, FrTensor.fromBytes(enc([1n, 2n, 3n, 4n]))]), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.sumcheckRound([FrTensor.fromBytes(enc([1n, 2n, 3n]))]), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.sumcheckRound([t2, {} as FrTensor]), "ZKDL_INVALID_ARGUMENT");
  });

  it("computes GKR leaves, fraction layers and layer factors like the bigint reference (one pass, across threads)", () => {
    const r = rng("gkr");
    for (const n of [2, 8, 1 << 15]) {
      const p = randomFr(r, n);
      const q = randomFr(r, n);
      const lambda = Fr.create(r.uint256());
      const [tp, tq] = [FrTensor.fromBytes(enc(p)), FrTensor.fromBytes(enc(q))];
      const up = FrTensor.fractionLayer(tp, tq);
      const half = Array.from({ length: n / 2 }, (_, i) => i);
      expect(dec(up.p.toBytes())).to.deep.equal(half.map((i) => Fr.add(Fr.mul(p[2 * i], q[2 * i + 1]), Fr.mul(p[2 * i + 1], q[2 * i]))));
      expect(dec(up.q.toBytes())).to.deep.equal(half.map((i) => Fr.mul(q[2 * i], q[2 * i + 1])));
      const f = FrTensor.gkrFactors(tp, tq, bigIntToBytes(lambda)).map((t) => dec(t.toBytes()));
      expect(f).to.deep.equal([
        half.map((i) => Fr.add(p[2 * i], Fr.mul(lambda, q[2 * i]))),
        half.map((i) => q[2 * i + 1]),
        half.map((i) => p[2 * i + 1]),
        half.map((i) => q[2 * i]),
      ]);
    }
    // Leaves: blocks of 4 and 2 entries (the second with numerators), then (0, 1) up to 8.
    const [a, b, nb] = [randomFr(r, 4), randomFr(r, 2), randomFr(r, 2)];
    const beta = Fr.create(r.uint256());
    const leaves = FrTensor.fractionLeaves([a, b].map((v) => FrTensor.fromBytes(enc(v))), [null, FrTensor.fromBytes(enc(nb))], bigIntToBytes(beta), 8);
    expect(dec(leaves.q.toBytes())).to.deep.equal([...a, ...b].map((v) => Fr.add(beta, v)).concat([1n, 1n]));
    expect(dec(leaves.p.toBytes())).to.deep.equal([1n, 1n, 1n, 1n, ...nb, 0n, 0n]);
    const [t2, t4, t3] = [[1n, 2n], [1n, 2n, 3n, 4n], [1n, 2n, 3n]].map((v) => FrTensor.fromBytes(enc(v)));
    expectCode(() => FrTensor.fractionLeaves([t4, t2], [null, null], bigIntToBytes(1n), 4), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fractionLeaves([t4], [t2], bigIntToBytes(1n), 4), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fractionLeaves([t4], [], bigIntToBytes(1n), 4), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.fractionLeaves([t4], [null], bigIntToBytes(1n), 2.5), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.fractionLayer(t2, t4), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fractionLayer(t3, t3), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.gkrFactors(t2, t4, bigIntToBytes(1n)), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fractionLayer(t2, {} as FrTensor), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.gkrFactors(t2, t2, new Uint8Array(3)), "ZKDL_INVALID_LENGTH");
  });

  it("inverts in batch like Fr.inv, and refuses a zero", () => {
    const a = randomFr(r, 100).map((v) => (v === 0n ? 5n : v));
    expect(dec(FrTensor.fromBytes(enc(a)).batchInverse().toBytes())).to.deep.equal(a.map((v) => Fr.inv(v)));
    expectCode(() => FrTensor.fromBytes(enc([3n, 0n, 4n])).batchInverse(), "ZKDL_DIVISION_BY_ZERO");
  });

  it("multiplies matrices like the triple loop", () => {
    for (const [m, k, n] of [[1, 1, 1], [2, 3, 4], [8, 16, 5], [17, 9, 3]] as const) {
      const a = randomFr(r, m * k);
      const b = randomFr(r, k * n);
      const c = FrTensor.fromBytes(enc(a), [m, k]).matmul(FrTensor.fromBytes(enc(b), [k, n]));
      expect(c.shape).to.deep.equal([m, n]);
      const ref: bigint[] = [];
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0n;
          for (let t = 0; t < k; t++) acc = Fr.add(acc, Fr.mul(a[i * k + t]!, b[t * n + j]!));
          ref.push(acc);
        }
      expect(dec(c.toBytes())).to.deep.equal(ref);
    }
  });

  it("multiplies a single row by a matrix like the triple loop, its columns or its sum split across threads", () => {
    // m = 1 with enough work to split: wide (columns apart), and narrow with a long k (partial sums).
    for (const [m, k, n] of [[1, 64, 256], [1, 300, 40], [1, 6000, 2], [1, 2048, 8], [1, 33, 1000]] as const) {
      const a = randomFr(r, m * k);
      const b = randomFr(r, k * n);
      const c = FrTensor.fromBytes(enc(a), [m, k]).matmul(FrTensor.fromBytes(enc(b), [k, n]));
      const ref: bigint[] = [];
      for (let j = 0; j < n; j++) {
        let acc = 0n;
        for (let t = 0; t < k; t++) acc = Fr.add(acc, Fr.mul(a[t]!, b[t * n + j]!));
        ref.push(acc);
      }
      expect(dec(c.toBytes()), `[${m},${k}]·[${k},${n}]`).to.deep.equal(ref);
      // The same row as a batch of one against a batched matrix.
      const cb = FrTensor.fromBytes(enc(a), [m, k]).matmul(FrTensor.fromBytes(enc(b), [1, k, n]));
      expect(dec(cb.toBytes()), `[${m},${k}]·[1,${k},${n}]`).to.deep.equal(ref);
    }
  });

  it("multiplies batches of matrices like a loop of triple loops, a 2-D side shared by every batch entry", () => {
    /** [T][m][n] from T products; `a` and `b` hold T matrices when batched, else one. */
    const reference = (a: bigint[], b: bigint[], T: number, m: number, k: number, n: number, aBatched: boolean, bBatched: boolean) => {
      const out: bigint[] = [];
      for (let t = 0; t < T; t++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let acc = 0n;
            for (let y = 0; y < k; y++) acc = Fr.add(acc, Fr.mul(a[(aBatched ? t * m * k : 0) + i * k + y]!, b[(bBatched ? t * k * n : 0) + y * n + j]!));
            out.push(acc);
          }
      return out;
    };
    // The last two have enough work to split their T·m rows across threads (on two threads the split
    // of the last falls inside a batch entry: row 11 of 21 is entry 3, row 2).
    const shapes = [[1, 1, 1, 1], [1, 3, 4, 2], [4, 1, 8, 16], [3, 2, 3, 4], [8, 1, 16, 4], [5, 7, 2, 3], [128, 1, 16, 8], [7, 3, 16, 64]] as const;
    for (const [T, m, k, n] of shapes) {
      for (const [aBatched, bBatched] of [[false, true], [true, true], [true, false]] as const) {
        const a = randomFr(r, (aBatched ? T : 1) * m * k);
        const b = randomFr(r, (bBatched ? T : 1) * k * n);
        const ta = FrTensor.fromBytes(enc(a), aBatched ? [T, m, k] : [m, k]);
        const tb = FrTensor.fromBytes(enc(b), bBatched ? [T, k, n] : [k, n]);
        const c = ta.matmul(tb);
        const what = `${aBatched ? `${T}×` : ""}${m}×${k} · ${bBatched ? `${T}×` : ""}${k}×${n}`;
        expect(c.shape, what).to.deep.equal([T, m, n]);
        expect(dec(c.toBytes()), what).to.deep.equal(reference(a, b, T, m, k, n, aBatched, bBatched));
      }
    }
    // A batch of one is the plain product, with the batch axis kept.
    const a = randomFr(r, 6);
    const b = randomFr(r, 12);
    const plain = FrTensor.fromBytes(enc(a), [2, 3]).matmul(FrTensor.fromBytes(enc(b), [3, 4]));
    expect(dec(FrTensor.fromBytes(enc(a), [2, 3]).matmul(FrTensor.fromBytes(enc(b), [1, 3, 4])).toBytes())).to.deep.equal(dec(plain.toBytes()));
  });

  it("refuses batched products of mismatched shapes", () => {
    const t = (shape: number[]) => FrTensor.fromBytes(enc(randomFr(r, shape.reduce((x, y) => x * y, 1))), shape);
    const pairs: [number[], number[]][] = [
      [[2, 3], [2, 4, 5]], // inner dimensions differ (3 and 4)
      [[2, 2, 3], [3, 3, 4]], // batches differ (2 and 3)
      [[2, 2, 3], [2, 4, 4]], // inner dimensions differ under one batch
      [[2, 2, 3], [4]], // a vector is not a matrix
      [[6], [2, 3, 1]],
      [[2, 1, 2, 3], [3, 4]], // four axes
      [[2, 3], [2, 1, 3, 4]],
    ];
    for (const [sa, sb] of pairs) expectCode(() => t(sa).matmul(t(sb)), "ZKDL_SHAPE_MISMATCH", /matmul needs/);
  });

  it("rejects mismatched shapes, bad lengths, non-canonical elements and foreign arguments", () => {
    const t4 = FrTensor.fromBytes(enc([1n, 2n, 3n, 4n]));
    const t3 = FrTensor.fromBytes(enc([1n, 2n, 3n]));
    expectCode(() => t4.add(t3), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t4.mul(FrTensor.fromBytes(enc([1n, 2n, 3n, 4n]), [2, 2])), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t4.innerProduct(t3), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t3.fold(bigIntToBytes(1n)), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t3.evaluate(enc([1n, 2n])), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t4.evaluate(enc([1n])), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => t4.matmul(t4), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fromBytes(enc([1n, 2n, 3n, 4n]), [2, 3]), "ZKDL_SHAPE_MISMATCH");
    expectCode(() => FrTensor.fromBytes(enc([1n, 2n]), [2, 0]), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.fromBytes(enc([1n, 2n]), [1.5, 2] as number[]), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => FrTensor.fromBytes(new Uint8Array(33)), "ZKDL_INVALID_LENGTH");
    expectCode(() => FrTensor.fromBytes(enc([1n, Fr.ORDER])), "ZKDL_NON_CANONICAL");
    expectCode(() => t4.scale(bigIntToBytes(Fr.ORDER)), "ZKDL_NON_CANONICAL");
    expectCode(() => t4.evaluate(new Uint8Array(40)), "ZKDL_INVALID_LENGTH");
    expectCode(() => FrTensor.fromInts(new Float64Array(2) as unknown as Int32Array), "ZKDL_INVALID_ARGUMENT");
    expectCode(() => t4.add({} as FrTensor), "ZKDL_INVALID_ARGUMENT");
  });
});
