#!/usr/bin/env node
// The package's `install` script. In a source checkout (`npm ci` in the repository) it builds the
// native addon exactly as before: `node-gyp rebuild --directory native`, with the node-gyp npm puts
// on the PATH of lifecycle scripts. In a project that installed the packed tarball there are no
// native sources (package.json `files` ships dist/ and this file only; the SDK and the verifier are
// pure TypeScript), so it does nothing.
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const { join } = require("node:path");

if (!existsSync(join(__dirname, "binding.gyp"))) {
  console.log("zkdl-chain: no native sources here (an installed package): nothing to build");
  process.exit(0);
}
const r = spawnSync("node-gyp", ["rebuild", "--directory", "native"], { cwd: join(__dirname, ".."), stdio: "inherit", shell: process.platform === "win32" });
if (r.error) {
  console.error(`zkdl-chain: could not run node-gyp: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
