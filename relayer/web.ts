/**
 * The web page the API serves at `/`: web/index.html and web/app.ts, bundled for the browser with
 * esbuild when first asked for (no build step, nothing generated in the repository). The page checks
 * membership answers with the same SDK as everyone else (client/sdk.ts: @noble/curves,
 * @openzeppelin/merkle-tree and ethers, all in the browser). The bundle needs no stand-ins: core/ and
 * client/ import no Node module and nothing native (test/layout/imports.test.ts keeps it so).
 * The page's whole-run verifier (web/verify-worker.ts: core/run/verify.ts on pure @noble/curves,
 * through client/verify-run.ts) is a second bundle, a classic Web Worker script served at
 * /verify-worker.js.
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const WEB = join(__dirname, "../web");

export interface WebAssets {
  readonly html: string;
  readonly js: string;
  /** The whole-run verification worker's script. */
  readonly worker: string;
}

let assets: Promise<WebAssets> | undefined;

/** The page and its script (bundled once per process). */
export function webAssets(): Promise<WebAssets> {
  const bundle = (entry: string, format: "esm" | "iife") =>
    build({
      entryPoints: [join(WEB, entry)],
      bundle: true,
      write: false,
      format,
      platform: "browser",
      target: "es2022",
      minify: true,
      legalComments: "none",
      logLevel: "silent",
    }).then((r) => r.outputFiles[0].text);
  assets ??= Promise.all([bundle("app.ts", "esm"), bundle("verify-worker.ts", "iife")]).then(([js, worker]) => ({ html: readFileSync(join(WEB, "index.html"), "utf8"), js, worker }));
  assets.catch(() => (assets = undefined));
  return assets;
}
