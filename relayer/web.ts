/**
 * The web page the API serves at `/`: web/index.html and web/app.ts, bundled for the browser with
 * esbuild when first asked for (no build step, nothing generated in the repository). The page checks
 * membership answers with the same SDK as everyone else (client/sdk.ts: @noble/curves,
 * @openzeppelin/merkle-tree and ethers, all in the browser). The bundle needs no stand-ins: core/ and
 * client/ import no Node module and nothing native (test/layout/imports.test.ts keeps it so).
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const WEB = join(__dirname, "../web");

export interface WebAssets {
  readonly html: string;
  readonly js: string;
}

let assets: Promise<WebAssets> | undefined;

/** The page and its script (bundled once per process). */
export function webAssets(): Promise<WebAssets> {
  assets ??= build({
    entryPoints: [join(WEB, "app.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  }).then((r) => ({ html: readFileSync(join(WEB, "index.html"), "utf8"), js: r.outputFiles[0].text }));
  assets.catch(() => (assets = undefined));
  return assets;
}
