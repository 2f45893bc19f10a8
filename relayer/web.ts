/**
 * The web page the API serves at `/`: web/index.html and web/app.ts, bundled for the browser with
 * esbuild when first asked for (no build step, nothing generated in the repository). The page checks
 * membership answers with the same SDK as everyone else (relayer/sdk.ts: @noble/curves,
 * @openzeppelin/merkle-tree and ethers, all in the browser); the native core and Node's modules it
 * cannot have are replaced by stand-ins that fail loudly if ever called.
 */
import { build, type Plugin } from "esbuild";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const WEB = join(__dirname, "../web");

/** Node-only imports the SDK's dependencies name but never call in the browser. */
const browserStandIns: Plugin = {
  name: "browser-stand-ins",
  setup(b) {
    b.onResolve({ filter: /(^|\/)native$/ }, () => ({ path: "native", namespace: "stand-in" }));
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: "crypto", namespace: "stand-in" }));
    b.onLoad({ filter: /.*/, namespace: "stand-in" }, (a) => ({
      loader: "js",
      contents:
        a.path === "crypto"
          ? "export function randomBytes(n) { return globalThis.crypto.getRandomValues(new Uint8Array(n)); }"
          : "module.exports = new Proxy({}, { get: (_, name) => () => { throw new Error(`the native core (${String(name)}) is not available in a browser`); } });",
    }));
  },
};

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
    plugins: [browserStandIns],
  }).then((r) => ({ html: readFileSync(join(WEB, "index.html"), "utf8"), js: r.outputFiles[0].text }));
  assets.catch(() => (assets = undefined));
  return assets;
}
