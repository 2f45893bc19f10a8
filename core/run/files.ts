/**
 * The run folder's file names (docs/protocol.md §4.5) — part of the run format, defined once here —
 * and the one error every reader of a run's files throws. Browser-safe: the Node adapter that reads
 * and writes folders on disk is prover/run-folder.ts.
 */

/** The folder inside a run folder that holds the secret files (never served, never published). */
export const PRIVATE_DIR = "private";

/** Every file of a run folder, by role. The manifest names dataset, tree and proof (schema literals). */
export const RUN_FILES = {
  manifest: "manifest.json",
  dataset: "dataset.bin",
  tree: "dataset-tree.json",
  proof: "proof.bin",
  /** The publisher's informational report (loss, accuracy, timings): not proven, not published. */
  report: "report.json",
  openings: `${PRIVATE_DIR}/openings.bin`,
  records: `${PRIVATE_DIR}/records.bin`,
  weights: `${PRIVATE_DIR}/weights.bin`,
} as const;

export type RunFileRole = keyof typeof RUN_FILES;
export type RunFileName = (typeof RUN_FILES)[RunFileRole];

/** The public files, in public-bundle order (§5.1): what a verifier needs and the bundle URI serves. */
export const PUBLIC_FILES = [RUN_FILES.manifest, RUN_FILES.dataset, RUN_FILES.tree, RUN_FILES.proof] as const;
export type PublicFileName = (typeof PUBLIC_FILES)[number];

/** Where the secret files live inside a run folder. */
export const PRIVATE_FILES = { openings: RUN_FILES.openings, records: RUN_FILES.records, weights: RUN_FILES.weights } as const;

/**
 * A run file that is missing, unreadable or malformed. The message is `<file>: <what is wrong>`, in
 * one vocabulary: "missing", "cannot read (<cause>)", "not <what it should be> (<detail>)", or the
 * specific defect ("truncated", "trailing bytes", "<field>: <reason>", …).
 */
export class RunFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "RunFileError";
  }

  /** The file does not exist. */
  static missing(file: string): RunFileError {
    return new RunFileError(file, "missing");
  }

  /** The file exists but could not be read (`cause`: an errno code such as EACCES, or a message). */
  static unreadable(file: string, cause: string): RunFileError {
    return new RunFileError(file, `cannot read (${cause})`);
  }

  /** The file is not what it should be: "not JSON (…)", "not a records file (…)". */
  static not(file: string, what: string, detail?: string): RunFileError {
    return new RunFileError(file, detail === undefined ? `not ${what}` : `not ${what} (${detail})`);
  }
}
