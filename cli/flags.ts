/** Flag parsers shared by the command tables (commander only: loaded by `zkdl --help`). */
import { InvalidArgumentError } from "commander";

/** An integer flag in [min, max]. */
export const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

/** Layer widths: comma-separated positive integers. */
export const layers = (v: string) => {
  const parts = v.split(",").map((x) => Number(x.trim()));
  if (parts.length < 2 || parts.some((n) => !Number.isInteger(n) || n < 1)) throw new InvalidArgumentError("layers are comma-separated positive widths, e.g. 784,128,10");
  return parts;
};

/**
 * The largest window length (core/training/window.ts's MAX_WINDOW, repeated here so that `--help`
 * loads no protocol code; test/cli/flags.test.ts holds the two equal).
 */
export const MAX_WINDOW_FLAG = 1024;

/** A window length: a power of two from 1 to MAX_WINDOW_FLAG. */
export const windowLength = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WINDOW_FLAG || (n & (n - 1)) !== 0) throw new InvalidArgumentError(`window must be a power of two from 1 to ${MAX_WINDOW_FLAG}`);
  return n;
};
