import { expect } from "chai";
import { FrTensor } from "../../native";
import { bigIntsToBytes } from "../../core/crypto/bn254";
import { add, eqTable, mleEvaluate, mul, neg, randomFr, sum } from "../../core/crypto/fr";
import { ProverClaims, VerifierClaims, claimsCodec } from "../../core/protocol/claims";
import { ProofReader, ProofWriter } from "../../core/protocol/codec";
import { commitScalar } from "../../core/protocol/context";
import { Lin, nobleEngine } from "../../core/protocol/group";
import { commitTensor } from "../../core/protocol/hyrax";
import { nativeEngine } from "../../prover/native-engine";
import { type SumcheckStatement, proveSumcheck, sumcheckCodec, verifySumcheck } from "../../core/protocol/sumcheck";
import { contexts, expectEveryTamperRejected } from "../helpers/protocol";

const rand = (n: number) => Array.from({ length: n }, randomFr);
const tensor = (v: bigint[]) => FrTensor.fromBytes(bigIntsToBytes(v));

/** F = c0·eq·M0·M1·M2·M3 + c1·M1·P + c2·eq·M2 + c3·M4·M4, P public: every feature of the statement form. */
function instance(n: number) {
  const M = Array.from({ length: 5 }, () => rand(1 << n));
  const P = rand(1 << n);
  const tau = rand(n);
  const c = rand(4);
  const e = eqTable(tau);
  const claim = sum(
    Array.from({ length: 1 << n }, (_, x) =>
      add(
        add(mul(mul(c[0], e[x]), mul(mul(M[0][x], M[1][x]), mul(M[2][x], M[3][x]))), mul(c[1], mul(M[1][x], P[x]))),
        add(mul(c[2], mul(e[x], M[2][x])), mul(c[3], mul(M[4][x], M[4][x]))),
      ),
    ),
  );
  const statement: SumcheckStatement = {
    numVars: n,
    terms: [
      { coeff: c[0], factors: [0, 1, 2, 3], eq: true },
      { coeff: c[1], factors: [1, 5] },
      { coeff: c[2], factors: [2], eq: true },
      { coeff: c[3], factors: [4, 4] },
    ],
    publicFactors: [false, false, false, false, false, true],
    eqPoint: tau,
  };
  return { M, P, statement, claim };
}

describe("protocol: ZK sumcheck and claim reduction", function () {
  this.timeout(120_000);

  for (const n of [1, 3, 5]) {
    it(`is complete for degree-5 terms (4 MLEs and eq), public factors and repeated factors over ${n} variables`, () => {
      const { M, P, statement, claim } = instance(n);
      const { prover, verifier } = contexts(4);
      const c = commitScalar(prover, claim);
      const res = proveSumcheck(prover, statement, [...M, P].map(tensor), c);
      res.values.slice(0, 5).forEach((v, j) => expect(v).to.equal(mleEvaluate(M[j], res.point)));
      for (const engine of [nobleEngine, nativeEngine]) {
        const v = verifier();
        const out = verifySumcheck(v, statement, Lin.of(c.point), res.proof, (_j, r) => mleEvaluate(P, r));
        expect(out.point).to.deep.equal(res.point);
        expect(out.evals.map((e, j) => (e ? e.equals(res.evals[j]!.point) : null))).to.deep.equal([true, true, true, true, true, null]);
        expect(v.equations.settle(engine)).to.equal(null);
      }
    });
  }

  it("rejects a claim off by one, a wrong public factor, and every tampered element (both engines agree)", () => {
    const n = 3;
    const { M, P, statement, claim } = instance(n);
    const { prover, verifier, key } = contexts(4);
    const c = commitScalar(prover, claim);
    const res = proveSumcheck(prover, statement, [...M, P].map(tensor), c);
    const check = (claimLin: Lin, proof = res.proof, pub = P) => {
      const verdicts = [nobleEngine, nativeEngine].map((engine) => {
        const v = verifier();
        verifySumcheck(v, statement, claimLin, proof, (_j, r) => mleEvaluate(pub, r));
        return v.equations.settle(engine);
      });
      expect(verdicts[0]).to.equal(verdicts[1]);
      return verdicts[0];
    };
    expect(check(Lin.of(c.point))).to.equal(null);
    expect(check(Lin.of(c.point).add(key.g))).to.match(/final claim/);
    expect(check(Lin.of(c.point), res.proof, P.map((v, i) => (i === 2 ? add(v, 1n) : v)))).to.match(/final claim/);
    // A prover whose claim is off by one cannot produce an accepted proof either.
    const { prover: p2 } = contexts(4);
    const wrong = commitScalar(p2, add(claim, 1n));
    const bad = proveSumcheck(p2, statement, [...M, P].map(tensor), wrong);
    expect(check(Lin.of(wrong.point), bad.proof)).to.not.equal(null);
    // Every element of the encoded proof.
    const w = new ProofWriter();
    sumcheckCodec.write(w, res.proof);
    const bytes = w.bytes();
    expectEveryTamperRejected(bytes, w.layout, (b) => {
      const r = new ProofReader(b);
      const proof = sumcheckCodec.read(r, statement);
      r.end();
      const v = verifier();
      verifySumcheck(v, statement, Lin.of(c.point), proof, (_j, rr) => mleEvaluate(P, rr));
      const reason = v.equations.settle(nativeEngine);
      return reason === null ? { valid: true } : { valid: false, reason };
    });
  });

  it("batches stacked instances (FAC4DNN): one sumcheck for many same-shaped relations", () => {
    // Four Hadamard instances A_i ⊙ B_i = C_i stacked along 2 extra variables: one zero-check.
    const n = 3;
    const stack = 4;
    const A = rand(stack << n);
    const B = rand(stack << n);
    const C = A.map((a, i) => mul(a, B[i]));
    const tau = rand(n + 2);
    const statement: SumcheckStatement = {
      numVars: n + 2,
      terms: [
        { coeff: 1n, factors: [0, 1], eq: true },
        { coeff: neg(1n), factors: [2], eq: true },
      ],
      publicFactors: [false, false, false],
      eqPoint: tau,
    };
    const { prover, verifier } = contexts(4);
    const zero = { value: 0n, blind: 0n };
    const res = proveSumcheck(prover, statement, [A, B, C].map(tensor), zero);
    const v = verifier();
    verifySumcheck(v, statement, new Lin(), res.proof);
    expect(v.equations.settle(nobleEngine)).to.equal(null);
    // One wrong product anywhere in the stack is caught.
    const C2 = C.slice();
    C2[(stack << n) - 1] = add(C2[(stack << n) - 1], 1n);
    const { prover: p2, verifier: v2f } = contexts(4);
    const bad = proveSumcheck(p2, statement, [A, B, C2].map(tensor), zero);
    const v2 = v2f();
    verifySumcheck(v2, statement, new Lin(), bad.proof);
    expect(v2.equations.settle(nobleEngine)).to.not.equal(null);
  });

  it("reduces claims at several points on same-shaped tensors to one opening per shape, and rejects if any claim is wrong", () => {
    const values = rand(64);
    const points = [rand(6), rand(6), rand(6)];
    const run = (offset: number) => {
      const { prover, verifier } = contexts(8);
      const t = commitTensor(prover, tensor(values));
      const uValues = rand(32);
      const u = commitTensor(prover, tensor(uValues));
      const claims = new ProverClaims();
      const ys = points.map((z, i) => commitScalar(prover, add(mleEvaluate(values, z), i === 2 ? BigInt(offset) : 0n)));
      points.forEach((z, i) => claims.add(t, z, ys[i]));
      const uz = commitScalar(prover, mleEvaluate(uValues, points[0].slice(1)));
      claims.add(u, points[0].slice(1), uz);
      // A second tensor of t's shape claimed elsewhere joins t's reduction.
      const vValues = rand(64);
      const v2 = commitTensor(prover, tensor(vValues));
      const vz = commitScalar(prover, mleEvaluate(vValues, points[1]));
      claims.add(v2, points[1], vz);
      const w = new ProofWriter();
      claimsCodec.write(w, claims.prove(prover));
      const v = verifier();
      const vc = new VerifierClaims();
      points.forEach((z, i) => vc.add(t.commitment, z, ys[i].point));
      vc.add(u.commitment, points[0].slice(1), uz.point);
      vc.add(v2.commitment, points[1], vz.point);
      const r = new ProofReader(w.bytes());
      const proof = claimsCodec.read(r, vc);
      r.end();
      expect(proof.reductions.length).to.equal(1);
      expect(proof.openings.length).to.equal(2);
      vc.verify(v, proof);
      return v.equations.settle(nobleEngine);
    };
    expect(run(0)).to.equal(null);
    expect(run(1)).to.not.equal(null);
  });
});

