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
