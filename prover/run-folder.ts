/**
 * A run folder on disk (docs/protocol.md §4.5): the Node adapter over core/run's names (files.ts) and
 * byte formats. Every read of a run folder goes through here and fails with a RunFileError in one
 * vocabulary ("<file>: missing", "<file>: cannot read (<code>)", "<file>: not …"); a run folder is
 * written only by writeRunFolder, which never leaves a half-written folder where a run is expected.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../core/errors";
import type { Records } from "../core/data/records";
import type { DatasetCommitments, DatasetOpenings } from "../core/dataset/commitments";
import { PRIVATE_DIR, RUN_FILES, type RunFileName, type RunFileRole, RunFileError } from "../core/run/files";
import { type WeightsFile, decodeDataset, decodeOpenings, decodeRecords, decodeWeights } from "../core/run/formats";
import { type Manifest, digestHex, parseManifest } from "../core/run/manifest";
import { type RunFiles, type RunVerdict, type VerifyRunOptions, verifyRunFiles } from "../core/run/verify";

/** A file of the run folder `dir`, by its name in the run format (RUN_FILES). */
export const runFilePath = (dir: string, name: RunFileName | string): string => join(dir, name);

/** A file system error on `file` in the run folder's words: "missing" for ENOENT, else "cannot read (<code>)". */
function unreadable(file: string, e: unknown): RunFileError {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? RunFileError.missing(file) : RunFileError.unreadable(file, code ?? (e as Error).message);
}

/** The bytes of one file of a run folder: "missing" when it does not exist, "cannot read (…)" otherwise. */
export function readRunFile(dir: string, name: RunFileName | string): Buffer {
  const file = runFilePath(dir, name);
  try {
    return readFileSync(file);
  } catch (e) {
    throw unreadable(file, e);
  }
}

/** A run folder as the verifier reads it (core/run/verify.ts's RunFiles). */
export function folderFiles(dir: string): RunFiles {
  return { path: (name) => runFilePath(dir, name), read: (name) => readRunFile(dir, name) };
}

/** Verifies the run in folder `dir` (core/run/verify.ts). */
export const verifyRunFolder = (dir: string, o?: VerifyRunOptions): RunVerdict => verifyRunFiles(folderFiles(dir), o);

/** Throws unless `dir` is a folder holding a manifest: "missing", or "not a run folder (…)". */
export function checkRunFolder(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw unreadable(dir, e);
  }
  if (!isDir) throw RunFileError.not(dir, "a run folder", "not a directory");
  if (!existsSync(runFilePath(dir, RUN_FILES.manifest))) throw RunFileError.not(dir, "a run folder", `no ${RUN_FILES.manifest}`);
}

/** A run folder's manifest (parsed and checked) and its digest, the keccak-256 of its bytes. */
export function readManifest(dir: string): { manifest: Manifest; manifestDigest: string } {
  const bytes = readRunFile(dir, RUN_FILES.manifest);
  return { manifest: parseManifest(runFilePath(dir, RUN_FILES.manifest), bytes), manifestDigest: digestHex(bytes) };
}

/** dataset.bin (the name the manifest gives it). */
export const readRunDataset = (dir: string, m: Manifest): DatasetCommitments => decodeDataset(runFilePath(dir, m.dataset.commitments), readRunFile(dir, m.dataset.commitments));

/** private/openings.bin: the dataset commitments' blindings. */
export const readRunOpenings = (dir: string): DatasetOpenings => decodeOpenings(runFilePath(dir, RUN_FILES.openings), readRunFile(dir, RUN_FILES.openings));

/** private/records.bin: the records the run was trained on. */
export const readRunRecords = (dir: string): Records => decodeRecords(runFilePath(dir, RUN_FILES.records), readRunFile(dir, RUN_FILES.records));

/** private/weights.bin: the final weights and their commitments' blindings. */
export const readRunWeights = (dir: string): WeightsFile => decodeWeights(runFilePath(dir, RUN_FILES.weights), readRunFile(dir, RUN_FILES.weights));

/** What report.json may hold (prover/train.ts's RunReport); nothing in it is proven. */
export type RunReportFile = { readonly testAccuracy?: number; readonly floatTestAccuracy?: number; readonly finalLoss?: number; readonly window?: number; readonly proveMsPerStep?: number; readonly proofBytes?: number };

/** report.json, the publisher's informational figures (not proven); {} when the folder has none. */
export function readRunReport(dir: string): RunReportFile {
  const file = runFilePath(dir, RUN_FILES.report);
  if (!existsSync(file)) return {};
  const text = readRunFile(dir, RUN_FILES.report).toString("utf8");
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (e) {
    throw RunFileError.not(file, "JSON", (e as Error).message);
  }
  if (typeof report !== "object" || report === null || Array.isArray(report)) throw RunFileError.not(file, "a JSON object");
  return report as RunReportFile;
}

/** One file's contents: bytes, text, or a function producing them when the file is written. */
export type RunFileContents = Uint8Array | string | (() => Uint8Array | string);

/** Everything a run folder holds, by role (RUN_FILES); report.json is optional. */
export type RunFolderContents = { readonly [K in Exclude<RunFileRole, "report">]: RunFileContents } & { readonly report?: RunFileContents };

/** Refuses to replace an existing `out` unless `overwrite` (`zkdl train --force`); `out` may end in a slash. */
export function refuseOverwrite(out: string, overwrite?: boolean): void {
  if (existsSync(resolve(out)) && !overwrite) throw new InputError(`${out} exists; choose another --out or pass --force`);
}

/**
 * Writes a run folder atomically: every file into a fresh sibling `<out>.partial-XXXXXX` (each fsynced),
 * then renamed into place; an existing `out` is replaced only with `overwrite`, and is moved aside to a
 * fresh `<out>.old-<random>` until the new folder is in place. If anything fails (a file that cannot be
 * written, a contents function that throws), the partial folder is removed and `out` is as it was. Only
 * paths this call created are ever removed: a stale `<out>.old…` (an earlier run, secrets included, left
 * by a write interrupted between its two renames) is left where it is, and `warn` says so.
 */
export function writeRunFolder(out: string, contents: RunFolderContents, o: { overwrite?: boolean; warn?: (message: string) => void } = {}): void {
  refuseOverwrite(out, o.overwrite);
  const target = resolve(out); // "dir/" and "dir" alike: the suffixes below go on the folder's name
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const stale = readdirSync(parent).filter((n) => n === `${basename(target)}.old` || n.startsWith(`${basename(target)}.old-`));
  if (stale.length > 0) {
    (o.warn ?? ((m: string) => process.stderr.write(`zkdl: warning: ${m}\n`)))(
      `${stale.map((n) => join(parent, n)).join(", ")} left by an interrupted overwrite of ${out}: an earlier run, private/ included; recover or remove it yourself`,
    );
  }
  const partial = mkdtempSync(`${target}.partial-`);
  try {
    mkdirSync(join(partial, PRIVATE_DIR));
    for (const role of Object.keys(RUN_FILES) as RunFileRole[]) {
      const c = contents[role];
      if (c !== undefined) writeDurably(join(partial, RUN_FILES[role]), typeof c === "function" ? c() : c);
    }
    syncDir(join(partial, PRIVATE_DIR));
    syncDir(partial);
    refuseOverwrite(out, o.overwrite); // a folder that appeared while this one was written
    replace(partial, target);
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
  syncDir(parent);
}

/** Renames `from` to `to`, an existing `to` moved aside (to a name no one else uses) first and removed once `from` is in place. */
function replace(from: string, to: string): void {
  if (!existsSync(to)) return renameSync(from, to);
  let old: string;
  do old = `${to}.old-${randomBytes(6).toString("hex")}`;
  while (existsSync(old));
  renameSync(to, old);
  try {
    renameSync(from, to);
  } catch (e) {
    renameSync(old, to);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

function writeDurably(file: string, data: Uint8Array | string): void {
  const fd = openSync(file, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a directory's entries where the platform allows it (not on Windows): best effort. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
