/**
 * The 32-byte hex string (digests, run ids, Merkle nodes, transaction hashes), defined once: as a
 * regular expression and as a zod schema. `0x` then 64 hex digits; the lowercase form is what this
 * project writes (manifests, answers), the mixed-case one what it accepts from people and tools.
 */
import { z } from "zod";

/** 0x-prefixed 32 bytes of hex, either case. */
export const BYTES32_HEX = /^0x[0-9a-fA-F]{64}$/;

/** 0x-prefixed 32 bytes of lowercase hex (the canonical form). */
export const BYTES32_HEX_LOWER = /^0x[0-9a-f]{64}$/;

/** A zod schema of BYTES32_HEX, failing with `message`. */
export const bytes32Hex = (message = "a 0x-prefixed 32-byte hex string") => z.string().regex(BYTES32_HEX, message);

/** A zod schema of BYTES32_HEX_LOWER, failing with `message`. */
export const bytes32HexLower = (message = "a 0x-prefixed 32-byte lowercase hex string") => z.string().regex(BYTES32_HEX_LOWER, message);
