import { expect } from "chai";
import { FrTensor } from "../../native";
import { bigIntsToBytes, bytesToBigInt } from "../../core/crypto/bn254";
import { R, fr, mleEvaluate, randomFr } from "../../core/crypto/fr";
import { nativeEngine, nativeGenerators } from "../../prover/native-engine";
import * as S from "../../core/protocol/statements";
import { MAX_TREES, TABLE_BLOCK, lookupTrees } from "../../core/protocol/lookup";
import { expectEveryTamperRejected, expectFormatError, expectNoSharedElement, expectNoWitnessScalar, expectRefused } from "../helpers/protocol";

const ints = (values: number[]) => FrTensor.fromInts(Int32Array.from(values));
const randInts = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(Math.random() * (hi - lo)));
const fast = { engine: nativeEngine };
/** The prover's engine and generator derivation: the native core. */
const P = { engine: nativeEngine, generators: nativeGenerators };

function matmul(a: number[], b: number[], m: number, k: number, n: number): number[] {
  return Array.from({ length: m * n }, (_, x) => {
    const i = Math.floor(x / n);
    const j = x % n;
    let s = 0;
    for (let y = 0; y < k; y++) s += a[i * k + y] * b[y * n + j];
    return s;
  });
}

describe("protocol: stand-alone statements", function () {
  this.timeout(300_000);

  describe("evaluation (Hyrax opening)", () => {
    for (const n of [0, 1, 4, 7]) {
      it(`is complete for 2^${n} entries, with both engines`, () => {
        const values = randInts(1 << n, -1000, 1000);
        const t = S.commit(ints(values), P);
        const z = Array.from({ length: n }, randomFr);
        const proof = S.proveEvaluation(t, z, P);
        expect(S.verifyEvaluation(t.commitment, z, proof)).to.deep.equal({ valid: true });
        expect(S.verifyEvaluation(t.commitment, z, proof, fast)).to.deep.equal({ valid: true });
      });
    }

    it("rejects every tampered element, malformed bytes, other points and other commitments", () => {
      const values = randInts(64, -50, 50);
      const t = S.commit(ints(values), P);
      const other = S.commit(ints(values.map((v, i) => (i === 5 ? v + 1 : v))), P);
      const z = Array.from({ length: 6 }, randomFr);
      const proof = S.proveEvaluation(t, z, P);
      expectEveryTamperRejected(proof, S.proofLayout(proof), (b) => S.verifyEvaluation(t.commitment, z, b, fast));
      expect(S.verifyEvaluation(other.commitment, z, proof).valid).to.equal(false);
      // Another generator set (its id is bound into the transcript) refuses the proof.
      expect(S.verifyEvaluation(t.commitment, z, proof, { label: "zkdl-chain/v1/other-set" }).valid).to.equal(false);
      expect(S.verifyEvaluation(t.commitment, [z[1], z[0], ...z.slice(2)], proof).valid).to.equal(false);
      expectRefused(() => S.verifyEvaluation({ ...t.commitment, logRows: 2, logCols: 4, rows: t.commitment.rows.slice(0, 4) }, z, proof));
      expectFormatError(() => S.verifyEvaluation(t.commitment, z, proof.subarray(0, proof.length - 1)), "ZKDL_PROOF_TRUNCATED");
      expectFormatError(() => S.verifyEvaluation(t.commitment, z, Uint8Array.from([...proof, 0])), "ZKDL_PROOF_TRAILING");
      const offCurve = proof.slice();
      offCurve[63] ^= 1;
      expectFormatError(() => S.verifyEvaluation(t.commitment, z, offCurve), "ZKDL_PROOF_ENCODING");
      const nonCanonical = proof.slice();
      nonCanonical.set(bigIntsToBytes([R]), proof.length - 32);
      expectFormatError(() => S.verifyEvaluation(t.commitment, z, nonCanonical), "ZKDL_PROOF_ENCODING");
    });

    it("hides the entries and the value: no witness scalar in the proof, no element shared by two proofs", () => {
      const values = randInts(64, 1 << 20, 1 << 30);
      const t = S.commit(ints(values), P);
      const z = Array.from({ length: 6 }, randomFr);
      const a = S.proveEvaluation(t, z, P);
      const b = S.proveEvaluation(t, z, P);
      const y = mleEvaluate(values.map(BigInt), z);
      expectNoWitnessScalar(a, S.proofLayout(a), [...values.map(BigInt), y, ...t.blinds]);
      expectNoSharedElement(a, b, S.proofLayout(a));
    });
  });

  describe("matmul", () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [4, 8, 2],
      [2, 16, 8],
      [8, 4, 1],
    ];
    for (const [m, k, n] of shapes) {
      it(`is complete for ${m}×${k} · ${k}×${n}`, () => {
        const a = randInts(m * k, -300, 300);
        const b = randInts(k * n, -300, 300);
        const d = { logM: Math.log2(m), logK: Math.log2(k), logN: Math.log2(n) };
        const [A, B, C] = [a, b, matmul(a, b, m, k, n)].map((v) => S.commit(ints(v), P));
        const proof = S.proveMatmulStatement(d, A, B, C, P);
        expect(S.verifyMatmulStatement(d, A.commitment, B.commitment, C.commitment, proof)).to.deep.equal({ valid: true });
      });
    }

    it("rejects every tampered element, a product with one wrong entry, and replays on other shapes or tensors", () => {
      const [m, k, n] = [4, 8, 2];
      const d = { logM: 2, logK: 3, logN: 1 };
      const a = randInts(m * k, -300, 300);
      const b = randInts(k * n, -300, 300);
      const c = matmul(a, b, m, k, n);
      const [A, B, C] = [a, b, c].map((v) => S.commit(ints(v), P));
      const proof = S.proveMatmulStatement(d, A, B, C, P);
      expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyMatmulStatement(d, A.commitment, B.commitment, C.commitment, p, fast));
      for (let entry = 0; entry < c.length; entry += 3) {
        const wrong = S.commit(ints(c.map((v, i) => (i === entry ? v + 1 : v))), P);
        const p = S.proveMatmulStatement(d, A, B, wrong, P);
        expect(S.verifyMatmulStatement(d, A.commitment, B.commitment, wrong.commitment, p, fast).valid, `entry ${entry}`).to.equal(false);
      }
      expect(S.verifyMatmulStatement(d, B.commitment, A.commitment, C.commitment, proof).valid).to.equal(false);
      expectRefused(() => S.verifyMatmulStatement({ logM: 1, logK: 4, logN: 1 }, A.commitment, B.commitment, C.commitment, proof));
      const C2 = S.commit(ints(c), P);
      expect(S.verifyMatmulStatement(d, A.commitment, B.commitment, C2.commitment, proof).valid).to.equal(false);
    });

    it("hides the matrices: no entry or claimed value in the proof, fresh elements every time", () => {
      const a = randInts(32, 1 << 16, 1 << 20);
      const b = randInts(16, 1 << 8, 1 << 10);
      const c = matmul(a, b, 4, 8, 2);
      const [A, B, C] = [a, b, c].map((v) => S.commit(FrTensor.fromInts(BigInt64Array.from(v.map(BigInt))), P));
      const d = { logM: 2, logK: 3, logN: 1 };
      const p1 = S.proveMatmulStatement(d, A, B, C, P);
      const p2 = S.proveMatmulStatement(d, A, B, C, P);
      expectNoWitnessScalar(p1, S.proofLayout(p1), [...a, ...b, ...c].map(BigInt));
      expectNoSharedElement(p1, p2, S.proofLayout(p1));
    });
  });

  describe("hadamard (batched)", () => {
    it("is complete for one and three instances, rejects a product that is not a product and every tampered element", () => {
      for (const [count, size] of [
        [1, 16],
        [3, 64],
      ]) {
        const inst = Array.from({ length: count }, () => {
          const a = randInts(size, -1000, 1000);
          const b = randInts(size, -1000, 1000);
          return { a, b, c: a.map((v, i) => v * b[i]) };
        });
        const committed = inst.map((i) => ({ a: S.commit(ints(i.a), P), b: S.commit(ints(i.b), P), c: S.commit(ints(i.c), P) }));
        const pub = committed.map((i) => ({ a: i.a.commitment, b: i.b.commitment, c: i.c.commitment }));
        const proof = S.proveHadamardStatement(committed, P);
        expect(S.verifyHadamardStatement(pub, proof)).to.deep.equal({ valid: true });
        if (count === 1) expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyHadamardStatement(pub, p, fast));
        const last = inst[count - 1];
        const wrongC = S.commit(ints(last.c.map((v, i) => (i === size - 1 ? v + 1 : v))), P);
        const bad = committed.map((c, i) => (i === count - 1 ? { ...c, c: wrongC } : c));
        const badProof = S.proveHadamardStatement(bad, P);
        expect(S.verifyHadamardStatement(bad.map((i) => ({ a: i.a.commitment, b: i.b.commitment, c: i.c.commitment })), badProof, fast).valid).to.equal(false);
      }
    });
  });

  describe("binary", () => {
    it("is complete, rejects a non-binary bit, every tampered element, and a replay on other bits", () => {
      const bits = [randInts(32, 0, 2), randInts(32, 0, 2)];
      const committed = bits.map((b) => S.commit(ints(b), P));
      const proof = S.proveBinaryStatement(committed, P);
      const pub = committed.map((c) => c.commitment);
      expect(S.verifyBinaryStatement(pub, proof)).to.deep.equal({ valid: true });
      expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyBinaryStatement(pub, p, fast));
      for (const bad of [2, -1]) {
        const twos = S.commit(ints(bits[1].map((v, i) => (i === 7 ? bad : v))), P);
        const p = S.proveBinaryStatement([committed[0], twos], P);
        expect(S.verifyBinaryStatement([pub[0], twos.commitment], p, fast).valid).to.equal(false);
      }
      expect(S.verifyBinaryStatement([pub[1], pub[0]], proof).valid).to.equal(false);
    });
  });

  describe("range (logUp)", () => {
    const cases: { n: number; range: S.Range; lo: number; hi: number }[] = [
      { n: 4, range: { lo: 0n, bits: 8 }, lo: 0, hi: 256 }, // table larger than the tensor (D > N)
      { n: 10, range: { lo: -128n, bits: 8 }, lo: -128, hi: 128 }, // shifted (signed) range, N > D
      { n: 6, range: { lo: 0n, bits: 6 }, lo: 0, hi: 64 }, // N = D
    ];
    for (const { n, range, lo, hi } of cases) {
      it(`is complete for 2^${n} entries in [${range.lo}, ${range.lo} + 2^${range.bits}), including both ends`, () => {
        const values = randInts(1 << n, lo, hi);
        values[0] = lo;
        values[1] = hi - 1;
        const t = S.commit(ints(values), P);
        const proof = S.proveRangeStatement([t], range, P);
        expect(S.verifyRangeStatement([t.commitment], range, proof)).to.deep.equal({ valid: true });
      });
    }

    it("checks one-entry tensors: with the table alone, and packed with others", () => {
      const range = { lo: 0n, bits: 4 };
      for (const sizes of [[1], [1, 4], [1, 1, 1]]) {
        const ts = sizes.map((n) => S.commit(ints(randInts(n, 0, 16)), P));
        const proof = S.proveRangeStatement(ts, range, P);
        expect(S.verifyRangeStatement(ts.map((t) => t.commitment), range, proof), `sizes ${sizes}`).to.deep.equal({ valid: true });
      }
      const bad = S.commit(ints([16]), P);
      const counts = new Int32Array(16);
      counts[15] = 1;
      expect(S.verifyRangeStatement([bad.commitment], range, S.proveRangeStatement([bad], range, { ...P, counts }), fast).valid).to.equal(false);
    });

    it("checks several tensors of different sizes in one proof, and rejects every tampered element", () => {
      const range = { lo: 0n, bits: 4 };
      const ts = [S.commit(ints(randInts(8, 0, 16)), P), S.commit(ints(randInts(32, 0, 16)), P)];
      const pub = ts.map((t) => t.commitment);
      const proof = S.proveRangeStatement(ts, range, P);
      expect(S.verifyRangeStatement(pub, range, proof)).to.deep.equal({ valid: true });
      expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyRangeStatement(pub, range, p, fast));
    });

    it("packs the tensors and the table into at most MAX_TREES trees: aligned blocks, every one once, all trees but the last full", () => {
      for (let trial = 0; trial < 300; trial++) {
        const vars = Array.from({ length: 1 + Math.floor(Math.random() * 12) }, () => Math.floor(Math.random() * 21));
        const bits = 1 + Math.floor(Math.random() * 16);
        const trees = lookupTrees(vars.map((n) => ({ logRows: 0, logCols: n })), bits);
        const where = `vars ${vars} bits ${bits}`;
        expect(trees.length, where).to.be.within(1, MAX_TREES);
        const seen = trees.flatMap((t) => t.blocks.map((b) => b.member)).sort((a, b) => a - b);
        expect(seen, where).to.deep.equal([TABLE_BLOCK, ...vars.map((_, i) => i)]);
        trees.forEach((t, i) => {
          expect(t.depth, where).to.be.at.least(1);
          let end = 0;
          for (const b of t.blocks) {
            expect(b.vars, where).to.equal(b.member === TABLE_BLOCK ? bits : vars[b.member]);
            expect(b.offset % 2 ** b.vars, where).to.equal(0);
            expect(b.offset, where).to.equal(end);
            end += 2 ** b.vars;
          }
          expect(end, where).to.be.at.most(2 ** t.depth);
          if (i < trees.length - 1) expect(end, where).to.equal(2 ** t.depth);
          else expect(end, where).to.be.greaterThan(t.depth === 1 ? 0 : 2 ** (t.depth - 1));
        });
      }
    });

    it("packs tensors of several sizes with the table, padded (three of one size, one of another)", () => {
      const range = { lo: -8n, bits: 4 };
      const ts = [8, 8, 4, 8].map((n) => S.commit(ints(randInts(n, -8, 8)), P));
      const pub = ts.map((t) => t.commitment);
      const proof = S.proveRangeStatement(ts, range, P);
      expect(S.verifyRangeStatement(pub, range, proof)).to.deep.equal({ valid: true });
      expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyRangeStatement(pub, range, p, fast));
      // One entry outside the range in each member in turn (the 4-entry one sits next to the padding),
      // counted as a table entry by a cheater.
      for (const member of [0, 1, 2, 3]) {
        const values = randInts(ts[member].tensor.length, -8, 8);
        values[member === 2 ? 3 : 5] = member === 1 ? -9 : 8;
        const bad = ts.map((t, i) => (i === member ? S.commit(ints(values), P) : t));
        const counts = new Int32Array(16);
        for (const t of bad) for (const v of t.tensor.toInts()) counts[Math.max(0, Math.min(15, Number(v) + 8))]++;
        const cheat = S.proveRangeStatement(bad, range, { ...P, counts });
        expect(S.verifyRangeStatement(bad.map((t) => t.commitment), range, cheat, fast).valid, `member ${member}`).to.equal(false);
      }
    });

    it("refuses a table it cannot build (bits NaN, ∞, 0, 21) and multiplicities of another shape before decoding their rows", () => {
      const range = { lo: 0n, bits: 4 };
      const t = S.commit(ints(randInts(8, 0, 16)), P);
      const proof = S.proveRangeStatement([t], range, P);
      for (const bits of [Number.NaN, Number.POSITIVE_INFINITY, 0, 21, 2.5]) {
        expectRefused(() => S.verifyRangeStatement([t.commitment], { lo: 0n, bits }, proof));
        expectRefused(() => S.verifyWideRangeStatement(t.commitment, { lo: 0n, bits, limbs: 2 }, proof));
      }
      expect(() => lookupTrees([t.commitment], Number.POSITIVE_INFINITY)).to.throw(RangeError, /2\^0 to 2\^40/);
      // m's header claims 2^22 rows and the rest of the bytes are rows: refused at the header, in well
      // under the time decoding 64 MB of points would take.
      const hostile = new Uint8Array(proof.length + 64 * (1 << 20));
      hostile.set(proof);
      new DataView(hostile.buffer).setUint32(0, 22);
      const started = performance.now();
      expectFormatError(() => S.verifyRangeStatement([t.commitment], range, hostile), "ZKDL_PROOF_SHAPE");
      expect(performance.now() - started).to.be.below(500);
    });

    it("cannot prove a value just outside the range; a cheating prover's multiplicities are rejected", () => {
      const range = { lo: -8n, bits: 4 };
      for (const outside of [8, -9]) {
        const values = randInts(16, -8, 8);
        values[3] = outside;
        const t = S.commit(ints(values), P);
        expect(() => S.proveRangeStatement([t], range, P)).to.throw(RangeError, /outside/);
        // Counting the outside value as the nearest table entry instead does not help.
        const counts = new Int32Array(16);
        for (const v of values) counts[Math.min(15, Math.max(0, v + 8))]++;
        const proof = S.proveRangeStatement([t], range, { ...P, counts });
        expect(S.verifyRangeStatement([t.commitment], range, proof, fast).valid).to.equal(false);
      }
    });

    it("binds the range and the tensors: a replay on another range or tensor is rejected", () => {
      const range = { lo: 0n, bits: 4 };
      const t = S.commit(ints(randInts(16, 0, 16)), P);
      const u = S.commit(ints(randInts(16, 0, 16)), P);
      const proof = S.proveRangeStatement([t], range, P);
      expect(S.verifyRangeStatement([t.commitment], { lo: 1n, bits: 4 }, proof).valid).to.equal(false);
      expect(S.verifyRangeStatement([u.commitment], range, proof).valid).to.equal(false);
      expectRefused(() => S.verifyRangeStatement([t.commitment], { lo: 0n, bits: 6 }, proof));
    });

    it("hides the values and their multiplicities", () => {
      const range = { lo: 0n, bits: 8 };
      const values = randInts(64, 0, 256);
      const t = S.commit(ints(values), P);
      const a = S.proveRangeStatement([t], range, P);
      const b = S.proveRangeStatement([t], range, P);
      expectNoWitnessScalar(a, S.proofLayout(a), values.map(BigInt).filter((v) => v > 1n));
      expectNoSharedElement(a, b, S.proofLayout(a));
    });
  });

  describe("wide range (limbs)", () => {
    it("proves 24-bit signed values through four 6-bit limbs and rejects one just outside", () => {
      const range = { lo: -(1n << 23n), bits: 6, limbs: 4 };
      const values = BigInt64Array.from(randInts(16, -(1 << 23), 1 << 23).map(BigInt));
      values[0] = -(1n << 23n);
      values[1] = (1n << 23n) - 1n;
      const t = S.commit(FrTensor.fromInts(values), P);
      const proof = S.proveWideRangeStatement(t, values, range, P);
      expect(S.verifyWideRangeStatement(t.commitment, range, proof)).to.deep.equal({ valid: true });
      expectEveryTamperRejected(proof, S.proofLayout(proof), (p) => S.verifyWideRangeStatement(t.commitment, range, p, fast));
      const outside = values.slice();
      outside[2] = 1n << 23n;
      expect(() => S.proveWideRangeStatement(S.commit(FrTensor.fromInts(outside), P), outside, range, P)).to.throw(RangeError);
      // Limbs of other values than the committed ones break the recomposition.
      const other = values.slice();
      other[4] += 1n;
      const u = S.commit(FrTensor.fromInts(values), P);
      expect(S.verifyWideRangeStatement(u.commitment, range, S.proveWideRangeStatement(u, other, range, P), fast).valid).to.equal(false);
    });
  });

  it("C++ and TS agree on the opened value: T~(z) from the native tensor equals the TypeScript MLE", () => {
    const values = randInts(32, -5, 5);
    const z = Array.from({ length: 5 }, randomFr);
    const native = bytesToBigInt(ints(values).evaluate(bigIntsToBytes(z)));
    expect(native).to.equal(mleEvaluate(values.map((v) => fr(BigInt(v))), z));
  });
});
