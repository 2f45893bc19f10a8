/**
 * The run manifest (docs/protocol.md §4.5): the contract between the prover, the chain and every
 * verifier. Written canonically (fixed key order, two-space JSON, trailing newline); its keccak-256
 * digest identifies the run (the registry's manifestDigest). A reader rejects any file that is not
 * byte-for-byte the canonical form of what it parses to, so one run has exactly one manifest.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { z } from "zod";
import { toHex } from "../crypto/bn254";
import { ProofWriter } from "../protocol/codec";
import { type TensorCommitment, hyraxCodec } from "../protocol/hyrax";
import { RunFileError } from "./formats";

export const MANIFEST_FORMAT = "zkdl-run/1";
export const PROVER_VERSION = "zkdl-chain/0.1.0";

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, "a 0x-prefixed 32-byte lowercase hex string");
const int = z.number().int().nonnegative();

export const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  prover: z.string(),
  model: z.object({
    layers: z.array(int.min(1)).min(2),
    paddedLayers: z.array(int.min(1)).min(2),
    fracBits: int,
    lrShift: int,
    batch: int.min(1),
    activation: z.literal("relu"),
    loss: z.literal("squared-error"),
  }),
  training: z.object({ steps: int.min(1), seed: z.string().min(1).max(256), init: z.literal("he-uniform/zkdl-chain/v1/init"), schedule: z.literal("zkdl-chain/v1/batches") }),
  data: z.object({ source: z.string().min(1), records: int.min(1), features: int.min(1), classes: int.min(1) }),
  generators: z.object({ label: z.string().min(1).max(64), size: int.min(1), id: hex32 }),
  dataset: z.object({ size: int.min(1), root: hex32, commitments: z.literal("dataset.bin"), commitmentsDigest: hex32, tree: z.literal("dataset-tree.json") }),
  weights: z.object({ initial: hex32, final: hex32, steps: z.array(hex32).min(1) }),
  bundle: z.object({ file: z.literal("proof.bin"), digest: hex32, bytes: int }),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** Canonical bytes: keys in the schema's order. */
export function manifestBytes(m: Manifest): Uint8Array {
  const ordered = manifestSchema.parse(m);
  return new TextEncoder().encode(JSON.stringify(ordered, null, 2) + "\n");
}

export const digestHex = (bytes: Uint8Array): string => toHex(keccak_256(bytes));

export const manifestDigest = (m: Manifest): string => digestHex(manifestBytes(m));

export function parseManifest(file: string, bytes: Uint8Array): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new RunFileError(file, `not JSON (${(e as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunFileError(file, `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const canonical = manifestBytes(parsed.data);
  if (toHex(canonical) !== toHex(bytes)) throw new RunFileError(file, "not in canonical form (re-serialised bytes differ)");
  return parsed.data;
}

/** Digest of a set of weight commitments: keccak256 of their encodings (u32 a ‖ u32 b ‖ rows) in layer order. */
export function weightsDigest(commitments: readonly TensorCommitment[]): string {
  const w = new ProofWriter();
  for (const c of commitments) hyraxCodec.writeCommitment(w, c);
  return digestHex(w.bytes());
}

/**
 * What a step proof binds besides its own statement: the run's model, training, data, generators
 * and dataset root (not the outputs), so a step proof cannot be replayed in another run.
 */
export function runBinding(m: Pick<Manifest, "model" | "training" | "data" | "generators" | "dataset">): Uint8Array {
  const statement = { model: m.model, training: m.training, data: m.data, generators: m.generators, dataset: { size: m.dataset.size, root: m.dataset.root } };
  return keccak_256(new TextEncoder().encode("zkdl-chain/v1/run\n" + JSON.stringify(statement)));
}
