// Preload (`node -r test/cli/load-log.cjs bin/zkdl.js …`): when ZKDL_LOAD_LOG names a file, writes the
// paths of every CommonJS module the process loaded (require.cache, which tsx's .ts files go through too)
// to it as a JSON array at exit. Used by test/cli/loading.test.ts and scripts/bench/cli-start.ts.
"use strict";
const file = process.env.ZKDL_LOAD_LOG;
if (file) {
  const { writeFileSync } = require("node:fs");
  process.on("exit", () => writeFileSync(file, JSON.stringify(Object.keys(require.cache))));
}
