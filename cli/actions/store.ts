/** The data folder's store, for the chain commands (the store alone: `zkdl outbox` loads no chain library). */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { STORE_FILE, SqliteStore } from "../../relayer/store";
import { die } from "../exit";

/** The store in `data`, created (with the folder) if there is none: for the commands that write to it. */
export const openStore = (data: string) => new SqliteStore(join(resolve(data), STORE_FILE));

/** The store in `data` for a command that only reads it: "no store at …" (exit 2) rather than create one. */
export function openExistingStore(data: string): SqliteStore {
  const file = join(resolve(data), STORE_FILE);
  if (!existsSync(file)) die(`no store at ${file}: nothing was published, relayed or attested with --data ${data}`);
  return new SqliteStore(file);
}
