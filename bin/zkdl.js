#!/usr/bin/env node
// The `zkdl` command: runs the TypeScript CLI (cli/main.ts) through tsx, with no build step. It runs
// from a source checkout; the packed package ships the SDK and the verifier (dist/) without it.
const { existsSync } = require("node:fs");
const { join } = require("node:path");
if (!existsSync(join(__dirname, "../cli/main.ts"))) {
  process.stderr.write("zkdl: the zkdl program runs from a source checkout of zkdl-chain (clone it, then `npm ci`); this installed package holds the SDK and the verifier only (zkdl-chain/client, zkdl-chain/verifier)\n");
  process.exit(2);
}
require("tsx/cjs");
require("../cli/main.ts");
