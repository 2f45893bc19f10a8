/** `zkdl inspect`: a run folder's manifest and files, summarised (no verification). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { manifestDigest, parseManifest } from "../../core/run/manifest";
import { die } from "../exit";
import { checksumAddress } from "../format";

export function inspect(dir: string, o: { json?: boolean }): void {
  const file = join(dir, "manifest.json");
  if (!existsSync(file)) die(`${dir}: not a run folder (no manifest.json)`);
  const m = parseManifest(file, readFileSync(file));
  if (o.json) {
    process.stdout.write(JSON.stringify({ manifestDigest: manifestDigest(m), manifest: m }, null, 2) + "\n");
    return;
  }
  const report = existsSync(join(dir, "report.json")) ? (JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as { testAccuracy?: number }) : {};
  process.stdout.write(
    `run            ${dir} (${m.format}, ${m.prover})\nmanifest       ${manifestDigest(m)}\npublisher      ${checksumAddress(m.publisher)}\n` +
      `model          ${m.model.layers.join("-")} (padded ${m.model.paddedLayers.join("-")}), F=${m.model.fracBits}, lr 2^-${m.model.lrShift}, batch ${m.model.batch}\n` +
      `training       ${m.training.steps} steps, seed ${JSON.stringify(m.training.seed)}\n` +
      `dataset        ${m.data.source}, ${m.dataset.size} records (features proven ${m.data.featureRange === "unit" ? "in [0, 1]" : "32-bit integers"}), root ${m.dataset.root}\n` +
      `weights        initial ${m.weights.initial}\n               final   ${m.weights.final}\n` +
      `proof bundle   ${m.bundle.bytes} bytes, digest ${m.bundle.digest}\n` +
      (report.testAccuracy !== undefined ? `test accuracy  ${(100 * report.testAccuracy).toFixed(1)}% (reported by the publisher, not proven)\n` : ""),
  );
}
