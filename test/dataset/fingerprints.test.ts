import { expect } from "chai";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { G1, fromHex, g1ToBytes, toHex } from "../../core/crypto/bn254";
import { fr } from "../../core/crypto/fr";
import { FingerprintTree, SentinelFingerprintError, FINGERPRINT_CEILING, FINGERPRINT_FLOOR, FINGERPRINT_LEAF_ENCODING, fingerprintLeafHash, verifyNonMembership } from "../../core/dataset/fingerprint-tree";
import { fingerprintCodec, fingerprintOf, fingerprintPoint, proveFingerprints, verifyFingerprints } from "../../core/dataset/fingerprints";
import { nativeKeccakRows, nativeEngine } from "../../prover/native-engine";
import { commitmentKey } from "../../core/protocol/generators";
import { EquationSet, nobleEngine } from "../../core/protocol/group";
import { ProofFormatError, ProofReader, ProofWriter } from "../../core/protocol/codec";
import { randomFr } from "../../core/crypto/fr";
import { rng } from "../helpers/random";

const r = rng("fingerprints");
const sortedDistinct = (hexes: string[]) => [...new Set(hexes.map((h) => h.toLowerCase()))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
const bytesOf = (hexes: string[]) => {
  const out = new Uint8Array(32 * hexes.length);
  hexes.forEach((h, i) => out.set(fromHex(h), 32 * i));
  return out;
};

describe("fingerprint tree (core/dataset/fingerprint-tree.ts)", () => {
  it("is OpenZeppelin's tree of the sorted distinct gaps: same root, leaf hashes and proofs", () => {
    for (const n of [1, 2, 3, 17, 100, 513]) {
      const fps = Array.from({ length: n }, () => r.bytes32());
      if (n > 3) fps.push(fps[1]!, fps[n - 1]!); // repeats count once
      const keys = sortedDistinct(fps);
      const gaps = [FINGERPRINT_FLOOR, ...keys].map((low, g) => [low, g === keys.length ? FINGERPRINT_CEILING : keys[g]!]);
      const oz = StandardMerkleTree.of(gaps, [...FINGERPRINT_LEAF_ENCODING]);
      for (const tree of [FingerprintTree.build(bytesOf(fps)), FingerprintTree.build(bytesOf(fps), nativeKeccakRows)]) {
        expect(tree.root).to.equal(oz.root);
        expect(tree.fingerprints).to.equal(keys.length);
        gaps.forEach(([low, high], g) => {
          expect(tree.gap(g)).to.deep.equal({ low, high });
          expect(tree.leafHash(g)).to.equal(oz.leafHash([low!, high!]));
          expect(tree.leafHash(g)).to.equal(fingerprintLeafHash({ low: low!, high: high! }));
          expect(tree.getProof(g)).to.deep.equal(oz.getProof([low!, high!]));
        });
      }
    }
  });

  it("orders fingerprints that share their first bytes (the sort's prefix ties) as OpenZeppelin does", () => {
    const shared = r.bytes32().slice(0, 2 + 2 * 6);
    const fps = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? shared + r.bytes32().slice(2 + 2 * 6) : r.bytes32()));
    const keys = sortedDistinct(fps);
    const gaps = [FINGERPRINT_FLOOR, ...keys].map((low, g) => [low, g === keys.length ? FINGERPRINT_CEILING : keys[g]!]);
    const tree = FingerprintTree.build(bytesOf(fps), nativeKeccakRows);
    expect(tree.root).to.equal(StandardMerkleTree.of(gaps, [...FINGERPRINT_LEAF_ENCODING]).root);
    gaps.forEach(([low, high], g) => expect(tree.gap(g)).to.deep.equal({ low, high }));
  });

  it("places every fingerprint and random query, and its gap proofs verify exactly for queries inside them", () => {
    const fps = Array.from({ length: 64 }, () => r.bytes32());
    const tree = FingerprintTree.build(bytesOf(fps));
    for (const f of fps) {
      expect(tree.locate(f)).to.deep.equal({ member: true });
      // No gap of the tree holds a member fingerprint.
      for (let g = 0; g <= tree.fingerprints; g++) expect(verifyNonMembership(tree.root, f, tree.gap(g), tree.getProof(g))).to.equal(false);
    }
    for (let q = 0; q < 200; q++) {
      const f = r.bytes32();
      const place = tree.locate(f);
      expect(place.member).to.equal(false);
      if (place.member) continue;
      const gap = tree.gap(place.gap);
      expect(BigInt(gap.low) < BigInt(f) && BigInt(f) < BigInt(gap.high)).to.equal(true);
      expect(verifyNonMembership(tree.root, f, gap, tree.getProof(place.gap))).to.equal(true);
      const other = (place.gap + 1) % (tree.fingerprints + 1);
      expect(verifyNonMembership(tree.root, f, tree.gap(other), tree.getProof(other)), "a gap that does not hold f").to.equal(false);
      expect(verifyNonMembership(tree.root, f, { low: gap.high, high: gap.low }, tree.getProof(place.gap)), "swapped bounds").to.equal(false);
      expect(verifyNonMembership(tree.root, f, gap, tree.getProof(other)), "another leaf's proof").to.equal(false);
      expect(verifyNonMembership(r.bytes32(), f, gap, tree.getProof(place.gap)), "another root").to.equal(false);
    }
    // The sentinels are in no gap.
    expect(verifyNonMembership(tree.root, FINGERPRINT_FLOOR, tree.gap(0), tree.getProof(0))).to.equal(false);
    expect(verifyNonMembership(tree.root, FINGERPRINT_CEILING, tree.gap(64), tree.getProof(64))).to.equal(false);
    expect(() => verifyNonMembership(tree.root, "0x12", tree.gap(0), tree.getProof(0))).to.throw(TypeError);
  });

  it("refuses no fingerprints, ragged input and a fingerprint equal to a sentinel", () => {
    expect(() => FingerprintTree.build(new Uint8Array(0))).to.throw(RangeError);
    expect(() => FingerprintTree.build(new Uint8Array(33))).to.throw(RangeError);
    expect(() => FingerprintTree.build(bytesOf([r.bytes32(), FINGERPRINT_FLOOR]))).to.throw(SentinelFingerprintError, /sentinel/);
    expect(() => FingerprintTree.build(bytesOf([FINGERPRINT_CEILING]))).to.throw(SentinelFingerprintError, /sentinel/);
  });
});

describe("fingerprints bound to the hiding commitments (core/dataset/fingerprints.ts)", () => {
  const cols = 8;
  const key = commitmentKey(cols);
  const N = 5;
  const rows = Int32Array.from({ length: N * cols }, (_, i) => (i % cols < 6 ? r.int(600) - 100 : 0));
  const blinds = Array.from({ length: N }, randomFr);
  const P = Array.from({ length: N }, (_, j) => fingerprintPoint(key, rows.subarray(j * cols, j * cols + 6)));
  const cx = P.map((p, j) => p.add(key.H.multiply(blinds[j]!)));
  const settle = (cxs = cx, Ps = P, proof = proveFingerprints(key, cx, P, { rows, cols, blinds }, nativeEngine)) => {
    const eqs = new EquationSet();
    verifyFingerprints(key, cols, cxs, Ps, proof, eqs);
    return eqs.settle(nobleEngine);
  };

  it("gives docs/protocol.md §5.3's test vectors", () => {
    const key4 = commitmentKey(4);
    const P = fingerprintPoint(key4, [1, 2, 3]);
    expect(toHex(g1ToBytes(P))).to.equal("0x24e62947e7f70f3469fc30c4ccb67e49ed39a631880aaab2212c26cc54116e1229c21697ab8d82f7491ddeda8250cb851ce44b5d4edc5cdfc67780bbb79b8cd0");
    const f = fingerprintOf(P);
    const zero = fingerprintOf(fingerprintPoint(key4, [0, 0, 0]));
    expect([f, zero]).to.deep.equal(["0x928e20561d0b9377c731cf898893660371ab59ee2983b23ece2fa9d0a6292dba", "0xad3228b676f7d3cd4284a5443f17f1962b36e491b30a40b2405849e597ba5fb5"]);
    const tree = FingerprintTree.build(bytesOf([f, zero]));
    expect(tree.root).to.equal("0xa399c944a2abe2b97eaa946f1dff15f0e252bb9f500327188c869e24a84bcc55");
    expect(tree.gap(1)).to.deep.equal({ low: f, high: zero });
    expect(tree.getProof(1)).to.deep.equal(["0x5d6a7d73949d9cdbe5ad69dcd6276e3f9e27dea85f58fcbfd34093064ffbb7e8"]);
  });

  it("a fingerprint is keccak256 of Σ x_k·G_k (the row's commitment without blinding)", () => {
    const x = [3, 0, -2, 7];
    const P0 = key.G[0]!.multiply(3n).add(key.G[2]!.multiply(fr(-2n))).add(key.G[3]!.multiply(7n));
    expect(fingerprintPoint(key, x).equals(P0)).to.equal(true);
    expect(fingerprintOf(P0)).to.equal(toHex(keccak_256(g1ToBytes(P0))));
    expect(fingerprintPoint(key, [0, 0]).equals(G1.ZERO)).to.equal(true);
  });

  it("proves with the native engine and verifies with @noble/curves; round-trips its encoding", () => {
    const proof = proveFingerprints(key, cx, P, { rows, cols, blinds }, nativeEngine);
    expect(settle(cx, P, proof)).to.equal(null);
    const w = new ProofWriter();
    fingerprintCodec.write(w, proof);
    expect(w.bytes().length).to.equal(fingerprintCodec.bytes(cols));
    const back = fingerprintCodec.read(new ProofReader(w.bytes()), cols);
    expect(settle(cx, P, back)).to.equal(null);
  });

  it("rejects fingerprints shifted by a multiple of H, swapped, or of another record, and a tampered proof", () => {
    const proof = proveFingerprints(key, cx, P, { rows, cols, blinds }, nativeEngine);
    // The attack a bare "Cx − P is a multiple of H" proof misses: P' = P + c·H still satisfies it.
    const shifted = [...P];
    shifted[2] = P[2]!.add(key.H.multiply(12345n));
    const shiftedBlinds = [...blinds];
    shiftedBlinds[2] = fr(blinds[2]! - 12345n);
    expect(settle(cx, shifted, proveFingerprints(key, cx, shifted, { rows, cols, blinds: shiftedBlinds }, nativeEngine))).to.match(/ΣγP is not a known combination of the G_j alone/);
    const swapped = [P[1]!, P[0]!, ...P.slice(2)];
    expect(settle(cx, swapped, proveFingerprints(key, cx, swapped, { rows, cols, blinds }, nativeEngine))).to.not.equal(null);
    expect(settle(cx, P.map((p, j) => (j === 4 ? p.add(key.G[0]!) : p)), proof)).to.not.equal(null);
    expect(settle(cx, P, { ...proof, zH: fr(proof.zH + 1n) })).to.not.equal(null);
    expect(settle(cx, P, { ...proof, z: proof.z.map((z, k) => (k === 3 ? fr(z + 1n) : z)) })).to.not.equal(null);
    expect(settle(cx, P, { ...proof, T: proof.T.add(key.G[0]!) })).to.not.equal(null);
    // A proof of another width is refused as malformed, not checked over fewer columns.
    expect(() => settle(cx, P, { ...proof, z: proof.z.slice(1) })).to.throw(ProofFormatError, /7 responses for rows of 8 columns/);
  });
});
