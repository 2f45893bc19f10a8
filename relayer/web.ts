/**
 * The web page the API serves at `/`: web/index.html and web/app.ts, bundled for the browser with
 * esbuild when first asked for (no build step, nothing generated in the repository). The page checks
 * membership answers with the same SDK as everyone else (relayer/sdk.ts: @noble/curves,
 * @openzeppelin/merkle-tree and ethers, all in the browser); the native core and Node's modules it
 * cannot have are replaced by stand-ins that fail loudly if ever called. The page's whole-run verifier
 * (web/verify-worker.ts: core/run/verify.ts on pure @noble/curves) is a second bundle, a classic
 * Web Worker script served at /verify-worker.js.
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

/**
 * Until core/ stops using Buffer (core/dataset/tree.ts compares hashes with Buffer#compare; the core
 * purity change removes it, and this with it): Buffer.from(arrayBuffer, offset, length).compare only.
 */
const bufferStandIn = `globalThis.Buffer ??= { from(b, o, l) { const u = new Uint8Array(b, o, l); u.compare = (t, ts, te, ss, se) => { for (let k = 0; k < te - ts; k++) { const d = u[ss + k] - t[ts + k]; if (d) return d < 0 ? -1 : 1; } return 0; }; return u; } };`;

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
      banner: { js: bufferStandIn },
      plugins: [browserStandIns],
    }).then((r) => r.outputFiles[0].text);
  assets ??= Promise.all([bundle("app.ts", "esm"), bundle("verify-worker.ts", "iife")]).then(([js, worker]) => ({ html: readFileSync(join(WEB, "index.html"), "utf8"), js, worker }));
  assets.catch(() => (assets = undefined));
  return assets;
}
