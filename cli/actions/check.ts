/**
 * `zkdl check`: is a record in a run's training set? Asks the API and checks every proof in the
 * answer (the SDK's checkMembership): membership by the record's opening and dataset leaf,
 * non-membership by the gap of the fingerprint tree that holds its fingerprint, both against the
 * chain when one is configured.
 */
import { BYTES32_HEX } from "../../core/crypto/hex";
import { existsSync, readFileSync } from "node:fs";
import { PNG } from "pngjs";
import { grayPixels } from "../../core/data/quantize";
import { type MembershipRequest } from "../../client/api";
import { MembershipCheckError, checkMembership, membershipHeadline } from "../../client/sdk";
import { mnistDigit } from "../../prover/records";
import { daemonProvider } from "../../relayer/chain";
import { EXIT, die } from "../exit";
import { type ChainFlags, DEFAULT_DEPLOYMENT, chainSettings } from "./chain";

export interface CheckFlags extends ChainFlags {
  apiUrl: string;
  image?: string;
  pixels?: string;
  features?: string;
  mnist?: string;
}

export async function check(runId: string, o: CheckFlags): Promise<void> {
  if (!BYTES32_HEX.test(runId)) die(`${runId} is not a run id (0x + 64 hex digits)`);
  const record = recordFromFlags(o);
  // A chain that is configured (flag, environment or deployment file) but unusable ends here, exit 2;
  // on-chain checks are skipped only when no chain is configured at all, and the answer says so.
  const chain = await chainSettings(o, true);
  const onChain = chain === null ? {} : { rpc: daemonProvider(chain.rpc, chain.chainId), registry: chain.registry, chainId: chain.chainId };
  try {
    const r = await checkMembership({ api: o.apiUrl, runId, record, ...onChain });
    if (o.json) process.stdout.write(JSON.stringify({ ...r, anchored: chain !== null }) + "\n");
    else {
      const status = r.status ? ` (the run is ${r.status} on chain)` : "";
      process.stdout.write(`${membershipHeadline(r)}\n  run ${r.runId}${status}\n`);
      for (const c of r.checked) process.stdout.write(`  ✓ ${c}\n`);
      if (chain === null) process.stdout.write(`  ✗ not checked on chain: no chain configured (no --registry, ZKDL_REGISTRY, --deployment or ${DEFAULT_DEPLOYMENT}); the run's registration and status are unknown\n`);
    }
  } catch (e) {
    if (e instanceof MembershipCheckError) die(`the answer does not check out: ${e.message}`, EXIT.failed);
    die((e as Error).message, EXIT.failed);
  } finally {
    (onChain.rpc as { destroy(): void } | undefined)?.destroy();
  }
}

/** The one record source the flags name, as a membership request. */
function recordFromFlags(o: { image?: string; pixels?: string; features?: string; mnist?: string }): MembershipRequest {
  const given = [o.image, o.pixels, o.features, o.mnist].filter((v) => v !== undefined);
  if (given.length !== 1) die("give exactly one of --image, --pixels, --features, --mnist");
  const read = (file: string) => {
    if (!existsSync(file)) die(`${file}: no such file`);
    return readFileSync(file);
  };
  const jsonArray = (file: string, bytes: Buffer) => {
    try {
      const v = JSON.parse(bytes.toString("utf8")) as unknown;
      if (Array.isArray(v)) return v as number[];
    } catch {
      /* not JSON */
    }
    die(`${file}: expected a JSON array of numbers`);
  };
  if (o.mnist) {
    const m = /^(train|test):(\d+)$/.exec(o.mnist);
    if (!m) die("--mnist is train:<index> or test:<index>");
    return { pixels: Array.from(mnistDigit(m[1] as "train" | "test", Number(m[2])).pixels) };
  }
  if (o.features) return { features: jsonArray(o.features, read(o.features)) };
  if (o.pixels) {
    const bytes = read(o.pixels);
    return { pixels: /^\s*\[/.test(bytes.subarray(0, 16).toString("utf8")) ? jsonArray(o.pixels, bytes) : Array.from(bytes) };
  }
  let png: PNG;
  try {
    png = PNG.sync.read(read(o.image!));
  } catch (e) {
    die(`${o.image}: not a PNG file (${(e as Error).message})`);
  }
  return { pixels: grayPixels(png.data) };
}
