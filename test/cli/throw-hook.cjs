// Preload (`node -r test/cli/throw-hook.cjs bin/zkdl.js …`) that plants a bug: with
// ZKDL_TEST_THROW='{"module":"prover/run-folder","export":"verifyRunFolder","error":"TypeError","message":"…"}'
// the named export of the first module required by a path ending in `module` throws that error when
// called. Used by test/cli/exit.test.ts to show that an error of ours reads as a bug, not as bad input.
"use strict";
const spec = process.env.ZKDL_TEST_THROW ? JSON.parse(process.env.ZKDL_TEST_THROW) : undefined;
if (spec) {
  const Module = require("node:module");
  const load = Module._load;
  Module._load = function (request, ...rest) {
    const exports = load.call(this, request, ...rest);
    if (typeof request !== "string" || !request.endsWith(spec.module)) return exports;
    return new Proxy(exports, {
      get: (target, key) =>
        key === spec.export
          ? () => {
              throw new globalThis[spec.error](spec.message);
            }
          : target[key],
    });
  };
}
