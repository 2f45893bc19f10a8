/** The run's publisher as the run commands take it: a --publisher flag, or the address of ZKDL_PUBLISHER_KEY. */
import { publisherOf } from "../../core/run/manifest";
import { die } from "../exit";
import { checksumAddress } from "../format";

/** A --publisher flag as a checksummed address; dies with a reason if it is not one. */
export function publisherFlag(flag: string): string {
  try {
    return checksumAddress(publisherOf(flag));
  } catch {
    die(`--publisher ${flag} is not an address (0x + 40 hex digits)`);
  }
}

/** The run's publisher: --publisher, else the address of ZKDL_PUBLISHER_KEY; dies with a reason if neither. */
export function publisherAddress(flag?: string): string {
  if (flag !== undefined) return publisherFlag(flag);
  const key = process.env.ZKDL_PUBLISHER_KEY;
  if (!key) die("name the run's publisher: --publisher <address> (the account that will register it), or set ZKDL_PUBLISHER_KEY; the proof is bound to it");
  // The chain library only for a private key (train --publisher never loads it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Wallet } = require("ethers") as typeof import("ethers");
  try {
    return new Wallet(key).address;
  } catch {
    die("ZKDL_PUBLISHER_KEY is not a private key (0x + 64 hex digits)");
  }
}
