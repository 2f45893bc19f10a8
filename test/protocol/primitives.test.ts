import { expect } from "chai";
import { FrTensor, generators } from "../../native";
import { G1, bigIntsToBytes, bytesToBigInt, bytesToBigInts, g1ToBytes } from "../../core/crypto/bn254";
import { add, eqEval, eqTable, evalPoly, interpolate, mleEvaluate, mul, randomFr, sub } from "../../core/crypto/fr";
import { commitScalar, commitVector } from "../../core/protocol/context";
import { commitmentKey, generatorSetId } from "../../core/protocol/generators";
import { Lin } from "../../core/protocol/group";
import { commitTensor, proveEvaluations, verifyEvaluations } from "../../core/protocol/hyrax";
import { proveDotProduct, verifyDotProduct } from "../../core/protocol/ipa";
import { proveEquality, proveOpening, proveProduct, verifyEquality, verifyOpening, verifyProduct } from "../../core/protocol/sigma";
import { contexts, settle } from "../helpers/protocol";

const rand = (n: number) => Array.from({ length: n }, randomFr);
const decode = bytesToBigInts;

describe("protocol: primitives", () => {
  describe("C++ and TypeScript agree", () => {
    it("on generator sets and their ids", () => {
      for (const label of ["zkdl-chain/v1/hyrax", "zkdl-chain/v1/test-agree"]) {
        const ts = commitmentKey(16, { label });
        const nat = generators(label, 16);
        expect(Buffer.from(ts.G.map(g1ToBytes).flatMap((b) => [...b]))).to.deep.equal(Buffer.from(nat.g));
        expect(g1ToBytes(ts.H)).to.deep.equal(nat.h);
        expect(g1ToBytes(ts.g)).to.deep.equal(nat.base);
        expect(ts.id).to.deep.equal(nat.id);
        expect(generatorSetId(label, 16)).to.deep.equal(nat.id);
      }
      expect(() => commitmentKey(4, { label: "bad\u0000label" })).to.throw(RangeError);
      expect(() => commitmentKey(0)).to.throw(RangeError);
    });

    it("on Hyrax row commitments (native MSMs against noble)", () => {
      const { prover, key } = contexts(8);
      const values = rand(32);
      const ct = commitTensor(prover, FrTensor.fromBytes(bigIntsToBytes(values)), { logRows: 2, logCols: 3 });
      ct.commitment.rows.forEach((row, j) => {
        let expected = key.H.multiply(ct.blinds[j]);
        for (let i = 0; i < 8; i++) if (values[8 * j + i] !== 0n) expected = expected.add(key.G[i].multiply(values[8 * j + i]));
        expect(row.equals(expected)).to.equal(true);
      });
    });

    it("on eq tables, MLE evaluations and folds", () => {
      for (const n of [0, 1, 3, 6]) {
        const z = rand(n);
        const values = rand(1 << n);
        expect(decode(FrTensor.eq(bigIntsToBytes(z)).toBytes())).to.deep.equal(eqTable(z));
        const t = FrTensor.fromBytes(bigIntsToBytes(values));
        expect(bytesToBigInt(t.evaluate(bigIntsToBytes(z)))).to.equal(mleEvaluate(values, z));
        if (n > 0) {
          const folded = decode(t.fold(bigIntsToBytes([z[0]])).toBytes());
          expect(mleEvaluate(folded, z.slice(1))).to.equal(mleEvaluate(values, z));
        }
        const x = rand(n);
        expect(eqEval(z, x)).to.equal(mleEvaluate(eqTable(z), x));
      }
    });

    it("interpolates round polynomials exactly", () => {
      for (const d of [0, 1, 2, 3, 5]) {
        const coeffs = rand(d + 1);
        const evals = Array.from({ length: d + 1 }, (_, x) => evalPoly(coeffs, BigInt(x)));
        expect(interpolate(evals)).to.deep.equal(coeffs);
      }
    });
  });

  describe("Σ-protocols", () => {
    it("prove opening, equality and product, and reject wrong witnesses and tampered responses", () => {
      const { prover, verifier } = contexts(4);
      const x = commitScalar(prover, randomFr());
      const y = commitScalar(prover, randomFr());
      const z = commitScalar(prover, mul(x.value, y.value));
      const zWrong = commitScalar(prover, add(mul(x.value, y.value), 1n));
      const x2 = commitScalar(prover, x.value);
      const op = proveOpening(prover, x);
      const eqp = proveEquality(prover, x, x2);
      const prod = proveProduct(prover, x, y, z);
      const bad = proveProduct(prover, x, y, zWrong);
      const badEq = proveEquality(prover, x, y);
      const run = (mut: (v: ReturnType<typeof verifier>) => void) => {
        const v = verifier();
        mut(v);
        return settle(v);
      };
      const all = (v: ReturnType<typeof verifier>, p = prod, q = eqp, o = op, zz = z.point) => {
        verifyOpening(v, Lin.of(x.point), o);
        verifyEquality(v, Lin.of(x.point), Lin.of(x2.point), q);
        verifyProduct(v, Lin.of(x.point), y.point, Lin.of(zz), p);
      };
      expect(run((v) => all(v))).to.equal(null);
      expect(run((v) => all(v, { ...prod, z5: add(prod.z5, 1n) }))).to.match(/product/);
      expect(run((v) => all(v, { ...prod, alpha: prod.alpha.add(G1.BASE) }))).to.match(/product/);
      expect(run((v) => all(v, prod, { ...eqp, z: sub(eqp.z, 1n) }))).to.match(/equality/);
      expect(run((v) => all(v, prod, eqp, { ...op, z1: add(op.z1, 1n) }))).to.match(/opening/);
      // False statements: a product that is not a product, an equality of different values.
      expect(run((v) => all(v, bad, eqp, op, zWrong.point))).to.match(/product/);
      expect(
        run((v) => {
          verifyOpening(v, Lin.of(x.point), op);
          verifyEquality(v, Lin.of(x.point), Lin.of(y.point), badEq);
        }),
      ).to.match(/equality/);
    });
  });

  describe("dot-product argument", () => {
    for (const m of [1, 2, 8, 64]) {
      it(`proves ⟨x, a⟩ = y for length ${m} and rejects y + 1`, () => {
        const { prover, verifier, key } = contexts(m);
        const x = rand(m);
        const a = rand(m);
        const { blind: rx, point: Cx } = commitVector(prover, x);
        expect(Cx.equals(key.H.multiply(rx).add(x.reduce((acc, v, i) => acc.add(key.G[i].multiply(v)), G1.ZERO)))).to.equal(true);
        const y = commitScalar(prover, x.reduce((acc, v, i) => add(acc, mul(v, a[i])), 0n));
        const proof = proveDotProduct(prover, x, rx, a, y);
        expect(proof.L.length).to.equal(Math.log2(m));
        const v = verifier();
        verifyDotProduct(v, Lin.of(Cx), Lin.of(y.point), a, proof);
        expect(settle(v)).to.equal(null);
        const w = verifier();
        verifyDotProduct(w, Lin.of(Cx), Lin.of(y.point).add(key.g), a, proof);
        expect(settle(w)).to.match(/inner-product/);
        const u = verifier();
        verifyDotProduct(u, Lin.of(Cx), Lin.of(y.point), a.map((v, i) => (i === 0 ? add(v, 1n) : v)), proof);
        expect(settle(u)).to.match(/inner-product/);
      });
    }
  });

  describe("Hyrax evaluation proofs (context level)", () => {
    it("open several same-shaped tensors at one point, and reject a claim off by one", () => {
      const { prover, verifier } = contexts(16);
      const vals = [rand(128), rand(128)];
      const cts = vals.map((v) => commitTensor(prover, FrTensor.fromBytes(bigIntsToBytes(v))));
      expect(cts[0].commitment).to.include({ logRows: 3, logCols: 4 });
      const z = rand(7);
      const ys = vals.map((v) => commitScalar(prover, mleEvaluate(v, z)));
      const proof = proveEvaluations(prover, cts, z, ys);
      const ok = verifier();
      verifyEvaluations(ok, cts.map((c) => c.commitment), z, ys.map((y) => Lin.of(y.point)), proof);
      expect(settle(ok)).to.equal(null);
      // The prover claiming T~(z) + 1 cannot make the verifier accept.
      const { prover: p2, verifier: v2 } = contexts(16);
      const off = commitScalar(p2, add(mleEvaluate(vals[0], z), 1n));
      const proofOff = proveEvaluations(p2, [cts[0]], z, [off]);
      const bad = v2();
      verifyEvaluations(bad, [cts[0].commitment], z, [Lin.of(off.point)], proofOff);
      expect(settle(bad)).to.match(/inner-product/);
    });
  });
});
