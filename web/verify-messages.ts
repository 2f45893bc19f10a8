/** The messages between the page (web/app.ts) and its whole-run verification worker (web/verify-worker.ts). */
import type { OnChainRun } from "../client/verify-run";

/** Page → worker: verify the run `runId` from the bundle at `bundleUrl` (against the chain, if given). */
export interface VerifyStart {
  readonly type: "start";
  readonly bundleUrl: string;
  readonly runId: string;
  /** The chain to check against; with `chainId`, the RPC must report it. */
  readonly chain: { readonly rpcUrl: string; readonly registry: string; readonly chainId?: string } | null;
}

export interface VerifyResult {
  readonly type: "result";
  readonly valid: boolean;
  readonly reason?: string;
  /** Checking against the chain and verifying, in ms (the download not included). */
  readonly ms: number;
  readonly downloadMs: number;
  readonly bundleBytes: number;
  /** Steps in the windows verified (all found valid, but for the last window of an invalid run). */
  readonly steps: number;
  /** Window proofs verified. */
  readonly windows: number;
  /** Each verified window's time, in ms. */
  readonly windowMs: number[];
  /** Steps the run proves. */
  readonly total: number;
  /** Window proofs the run has. */
  readonly totalWindows: number;
  readonly anchored: boolean;
  readonly onChain?: OnChainRun;
}

/** Worker → page. */
export type VerifyMessage =
  | { readonly type: "stage"; readonly text: string }
  | { readonly type: "chain"; readonly onChain: OnChainRun }
  /** `done` of `total` steps verified, in `windowsDone` of `windowsTotal` windows. */
  | { readonly type: "progress"; readonly done: number; readonly total: number; readonly windowsDone: number; readonly windowsTotal: number }
  | VerifyResult
  | { readonly type: "error"; readonly message: string };
