/**
 * Record membership (docs/protocol.md §5.2, "Record membership").
 *
 * A record's identity is its quantized feature vector x (at the run's scale 2^F). Its digest, the key of
 * the server's record index, is
 *   recordDigest(x) = keccak256("zkdl-chain/v1/record" ‖ u32be(n) ‖ n × i32be(x_j)).
 * The server proves that the dataset commitment Cx_i opens to x without revealing the blinding ρ:
 * with P = Cx_i − Σ_j x_j·G_j = ρ·H, a Schnorr proof of knowledge of log_H P (sigma.ts's zero proof),
 * made non-interactive by the shared transcript over
 *   domain "zkdl-chain/v1/record-opening"; absorb "key" (generator-set id), "run" (run id, 32 bytes),
 *   "index" (u32be), "Cx" (the point), "record" (recordDigest(x)); then the zero proof's A and e.
 * The proof reveals nothing about ρ (honest-verifier ZK), and binds the run, the index and the record.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type G1Point, bigIntToBytes, frFromBytes, fromHex, g1FromBytes, g1ToBytes, toHex } from "../crypto/bn254";
import { neg } from "../crypto/fr";
import { BYTES32_HEX } from "../crypto/hex";
import type { CommitmentKey } from "../protocol/generators";
import { EquationSet, Lin, type MsmEngine, nobleEngine } from "../protocol/group";
import { proveZero, verifyZero } from "../protocol/sigma";
import { Transcript } from "../protocol/transcript";
import { recordRow } from "./fingerprints";

export const RECORD_OPENING_DOMAIN = "zkdl-chain/v1/record-opening";
const RECORD_TAG = new TextEncoder().encode("zkdl-chain/v1/record");


/** The record index key of a quantized feature vector (`keccak`: a faster Keccak-256, e.g. the native one, for servers). */
export function recordDigest(x: ArrayLike<number>, keccak: (bytes: Uint8Array) => Uint8Array = keccak_256): string {
  const buf = new Uint8Array(RECORD_TAG.length + 4 + 4 * x.length);
  buf.set(RECORD_TAG);
  const view = new DataView(buf.buffer);
  view.setUint32(RECORD_TAG.length, x.length);
  for (let j = 0; j < x.length; j++) view.setInt32(RECORD_TAG.length + 4 + 4 * j, x[j]);
  return toHex(keccak(buf));
}

/** The proof as it travels in JSON: A (64-byte EVM encoding) and z (32 bytes), 0x-hex. */
export interface RecordOpeningProof {
  A: string;
  z: string;
}

export interface RecordOpeningStatement {
  readonly key: CommitmentKey;
  /** 0x-prefixed 32-byte run id. */
  readonly runId: string;
  readonly index: number;
  readonly cx: G1Point;
  /** The quantized record (its logical features; padding columns are zero). */
  readonly x: ArrayLike<number>;
  /** recordDigest(x), if the caller has it already. */
  readonly digest?: string;
}

function transcriptFor(s: RecordOpeningStatement): Transcript {
  if (!BYTES32_HEX.test(s.runId)) throw new TypeError("run id must be a 0x-prefixed 32-byte hex string");
  if (!Number.isInteger(s.index) || s.index < 0 || s.index > 0xffffffff) throw new RangeError(`record index ${s.index} is not a u32`);
  if (s.x.length > s.key.size) throw new RangeError(`a record of ${s.x.length} features needs ${s.x.length} generators; the key has ${s.key.size}`);
  return new Transcript(RECORD_OPENING_DOMAIN)
    .absorb("key", s.key.id)
    .absorb("run", fromHex(s.runId))
    .absorbU32s("index", [s.index])
    .absorbPoints("Cx", [s.cx])
    .absorb("record", fromHex(s.digest ?? recordDigest(s.x)));
}

/** Proves Cx opens to x with blinding `blind` (the publisher's secret). */
export function proveRecordOpening(s: RecordOpeningStatement, blind: bigint, engine: MsmEngine = nobleEngine): RecordOpeningProof {
  const proof = proveZero({ key: s.key, transcript: transcriptFor(s), engine }, blind);
  return { A: toHex(g1ToBytes(proof.A)), z: toHex(bigIntToBytes(proof.z)) };
}

/**
 * Checks the proof; throws TypeError/EncodingError for a malformed one (wrong length, a point off the
 * curve, a non-canonical scalar) and returns false for a well-formed proof that does not verify.
 */
export function verifyRecordOpening(s: RecordOpeningStatement, proof: RecordOpeningProof, engine: MsmEngine = nobleEngine): boolean {
  if (typeof proof?.A !== "string" || !/^0x[0-9a-fA-F]{128}$/.test(proof.A)) throw new TypeError("opening proof: A must be a 0x-prefixed 64-byte hex string");
  if (typeof proof?.z !== "string" || !BYTES32_HEX.test(proof.z)) throw new TypeError("opening proof: z must be a 0x-prefixed 32-byte hex string");
  const A = g1FromBytes(fromHex(proof.A));
  const z = frFromBytes(fromHex(proof.z));
  // P = Cx − Σ_j x_j·G_j must be z-provably a multiple of H.
  const P = Lin.of(s.cx).addLin(recordRow(s.key, s.x), neg(1n));
  const equations = new EquationSet();
  // The record digest is always recomputed from x here: a verifier takes no caller-supplied digest.
  verifyZero({ key: s.key, transcript: transcriptFor({ ...s, digest: undefined }), equations }, P, { A, z }, "record opening");
  return equations.settle(engine) === null;
}
