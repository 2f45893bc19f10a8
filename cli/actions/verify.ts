/**
 * `zkdl verify`: a run from its public files (prover/run-folder.ts). Exit 0 valid, 1 invalid, 2 a
 * missing or malformed file. Loads the verifier and, unless --pure, the native addon; never the chain
 * library, the server or the store.
 */
import { nativeAccelerators } from "../../prover/native-engine";
import { checkRunFolder, verifyRunFolder } from "../../prover/run-folder";
import { stepsVerified } from "../../core/run/verify";
import { EXIT, die } from "../exit";
import { checksumAddress, stepSpan } from "../format";
import { publisherFlag } from "./publisher";

export interface VerifyFlags {
  json?: boolean;
  pure?: boolean;
  publisher?: string;
}

export function verify(dir: string, o: VerifyFlags): void {
  const publisher = o.publisher === undefined ? undefined : publisherFlag(o.publisher);
  checkRunFolder(dir);
  const v = verifyRunFolder(dir, {
    publisher,
    ...(o.pure ? {} : nativeAccelerators),
    // Counted from 1 here, as `zkdl train` counts; reasons name windows and steps from 0.
    onWindow: (r, total) => {
      if (!o.json) process.stderr.write(`window ${r.window + 1}/${total} (${stepSpan(r.first, r.steps)}): ${r.valid ? "valid" : "INVALID"} (${r.ms.toFixed(0)} ms)\n`);
    },
  });
  if (v.malformed && !o.json) die(v.reason!);
  if (o.json) process.stdout.write(JSON.stringify({ valid: v.valid, reason: v.reason, malformed: v.malformed, manifestDigest: v.manifestDigest, publisher: v.manifest?.publisher, steps: stepsVerified(v.windows), windows: v.windows.length, ms: Math.round(v.ms) }) + "\n");
  else {
    process.stdout.write(
      v.valid
        ? `VALID  ${dir}\nmanifest      ${v.manifestDigest}\npublisher     ${checksumAddress(v.manifest!.publisher)}\ndataset root  ${v.manifest!.dataset.root}\nsteps         ${stepsVerified(v.windows)} verified in ${v.windows.length} window${v.windows.length === 1 ? "" : "s"}, weights chained to ${v.manifest!.weights.final}\ntime          ${(v.ms / 1000).toFixed(2)} s\n`
        : `INVALID  ${dir}\nreason   ${v.reason}\n`,
    );
  }
  process.exitCode = v.valid ? EXIT.ok : v.malformed ? EXIT.input : EXIT.failed;
}
