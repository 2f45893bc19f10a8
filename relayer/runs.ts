/**
 * Run folders as the relayer and the API see them: a finished run (its public files and the private
 * records and openings the membership answers need, read through prover/run-folder.ts), the on-chain
 * record it registers, and a catalogue that loads each served run once.
 */
import { resolve } from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import * as native from "../native";
import { nativeEngine, nativeGenerators, nativeKeccakRowsIfLoaded } from "../prover/native-engine";
import { type DatasetCommitments, type DatasetOpenings, datasetLeaves, fingerprintTree } from "../core/dataset/commitments";
import type { FingerprintTree } from "../core/dataset/fingerprint-tree";
import { fingerprintOf, fingerprintPoint } from "../core/dataset/fingerprints";
import { recordDigest } from "../core/dataset/membership";
import { BYTES32_HEX } from "../core/crypto/hex";
import { CompactDatasetTree, type DatasetLeaf } from "../core/dataset/tree";
import type { Records } from "../core/data/records";
import { RUN_FILES, RunFileError } from "../core/run/files";
import { decodeDatasetTree } from "../core/run/formats";
import type { Manifest } from "../core/run/manifest";
import { packPublicBundle } from "../core/run/public-bundle";
import { folderFiles, readManifest, readRunDataset, readRunFile, readRunOpenings, readRunRecords, runFilePath } from "../prover/run-folder";
import { type CommitmentKey, commitmentKey } from "../core/protocol/generators";
import { type RunRecord, runIdOf } from "../client/registry";
import type { Store, StoredRun } from "./store";

/** A model id from a label: the label's keccak-256, or the label itself if it is already 32 bytes of hex. */
export function modelIdFrom(label: string): string {
  return BYTES32_HEX.test(label) ? label.toLowerCase() : keccak256(toUtf8Bytes(label));
}

/** The default model label of a run: "<source>-mlp-<layers>". */
export const defaultModelLabel = (m: Manifest): string => `${m.data.source.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 32)}-mlp-${m.model.layers.join("-")}`;

/** The URI the API serves a run's public bundle at. */
export const bundleUriOf = (apiUrl: string, runId: string): string => `${apiUrl.replace(/\/+$/, "")}/v1/runs/${runId}/bundle`;

/** The on-chain record of a run. */
export function runRecordOf(m: Manifest, manifestDigest: string, modelId: string, bundleURI: string): RunRecord {
  return {
    modelId,
    datasetRoot: m.dataset.root,
    fingerprintRoot: m.dataset.fingerprintRoot,
    datasetSize: BigInt(m.dataset.size),
    manifestDigest,
    initialWeightsDigest: m.weights.initial,
    finalWeightsDigest: m.weights.final,
    numSteps: BigInt(m.training.steps),
    bundleURI,
  };
}

/** Where a registered record and a manifest disagree, or null when the record is the manifest's. */
export function recordMismatch(record: RunRecord, m: Manifest, manifestDigest: string): string | null {
  const checks: [string, boolean][] = [
    ["manifest digest", record.manifestDigest.toLowerCase() === manifestDigest],
    ["dataset root", record.datasetRoot.toLowerCase() === m.dataset.root],
    ["fingerprint root", record.fingerprintRoot.toLowerCase() === m.dataset.fingerprintRoot],
    ["dataset size", record.datasetSize === BigInt(m.dataset.size)],
    ["initial weights digest", record.initialWeightsDigest.toLowerCase() === m.weights.initial],
    ["final weights digest", record.finalWeightsDigest.toLowerCase() === m.weights.final],
    ["step count", record.numSteps === BigInt(m.training.steps)],
  ];
  const wrong = checks.filter(([, ok]) => !ok).map(([name]) => name);
  return wrong.length ? `the registered record differs from the manifest in: ${wrong.join(", ")}` : null;
}

/** Adds a run folder to the store with its record index; returns what was stored. */
export function addRunToStore(store: Store, dir: string, publisher: string): StoredRun {
  const abs = resolve(dir);
  const { manifest, manifestDigest } = readManifest(abs);
  const records = readRunRecords(abs);
  if (records.count !== manifest.dataset.size) throw new RunFileError(runFilePath(abs, RUN_FILES.records), `holds ${records.count} records; the manifest says ${manifest.dataset.size}`);
  const run: StoredRun = { runId: runIdOf(publisher, manifestDigest), publisher, manifestDigest, dir: abs, datasetSize: manifest.dataset.size, addedAt: Date.now() };
  store.addRun(run, recordDigests(records));
  return run;
}

export function recordDigests(rec: Records): string[] {
  return Array.from({ length: rec.count }, (_, i) => recordDigest(rec.x.subarray(i * rec.features, (i + 1) * rec.features)));
}

/** Everything the API needs about one served run, loaded once. */
export interface LoadedRun {
  readonly stored: StoredRun;
  readonly manifest: Manifest;
  readonly dataset: DatasetCommitments;
  readonly openings: DatasetOpenings;
  /** The dataset tree, for proofs (OpenZeppelin's layout, built natively: no per-request rehashing). */
  readonly tree: CompactDatasetTree;
  /** Leaf i's fields (index, cxHash, cyHash). */
  readonly leaves: readonly DatasetLeaf[];
  /** dataset-tree.json as published (OpenZeppelin's dump). */
  readonly treeJson: string;
  /** The fingerprint tree (non-membership proofs), rebuilt from the fingerprint points. */
  readonly fingerprints: FingerprintTree;
  readonly key: CommitmentKey;
  /** The public bundle, packed on first request. */
  bundle(): Uint8Array;
}

export class RunCatalog {
  private readonly loaded = new Map<string, LoadedRun>();

  constructor(private readonly store: Store, private readonly keySource: "ts" | "native" = "ts") {}

  list(): StoredRun[] {
    return this.store.listRuns();
  }

  /** A record's digest (core/dataset/membership.ts), with the native Keccak when the catalogue runs native. */
  digestOf(x: ArrayLike<number>): string {
    return recordDigest(x, this.keySource === "native" ? native.keccak256 : undefined);
  }

  /**
   * Whether the server computes a record's fingerprint when a query does not send it: only with the
   * native MSM (~1 ms). In TypeScript it takes ~170 ms of the event loop, which one client could
   * repeat at the rate limit to stall the server.
   */
  get computesFingerprints(): boolean {
    return this.keySource === "native";
  }

  /** A quantized record's fingerprint (core/dataset/fingerprints.ts), with the native MSM (see computesFingerprints). */
  fingerprintOf(run: LoadedRun, x: ArrayLike<number>): string {
    if (!this.computesFingerprints) throw new Error("this catalogue computes fingerprints only with the native core");
    return fingerprintOf(fingerprintPoint(run.key, x, nativeEngine));
  }

  /** The index of the run's record with this digest, if any. */
  findRecord(runId: string, digest: string): number | undefined {
    return this.store.findRecord(runId, digest);
  }

  /** The run, loaded from its folder on first use; undefined for a run this server does not hold. */
  get(runId: string): LoadedRun | undefined {
    const cached = this.loaded.get(runId);
    if (cached) return cached;
    const stored = this.store.getRun(runId);
    if (!stored) return undefined;
    const run = this.load(stored);
    this.loaded.set(runId, run);
    return run;
  }

  private load(stored: StoredRun): LoadedRun {
    const dir = stored.dir;
    const { manifest, manifestDigest } = readManifest(dir);
    if (manifestDigest !== stored.manifestDigest) throw new RunFileError(runFilePath(dir, RUN_FILES.manifest), "changed since the run was published");
    const dataset = readRunDataset(dir, manifest);
    const openings = readRunOpenings(dir);
    const treeBytes = readRunFile(dir, manifest.dataset.tree);
    if (decodeDatasetTree(runFilePath(dir, manifest.dataset.tree), treeBytes).root !== manifest.dataset.root) throw new RunFileError(runFilePath(dir, manifest.dataset.tree), "root differs from the manifest's");
    const treeJson = treeBytes.toString("utf8");
    const leaves = datasetLeaves(dataset);
    const tree = CompactDatasetTree.build(leaves, nativeKeccakRowsIfLoaded());
    if (tree.root !== manifest.dataset.root) throw new RunFileError(runFilePath(dir, manifest.dataset.commitments), "the commitments' root differs from the manifest's");
    const fingerprints = fingerprintTree(dataset, nativeKeccakRowsIfLoaded());
    if (fingerprints.root !== manifest.dataset.fingerprintRoot) throw new RunFileError(runFilePath(dir, manifest.dataset.commitments), "the fingerprints' root differs from the manifest's");
    const key = commitmentKey(dataset.featureCols, { label: manifest.generators.label, derive: this.keySource === "native" ? nativeGenerators : undefined });
    let bundle: Uint8Array | undefined;
    return { stored, manifest, dataset, openings, tree, leaves, treeJson, fingerprints, key, bundle: () => (bundle ??= packPublicBundle(folderFiles(dir))) };
  }
}
