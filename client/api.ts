/**
 * The /v1 API's wire format, as zod schemas with their inferred types: the membership request and every
 * JSON answer a client reads. The SDK (client/sdk.ts), the web page and `zkdl check` parse answers with
 * them; the API (relayer/api.ts) types what it sends with them and, under `validateAnswers` (the tests),
 * parses every answer before sending it. Hex fields have exact lengths; objects are strict, so a field
 * the client does not know is a malformed answer, not something to ignore.
 */
import { z } from "zod";
import { ADDRESS_HEX, BYTES32_HEX, bytes32HexLower } from "../core/crypto/hex";
import { manifestSchema } from "../core/run/manifest";
import { RunStatus } from "./registry";

const MAX_FEATURES = 1 << 16;

/** The membership request: exactly one representation of the record. */
export const membershipRequest = z
  .object({
    pixels: z.array(z.number().int().min(0).max(255)).min(1).max(MAX_FEATURES).optional().describe("8-bit pixel values (0…255), row-major; quantized as round(p·2^F/255) like the MNIST loader"),
    image: z.string().max(4 * MAX_FEATURES).regex(/^[A-Za-z0-9+/]*={0,2}$/, "base64").optional().describe("the same pixels as raw 8-bit bytes, base64"),
    features: z.array(z.number().finite()).min(1).max(MAX_FEATURES).optional().describe("real feature values; quantized as round(v·2^F) like the CSV loader"),
    fingerprint: z.string().regex(BYTES32_HEX).optional().describe("the quantized record's fingerprint keccak256(Σ_k x_k·G_k) (docs/protocol.md §5.3), as the SDK computes it to check the answer: spares the server that multi-scalar multiplication; a non-membership answer is about this fingerprint"),
  })
  .strict()
  .refine((b) => [b.pixels, b.image, b.features].filter((v) => v !== undefined).length === 1, "give exactly one of pixels, image, features");
export type MembershipRequest = z.infer<typeof membershipRequest>;
/** The largest record a request may carry. */
export const MAX_RECORD_FEATURES = MAX_FEATURES;

// Wire primitives.
/** A 32-byte value (hash, run id, root, scalar), lowercase 0x-hex. */
export const hex32 = bytes32HexLower("32 bytes: 0x + 64 lowercase hex digits");
/** A BN254 G1 point in its 64-byte EVM encoding, lowercase 0x-hex. */
export const g1Hex = z.string().regex(/^0x[0-9a-f]{128}$/, "a 64-byte point: 0x + 128 lowercase hex digits");
/** An address, any case. */
export const addressHex = z.string().regex(ADDRESS_HEX, "an address: 0x + 40 hex digits");
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const uint32 = count.max(0xffffffff);
/** A record index as a decimal string (how OpenZeppelin tree leaves carry it). */
const decimalIndex = z.string().regex(/^(0|[1-9][0-9]{0,9})$/, "a decimal record index");
/** Enough for any tree the registry can hold (2^64 leaves). */
const merkleProof = z.array(hex32).max(64);

/** `{ error: { code, message } }`, with any 4xx or 5xx status. */
export const errorAnswer = z.object({ error: z.object({ code: z.string().regex(/^[a-z][a-z0-9_]*$/).max(64), message: z.string().min(1).max(2000) }).strict() }).strict();
export type ErrorAnswer = z.infer<typeof errorAnswer>;

/** A run's live on-chain status as the server sees it ("Unknown" without a chain or when it is unreachable). */
export const chainStatus = z
  .object({
    status: z.enum([...(Object.keys(RunStatus).filter((k) => Number.isNaN(Number(k))) as [keyof typeof RunStatus, ...(keyof typeof RunStatus)[]]), "Unknown"]),
    validCount: count.optional(),
    invalidCount: count.optional(),
    registeredAt: count.optional(),
    error: z.string().max(2000).optional(),
  })
  .strict();
export type ChainStatus = z.infer<typeof chainStatus>;

/** One run in GET /v1/runs. */
export const runSummary = z
  .object({
    runId: hex32,
    publisher: addressHex,
    manifestDigest: hex32,
    model: z.object({ layers: z.array(count.min(1)).min(2), fracBits: count, batch: count.min(1) }).strict(),
    steps: count.min(1),
    data: manifestSchema.shape.data.strict(),
    dataset: z.object({ size: count.min(1), root: hex32 }).strict(),
    proofBytes: count,
    chain: chainStatus,
  })
  .strict();
export type RunSummary = z.infer<typeof runSummary>;

/** GET /v1/runs */
export const runsAnswer = z.object({ runs: z.array(runSummary) }).strict();
export type RunsAnswer = z.infer<typeof runsAnswer>;

/** GET /v1/runs/:runId: the summary and the whole manifest. */
export const runAnswer = runSummary.extend({ manifest: manifestSchema }).strict();
export type RunAnswer = z.infer<typeof runAnswer>;

/** A dataset leaf as the OpenZeppelin tree holds it: [index, keccak(Cx), keccak(Cy)]. */
export const datasetLeaf = z.object({ index: decimalIndex, cxHash: hex32, cyHash: hex32 }).strict();
export type DatasetLeaf = z.infer<typeof datasetLeaf>;

/** The Schnorr proof that a commitment opens to the record (core/dataset/membership.ts). */
export const openingProof = z.object({ A: g1Hex, z: hex32 }).strict();

const aboutRecord = { runId: hex32, root: hex32, recordDigest: hex32 };

/** A leaf of the fingerprint tree: two consecutive fingerprints of the dataset, or a sentinel (docs/protocol.md §5.3). */
export const fingerprintGap = z.object({ low: hex32, high: hex32 }).strict();

/**
 * POST /v1/runs/:runId/membership, when the record is not in the run: the gap of the run's
 * fingerprint tree that holds the record's fingerprint, with its OpenZeppelin Merkle proof.
 */
export const notMemberAnswer = z
  .object({ member: z.literal(false), ...aboutRecord, fingerprint: hex32, fingerprintRoot: hex32, gap: fingerprintGap, leafHash: hex32, proof: merkleProof })
  .strict();
export type NotMemberAnswer = z.infer<typeof notMemberAnswer>;

/** POST /v1/runs/:runId/membership, when it is: everything needed to check it without the server. */
export const memberAnswer = z
  .object({
    member: z.literal(true),
    ...aboutRecord,
    index: uint32,
    leaf: datasetLeaf,
    leafHash: hex32,
    proof: merkleProof,
    commitment: g1Hex,
    opening: openingProof,
    generators: z.object({ label: z.string().min(1).max(256), id: hex32 }).strict(),
  })
  .strict();

/** POST /v1/runs/:runId/membership */
export const membershipAnswer = z.discriminatedUnion("member", [notMemberAnswer, memberAnswer]);
export type MembershipAnswer = z.infer<typeof membershipAnswer>;
export type MemberAnswer = z.infer<typeof memberAnswer>;

/** GET /v1/runs/:runId/records/:index/proof */
export const recordProofAnswer = z.object({ runId: hex32, root: hex32, index: uint32, leaf: datasetLeaf, leafHash: hex32, proof: merkleProof }).strict();
export type RecordProofAnswer = z.infer<typeof recordProofAnswer>;

/** GET /v1/runs/:runId/dataset: the record commitments and the OpenZeppelin StandardMerkleTree dump. */
export const datasetAnswer = z
  .object({
    runId: hex32,
    root: hex32,
    size: count.min(1),
    featureCols: count,
    labelCols: count,
    commitments: z.array(z.object({ cx: g1Hex, cy: g1Hex }).strict()),
    tree: z
      .object({
        format: z.literal("standard-v1"),
        leafEncoding: z.array(z.string()),
        tree: z.array(hex32),
        values: z.array(z.object({ value: z.tuple([decimalIndex, hex32, hex32]), treeIndex: count }).strict()),
      })
      .strict(),
  })
  .strict();
export type DatasetAnswer = z.infer<typeof datasetAnswer>;

/** The chain a server reports on, as browsers and SDK users should reach it. */
export const publicChain = z.object({ rpcUrl: z.string().min(1).max(2048), chainId: z.string().regex(/^[1-9][0-9]{0,77}$/), registry: addressHex }).strict();
export type PublicChain = z.infer<typeof publicChain>;

/** GET /v1/config */
export const configAnswer = z.object({ chain: publicChain.nullable() }).strict();
export type ConfigAnswer = z.infer<typeof configAnswer>;

/** One public MNIST digit. */
export const mnistExample = z.object({ set: z.enum(["train", "test"]), index: count, label: count.max(9), pixels: z.array(z.number().int().min(0).max(255)).length(784) }).strict();
export type MnistExample = z.infer<typeof mnistExample>;

/** GET /v1/examples/mnist */
export const examplesAnswer = z.object({ examples: z.array(mnistExample).max(64) }).strict();
export type ExamplesAnswer = z.infer<typeof examplesAnswer>;

/** The first problem of a failed parse, as "path: message". */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.join(".") || "body"}: ${issue.message}`;
}
