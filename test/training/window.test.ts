import { expect } from "chai";
import { ProofFormatError } from "../../core/protocol/codec";
import { MAX_WINDOW, maxWindow, proveWindow, proveWindowWitness, verifyWindow, windowKeySize, windowSizes, windowValues } from "../../core/training/window";
import { nativeEngine } from "../../prover/native-engine";
import { type Matrix, type StepTrace, trainStep } from "../../core/model/fixed";
import { type TensorCommitment, numVars } from "../../core/protocol/hyrax";
import { stepCircuit, wideShape } from "../../core/training/circuit";
import { batchInputs } from "../../prover/inputs";
import { tinyStep } from "../helpers/training";

const RUN = new Uint8Array(32).fill(7);
const reasonOf = (v: { valid: boolean }) => (v as { reason?: string }).reason;

describe("training: the window proof (T steps as one stacked instance)", function () {
  this.timeout(600_000);
  const T = 4;
  const s = tinyStep();
  const L = s.config.layers.length - 1;
  // The window's steps: per-step traces from the seeded weights, and the stacked batches.
  const traces: StepTrace[] = [];
  let weights: Matrix[] = s.weights;
  const indices: number[] = [];
  for (let t = 0; t < T; t++) {
    const b = s.batch(t);
    indices.push(...b.indices);
    const trace = trainStep(s.config, weights, b.x, b.y);
    traces.push(trace);
    weights = [...trace.next];
  }
  const all = Int32Array.from(indices);
  const stacked = batchInputs(s.records, s.commitments, s.openings, all, s.config.fracBits);
  const values = windowValues(s.d, traces);
  const pub = { X: stacked.X.commitment, Y: stacked.Y.commitment, W: s.W.map((w) => w.commitment) };
  const verify = (bytes: Uint8Array, p = pub, first = 0, steps = T, run = RUN) => verifyWindow(s.key, s.d, run, first, steps, p, bytes, nativeEngine).verdict;
  /** A cheating prover: the honest stacked witness with `edit` applied. */
  const cheat = (edit: (v: Map<string, Float64Array>) => void) => {
    const v = new Map([...values].map(([k, a]) => [k, a.slice()]));
    edit(v);
    return proveWindowWitness(s.key, s.d, RUN, 0, T, { X: stacked.X, Y: stacked.Y, W: s.W }, v, nativeEngine).bytes;
  };
  /** Entry `i` of step `t`'s block of a stacked tensor. */
  const at = (name: string, t: number, i: number) => (values.get(name)!.length / T) * t + i;
  let honest: Uint8Array;
  let next: TensorCommitment[];

  it("partitions a run into windows: full ones, then decreasing powers of two", () => {
    expect(windowSizes(1024, 64)).to.deep.equal(new Array(16).fill(64));
    expect(windowSizes(6, 4)).to.deep.equal([4, 2]);
    expect(windowSizes(7, 4)).to.deep.equal([4, 2, 1]);
    expect(windowSizes(3, 1)).to.deep.equal([1, 1, 1]);
    expect(windowSizes(2, 8)).to.deep.equal([2]);
    for (const bad of [0, 3, 6, MAX_WINDOW * 2, 1.5]) expect(() => windowSizes(10, bad)).to.throw(RangeError);
    expect(() => windowSizes(0, 4)).to.throw(RangeError);
  });

  it("proves an honest window; it verifies with both engines and hands on the weights after its last step", () => {
    const proof = proveWindow(s.key, s.d, RUN, 0, { X: stacked.X, Y: stacked.Y, W: s.W }, traces, nativeEngine);
    honest = proof.bytes;
    const native = verifyWindow(s.key, s.d, RUN, 0, T, pub, honest, nativeEngine);
    expect(native.verdict).to.deep.equal({ valid: true });
    next = native.next;
    const pure = verifyWindow(s.key, s.d, RUN, 0, T, pub, honest);
    expect(pure.verdict).to.deep.equal({ valid: true });
    expect(next.map((c) => c.rows.map((r) => r.toHex())).flat()).to.deep.equal(proof.next.map((c) => c.commitment.rows.map((r) => r.toHex())).flat());
    // The next weights are the last step's, as integers.
    proof.next.forEach((w, l) => expect(Array.from(w.tensor.toInts(), Number)).to.deep.equal(Array.from(traces[T - 1].next[l].data)));
    // A window of T steps is far smaller than T step proofs: one set of sumchecks, one lookup, one opening per shape.
    const one = proveWindow(s.key, s.d, RUN, 0, { X: s.batch(0).X, Y: s.batch(0).Y, W: s.W }, [traces[0]], nativeEngine).bytes;
    expect(honest.length).to.be.lessThan(T * one.length * 0.6);
  });

  it("rejects a wrong update in the middle of the window (step 1 of 4)", () => {
    const bad = cheat((v) => {
      v.get("U1")![at("U1", 1, 0)] += 1;
    });
    expect(verify(bad).valid).to.equal(false);
  });

  it("rejects a flipped ReLU sign bit in the last step (the activation made to match it)", () => {
    const i = values.get("Z1")!.findIndex((z, k) => k >= at("Z1", T - 1, 0) && z > 0);
    expect(i).to.be.greaterThan(-1);
    const bad = cheat((v) => {
      v.get("S1")![i] = 1;
      v.get("A1")![i] = 0;
    });
    expect(verify(bad).valid).to.equal(false);
  });

  it("rejects a record swapped in step 2 of the window (the verifier uses the scheduled records)", () => {
    const swapped = all.slice();
    const k = 2 * s.config.batch;
    const other = [...Array(s.records.count).keys()].find((r) => !Array.from(all.subarray(k, k + s.config.batch)).includes(r))!;
    swapped[k] = other;
    const X = batchInputs(s.records, s.commitments, s.openings, swapped, s.config.fracBits).X.commitment;
    expect(verify(honest, { ...pub, X }).valid).to.equal(false);
    // Steps in another order are other batches too.
    const reordered = Int32Array.from([...all.subarray(s.config.batch, 2 * s.config.batch), ...all.subarray(0, s.config.batch), ...all.subarray(2 * s.config.batch)]);
    const Y = batchInputs(s.records, s.commitments, s.openings, reordered, s.config.fracBits);
    expect(verify(honest, { ...pub, X: Y.X.commitment, Y: Y.Y.commitment }).valid).to.equal(false);
  });

  it("binds the starting weights (windows must chain), the first step, the length and the run", () => {
    expect(verify(honest, { ...pub, W: next }).valid).to.equal(false);
    expect(verify(honest, pub, T).valid).to.equal(false);
    expect(verify(honest, pub, 0, T, new Uint8Array(32)).valid).to.equal(false);
    for (const steps of [2, 8]) {
      let verdict;
      try {
        verdict = verify(honest, pub, 0, steps);
      } catch (e) {
        expect(e, `as ${steps} steps`).to.be.instanceOf(ProofFormatError);
        continue; // refused as malformed: its layout is another window's
      }
      expect(verdict.valid, `as ${steps} steps`).to.equal(false);
    }
    expect(reasonOf(verify(honest, pub, 0, 3))).to.match(/power of two/);
  });

  it("rejects a tampered byte across the whole window proof (64 positions)", () => {
    for (let k = 0; k < 64; k++) {
      const pos = Math.floor(((k + 0.5) * honest.length) / 64);
      const t = honest.slice();
      t[pos] ^= 1;
      let verdict;
      try {
        verdict = verify(t);
      } catch (e) {
        expect(e, `byte ${pos}`).to.be.instanceOf(ProofFormatError); // refused as malformed
        continue;
      }
      expect(verdict.valid, `byte ${pos}`).to.equal(false);
    }
  });

  it("bounds a network's window by the committed-tensor size: beyond it the circuit refuses and a verifier answers invalid", () => {
    expect(maxWindow(s.d)).to.equal(MAX_WINDOW);
    const wide = { ...s.d, logB: 6, logDims: [12, 12] }; // a 2^24-entry weight tensor: 2^6 steps at most
    expect(maxWindow(wide)).to.equal(64);
    expect(() => stepCircuit(wide, 6)).to.not.throw();
    expect(() => stepCircuit(wide, 7)).to.throw(RangeError, /beyond 2\^30/);
    const v = verifyWindow(s.key, wide, RUN, 0, 128, pub, honest, nativeEngine).verdict;
    expect(v.valid).to.equal(false);
    expect(reasonOf(v)).to.match(/exceeds this network's longest, 64/);
  });

  it("sizes the network's key for its longest window: every stacked tensor's row fits", () => {
    for (const layers of [[4, 4, 2], [64, 64, 4], [784, 128, 10]]) {
      const d = { ...s.d, logDims: layers.map((n) => Math.ceil(Math.log2(n))), features: layers[0], classes: layers[layers.length - 1] };
      const size = windowKeySize(d);
      for (let k = 0; 2 ** k <= maxWindow(d); k++) for (const [name, shape] of stepCircuit(d, k).shapes) expect(1 << shape.logCols, `${layers.join("-")} T=2^${k} ${name}`).to.be.at.most(size);
    }
  });

  it("stacks every tensor along the step variables: records, weights and updates gain log T rows, the rest is one wide stack; contractions gain log T batch variables", () => {
    const one = stepCircuit(s.d);
    const win = stepCircuit(s.d, 2);
    for (const [name, shape] of one.shapes) {
      const stacked = win.shapes.get(name)!;
      expect(numVars(stacked), name).to.equal(numVars(shape) + 2);
      if (/^(X|Y|W\d+|U\d+)$/.test(name)) expect(stacked, name).to.deep.equal({ logRows: shape.logRows + 2, logCols: shape.logCols });
      else expect(stacked, name).to.deep.equal(wideShape(numVars(shape) + 2));
    }
    for (const rel of win.relations) if (rel.kind === "contraction") expect(rel.batchVars).to.equal(2);
    expect(L).to.be.greaterThan(0);
  });
});
