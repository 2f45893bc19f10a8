/**
 * The hex strings of the wire formats, defined once: the 32-byte value (digests, run ids, Merkle
 * nodes, transaction hashes; `0x` then 64 hex digits) as a regular expression and as a zod schema,
 * and the 20-byte address (`0x` then 40). The lowercase forms are what this project writes
 * (manifests, answers); the mixed-case ones what it accepts from people and tools.
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

/** 0x-prefixed 20 bytes of hex, either case (an address; EIP-55 checksums are not checked here). */
export const ADDRESS_HEX = /^0x[0-9a-fA-F]{40}$/;

/** 0x-prefixed 20 bytes of lowercase hex (an address as manifests and answers write it). */
export const ADDRESS_HEX_LOWER = /^0x[0-9a-f]{40}$/;
