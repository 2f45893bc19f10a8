/**
 * Contractions over a window of stacked steps (batchVars > 0, docs/protocol.md §3.9): for every step t,
 * Σ_k c_k·T_k[t] = L[t]·R[t], the step index on every tensor's highest variables. The reference
 * products and MLE values are computed here on bigints, per step, independently of the native engine.
 */
import { expect } from "chai";
import { FrTensor } from "../../native";
import { add, fr, mleEvaluate } from "../../core/crypto/fr";
import { ProverClaims, VerifierClaims, claimsCodec } from "../../core/protocol/claims";
import { ProofReader, ProofWriter, type ProofSlot } from "../../core/protocol/codec";
import { type OpenScalar, Rejection } from "../../core/protocol/context";
import type { G1Point } from "../../core/crypto/bn254";
import { Lin } from "../../core/protocol/group";
import { type CommittedTensor, type TensorCommitment, absorbCommitment, commitTensor } from "../../core/protocol/hyrax";
import { type Contraction, type ContractionVars, contractionCodec, proveContractions, verifyContractions } from "../../core/protocol/relations";
import type { StatementVerdict } from "../../core/protocol/statements";
import { nativeEngine } from "../../prover/native-engine";
import { Transcript } from "../../core/protocol/transcript";
import { contexts, expectEveryTamperRejected, expectRefused } from "../helpers/protocol";
import { type Rng, rng } from "../helpers/random";

/** The fixed-point shift of the training circuit's targets: L·R = 2^F·Q + Rem. */
const F = 8n;

/** An operand as the test holds it: signed entries, per step [outer][y] (inner low) or [y][outer]. */
interface OperandValues {
  readonly values: bigint[];
  readonly outerVars: number;
  readonly innerLow: boolean;
}

interface ContractionValues {
  readonly left: OperandValues;
  readonly right: OperandValues;
  readonly targets: { coeff: bigint; values: bigint[] }[];
}

type Form = "A·B" | "A·Bᵀ" | "Aᵀ·B";
/** Which of the operands has its contracted index low, per form (A·B: A row-major [m][k], B [k][n]). */
const LAYOUT: Record<Form, [boolean, boolean]> = { "A·B": [true, false], "A·Bᵀ": [true, true], "Aᵀ·B": [false, false] };

/** Entry (step t, outer index o, contracted index y) of an operand. */
function entry(op: OperandValues, innerVars: number, t: number, o: number, y: number): bigint {
  const O = 1 << op.outerVars;
  const Y = 1 << innerVars;
  return op.values[t * O * Y + (op.innerLow ? o * Y + y : y * O + o)]!;
}

/** C[t][i][j] = Σ_y L[t](i, y)·R[t](j, y), flat with j lowest, then i, then t. */
function contract(left: OperandValues, right: OperandValues, innerVars: number, batchVars: number): bigint[] {
  const out: bigint[] = [];
  for (let t = 0; t < 1 << batchVars; t++)
    for (let i = 0; i < 1 << left.outerVars; i++)
      for (let j = 0; j < 1 << right.outerVars; j++) {
        let acc = 0n;
        for (let y = 0; y < 1 << innerVars; y++) acc += entry(left, innerVars, t, i, y) * entry(right, innerVars, t, j, y);
        out.push(acc);
      }
  return out;
}

/** P as the training circuit's targets: 2^F·Q + Rem with Q = ⌊P/2^F⌋ and 0 ≤ Rem < 2^F. */
function scaledTargets(p: bigint[]): { coeff: bigint; values: bigint[] }[] {
  const q = p.map((v) => (v >= 0n ? v >> F : -((-v + (1n << F) - 1n) >> F)));
  return [
    { coeff: 1n << F, values: q },
    { coeff: 1n, values: p.map((v, x) => v - (q[x] << F)) },
  ];
}

const randomValues = (r: Rng, n: number) => Array.from({ length: n }, () => BigInt(r.between(-100, 100)));

function randomOperand(r: Rng, outerVars: number, innerVars: number, batchVars: number, innerLow: boolean): OperandValues {
  return { values: randomValues(r, 1 << (outerVars + innerVars + batchVars)), outerVars, innerLow };
}

/** A random contraction of the given form (outer sizes 2^m, 2^n), its targets the true product. */
function randomContraction(r: Rng, form: Form, m: number, n: number, innerVars: number, batchVars: number, scaled: boolean): ContractionValues {
  const [leftLow, rightLow] = LAYOUT[form];
  const left = randomOperand(r, m, innerVars, batchVars, leftLow);
  const right = randomOperand(r, n, innerVars, batchVars, rightLow);
  const p = contract(left, right, innerVars, batchVars);
  return { left, right, targets: scaled ? scaledTargets(p) : [{ coeff: 1n, values: p }] };
}

/** The values with steps a and b exchanged (each step `size` entries). */
function swapSteps(values: bigint[], size: number, a: number, b: number): bigint[] {
  const out = values.slice();
  for (let x = 0; x < size; x++) [out[a * size + x], out[b * size + x]] = [values[b * size + x]!, values[a * size + x]!];
  return out;
}

/** The values with the order of their steps reversed. */
function reverseSteps(values: bigint[], size: number): bigint[] {
  const steps = values.length / size;
  return Array.from({ length: values.length }, (_, x) => values[(steps - 1 - Math.floor(x / size)) * size + (x % size)]!);
}

/** A claim as the prover leaves it. */
interface RecordedClaim {
  readonly tensor: CommittedTensor;
  readonly point: bigint[];
  readonly value: bigint;
}

class RecordingProverClaims extends ProverClaims {
  readonly log: RecordedClaim[] = [];
  override add(tensor: CommittedTensor, point: readonly bigint[], value: OpenScalar): void {
    this.log.push({ tensor, point: [...point], value: value.value });
    super.add(tensor, point, value);
  }
}

/**
 * A verifier whose claim number `at` is moved: its value shifted by the value generator g (one too
 * high), or its point's highest coordinate (a step coordinate) shifted by one.
 */
class ShiftedVerifierClaims extends VerifierClaims {
  private seen = 0;
  constructor(
    private readonly at: number,
    private readonly shift: { g: G1Point } | "point",
  ) {
    super();
  }
  override add(commitment: TensorCommitment, point: readonly bigint[], value: Lin | G1Point): void {
    const lin = value instanceof Lin ? new Lin().addLin(value) : Lin.of(value);
    if (this.seen++ !== this.at) return super.add(commitment, point, lin);
    if (this.shift === "point") super.add(commitment, [...point.slice(0, -1), add(point[point.length - 1]!, 1n)], lin);
    else super.add(commitment, point, lin.add(this.shift.g));
  }
}

/**
 * A group committed once (an operand listed in two contractions is one tensor), every commitment
 * absorbed before any proof message as a statement would; prove and verify run on fresh transcripts.
 */
function setup(group: readonly ContractionValues[]) {
  const { key, prover, verifier } = contexts(64);
  const domain = "zkdl-chain/v1/test";
  const committed = new Map<bigint[], CommittedTensor>();
  const commit = (values: bigint[]) => {
    if (!committed.has(values)) committed.set(values, commitTensor(prover, FrTensor.fromInts(BigInt64Array.from(values))));
    return committed.get(values)!;
  };
  const list: Contraction<CommittedTensor>[] = group.map((c) => ({
    left: { ...c.left, tensor: commit(c.left.values) },
    right: { ...c.right, tensor: commit(c.right.values) },
    targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: commit(t.values) })),
  }));
  const pub: Contraction<TensorCommitment>[] = list.map((c) => ({
    left: { ...c.left, tensor: c.left.tensor.commitment },
    right: { ...c.right, tensor: c.right.tensor.commitment },
    targets: c.targets.map((t) => ({ coeff: t.coeff, tensor: t.tensor.commitment })),
  }));
  const absorbAll = (t: Transcript) => [...committed.values()].forEach((ct, i) => absorbCommitment(t, `t${i}`, ct.commitment));

  function prove(vars: ContractionVars, claims: ProverClaims = new ProverClaims()): { bytes: Uint8Array; layout: ProofSlot[]; contractionBytes: number } {
    const p = { ...prover, transcript: new Transcript(domain) };
    absorbAll(p.transcript);
    const w = new ProofWriter();
    contractionCodec.write(w, proveContractions(p, claims, vars, list));
    const contractionBytes = w.bytes().length;
    claimsCodec.write(w, claims.prove(p));
    return { bytes: w.bytes(), layout: w.layout, contractionBytes };
  }

  function verify(vars: ContractionVars, bytes: Uint8Array, claims: VerifierClaims = new VerifierClaims(), on: readonly Contraction<TensorCommitment>[] = pub): StatementVerdict {
    const v = verifier();
    absorbAll(v.transcript);
    const r = new ProofReader(bytes);
    try {
      const proof = contractionCodec.read(r, vars, on.map((c) => c.targets.length));
      verifyContractions(v, claims, vars, on, proof, "stacked");
      const opened = claimsCodec.read(r, claims);
      r.end();
      claims.verify(v, opened);
    } catch (e) {
      if (e instanceof Rejection) return { valid: false, reason: e.message };
      throw e;
    }
    const reason = v.equations.settle(nativeEngine);
    return reason === null ? { valid: true } : { valid: false, reason };
  }

  return { key, list, pub, prove, verify, verifier };
}

/** The MLE of signed values at z, on bigints. */
const mle = (values: readonly bigint[], z: readonly bigint[]) => mleEvaluate(values.map(fr), z);

describe("protocol: contractions over stacked steps (batchVars)", function () {
  this.timeout(300_000);
  const r = rng("batched-contraction");

  for (const b of [1, 2, 3]) {
    it(`proves A·B, A·Bᵀ and Aᵀ·B over 2^${b} steps; every claim left is the MLE at the documented point`, () => {
      const innerVars = 2;
      for (const form of ["A·B", "A·Bᵀ", "Aᵀ·B"] as Form[]) {
        const c = randomContraction(r, form, 2, 1, innerVars, b, false);
        const s = setup([c]);
        const vars = { innerVars, batchVars: b };
        const claims = new RecordingProverClaims();
        const { bytes } = s.prove(vars, claims);
        expect(s.verify(vars, bytes), form).to.deep.equal({ valid: true });
        // Left in order: the target at (r_j ‖ r_i ‖ r_t), then L and R at their points (t' highest).
        const [target, left, right] = claims.log;
        expect(claims.log).to.have.length(3);
        expect(target.tensor).to.equal(s.list[0].targets[0].tensor);
        expect(target.value).to.equal(mle(c.targets[0].values, target.point));
        expect(left.value).to.equal(mle(c.left.values, left.point));
        expect(right.value).to.equal(mle(c.right.values, right.point));
        const rt = target.point.slice(-b);
        const tPrime = left.point.slice(-b);
        expect(right.point.slice(-b)).to.deep.equal(tPrime);
        expect(tPrime).to.not.deep.equal(rt);
        // The operands' contracted coordinates are the same y' (low in A·B's A, high in B).
        const yOf = (op: OperandValues, point: bigint[]) => (op.innerLow ? point.slice(0, innerVars) : point.slice(op.outerVars, op.outerVars + innerVars));
        expect(yOf(c.left, left.point)).to.deep.equal(yOf(c.right, right.point));
        // And the target's (r_j ‖ r_i) are the operands' outer coordinates.
        const outerOf = (op: OperandValues, point: bigint[]) => (op.innerLow ? point.slice(innerVars, innerVars + op.outerVars) : point.slice(0, op.outerVars));
        expect(target.point.slice(0, -b)).to.deep.equal([...outerOf(c.right, right.point), ...outerOf(c.left, left.point)]);
      }
    });
  }

  /**
   * The training circuit's products over a window, one group: forward A·W = 2^F·Z + R, backward
   * G·Wᵀ = 2^F·GA + RG on the same committed W (square, so both contract the group's inner dimension:
   * its rows, then its columns), a weight gradient Xᵀ·H = 2^F·U + RU, and a plain A·Bᵀ.
   */
  function trainingGroup(innerVars: number, b: number): ContractionValues[] {
    const W = randomOperand(r, innerVars, innerVars, b, false);
    const Wt: OperandValues = { ...W, innerLow: true };
    const A = randomOperand(r, 2, innerVars, b, true);
    const G = randomOperand(r, 1, innerVars, b, true);
    const X = randomOperand(r, 1, innerVars, b, false);
    const H = randomOperand(r, 2, innerVars, b, false);
    return [
      { left: A, right: W, targets: scaledTargets(contract(A, W, innerVars, b)) },
      { left: G, right: Wt, targets: scaledTargets(contract(G, Wt, innerVars, b)) },
      { left: X, right: H, targets: scaledTargets(contract(X, H, innerVars, b)) },
      randomContraction(r, "A·Bᵀ", 0, 1, innerVars, b, false),
    ];
  }

  for (const b of [1, 2, 3]) {
    it(`batches a training-style group over 2^${b} steps in one sumcheck: mixed layouts, a shared operand, targets 2^F·Q + Rem`, () => {
      const group = trainingGroup(2, b);
      const s = setup(group);
      expect(s.list[0].right.tensor).to.equal(s.list[1].right.tensor);
      const vars = { innerVars: 2, batchVars: b };
      const claims = new RecordingProverClaims();
      const { bytes } = s.prove(vars, claims);
      expect(s.verify(vars, bytes)).to.deep.equal({ valid: true });
      const targets = group.reduce((n, c) => n + c.targets.length, 0);
      expect(claims.log).to.have.length(targets + 2 * group.length);
      const valuesOf = new Map<CommittedTensor, bigint[]>();
      group.forEach((c, l) => {
        valuesOf.set(s.list[l].left.tensor, c.left.values).set(s.list[l].right.tensor, c.right.values);
        c.targets.forEach((t, k) => valuesOf.set(s.list[l].targets[k].tensor, t.values));
      });
      for (const cl of claims.log) expect(cl.value).to.equal(mle(valuesOf.get(cl.tensor)!, cl.point));
      // One r_t for every target of the group, one t' for every operand.
      const isTarget = (t: CommittedTensor) => s.list.some((c) => c.targets.some((x) => x.tensor === t));
      const stepsOf = (pick: (cl: RecordedClaim) => boolean) => new Set(claims.log.filter(pick).map((cl) => cl.point.slice(-b).join()));
      expect(stepsOf((cl) => isTarget(cl.tensor)).size).to.equal(1);
      expect(stepsOf((cl) => !isTarget(cl.tensor)).size).to.equal(1);
    });
  }

  it("rejects a target wrong in one step only: the last step, the first step", () => {
    for (const b of [1, 2, 3]) {
      const innerVars = 2;
      const c = randomContraction(r, "A·B", 1, 2, innerVars, b, true);
      const perStep = 1 << (c.left.outerVars + c.right.outerVars);
      const steps = 1 << b;
      for (const step of [steps - 1, 0]) {
        for (const k of [0, 1]) {
          const entryIndex = step * perStep + r.int(perStep);
          const bad = { ...c, targets: c.targets.map((t, kk) => (kk === k ? { ...t, values: t.values.map((v, x) => (x === entryIndex ? v + 1n : v)) } : t)) };
          const s = setup([bad]);
          const vars = { innerVars, batchVars: b };
          expect(s.verify(vars, s.prove(vars).bytes).valid, `b=${b} step ${step} target ${k}`).to.equal(false);
        }
      }
    }
  });

  it("rejects operands swapped between steps, and targets of the right values in another step order", () => {
    const innerVars = 2;
    for (const b of [1, 2]) {
      const vars = { innerVars, batchVars: b };
      const c = randomContraction(r, "A·Bᵀ", 1, 1, innerVars, b, true);
      const operandStep = 1 << (1 + innerVars);
      const targetStep = 1 << 2;
      const cases: [string, ContractionValues][] = [
        ["left operand steps 0 and 1 exchanged", { ...c, left: { ...c.left, values: swapSteps(c.left.values, operandStep, 0, 1) } }],
        ["right operand steps 0 and last exchanged", { ...c, right: { ...c.right, values: swapSteps(c.right.values, operandStep, 0, (1 << b) - 1) } }],
        ["targets in reverse step order", { ...c, targets: c.targets.map((t) => ({ ...t, values: reverseSteps(t.values, targetStep) })) }],
        ["targets with steps 0 and 1 exchanged", { ...c, targets: c.targets.map((t) => ({ ...t, values: swapSteps(t.values, targetStep, 0, 1) })) }],
      ];
      for (const [what, bad] of cases) {
        const s = setup([bad]);
        expect(s.verify(vars, s.prove(vars).bytes).valid, `b=${b}: ${what}`).to.equal(false);
      }
      // Both operands and the targets reordered alike is the same statement with the steps renamed.
      const renamed: ContractionValues = {
        left: { ...c.left, values: reverseSteps(c.left.values, operandStep) },
        right: { ...c.right, values: reverseSteps(c.right.values, operandStep) },
        targets: c.targets.map((t) => ({ ...t, values: reverseSteps(t.values, targetStep) })),
      };
      const s = setup([renamed]);
      expect(s.verify(vars, s.prove(vars).bytes)).to.deep.equal({ valid: true });
    }
  });

  it("rejects a tampered claim: each value and each point the group leaves", () => {
    const innerVars = 1;
    const b = 2;
    const vars = { innerVars, batchVars: b };
    const group = [randomContraction(r, "A·B", 1, 1, innerVars, b, true), randomContraction(r, "Aᵀ·B", 1, 0, innerVars, b, false)];
    const s = setup(group);
    const { bytes } = s.prove(vars);
    expect(s.verify(vars, bytes)).to.deep.equal({ valid: true });
    const count = group.reduce((n, c) => n + c.targets.length + 2, 0);
    for (let at = 0; at < count; at++) {
      expect(s.verify(vars, bytes, new ShiftedVerifierClaims(at, { g: s.key.g })).valid, `value of claim ${at}`).to.equal(false);
      expect(s.verify(vars, bytes, new ShiftedVerifierClaims(at, "point")).valid, `point of claim ${at}`).to.equal(false);
    }
  });

  it("rejects every tampered element of the encoded proof (contraction and claims)", () => {
    const innerVars = 1;
    const b = 2;
    const vars = { innerVars, batchVars: b };
    const s = setup([randomContraction(r, "A·B", 1, 1, innerVars, b, true), randomContraction(r, "A·Bᵀ", 0, 1, innerVars, b, false)]);
    const { bytes, layout } = s.prove(vars);
    expect(s.verify(vars, bytes)).to.deep.equal({ valid: true });
    expectEveryTamperRejected(bytes, layout, (p) => s.verify(vars, p));
  });

  it("refuses a replay under another split of the variables, without the steps, or on other tensors", () => {
    const innerVars = 2;
    const b = 2;
    const vars = { innerVars, batchVars: b };
    const c = randomContraction(r, "A·B", 1, 1, innerVars, b, false);
    const s = setup([c]);
    const { bytes } = s.prove(vars);
    expect(s.verify(vars, bytes)).to.deep.equal({ valid: true });
    // The same operand sizes read as one more contracted variable and one step variable fewer: the
    // targets no longer fit; read as no steps at all: neither do they.
    expectRefused(() => s.verify({ innerVars: innerVars + 1, batchVars: b - 1 }, bytes));
    expectRefused(() => s.verify(innerVars + b, bytes));
    // The operands exchanged (same sizes): the claims land on the other tensors.
    expectRefused(() => s.verify(vars, bytes, new VerifierClaims(), [{ ...s.pub[0], left: s.pub[0].right, right: s.pub[0].left }]));
  });

  it("keeps the one-instance layout when batchVars = 0: a plain number, {innerVars} and batchVars 0 give the old proof length", () => {
    // Old layout: per target one value (64 B); the sumcheck has innerVars rounds of degree 2 (two
    // points each), two evaluations and one product (point + 352 B proof) per contraction, and a
    // final proof of zero (96 B). With steps the degree is 3 (the public eq(r_t, t) factor) over
    // innerVars + batchVars rounds, with the same evaluations and products.
    const length = (targets: number, count: number, rounds: number, degree: number) => 64 * targets + 64 * degree * rounds + count * (2 * 64 + 64 + 352) + 96;
    const innerVars = 3;
    const group = [randomContraction(r, "A·B", 2, 1, innerVars, 0, true), randomContraction(r, "Aᵀ·B", 1, 1, innerVars, 0, false)];
    const s = setup(group);
    for (const vars of [innerVars, { innerVars }, { innerVars, batchVars: 0 }] as ContractionVars[]) {
      const { bytes, contractionBytes } = s.prove(vars);
      expect(contractionBytes, JSON.stringify(vars)).to.equal(length(3, 2, innerVars, 2));
      expect(s.verify(vars, bytes)).to.deep.equal({ valid: true });
    }
    // A proof made with the number form verifies with the object form and back: one statement.
    expect(s.verify({ innerVars, batchVars: 0 }, s.prove(innerVars).bytes)).to.deep.equal({ valid: true });
    expect(s.verify(innerVars, s.prove({ innerVars }).bytes)).to.deep.equal({ valid: true });
    const b = 2;
    const stacked = setup([randomContraction(r, "A·B", 2, 1, innerVars, b, true), randomContraction(r, "Aᵀ·B", 1, 1, innerVars, b, false)]);
    expect(stacked.prove({ innerVars, batchVars: b }).contractionBytes).to.equal(length(3, 2, innerVars + b, 3));
  });

  it("refuses malformed groups: sizes that do not fit the steps, and batchVars that is not a count", () => {
    const innerVars = 2;
    const s = setup([randomContraction(r, "A·B", 1, 1, innerVars, 1, false)]);
    const { bytes } = s.prove({ innerVars, batchVars: 1 });
    const proof = contractionCodec.read(new ProofReader(bytes), { innerVars, batchVars: 1 }, [1]);
    for (const vars of [{ innerVars, batchVars: 2 }, { innerVars, batchVars: 0 }, { innerVars, batchVars: -1 }, { innerVars, batchVars: 0.5 }, { innerVars: -1, batchVars: 1 }]) {
      const what = JSON.stringify(vars);
      expect(() => s.prove(vars), what).to.throw(RangeError);
      // The verifier turns a group that does not fit into a verdict before it draws a challenge.
      expect(() => verifyContractions(s.verifier(), new VerifierClaims(), vars, s.pub, proof), what).to.throw(Rejection);
    }
    // A statement without a count of variables has no layout to read.
    expect(() => contractionCodec.read(new ProofReader(bytes), { innerVars, batchVars: -1 }, [1])).to.throw(RangeError);
  });
});
