/**
 * The attestor's download limits, the defaults of `zkdl attest`'s flags. Kept free of imports (types
 * aside) so that the CLI can show them in its help without loading the relayer or the chain library.
 */
import type { Backoff } from "./chain";

/** The largest bundle an attestor downloads unless told otherwise (each is also held to its manifest's size). */
export const DEFAULT_MAX_BUNDLE_BYTES = 2 ** 30;
/** The deadline for downloading one bundle, body included. */
export const DEFAULT_FETCH_TIMEOUT_MS = 120_000;

export interface FetchRetry extends Backoff {
  readonly tries: number;
}

/** 12 tries, 30 s apart at first and doubling up to 2 h: about 8 hours before a run is given up. */
export const DEFAULT_FETCH_RETRY: FetchRetry = { tries: 12, baseMs: 30_000, maxMs: 2 * 3600_000 };
