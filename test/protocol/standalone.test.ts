import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { FrTensor } from "../../native";
import { ProofWriter } from "../../core/protocol/codec";
import { hyraxCodec } from "../../core/protocol/hyrax";
import * as S from "../../core/protocol/statements";
import { nativeEngine, nativeGenerators } from "../../prover/native-engine";

const P = { engine: nativeEngine, generators: nativeGenerators };

/** Verifies a range proof from hex JSON on stdin and prints the verdict (run with the addon disabled). */
const VERIFY_OFFLINE = `
const { ProofReader } = require(${JSON.stringify(join(__dirname, "../../core/protocol/codec"))});
const { hyraxCodec } = require(${JSON.stringify(join(__dirname, "../../core/protocol/hyrax"))});
const { verifyRangeStatement } = require(${JSON.stringify(join(__dirname, "../../core/protocol/statements"))});
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const { commitment, lo, bits, proof } = JSON.parse(input);
  const c = hyraxCodec.readCommitment(new ProofReader(Buffer.from(commitment, "hex")));
  process.stdout.write(JSON.stringify(verifyRangeStatement([c], { lo: BigInt(lo), bits }, Buffer.from(proof, "hex"))));
});
`;

describe("protocol: stand-alone verifier", function () {
  this.timeout(120_000);

  it("verifies from public bytes in a process without the native addon, and rejects a tampered proof there", () => {
    const values = Int32Array.from({ length: 64 }, (_, i) => (i * 37) % 200 - 100);
    const t = S.commit(FrTensor.fromInts(values), P);
    const range = { lo: -128n, bits: 8 };
    const proof = S.proveRangeStatement([t], range, P);
    const w = new ProofWriter();
    hyraxCodec.writeCommitment(w, t.commitment);
    const run = (p: Uint8Array) => {
      const out = spawnSync(process.execPath, ["--import", "tsx", "-e", VERIFY_OFFLINE], {
        input: JSON.stringify({ commitment: Buffer.from(w.bytes()).toString("hex"), lo: String(range.lo), bits: range.bits, proof: Buffer.from(p).toString("hex") }),
        env: { ...process.env, ZKDL_NATIVE: "off" },
        encoding: "utf8",
      });
      expect(out.status, out.stderr).to.equal(0);
      return JSON.parse(out.stdout) as S.StatementVerdict;
    };
    expect(run(proof)).to.deep.equal({ valid: true });
    const tampered = proof.slice();
    const slot = S.proofLayout(proof).filter((s) => s.kind === "scalar")[5];
    tampered[slot.offset + 31] ^= 1;
    expect(run(tampered).valid).to.equal(false);
  });
});
