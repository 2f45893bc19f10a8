/**
 * Why a node turned a transaction down, in classes the sender can act on.
 *
 * A node answers `eth_sendRawTransaction` (and sometimes `eth_estimateGas`) with an error message in its
 * own words, and the words differ between clients: Hardhat says "Sender doesn't have enough funds to
 * send tx", anvil "Insufficient funds for gas * price + value", geth "insufficient funds for gas *
 * price + value: address … have 0 want …". ethers recognises only a few of them (and none of
 * Hardhat's), so the sender reads the node's own message and matches the well-known substrings of each
 * client. Treating every refusal alike is what made a sender without funds loop silently: it took the
 * refusal for a stuck transaction and kept raising its fees.
 *
 * Three classes:
 *   transient  the node already has it, or its nonce is taken (ours mined, or a pending replacement):
 *              the next pass reconciles with the chain;
 *   wait       waiting can cure it (funds may arrive): warn, record the reason on the job, back off,
 *              never raise fees because of it; a one-shot run gives up and says why;
 *   terminal   the transaction as this sender builds it can never be taken (wrong chain, gas beyond
 *              what a block allows, fee cap under the base fee): the job fails with the reason.
 * A refusal no pattern knows is treated as `wait`: never silent, never a fee bump, never a hang.
 */
import { isError } from "ethers";

export type RefusalKind =
  /** The node already has this very transaction. */
  | "known"
  /** The nonce is used by a mined transaction. */
  | "nonce-used"
  /** The node holds another transaction at this nonce, and this one does not pay enough more. */
  | "replacement-underpriced"
  /** The nonce is beyond the account's next one (Hardhat while automining). */
  | "nonce-gap"
  | "insufficient-funds"
  /** The max fee per gas is under the base fee of the next block. */
  | "fee-below-base-fee"
  /** The gas limit exceeds what one transaction or one block may use. */
  | "gas-above-limit"
  /** The gas limit is under the transaction's intrinsic gas. */
  | "gas-below-intrinsic"
  /** Signed for another chain, or not validly signed. */
  | "wrong-chain"
  | "invalid-sender"
  | "unknown";

export type RefusalClass = "transient" | "wait" | "terminal";

const CLASS: Record<RefusalKind, RefusalClass> = {
  known: "transient",
  "nonce-used": "transient",
  "replacement-underpriced": "transient",
  "nonce-gap": "transient",
  "insufficient-funds": "wait",
  unknown: "wait",
  // Terminal when the fee is already at the sender's cap; below the cap the sender re-signs at current fees.
  "fee-below-base-fee": "terminal",
  "gas-above-limit": "terminal",
  "gas-below-intrinsic": "terminal",
  "wrong-chain": "terminal",
  "invalid-sender": "terminal",
};

/**
 * The substrings each client answers with (lower case), checked in order: Hardhat 2.29 and anvil 1.7 as
 * they answer (tried), geth as its core/error.go and core/txpool/errors.go word it.
 */
const PATTERNS: [RefusalKind, RegExp][] = [
  // Hardhat "Known transaction: 0x…", anvil "transaction already imported", geth "already known".
  ["known", /already known|known transaction|already imported/],
  // Hardhat "Nonce too low. Expected nonce to be 1 but got 0", anvil/geth "nonce too low".
  ["nonce-used", /nonce too low|nonce has already been used/],
  // Hardhat "Replacement transaction underpriced. …", anvil/geth "replacement transaction underpriced".
  ["replacement-underpriced", /replacement transaction underpriced|replacement fee too low/],
  // Hardhat "Nonce too high. Expected nonce to be 0 but got 5. …" (geth and anvil queue such a transaction).
  ["nonce-gap", /nonce too high/],
  // Hardhat "Sender doesn't have enough funds to send tx. The max upfront cost is: …",
  // anvil "Insufficient funds for gas * price + value", geth "insufficient funds for gas * price + value: …".
  ["insufficient-funds", /insufficient funds|doesn't have enough funds|not enough funds|balance too low/],
  // Hardhat "Transaction maxFeePerGas (1) is too low for the next block, which has a baseFeePerGas of …",
  // anvil/geth "max fee per gas less than block base fee".
  ["fee-below-base-fee", /max fee per gas less than block base fee|fee cap less than block base fee|too low for the next block/],
  // Hardhat "Transaction gas limit is … and exceeds block gas limit of …" / "… exceeds transaction gas cap
  // of 16777216", anvil "intrinsic gas too high -- tx.gas_limit > env.block.gas_limit", geth "exceeds
  // block gas limit" / "transaction gas limit too high".
  ["gas-above-limit", /exceeds block gas limit|exceeds transaction gas cap|intrinsic gas too high|gas_limit > env\.block\.gas_limit|gas limit too high/],
  // Hardhat "Transaction requires at least 21000 gas but got 20000", anvil/geth "intrinsic gas too low".
  ["gas-below-intrinsic", /intrinsic gas too low|requires at least \d+ gas/],
  // Hardhat "Trying to send a raw transaction with an invalid chainId. …" (also "… incompatible EIP-155
  // transaction, signed for another chain"), anvil/geth "invalid chain id for signer".
  ["wrong-chain", /invalid chain ?id|signed for another chain|incompatible eip-155|only replay-protected/],
  ["invalid-sender", /invalid sender|invalid signature/],
];

/** A node's refusal of a transaction: what kind, its class, and the node's own words. */
export class Refusal extends Error {
  readonly class: RefusalClass;

  constructor(
    readonly kind: RefusalKind,
    /** The node's message, on one line. */
    readonly nodeMessage: string,
  ) {
    super(`${kind}: ${nodeMessage}`);
    this.name = "Refusal";
    this.class = CLASS[kind];
  }
}

/** The node's own message inside an ethers error (ethers wraps it in `info.error` or `error`). */
export function nodeMessage(err: unknown): string {
  const e = err as { info?: { error?: { message?: unknown } }; error?: { message?: unknown }; shortMessage?: unknown; message?: unknown };
  const m = e?.info?.error?.message ?? e?.error?.message ?? e?.shortMessage ?? e?.message ?? String(err);
  return oneLine(String(m));
}

/** Collapses whitespace and cuts a message to one printable line. */
export const oneLine = (s: string, max = 240): string => {
  const line = s.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

/**
 * Classifies a node's error answer to a transaction (or to the estimate for one). Reverts are not
 * refusals (decodeRevert handles them); an error ethers itself names (INSUFFICIENT_FUNDS,
 * NONCE_EXPIRED, REPLACEMENT_UNDERPRICED) counts even when the message is unfamiliar.
 */
export function classifyRefusal(err: unknown): Refusal {
  const message = nodeMessage(err);
  const lower = message.toLowerCase();
  for (const [kind, pattern] of PATTERNS) if (pattern.test(lower)) return new Refusal(kind, message);
  if (isError(err, "INSUFFICIENT_FUNDS")) return new Refusal("insufficient-funds", message);
  if (isError(err, "NONCE_EXPIRED")) return new Refusal("nonce-used", message);
  if (isError(err, "REPLACEMENT_UNDERPRICED")) return new Refusal("replacement-underpriced", message);
  return new Refusal("unknown", message);
}
