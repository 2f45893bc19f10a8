import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { featureMatrix, labelMatrix } from "../../core/data/records";
import { MNIST_TRAIN, RecordsFormatError, csvRecords, mnistRecords, mnistTestRecords } from "../../prover/records";
import { BatchSchedule } from "../../core/dataset/schedule";
import { InputError } from "../../core/errors";
import { FixedPointOverflow, type ModelConfig, initialWeights, matmul, matrix, paddedLayers, predict, roundShift, trainStep } from "../../core/model/fixed";
import { floatPredict, floatStep, toFloat } from "../../prover/float";
import { SeededStream, permutation, seedBytes } from "../../core/model/seeded";

describe("training: fixed-point semantics and data", function () {
  this.timeout(120_000);

  it("rounds with remainders in [−2^(s−1), 2^(s−1)) and exact quotients", () => {
    const values = [0, 1, -1, 32767, 32768, -32768, -32769, 65536, -65537, 2 ** 40 + 12345, -(2 ** 40) - 54321];
    const { q, r } = roundShift(matrix(1, values.length, Float64Array.from(values)), 16);
    values.forEach((v, i) => {
      expect(q.data[i] * 2 ** 16 + r.data[i]).to.equal(v);
      expect(r.data[i]).to.be.within(-(2 ** 15), 2 ** 15 - 1);
      expect(BigInt(q.data[i])).to.equal((BigInt(v) + (1n << 15n)) >> 16n); // floor((v + 2^15) / 2^16)
    });
  });

  it("refuses products that could leave exact float64 integers", () => {
    const big = matrix(1, 2, Float64Array.from([2 ** 30, 2 ** 30]));
    expect(() => matmul(big, matrix(2, 1, Float64Array.from([2 ** 23, 1])))).to.throw(FixedPointOverflow);
  });

  it("computes one step exactly as the relation states (checked with BigInt arithmetic)", () => {
    const c: ModelConfig = { layers: [8, 8, 4], fracBits: 16, lrShift: 8, batch: 4, seed: "s" };
    const w = initialWeights(c);
    const x = matrix(4, 8, Float64Array.from({ length: 32 }, (_, i) => ((i * 7919) % 65536) - 20000));
    const y = matrix(4, 4, Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 65536 : 0)));
    const t = trainStep(c, w, x, y);
    const mm = (a: Float64Array, b: Float64Array, m: number, k: number, n: number) =>
      Array.from({ length: m * n }, (_, o) => {
        let acc = 0n;
        for (let p = 0; p < k; p++) acc += BigInt(a[Math.floor(o / n) * k + p]) * BigInt(b[p * n + (o % n)]);
        return acc;
      });
    const p1 = mm(x.data, w[0].data, 4, 8, 8);
    p1.forEach((v, i) => expect(BigInt(t.forward[0].z.data[i]) * 65536n + BigInt(t.forward[0].remainder.data[i])).to.equal(v));
    t.forward[0].a.data.forEach((v, i) => expect(v).to.equal(Math.max(0, t.forward[0].z.data[i])));
    t.gl.data.forEach((v, i) => expect(v).to.equal(t.forward[1].z.data[i] - y.data[i]));
    t.next.forEach((m, l) => m.data.forEach((v, i) => expect(v).to.equal(w[l].data[i] - t.backward[l].update.data[i])));
    t.backward.forEach((b) => b.updateRemainder.data.forEach((v) => expect(v).to.be.within(-(2 ** 23), 2 ** 23 - 1)));
  });

  it("derives initial weights and batch schedules deterministically from the seed", () => {
    const c: ModelConfig = { layers: [5, 3, 2], fracBits: 12, lrShift: 8, batch: 2, seed: "abc" };
    const a = initialWeights(c);
    expect(initialWeights(c).map((m) => [...m.data])).to.deep.equal(a.map((m) => [...m.data]));
    expect(initialWeights({ ...c, seed: "abd" }).map((m) => [...m.data])).to.not.deep.equal(a.map((m) => [...m.data]));
    // Padding rows and columns stay zero: W1 is 8×4, logical 5×3.
    expect(paddedLayers(c)).to.deep.equal([8, 4, 2]);
    for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) if (i >= 5 || j >= 3) expect(a[0].data[i * 4 + j]).to.equal(0);
    const p = permutation(new SeededStream("x", seedBytes("s")), 100);
    expect([...p].sort((u, v) => u - v)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    const s = new BatchSchedule(10, 4, "s");
    expect(s.stepsPerEpoch).to.equal(2);
    const epoch0 = [...s.indices(0), ...s.indices(1)];
    expect(new Set(epoch0).size).to.equal(8);
    expect([...new BatchSchedule(10, 4, "s").indices(3)]).to.deep.equal([...s.indices(3)]);
    expect([...s.indices(0)], "an earlier epoch, drawn again").to.deep.equal(epoch0.slice(0, 4));
    expect(() => new BatchSchedule(3, 4, "s")).to.throw(RangeError);
  });

  it("matches the documented vectors (docs/protocol.md §4.2)", () => {
    const s = new SeededStream("zkdl-chain/v1/init/1", seedBytes("zkdl"));
    expect(s.unit()).to.equal(0.4925302807381281);
    expect(s.below(1000)).to.equal(926);
    expect([...new BatchSchedule(1024, 64, "zkdl").indices(0).slice(0, 8)]).to.deep.equal([163, 1000, 688, 531, 881, 857, 705, 783]);
    const w = initialWeights({ layers: [784, 128, 10], fracBits: 16, lrShift: 9, batch: 64, seed: "zkdl" });
    expect([...w[0].data.slice(0, 4)]).to.deep.equal([-86, -999, 1772, 328]);
    expect([...w[1].data.slice(0, 4)]).to.deep.equal([-10523, -7090, 3634, -10115]);
  });

  it("loads MNIST balanced and quantized, with a disjoint test set", () => {
    const r = mnistRecords(20, 16);
    expect(r.count).to.equal(20);
    expect([...r.labels]).to.deep.equal(Array.from({ length: 20 }, (_, i) => i % 10));
    expect(Math.max(...r.x)).to.equal(65536);
    expect(Math.min(...r.x)).to.equal(0);
    const test = mnistTestRecords(16);
    expect(test.count + MNIST_TRAIN).to.equal(10_000);
    expect(() => mnistRecords(MNIST_TRAIN + 1, 16)).to.throw(InputError, /MNIST has/);
  });

  it("reads a user's CSV, and names the file and line of a bad record", () => {
    const dir = mkdtempSync(join(tmpdir(), "zkdl-csv-"));
    const good = join(dir, "good.csv");
    writeFileSync(good, "a,b,label\n0.5,-0.25,1\n1,0,0\n");
    const r = csvRecords(good, 8);
    expect([...r.x]).to.deep.equal([128, -64, 256, 0]);
    expect([...r.labels]).to.deep.equal([1, 0]);
    expect(r.classes).to.equal(2);
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "f,g,label\n0.5,1,1\n0.5,x,1\n");
    expect(() => csvRecords(bad, 8)).to.throw(RecordsFormatError, /bad\.csv: line 3, field 2/);
    writeFileSync(bad, "0.5,1\n0.5,1,2\n");
    expect(() => csvRecords(bad, 8)).to.throw(RecordsFormatError, /line 2 has 3 fields/);
    expect(() => csvRecords(join(dir, "missing.csv"), 8)).to.throw(RecordsFormatError, /missing\.csv: cannot read/);
  });

  it("learns MNIST in fixed point as well as the float64 reference", () => {
    const c: ModelConfig = { layers: [784, 32, 10], fracBits: 16, lrShift: 8, batch: 32, seed: "learn" };
    const p = paddedLayers(c);
    const train = mnistRecords(2048, 16);
    const test = mnistTestRecords(16);
    const s = new BatchSchedule(train.count, c.batch, c.seed);
    let w = initialWeights(c);
    let wf = w.map((m) => toFloat(c, m));
    for (let t = 0; t < 400; t++) {
      const idx = s.indices(t);
      const x = featureMatrix(train, idx, p[0]);
      const y = labelMatrix(train, idx, p[2], 16);
      w = [...trainStep(c, w, x, y).next];
      wf = floatStep(c, wf, toFloat(c, x), toFloat(c, y)).next;
    }
    const all = Int32Array.from({ length: test.count }, (_, i) => i);
    const tx = featureMatrix(test, all, p[0]);
    const acc = (pred: number[]) => pred.filter((v, i) => v === test.labels[i]).length / test.count;
    const fixed = acc(predict(c, w, tx));
    const float = acc(floatPredict(c, wf, toFloat(c, tx)));
    expect(fixed).to.be.greaterThan(0.8);
    expect(Math.abs(fixed - float)).to.be.lessThan(0.03);
  });
});
