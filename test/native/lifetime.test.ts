/**
 * Native tensor lifetime: dispose() frees a tensor's memory now (later use throws ZKDL_DISPOSED, a
 * second dispose does nothing), tensorScope disposes what a function made except what it returns or
 * keeps, and the addon's count of live tensor bytes (what it reports to V8) follows both.
 */
import { expect } from "chai";
import { FrTensor, NativeError, disposeTensors, generators, tensorMemory, tensorScope } from "../../native";
import { join } from "node:path";
import { expectCode } from "../helpers/native";

const ints = (n: number, from = 1) => Int32Array.from({ length: n }, (_, i) => from + i);

describe("native tensor lifetime", () => {
  it("holds a call's tensor arguments until it returns: JS run while reading them (a getter) cannot free one by disposing it", () => {
    // The raw addon, as a hostile caller would use it (the FrTensor wrappers pass plain arrays).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(join(__dirname, "..", "..", "native", "build", "Release", "zkdl_native.node"));
    const n = 1 << 16;
    const make = (v: number) => raw.tensorFromInts(new Int32Array(n).fill(v), [n]);
    const dec = (b: Uint8Array) => Array.from({ length: b.length / 32 }, (_, i) => Buffer.from(b.subarray(32 * i, 32 * i + 32)).toString("hex"));
    const expected = dec(raw.sumcheckRound([make(7), make(7)]));
    for (const call of ["sumcheckRound", "tensorConcat", "fractionLeaves"] as const) {
      const first = make(7);
      const args: unknown[] = [first];
      Object.defineProperty(args, 1, { get: () => (first.dispose(), make(7)), enumerable: true });
      const result = call === "fractionLeaves" ? raw.fractionLeaves(args, [null, null], new Uint8Array(32), 2 * n) : raw[call](args);
      if (call === "sumcheckRound") expect(dec(result)).to.deep.equal(expected);
      else {
        // The concatenation (q = β + values with β = 0): 2n sevens, the disposed tensor's included.
        const out = call === "tensorConcat" ? result : result[1];
        expect(new Set(dec(out.toBytes()))).to.deep.equal(new Set([7n.toString(16).padStart(64, "0")]));
        expect(out.toBytes().length).to.equal(2 * n * 32);
      }
    }
    // fractionLayer: p disposed while q is checked (a Symbol.hasInstance that runs JS).
    const p = make(7);
    const q = make(7);
    let calls = 0;
    const original = Object.getOwnPropertyDescriptor(raw.Tensor, Symbol.hasInstance);
    Object.defineProperty(raw.Tensor, Symbol.hasInstance, { configurable: true, value: (o: unknown) => (++calls === 2 && p.dispose(), typeof o === "object" && o !== null) });
    try {
      const [up] = raw.fractionLayer(p, q);
      // 7·7 + 7·7 = 98 in every entry.
      expect(calls).to.equal(2);
      expect(new Set(dec(up.toBytes()))).to.deep.equal(new Set([98n.toString(16).padStart(64, "0")]));
    } finally {
      if (original) Object.defineProperty(raw.Tensor, Symbol.hasInstance, original);
      else delete raw.Tensor[Symbol.hasInstance];
    }
  });

  it("dispose frees the tensor's bytes; later use throws ZKDL_DISPOSED; a second dispose does nothing", () => {
    const before = tensorMemory();
    const t = FrTensor.fromInts(ints(8), [2, 4]);
    const other = FrTensor.fromInts(ints(8), [2, 4]);
    expect(tensorMemory()).to.deep.equal({ tensors: before.tensors + 2, bytes: before.bytes + 2 * 8 * 32 });
    expect(t.disposed).to.equal(false);
    t.dispose();
    expect(t.disposed).to.equal(true);
    expect(tensorMemory()).to.deep.equal({ tensors: before.tensors + 1, bytes: before.bytes + 8 * 32 });
    t.dispose();
    t[Symbol.dispose]();
    expect(tensorMemory().tensors).to.equal(before.tensors + 1);
    const g = generators("zkdl-chain/test/lifetime", 4);
    const uses: [string, () => unknown][] = [
      ["toBytes", () => t.toBytes()],
      ["toInts", () => t.toInts()],
      ["shape", () => t.shape],
      ["add", () => t.add(other)],
      ["as an argument", () => other.mul(t)],
      ["inner product argument", () => other.innerProduct(t)],
      ["matmul argument", () => other.matmul(t)],
      ["fold", () => t.fold(new Uint8Array(32))],
      ["reshape", () => t.reshape([8])],
      ["sumcheck factor", () => FrTensor.sumcheckRound([other, t])],
      ["row commitments", () => t.commitRows(g.g, g.h, new Uint8Array(64))],
    ];
    for (const [what, use] of uses) {
      try {
        expectCode(use, "ZKDL_DISPOSED", /disposed/);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
    expect(other.toInts()).to.deep.equal(BigInt64Array.from(ints(8), BigInt));
    other.dispose();
    expect(tensorMemory()).to.deep.equal(before);
  });

  it("tensorScope disposes what the function made, except what it returns or keeps; tensors made before it are untouched", () => {
    const before = tensorMemory();
    const outside = FrTensor.fromInts(ints(4));
    let inner: FrTensor[] = [];
    let kept: FrTensor | undefined;
    const result = tensorScope((scope) => {
      const a = outside.add(outside);
      const b = a.mul(a);
      kept = scope.keep(b.scale(new Uint8Array(32)));
      inner = [a, b, a.sub(outside)];
      // Returned tensors are found in plain objects, arrays and Maps.
      return { pair: [a, 1n], byName: new Map([["b", b]]), bytes: new Uint8Array(3) };
    });
    expect(result.pair[0]).to.equal(inner[0]);
    expect(inner.map((t) => t.disposed)).to.deep.equal([false, false, true]);
    expect(kept!.disposed).to.equal(false);
    expect(outside.disposed).to.equal(false);
    const sum = outside.add(inner[0]);
    expect(sum.toInts()).to.deep.equal(BigInt64Array.from([3n, 6n, 9n, 12n]));
    expectCode(() => inner[2].toBytes(), "ZKDL_DISPOSED");
    disposeTensors([outside, kept, result, sum]);
    expect(tensorMemory()).to.deep.equal(before);
  });

  it("nested scopes hand kept tensors to the enclosing scope, which disposes them unless it keeps them too", () => {
    const before = tensorMemory();
    let fromInner: FrTensor | undefined;
    const survivor = tensorScope(() => {
      fromInner = tensorScope(() => FrTensor.fromInts(ints(4)).add(FrTensor.fromInts(ints(4))));
      expect(fromInner.disposed).to.equal(false);
      return tensorScope(() => FrTensor.fromInts(ints(2)));
    });
    expect(fromInner!.disposed).to.equal(true);
    expect(survivor.disposed).to.equal(false);
    survivor.dispose();
    expect(tensorMemory()).to.deep.equal(before);
  });

  it("a scope that throws disposes its tensors and rethrows; an async function is refused", async () => {
    const before = tensorMemory();
    let made: FrTensor | undefined;
    expect(() =>
      tensorScope(() => {
        made = FrTensor.fromInts(ints(4));
        made.add(FrTensor.fromInts(ints(3)));
      }),
    ).to.throw(NativeError, /shapes differ/);
    expect(made!.disposed).to.equal(true);
    expect(() => tensorScope(async () => FrTensor.fromInts(ints(4)))).to.throw(TypeError, /synchronous/);
    expect(tensorMemory()).to.deep.equal(before);
    // The scope is closed again: a tensor made now belongs to no scope.
    const free = FrTensor.fromInts(ints(4));
    expect(free.disposed).to.equal(false);
    free.dispose();
  });

  it("a tensor disposed while an async row commitment reads it still commits correctly", async () => {
    const g = generators("zkdl-chain/test/lifetime", 8);
    const blinds = new Uint8Array(4 * 32);
    const t = FrTensor.fromInts(ints(32, -7), [4, 8]);
    const expected = t.commitRows(g.g, g.h, blinds);
    const pending = t.commitRowsAsync(g.g, g.h, blinds);
    t.dispose();
    expect(await pending).to.deep.equal(expected);
  });

  it("a synchronous loop of scopes holds no native memory past each scope", () => {
    const before = tensorMemory();
    let acc = FrTensor.fromInts(ints(256));
    for (let i = 0; i < 50; i++) {
      const previous = acc;
      acc = tensorScope(() => {
        let x = acc;
        for (let k = 0; k < 20; k++) x = x.add(FrTensor.fromInts(ints(256, k)));
        return x;
      });
      previous.dispose();
      expect(tensorMemory()).to.deep.equal({ tensors: before.tensors + 1, bytes: before.bytes + 256 * 32 });
    }
    acc.dispose();
    expect(tensorMemory()).to.deep.equal(before);
  });
});
