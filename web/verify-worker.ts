/**
 * The page's whole-run verifier, in a Web Worker (bundled by relayer/web.ts, served at
 * /verify-worker.js): downloads the run's public bundle (at most MAX_BUNDLE_BYTES), checks it against
 * the chain (the RPC must report the expected chain id; the registered publisher and the manifest's
 * digest must give the run id), then verifies every window proof, the chain of weights and the dataset
 * root with pure @noble/curves (client/verify-run.ts), posting progress as windows are settled (a
 * batch of up to SETTLE_BATCH at a time, core/run/verify.ts). The server
 * that sends the bundle cannot swap it or its proofs; what is trusted is the chain endpoint the page
 * hands over — named by the server's /v1/config unless the user pinned one in the page's address
 * (?rpc=…&registry=…). Without a chain the bundle is bound to the run id alone, and the verdict says so.
 */
import { MAX_BUNDLE_BYTES, downloadBundle, verifyServedRun } from "../client/verify-run";
import { stepsVerified } from "../core/run/verify";
import type { VerifyMessage, VerifyStart } from "./verify-messages";

const worker = self as unknown as { onmessage: ((e: MessageEvent<VerifyStart>) => void) | null; postMessage(m: VerifyMessage): void };
const post = (m: VerifyMessage) => worker.postMessage(m);

async function run(o: VerifyStart): Promise<void> {
  post({ type: "stage", text: "downloading the public bundle…" });
  const t0 = performance.now();
  const bytes = await downloadBundle(o.bundleUrl, { maxBytes: MAX_BUNDLE_BYTES });
  const downloadMs = performance.now() - t0;
  post({ type: "stage", text: o.chain ? "checking the bundle against the chain…" : "checking the bundle against the run id…" });
  const v = await verifyServedRun({
    bundle: bytes,
    runId: o.runId,
    ...(o.chain ? { chain: { rpc: o.chain.rpcUrl, registry: o.chain.registry, ...(o.chain.chainId ? { chainId: o.chain.chainId } : {}) } } : {}),
    onChain: (onChain) => post({ type: "chain", onChain }),
    onProgress: (p) => post({ type: "progress", ...p }),
  });
  post({
    type: "result",
    valid: v.valid,
    ...(v.reason === undefined ? {} : { reason: v.reason }),
    ms: v.ms,
    downloadMs,
    bundleBytes: bytes.length,
    steps: stepsVerified(v.windows),
    windows: v.windows.length,
    windowMs: v.windows.map((w) => w.ms),
    total: v.total,
    totalWindows: v.totalWindows,
    anchored: v.anchored,
    ...(v.onChain ? { onChain: v.onChain } : {}),
  });
}

worker.onmessage = (e) => {
  if (e.data?.type !== "start") return;
  run(e.data).catch((err) => post({ type: "error", message: (err as Error)?.message ?? String(err) }));
};
