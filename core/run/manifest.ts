/**
 * The run manifest (docs/protocol.md §4.5): the contract between the prover, the chain and every
 * verifier. Written canonically (fixed key order, two-space JSON, trailing newline); its keccak-256
 * digest identifies the run (the registry's manifestDigest). A reader rejects any file that is not
 * byte-for-byte the canonical form of what it parses to, so one run has exactly one manifest. A
 * manifest of another format version is refused with a message saying so (formats 1 and 2 held runs
 * proven step by step, which must be proven again in windows).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { z } from "zod";
import { ADDRESS_HEX, ADDRESS_HEX_LOWER, bytes32HexLower } from "../crypto/hex";
import { toHex } from "../crypto/bn254";
import { ProofWriter } from "../protocol/codec";
import { type TensorCommitment, hyraxCodec } from "../protocol/hyrax";
import { type ModelConfig, configProblem, paddedLayers } from "../model/fixed";
import { DEFAULT_LABEL, generatorSetId } from "../protocol/generators";
import { FEATURE_RANGES, type FeatureRange, stepDims } from "../training/circuit";
import { MAX_WINDOW, maxWindow, windowKeySize, windowSizes } from "../training/window";
import { RUN_FILES, RunFileError } from "./files";
import { InputError } from "../errors";

/**
 * zkdl-run/5: the dataset's records carry fingerprints, bound to their commitments in dataset.bin,
 * whose sorted tree's root (dataset.fingerprintRoot) proves non-membership (docs/protocol.md §4.3,
 * §5.3). zkdl-run/4 had the same window proofs (wide rows, limb-derived Z/GA/RU, a lookup packed
 * into at most two GKR trees: §3.10, §4.4) and no fingerprints; zkdl-run/3 another window proof.
 */
export const MANIFEST_FORMAT = "zkdl-run/5";
export const PROVER_VERSION = "zkdl-chain/0.5.0";

/** What one run may hold besides its model (docs/protocol.md §4.5): a verifier refuses more before any work. */
export const RUN_LIMITS = {
  steps: 1 << 20,
  /** A verifier rebuilds the tree and reads OpenZeppelin's dump of it: minutes and gigabytes at 2^20. */
  records: 1 << 20,
} as const;

const hex32 = bytes32HexLower();
const address = z
  .string()
  .regex(ADDRESS_HEX_LOWER, "a 0x-prefixed 20-byte lowercase hex address")
  .refine((a) => !/^0x0{40}$/.test(a), "the zero address");

/** A publisher as the manifest names it (lowercase hex); throws InputError for anything but a non-zero address. */
export function publisherOf(address: string): string {
  if (!ADDRESS_HEX.test(address) || /^0x0{40}$/.test(address)) throw new InputError(`publisher ${JSON.stringify(address)} is not an address (0x + 40 hex digits, not zero)`);
  return address.toLowerCase();
}
const int = z.number().int().nonnegative();

/** Is `n` a window length a run may have: a power of two from 1 to MAX_WINDOW? */
export const isWindowLength = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_WINDOW && (n & (n - 1)) === 0;

/**
 * The manifest's schema refuses everything the prover cannot produce (docs/protocol.md §4.5), so a
 * hostile manifest is refused by its shape before a verifier derives a generator or reads a proof:
 * a configuration the step circuit cannot prove or beyond the size limits, widths and counts that
 * disagree with each other, a generator set other than the one the circuit needs.
 */
export const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    prover: z.string().min(1).max(64),
    /** The publisher's address: bound into every window proof (the run binding). */
    publisher: address,
    model: z.object({
      layers: z.array(int.min(1)).min(2),
      paddedLayers: z.array(int.min(1)).min(2),
      fracBits: int,
      lrShift: int,
      batch: int.min(1),
      activation: z.literal("relu"),
      loss: z.literal("squared-error"),
    }),
    training: z.object({
      steps: int.min(1).max(RUN_LIMITS.steps),
      /** The window length T: the steps are proven T at a time (the rest in decreasing powers of two). */
      window: int.refine(isWindowLength, `a power of two from 1 to ${MAX_WINDOW}`),
      seed: z.string().min(1).max(256),
      init: z.literal("he-uniform/zkdl-chain/v1/init"),
      schedule: z.literal("zkdl-chain/v1/batches"),
    }),
    data: z.object({
      source: z.enum(["mnist", "csv"]),
      records: int.min(1).max(RUN_LIMITS.records),
      features: int.min(1),
      classes: int.min(1),
      featureRange: z.enum(FEATURE_RANGES as [FeatureRange, ...FeatureRange[]]),
    }),
    generators: z.object({ label: z.literal(DEFAULT_LABEL), size: int.min(1), id: hex32 }),
    dataset: z.object({ size: int.min(1), root: hex32, fingerprintRoot: hex32, commitments: z.literal(RUN_FILES.dataset), commitmentsDigest: hex32, tree: z.literal(RUN_FILES.tree) }),
    /** windows: the digest of the layers' weight commitments after each window (the last is `final`). */
    weights: z.object({ initial: hex32, final: hex32, windows: z.array(hex32).min(1).max(RUN_LIMITS.steps) }),
    bundle: z.object({ file: z.literal(RUN_FILES.proof), digest: hex32, bytes: int.max(2 ** 32 - 1) }),
  })
  .superRefine((m, ctx) => {
    const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const config = configOf(m);
    const why = configProblem(config);
    if (why) return problem(["model"], why);
    const L = m.model.layers.length - 1;
    if (m.model.paddedLayers.join() !== paddedLayers(config).join()) problem(["model", "paddedLayers"], "not the layers padded to powers of two");
    if (m.data.features !== m.model.layers[0]) problem(["data", "features"], `${m.data.features} features for an input layer of ${m.model.layers[0]}`);
    if (m.data.classes !== m.model.layers[L]) problem(["data", "classes"], `${m.data.classes} classes for an output layer of ${m.model.layers[L]}`);
    if (m.dataset.size !== m.data.records) problem(["dataset", "size"], `${m.dataset.size} commitments for ${m.data.records} records`);
    if (m.data.records < m.model.batch) problem(["data", "records"], `${m.data.records} records cannot fill a batch of ${m.model.batch}`);
    // A step count or window length outside its range was refused above, but zod still runs this.
    const { steps, window } = m.training;
    if (isWindowLength(window) && Number.isInteger(steps) && steps >= 1 && steps <= RUN_LIMITS.steps) {
      const windows = windowSizes(steps, window).length;
      if (m.weights.windows.length !== windows) problem(["weights", "windows"], `${m.weights.windows.length} window digests for ${steps} steps in windows of ${window} (${windows} windows)`);
      else if (m.weights.windows[windows - 1] !== m.weights.final) problem(["weights", "final"], "not the last window's digest");
    }
    const d = stepDims(config, m.data.featureRange);
    // Stacked tensors stay within the committed-tensor bound: a network's windows may be shorter than MAX_WINDOW.
    const longest = maxWindow(d);
    if (window > longest) problem(["training", "window"], `${window} steps; this network's windows have at most ${longest}`);
    const size = windowKeySize(d);
    if (m.generators.size !== size) problem(["generators", "size"], `the circuit's key has ${size} generators`);
    else if (toHex(generatorSetId(m.generators.label, size)) !== m.generators.id) problem(["generators", "id"], "not the id of the label and size");
  });

/** The model configuration a manifest states. */
export const configOf = (m: Pick<Manifest, "model" | "training">): ModelConfig => ({ layers: m.model.layers, fracBits: m.model.fracBits, lrShift: m.model.lrShift, batch: m.model.batch, seed: m.training.seed });

export type Manifest = z.infer<typeof manifestSchema>;

/** Canonical bytes: keys in the schema's order. */
export function manifestBytes(m: Manifest): Uint8Array {
  const ordered = manifestSchema.parse(m);
  return new TextEncoder().encode(JSON.stringify(ordered, null, 2) + "\n");
}

export const digestHex = (bytes: Uint8Array): string => toHex(keccak_256(bytes));

export const manifestDigest = (m: Manifest): string => digestHex(manifestBytes(m));

/**
 * The most bytes a canonical manifest of `steps` steps takes: about 2 KiB of fields (seed and prover
 * strings at their longest) and a 76-byte line per window digest — a run has at most one window per
 * step — with room to spare.
 */
export const maxManifestBytes = (steps: number): number => 16_384 + 96 * steps;

/**
 * Refuses, before JSON.parse, bytes that cannot be a manifest but could make parsing expensive: more
 * than the largest manifest, or more brackets or commas than its fixed shape has (8 objects, 3 arrays,
 * one comma per window digest and field; the seed and prover strings may hold a few more). A JSON bomb
 * of small objects grows some twenty-fold on the heap.
 */
function checkManifestShape(file: string, bytes: Uint8Array): void {
  if (bytes.length > maxManifestBytes(RUN_LIMITS.steps)) throw new RunFileError(file, `${bytes.length} bytes: larger than any manifest`);
  let brackets = 0;
  let commas = 0;
  for (const b of bytes) {
    if (b === 0x7b || b === 0x5b) brackets++;
    else if (b === 0x2c) commas++;
  }
  if (brackets > 11 + 320 || commas > RUN_LIMITS.steps + 400) throw new RunFileError(file, `not shaped like a manifest (${brackets} brackets, ${commas} commas)`);
}

export function parseManifest(file: string, bytes: Uint8Array): Manifest {
  checkManifestShape(file, bytes);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw RunFileError.not(file, "JSON", (e as Error).message);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (typeof format === "string" && format !== MANIFEST_FORMAT && /^zkdl-run\/\d+$/.test(format)) {
    const n = Number(format.slice("zkdl-run/".length));
    const why =
      n < 3
        ? "it is a run proven step by step, by an earlier version of the prover; runs are now proven in windows of steps, so prove it again with this version (zkdl train)"
        : n === 3
          ? "its window proofs are an earlier version's (narrow rows, one lookup tree per tensor size), which this verifier does not read; prove it again with this version (zkdl train)"
          : n === 4
            ? "its records have no fingerprints, so it cannot prove that a record was not trained on; prove it again with this version (zkdl train)"
            : "the run was made by another version of the prover; train it again with this one";
    throw new RunFileError(file, `format ${format} is not read by ${PROVER_VERSION} (it reads ${MANIFEST_FORMAT}): ${why}`);
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
 * What a window proof binds besides its own statement (docs/protocol.md §4.5): the publisher and the
 * run's model, training (steps and window length included), data, generators and dataset root (not
 * the outputs), so a window proof cannot be replayed in another run, nor registered by anyone but its
 * publisher.
 */
export function runBinding(m: Pick<Manifest, "publisher" | "model" | "training" | "data" | "generators" | "dataset">): Uint8Array {
  const statement = { publisher: m.publisher, model: m.model, training: m.training, data: m.data, generators: m.generators, dataset: { size: m.dataset.size, root: m.dataset.root } };
  return keccak_256(new TextEncoder().encode("zkdl-chain/v1/run\n" + JSON.stringify(statement)));
}
