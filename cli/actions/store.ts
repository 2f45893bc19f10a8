/** The data folder's store, for the chain commands (the store alone: `zkdl outbox` loads no chain library). */
import { join, resolve } from "node:path";
import { STORE_FILE, SqliteStore } from "../../relayer/store";

export const openStore = (data: string) => new SqliteStore(join(resolve(data), STORE_FILE));
