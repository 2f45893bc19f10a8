/** `zkdl inspect`: a run folder's manifest and files, summarised (no verification). */
import { checkRunFolder, readManifest, readRunReport } from "../../prover/run-folder";
import { checksumAddress } from "../format";

export function inspect(dir: string, o: { json?: boolean }): void {
  checkRunFolder(dir);
  const { manifest: m, manifestDigest: digest } = readManifest(dir);
  if (o.json) {
    process.stdout.write(JSON.stringify({ manifestDigest: digest, manifest: m }, null, 2) + "\n");
    return;
  }
  const report = readRunReport(dir);
  process.stdout.write(
    `run            ${dir} (${m.format}, ${m.prover})\nmanifest       ${digest}\npublisher      ${checksumAddress(m.publisher)}\n` +
      `model          ${m.model.layers.join("-")} (padded ${m.model.paddedLayers.join("-")}), F=${m.model.fracBits}, lr 2^-${m.model.lrShift}, batch ${m.model.batch}\n` +
      `training       ${m.training.steps} steps, seed ${JSON.stringify(m.training.seed)}\n` +
      `proven in      ${m.weights.windows.length} window${m.weights.windows.length === 1 ? "" : "s"} of at most ${m.training.window} steps\n` +
      `dataset        ${m.data.source}, ${m.dataset.size} records (features proven ${m.data.featureRange === "unit" ? "in [0, 1]" : "32-bit integers"}), root ${m.dataset.root}\n` +
      `fingerprints   root ${m.dataset.fingerprintRoot} (non-membership, docs/protocol.md §5.3)\n` +
      `weights        initial ${m.weights.initial}\n               final   ${m.weights.final}\n` +
      `proof bundle   ${m.bundle.bytes} bytes, digest ${m.bundle.digest}\n` +
      (report.testAccuracy !== undefined ? `test accuracy  ${(100 * report.testAccuracy).toFixed(1)}% (reported by the publisher, not proven)\n` : ""),
  );
}
