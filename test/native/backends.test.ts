/**
 * The GPU pipeline (native/src/gpu/pipeline.hpp) against the CPU kernels, bit for bit. It always
 * runs in `emulated` mode (the pipeline's code on the host executor), and also on `cuda` when this
 * machine has a usable device; without one the CUDA block is reported as pending, not passed.
 */
import { expect } from "chai";
import * as native from "../../native";
import { type BackendMode, FrTensor } from "../../native";
import { Fr, bigIntToBytes, frToBytes } from "../../core/crypto/bn254";
import { rng } from "../helpers/random";
import { concat, encodeFr } from "../helpers/native";

describe("native backends: the GPU pipeline equals the CPU kernels", () => {
  const r = rng("native-backends");
  const dst = new TextEncoder().encode("zkdl-chain/test/backends");
  const points = (n: number) => Array.from({ length: n }, (_, i) => native.hashToG1(dst, bigIntToBytes(BigInt(i), 4)));
  const startMode = native.backend().mode;
  afterEach(() => native.setBackend(startMode));

  /** Runs f on the CPU and on `mode`, expecting equal bytes. */
  function same<T>(mode: BackendMode, f: () => T, what: string): void {
    native.setBackend("cpu");
    const expected = f();
    native.setBackend(mode);
    const got = f();
    native.setBackend("cpu");
    expect(got, `${what} on ${mode}`).to.deep.equal(expected);
  }

  const scalarKinds: Record<string, () => bigint> = {
    full: () => Fr.create(r.uint256()),
    signed16: () => Fr.create(BigInt(r.int(1 << 16) - (1 << 15))),
    signed32: () => Fr.create(BigInt(r.int(2 ** 31)) * (r.int(2) ? 1n : -1n)),
    sparse: () => (r.int(4) === 0 ? Fr.create(r.uint256()) : 0n),
  };

  for (const mode of ["emulated", "cuda"] as BackendMode[]) {
    describe(mode, function () {
      before(function () {
        if (mode === "cuda" && !native.backend().cudaAvailable) this.skip();
      });

      it("MSM: sizes 1 to 2^12, full, 16- and 32-bit signed and sparse scalars, identity and repeated points", () => {
        const base = points(1 << 12);
        for (const n of [1, 2, 3, 31, 100, 1 << 12]) {
          for (const [kind, scalar] of Object.entries(scalarKinds)) {
            const pts = base.slice(0, n).map((p, i) => (i % 29 === 5 ? new Uint8Array(64) : i % 31 === 7 ? base[0]! : p));
            const p = concat(pts);
            const s = concat(Array.from({ length: n }, () => frToBytes(scalar())));
            same(mode, () => native.msm(p, s), `msm n=${n} ${kind}`);
          }
        }
        const p = concat(points(4));
        const edges = [Fr.ORDER - 1n, (Fr.ORDER - 1n) / 2n, (Fr.ORDER + 1n) / 2n, 1n].map((v) => frToBytes(v));
        same(mode, () => native.msm(p, concat(edges)), "msm edge scalars");
        same(mode, () => native.msm(concat([p.subarray(0, 64), p.subarray(0, 64)]), concat([frToBytes(5n), frToBytes(Fr.neg(5n))])), "msm cancelling");
      });

      it("row commitments: one batched MSM over all rows", () => {
        for (const [rows, cols] of [[1, 1], [3, 5], [16, 64]] as const) {
          const gens = points(cols + 1);
          const values = BigInt64Array.from({ length: rows * cols }, () => BigInt(r.int(1 << 20) - (1 << 19)));
          const blind = concat(Array.from({ length: rows }, () => frToBytes(Fr.create(r.uint256()))));
          same(mode, () => FrTensor.fromInts(values, [rows, cols]).commitRows(concat(gens.slice(0, cols)), gens[cols]!, blind), `commit ${rows}×${cols}`);
        }
      });

      it("element-wise ops, fold and sumcheck rounds of 1 to 5 factors", () => {
        for (const n of [2, 6, 1 << 10]) {
          const rand = () => FrTensor.fromBytes(encodeFr(Array.from({ length: n }, () => Fr.create(r.uint256()))));
          const a = rand(), b = rand();
          const s = frToBytes(Fr.create(r.uint256()));
          same(mode, () => a.add(b).toBytes(), `add n=${n}`);
          same(mode, () => a.sub(b).toBytes(), `sub n=${n}`);
          same(mode, () => a.mul(b).toBytes(), `mul n=${n}`);
          same(mode, () => a.scale(s).toBytes(), `scale n=${n}`);
          same(mode, () => a.fold(s).toBytes(), `fold n=${n}`);
          const factors = [a, b, rand(), rand(), rand()];
          for (let k = 1; k <= 5; k++) same(mode, () => FrTensor.sumcheckRound(factors.slice(0, k)), `round k=${k} n=${n}`);
        }
      });
    });
  }

  it("reports the backend and refuses an unknown mode or CUDA without a device", () => {
    const b = native.backend();
    expect(b.threads).to.be.greaterThan(0);
    expect(["cpu", "auto", "cuda", "emulated"]).to.include(b.mode);
    if (!b.cudaAvailable) {
      expect(b.cudaReason).to.be.a("string").and.not.equal("");
      expect(() => native.setBackend("cuda")).to.throw(native.NativeError, /no usable CUDA device/);
      expect(native.backend().mode).to.equal(b.mode);
    }
    expect(() => native.setBackend("gpu" as BackendMode)).to.throw(native.NativeError, /unknown backend/);
  });
});
