import { expect } from "chai";
import { ethers } from "hardhat";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { Transcript } from "../../core/protocol/transcript";
import { R } from "../../core/crypto/fr";
import { bytesToBigInt } from "../../core/crypto/bn254";

const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
const utf8 = (s: string) => new TextEncoder().encode(s);

/** The documented vector (docs/protocol.md §3.2). */
function vectorTranscript(): { t: Transcript; challenges: bigint[] } {
  const t = new Transcript("zkdl-chain/v1/test");
  t.absorb("statement", Uint8Array.of(1, 2, 3));
  const c1 = t.challenge("alpha");
  t.absorbScalars("value", [42n]);
  const c2 = t.challenge("beta");
  return { t, challenges: [c1, c2] };
}

describe("protocol: transcript", () => {
  it("matches the documented test vector", () => {
    const { t, challenges } = vectorTranscript();
    expect(challenges.map((c) => "0x" + c.toString(16).padStart(64, "0"))).to.deep.equal([
      "0x149e9b70a9b616b61084add814fda0a0fb923698577f42817e24ac98bd47d0cb",
      "0x0bd3c30c61a3336f80b8d5f3b1bc11ddc8177c93d3d00a8a85b9f95d4b780bfc",
    ]);
    expect(hex(t.digest())).to.equal("0xb725fd86ff7c7133a3c2b087be4e95e0e28276cb60ed11871ce0367f478b2137");
  });

  it("follows its specification, re-derived with plain keccak", () => {
    const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
    const dst = utf8("zkdl-chain/v1/test");
    let s = keccak_256(cat(Uint8Array.of(0, dst.length), dst));
    s = keccak_256(cat(s, Uint8Array.of(1, 9), utf8("statement"), Uint8Array.of(0, 0, 0, 3, 1, 2, 3)));
    s = keccak_256(cat(s, Uint8Array.of(2, 5), utf8("alpha")));
    const c = bytesToBigInt(cat(keccak_256(cat(s, Uint8Array.of(0))), keccak_256(cat(s, Uint8Array.of(1))))) % R;
    expect(c).to.equal(vectorTranscript().challenges[0]);
  });

  it("separates labels, lengths and order", () => {
    const run = (f: (t: Transcript) => void) => {
      const t = new Transcript("zkdl-chain/v1/test");
      f(t);
      return t.challenge("c");
    };
    const base = run((t) => t.absorb("ab", utf8("c")));
    expect(run((t) => t.absorb("a", utf8("bc")))).to.not.equal(base);
    expect(run((t) => t.absorb("ab", utf8("c")).absorb("x", new Uint8Array()))).to.not.equal(base);
    expect(run((t) => t.absorb("ab", utf8("c")))).to.equal(base);
    expect(new Transcript("zkdl-chain/v1/other").absorb("ab", utf8("c")).challenge("c")).to.not.equal(base);
    const t = new Transcript("zkdl-chain/v1/test");
    expect(t.challenge("c")).to.not.equal(t.challenge("c"));
    expect(() => t.absorb("", new Uint8Array())).to.throw(RangeError);
    expect(() => t.challenge("x".repeat(256))).to.throw(RangeError);
  });

  it("agrees with its Solidity twin (contracts/lib/Transcript.sol) on random scripts", async () => {
    const probe = await (await ethers.getContractFactory("TranscriptProbe")).deploy();
    for (let trial = 0; trial < 5; trial++) {
      const kinds: number[] = [];
      const labels: Uint8Array[] = [];
      const data: Uint8Array[] = [];
      const t = new Transcript(`zkdl-chain/v1/trial-${trial}`);
      const expected: bigint[] = [];
      for (let i = 0; i < 8; i++) {
        const absorb = Math.random() < 0.5;
        const label = utf8(`l${i}-${"x".repeat(Math.floor(Math.random() * 40))}`);
        const bytes = ethers.randomBytes(Math.floor(Math.random() * 200));
        kinds.push(absorb ? 1 : 2);
        labels.push(label);
        data.push(bytes);
        if (absorb) {
          t.absorb(new TextDecoder().decode(label), bytes);
          expected.push(0n);
        } else expected.push(t.challenge(new TextDecoder().decode(label)));
      }
      const [challenges, state] = await probe.run(utf8(`zkdl-chain/v1/trial-${trial}`), kinds, labels, data);
      expect(challenges.map((c: bigint) => c)).to.deep.equal(expected);
      expect(state).to.equal(hex(t.digest()));
      for (const c of expected) expect(c < R).to.equal(true);
    }
  });
});
