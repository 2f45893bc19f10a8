/**
 * A run folder on disk (docs/protocol.md §4.4): the Node adapter over core/run's byte formats.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RunFileError } from "../core/run/formats";
import { type RunFiles, type RunVerdict, type VerifyRunOptions, verifyRunFiles } from "../core/run/verify";

export function folderFiles(dir: string): RunFiles {
  return {
    path: (name) => join(dir, name),
    read(name) {
      const file = join(dir, name);
      if (!existsSync(file)) throw new RunFileError(file, "missing");
      return readFileSync(file);
    },
  };
}

/** Verifies the run in folder `dir` (core/run/verify.ts). */
export const verifyRunFolder = (dir: string, o?: VerifyRunOptions): RunVerdict => verifyRunFiles(folderFiles(dir), o);
