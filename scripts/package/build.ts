/**
 * Builds the installable package (`npm pack` runs it as `prepack`; `npm run build:package` by hand):
 * tsc -p tsconfig.package.json compiles the two public entries, core/index.ts (`zkdl-chain/verifier`)
 * and client/index.ts (`zkdl-chain/client`), and whatever they import, to CommonJS with declarations
 * in dist/. Then it fails loudly if
 *   - dist/ holds anything outside dist/core and dist/client (the native addon's wrapper, the prover,
 *     the relayer, the CLI or typechain-types would mean a public entry reaches server-side code), or
 *   - the compiled code requires a package that is not in package.json `dependencies` (what a
 *     consumer of the tarball gets installed).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";

const ROOT = join(__dirname, "../..");
const DIST = join(ROOT, "dist");
/** Where the public entries' code may live in dist/. */
const ALLOWED = ["core/", "client/"];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

function fail(why: string): never {
  console.error(`\nbuild:package FAILED: ${why}\n`);
  process.exit(1);
}

export function buildPackage(): string[] {
  const started = performance.now();
  rmSync(DIST, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.package.json")], { cwd: ROOT, stdio: "inherit" });
  if (tsc.status !== 0) fail("tsc -p tsconfig.package.json");

  const built = files(DIST).map((f) => relative(DIST, f).split("\\").join("/"));
  const outside = built.filter((f) => !ALLOWED.some((a) => f.startsWith(a)));
  if (outside.length) fail(`the public entries reach modules outside core/ and client/:\n  ${outside.join("\n  ")}`);

  const deps = new Set(Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies ?? {}));
  const missing = new Set<string>();
  for (const f of built.filter((f) => f.endsWith(".js"))) {
    for (const [, spec] of readFileSync(join(DIST, f), "utf8").matchAll(/require\("([^"]+)"\)/g)) {
      if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
      if (!deps.has(pkg)) missing.add(`${pkg} (required by dist/${f})`);
    }
  }
  if (missing.size) fail(`the package requires what package.json "dependencies" does not list:\n  ${[...missing].join("\n  ")}`);
  console.log(`build:package: ${built.length} files in dist/ (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return built;
}

if (require.main === module) buildPackage();
