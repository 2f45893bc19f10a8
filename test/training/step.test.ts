import { expect } from "chai";
import { ProofFormatError } from "../../core/protocol/codec";
import { InputError } from "../../core/errors";
import { type WindowInputs, type WindowPublic, proveWindow, proveWindowWitness, verifyWindow, witnessValues } from "../../core/training/window";
import { nativeEngine } from "../../prover/native-engine";
import { FrTensor } from "../../native";
import { type StepTrace, matrixInts } from "../../core/model/fixed";
import { commitTensor } from "../../core/protocol/hyrax";
import { Transcript } from "../../core/protocol/transcript";
import { stepCircuit } from "../../core/training/circuit";
import { syntheticRecords, tinyConfig, tinyStep } from "../helpers/training";

const RUN = new Uint8Array(32).fill(7);
// The step circuit's relations, each proven in a window of one step (test/training/window.test.ts stacks several).
type Key = Parameters<typeof proveWindow>[0];
type Dims = Parameters<typeof proveWindow>[1];
const proveStep = (key: Key, d: Dims, run: Uint8Array, step: number, inputs: WindowInputs, trace: StepTrace, engine = nativeEngine) => proveWindow(key, d, run, step, inputs, [trace], engine);
const verifyStep = (key: Key, d: Dims, run: Uint8Array, step: number, pub: WindowPublic, bytes: Uint8Array, engine?: typeof nativeEngine) => verifyWindow(key, d, run, step, 1, pub, bytes, engine);
const reasonOf = (v: { valid: boolean }) => (v as { reason?: string }).reason;

describe("training: the step proof", function () {
  this.timeout(300_000);
  const s = tinyStep();
  const b = s.batch(0);
  const trace = s.trace(b.x, b.y);
  const values = witnessValues(s.d, trace);
  const pub = { X: b.X.commitment, Y: b.Y.commitment, W: s.W.map((w) => w.commitment) };
  const verify = (bytes: Uint8Array, p = pub, step = 0, run = RUN) => verifyStep(s.key, s.d, run, step, p, bytes, nativeEngine).verdict;
  /** A cheating prover: the honest witness with `edit` applied. */
  const cheat = (edit: (v: Map<string, Float64Array>) => void, inputs = { X: b.X, Y: b.Y, W: s.W }) => {
    const v = new Map([...values].map(([k, a]) => [k, a.slice()]));
    edit(v);
    return proveWindowWitness(s.key, s.d, RUN, 0, 1, inputs, v, nativeEngine).bytes;
  };
  let honest: Uint8Array;

  it("proves an honest step; the proof verifies with both engines and hands on the next weights", () => {
    const proof = proveStep(s.key, s.d, RUN, 0, { X: b.X, Y: b.Y, W: s.W }, trace, nativeEngine);
    honest = proof.bytes;
    expect(verify(honest)).to.deep.equal({ valid: true });
    const pure = verifyStep(s.key, s.d, RUN, 0, pub, honest);
    expect(pure.verdict).to.deep.equal({ valid: true });
    expect(pure.next.map((c) => c.rows.map((r) => r.toHex())).flat()).to.deep.equal(proof.next.map((c) => c.commitment.rows.map((r) => r.toHex())).flat());
  });

  it("rejects one weight of the update off by one (the next weights are derived from it, never sent)", () => {
    expect(verify(cheat((v) => (v.get("U1")![3] += 1))).valid).to.equal(false);
    expect(verify(cheat((v) => (v.get("U2")![0] += 1))).valid).to.equal(false);
  });

  it("ties the records to the wide-row witness: a limb split that does not recompose X, or a loss gradient off by one, is rejected", () => {
    expect(s.d.featureRange).to.equal("int32");
    const split = verify(cheat((v) => (v.get("XL0")![2] += 1)));
    expect(split.valid).to.equal(false);
    expect(reasonOf(split)).to.match(/features: range and zero padding/);
    const loss = verify(cheat((v) => (v.get("G")![1] += 1)));
    expect(loss.valid).to.equal(false);
  });

  it("rejects a flipped ReLU sign bit (with the activation made to match it)", () => {
    const z = values.get("Z1")!;
    const i = z.findIndex((v) => v > 0);
    const bytes = cheat((v) => {
      v.get("S1")![i] = 1;
      v.get("A1")![i] = 0;
    });
    expect(verify(bytes).valid).to.equal(false);
  });

  it("rejects a remainder moved out of its range (quotient adjusted so the product still matches)", () => {
    expect(() =>
      cheat((v) => {
        v.get("R1")![0] += 2 ** 16;
        v.get("Z1")![0] -= 1;
      }),
    ).to.throw(RangeError);
    // Keeping the remainder's lookup happy is impossible; only the product relation is left to break.
    expect(verify(cheat((v) => (v.get("R1")![0] += 1))).valid).to.equal(false);
  });

  it("rejects a batch record swapped for another record, and a wrong label", () => {
    const other = s.batch(0, Int32Array.from([...b.indices.slice(0, 3), (b.indices[3] + 1) % s.records.count]));
    const swapped = proveStep(s.key, s.d, RUN, 0, { X: other.X, Y: other.Y, W: s.W }, s.trace(other.x, other.y), nativeEngine).bytes;
    expect(verify(swapped).valid).to.equal(false); // the verifier takes the scheduled records' commitments
    const wrongLabel = b.y.data.slice();
    const row = 0;
    const cls = wrongLabel.subarray(row * 4, row * 4 + 4).findIndex((v) => v !== 0);
    wrongLabel[row * 4 + cls] = 0;
    wrongLabel[row * 4 + ((cls + 1) % 4)] = 2 ** 16;
    const y2 = { ...b.y, data: wrongLabel };
    const bytes = proveStep(s.key, s.d, RUN, 0, { X: b.X, Y: b.Y, W: s.W }, s.trace(b.x, y2), nativeEngine).bytes;
    expect(verify(bytes).valid).to.equal(false);
  });

  it("checks the records: a two-hot label row is rejected, a feature beyond 32 bits cannot be proven", () => {
    // A publisher committing a label row with two hot entries (each entry still 0 or 2^F).
    const y2 = { ...b.y, data: b.y.data.slice() };
    const row = y2.data.subarray(0, 4);
    row[row.findIndex((v) => v === 0)] = 2 ** 16;
    const Y2 = commitTensor({ key: s.key, transcript: new Transcript("t"), engine: nativeEngine }, FrTensor.fromInts(matrixInts(y2)), b.Y.commitment);
    const bytes = proveStep(s.key, s.d, RUN, 0, { X: b.X, Y: Y2, W: s.W }, s.trace(b.x, y2), nativeEngine).bytes;
    const v = verify(bytes, { ...pub, Y: Y2.commitment });
    expect(v.valid).to.equal(false);
    // A feature of 2^32 has no 32-bit two's-complement limbs.
    const x2 = { ...b.x, data: b.x.data.slice() };
    x2.data[0] = 2 ** 32;
    expect(() => witnessValues(s.d, { ...trace, x: x2 })).to.throw(InputError, /^X: entry 0/);
  });

  it("proves the records' padding is zero: hidden features past d_0's logical width and labels past the last class are rejected", () => {
    // Layers [6, 8, 3] pad to [8, 8, 4]: X has two padding columns and Y one. A publisher that commits
    // records with values there proves an honest step of the padded network — which must not verify.
    const config = { layers: [6, 8, 3], fracBits: 16, lrShift: 8, batch: 4, seed: "pad" };
    const verdict = (records = syntheticRecords(16, 6, 3, 16, 3)) => {
      const t = tinyStep(config, records);
      expect([t.d.features, t.d.classes]).to.deep.equal([6, 3]);
      const bb = t.batch(0);
      const tr = t.trace(bb.x, bb.y);
      const proof = proveStep(t.key, t.d, RUN, 0, { X: bb.X, Y: bb.Y, W: t.W }, tr, nativeEngine);
      const p = { X: bb.X.commitment, Y: bb.Y.commitment, W: t.W.map((w) => w.commitment) };
      return { verdict: verifyStep(t.key, t.d, RUN, 0, p, proof.bytes, nativeEngine).verdict, next: tr.next, bb };
    };
    expect(verdict().verdict).to.deep.equal({ valid: true });
    // Two hidden features per record (labels honest): the padding rows of W1 would become non-zero.
    const hidden = verdict(syntheticRecords(16, 8, 3, 16, 3));
    expect([...hidden.bb.x.data].some((v, i) => i % 8 >= 6 && v !== 0)).to.equal(true);
    expect([...hidden.next[0].data].some((v, i) => Math.floor(i / 8) >= 6 && v !== 0)).to.equal(true);
    expect(hidden.verdict.valid).to.equal(false);
    expect(reasonOf(hidden.verdict)).to.match(/features: range and zero padding/);
    // Labels of a fourth class (features honest).
    let labels = syntheticRecords(16, 6, 4, 16, 3);
    for (let seed = 4; ![...tinyStep(config, labels).batch(0).indices].some((i) => labels.labels[i] === 3); seed++) labels = syntheticRecords(16, 6, 4, 16, seed);
    const extraClass = verdict(labels);
    expect(extraClass.verdict.valid).to.equal(false);
    expect(reasonOf(extraClass.verdict)).to.match(/labels: one-hot and zero padding/);
  });

  it("proves MNIST-like features within [0, 2^F] (the unit range): a feature past 2^F cannot be proven, a cheating split is rejected", () => {
    const records = syntheticRecords(16, 8, 4, 16, 9);
    const x = records.x.map((v) => Math.abs(v));
    x[0] = 2 ** 16; // the top of the range is a value too (a white MNIST pixel)
    const unit = { ...records, x };
    const t = tinyStep(tinyConfig, unit);
    expect(t.d.featureRange).to.equal("unit");
    const bb = t.batch(0, Int32Array.from([0, 1, 2, 3]));
    const tr = t.trace(bb.x, bb.y);
    const p = { X: bb.X.commitment, Y: bb.Y.commitment, W: t.W.map((w) => w.commitment) };
    const check = (bytes: Uint8Array) => verifyStep(t.key, t.d, RUN, 0, p, bytes, nativeEngine).verdict;
    expect(check(proveStep(t.key, t.d, RUN, 0, { X: bb.X, Y: bb.Y, W: t.W }, tr, nativeEngine).bytes)).to.deep.equal({ valid: true });
    const over = { ...bb.x, data: bb.x.data.slice() };
    over.data[1] = 2 ** 16 + 1;
    expect(() => witnessValues(t.d, { ...tr, x: over })).to.throw(RangeError, /^X: entry 1 .* "unit"/);
    // A cheating prover committing X = 2^F + 5 as L0 = 5, L1 = 1 (both in range): L0·L1 ≠ 0.
    const xs = Int32Array.from(unit.x);
    xs[1] = 2 ** 16 + 5;
    const cheatRecords = { ...unit, x: xs };
    const c = tinyStep(tinyConfig, cheatRecords, "unit");
    const cb = c.batch(0, Int32Array.from([0, 1, 2, 3]));
    const values = witnessValues(c.d, { ...c.trace(cb.x, cb.y), x: { ...cb.x, data: cb.x.data.map((v) => Math.min(v, 2 ** 16)) } });
    values.set("X", cb.x.data);
    values.get("XL0")![1] = 5;
    values.get("XL1")![1] = 1;
    const bytes = proveWindowWitness(c.key, c.d, RUN, 0, 1, { X: cb.X, Y: cb.Y, W: c.W }, values, nativeEngine).bytes;
    const cp = { X: cb.X.commitment, Y: cb.Y.commitment, W: c.W.map((w) => w.commitment) };
    expect(verifyStep(c.key, c.d, RUN, 0, cp, bytes, nativeEngine).verdict.valid).to.equal(false);
  });

  it("binds the starting weights, the step index and the run", () => {
    const otherW = tinyStep({ ...s.config, seed: "other" }).W.map((w) => w.commitment);
    expect(verify(honest, { ...pub, W: otherW }).valid).to.equal(false);
    expect(verify(honest, pub, 1).valid).to.equal(false);
    expect(verify(honest, pub, 0, new Uint8Array(32)).valid).to.equal(false);
  });

  it("rejects a tampered byte in every part of the proof (a sample of 64 positions across the whole proof)", () => {
    // Element-wise exhaustive tampering is done for every protocol in test/protocol; here, positions
    // spread evenly over the whole step proof, each flipped alone.
    for (let k = 0; k < 64; k++) {
      const at = Math.floor(((k + 0.5) * honest.length) / 64);
      const t = honest.slice();
      t[at] ^= 1;
      let verdict;
      try {
        verdict = verify(t);
      } catch (e) {
        expect(e, `byte ${at}`).to.be.instanceOf(ProofFormatError);
        continue; // an undecodable element (off the curve, non-canonical) is refused as malformed
      }
      expect(verdict.valid, `byte ${at}`).to.equal(false);
    }
  });

  it("batches across layers: a three-layer network shares identity and contraction sumchecks, and still rejects a wrong update", () => {
    const c = { layers: [8, 8, 8, 4], fracBits: 16, lrShift: 9, batch: 4, seed: "deep" };
    const t = tinyStep(c, syntheticRecords(16, 8, 4, 16, 5));
    const circuit = stepCircuit(t.d);
    const identities = circuit.relations.filter((r) => r.kind === "identities");
    const hidden = identities.find((r) => r.kind === "identities" && r.tensors.includes("A1"));
    expect(hidden && hidden.kind === "identities" && hidden.tensors.includes("A2")).to.equal(true); // both hidden layers in one sumcheck
    const contractions = circuit.relations.filter((r) => r.kind === "contraction");
    expect(contractions.map((r) => (r.kind === "contraction" ? r.items.length : 0)).reduce((a, b) => a + b)).to.equal(8);
    expect(contractions.length).to.be.lessThan(8);
    const bb = t.batch(0);
    const tr = t.trace(bb.x, bb.y);
    const proof = proveStep(t.key, t.d, RUN, 0, { X: bb.X, Y: bb.Y, W: t.W }, tr, nativeEngine);
    const p3 = { X: bb.X.commitment, Y: bb.Y.commitment, W: t.W.map((w) => w.commitment) };
    expect(verifyStep(t.key, t.d, RUN, 0, p3, proof.bytes, nativeEngine).verdict).to.deep.equal({ valid: true });
    const v = witnessValues(t.d, tr);
    v.get("U2")![1] += 1;
    const bad = proveWindowWitness(t.key, t.d, RUN, 0, 1, { X: bb.X, Y: bb.Y, W: t.W }, v, nativeEngine).bytes;
    expect(verifyStep(t.key, t.d, RUN, 0, p3, bad, nativeEngine).verdict.valid).to.equal(false);
  });
});
