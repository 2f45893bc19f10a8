/**
 * "Trust no one": what runs in a browser (core/, the protocols and the run verifier; client/, the SDK;
 * web/app.ts, the page) imports no Node module and nothing native. This walks their import graph with
 * the TypeScript parser (imports, `import type`, `export … from`, `import x = require()`, `require()`,
 * dynamic `import()`, `import("…").T` types) and fails naming the file and the specifier for:
 *   - a Node builtin (`node:…` or a bare builtin name);
 *   - a relative import leaving the browser-safe folders (native/, prover/, relayer/, cli/,
 *     typechain-types/, …), or core/ importing client/ or web/;
 *   - a package outside ALLOWED_PACKAGES;
 *   - a free use of the Node globals Buffer, process, __dirname, __filename, require, global.
 */
import { expect } from "chai";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const ROOT = resolve(__dirname, "../..");

/** The packages browser code may import (by package name; deep imports of them are fine). */
const ALLOWED_PACKAGES = new Set(["@noble/curves", "@noble/hashes", "@openzeppelin/merkle-tree", "zod", "ethers"]);

const NODE_GLOBALS = new Set(["Buffer", "process", "__dirname", "__filename", "require", "global"]);

/** Where each browser-safe folder may import from (repository-relative folder prefixes). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "core/": ["core/"],
  "client/": ["core/", "client/"],
  "web/": ["core/", "client/", "web/"],
};

export interface Violation {
  readonly file: string;
  readonly what: string;
}

interface Reference {
  readonly specifier: string;
  readonly line: number;
}

/** Every module specifier a source file names, in any import form. */
export function moduleReferences(sf: ts.SourceFile): Reference[] {
  const out: Reference[] = [];
  const add = (node: ts.Node, lit: ts.Node | undefined) => {
    if (lit && ts.isStringLiteralLike(lit)) out.push({ specifier: lit.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === "require"))) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Free uses of Node's globals (an identifier that is not a property name, a member or a declaration's name). */
export function nodeGlobalUses(sf: ts.SourceFile): Reference[] {
  const out: Reference[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text) && !isMemberName(node)) {
      out.push({ specifier: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function isMemberName(id: ts.Identifier): boolean {
  const p = id.parent;
  if (!p) return false;
  if ((ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) && (ts.isPropertyAccessExpression(p) ? p.name : p.right) === id) return true;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodSignature(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isEnumMember(p)) && p.name === id) return true;
  return false;
}

const packageName = (spec: string) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");

/** The repository file a relative specifier names (TypeScript's resolution: .ts, .tsx, .d.ts, index, .js → .ts). */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, `${base}.d.ts`, join(base, "index.ts"), base.replace(/\.(m|c)?js$/, ".$1ts")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? base;
}

const repoPath = (abs: string) => relative(ROOT, abs).split(sep).join("/");
const areaOf = (rel: string) => Object.keys(MAY_IMPORT).find((a) => rel.startsWith(a));

/**
 * Walks the import graph from `entries` (repository-relative paths) through the browser-safe folders
 * and returns every violation, attributed to the file that commits it.
 */
export function browserSafetyViolations(entries: readonly string[], read: (abs: string) => string = (f) => readFileSync(f, "utf8")): Violation[] {
  const violations: Violation[] = [];
  const seen = new Set<string>();
  const queue = entries.map((e) => resolve(ROOT, e));
  while (queue.length > 0) {
    const abs = queue.shift()!;
    if (seen.has(abs)) continue;
    seen.add(abs);
    const file = repoPath(abs);
    const area = areaOf(file);
    const sf = ts.createSourceFile(abs, read(abs), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const flag = (line: number, what: string) => violations.push({ file: `${file}:${line}`, what });
    for (const { specifier, line } of moduleReferences(sf)) {
      if (specifier.startsWith(".")) {
        const target = resolveRelative(abs, specifier);
        const rel = repoPath(target);
        if (rel.startsWith("..")) flag(line, `"${specifier}" resolves outside the repository`);
        else if (!area || !MAY_IMPORT[area].some((a) => rel.startsWith(a))) flag(line, `"${specifier}" resolves to ${rel} (${area ?? "?"} may import only ${area ? MAY_IMPORT[area].join(", ") : "nothing"})`);
        else if (/\.(ts|tsx)$/.test(rel)) queue.push(target);
      } else if (specifier.startsWith("node:") || isBuiltin(specifier)) {
        flag(line, `"${specifier}" is a Node module`);
      } else if (!ALLOWED_PACKAGES.has(packageName(specifier))) {
        flag(line, `"${specifier}" is not an allowed package (${[...ALLOWED_PACKAGES].join(", ")})`);
      }
    }
    for (const { specifier, line } of nodeGlobalUses(sf)) flag(line, `uses the Node global ${specifier}`);
  }
  return violations;
}

function tsFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  return readdirSync(abs, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `${dir}/${f.split(sep).join("/")}`)
    .sort();
}

const describeViolations = (vs: readonly Violation[]) => vs.map((v) => `  ${v.file}: ${v.what}`).join("\n");

describe("layout: browser code imports no Node module and nothing native", () => {
  const all = browserSafetyViolations([...tsFiles("core"), ...tsFiles("client"), ...tsFiles("web")]);
  const under = (prefix: string) => all.filter((v) => v.file.startsWith(prefix));

  it("finds every kind of violation (a synthetic file)", () => {
    const fixture = [
      'import { readFileSync } from "node:fs";',
      'import type { FrTensor } from "../../native";',
      'export { nativeEngine } from "../../prover/native-engine";',
      'import * as path from "path";',
      'import chalk from "chalk";',
      'import { ok } from "@noble/hashes/sha3.js";',
      'import { fine } from "./fr";',
      'const a = require("../../relayer/registry");',
      'const b = import("../../cli/main");',
      'type C = import("../../typechain-types").ProofRegistry;',
      "const d = Buffer.from([1]); const e = process.env.X; const f = __dirname; const o = { require: 1, process: 2 }; o.require;",
      "class K { require() { return this.require; } }",
    ].join("\n");
    const entry = join(ROOT, "core/crypto/__fixture__.ts");
    const vs = browserSafetyViolations(["core/crypto/__fixture__.ts"], (abs) => (abs === entry ? fixture : readFileSync(abs, "utf8")));
    const mine = vs.filter((v) => v.file.startsWith("core/crypto/__fixture__.ts")).map((v) => `${v.file.split(":")[1]} ${v.what}`);
    const expected = [
      [1, /"node:fs" is a Node module/],
      [2, /"\.\.\/\.\.\/native" resolves to native\/index\.ts \(core\/ may import only core\/\)/],
      [3, /resolves to prover\/native-engine\.ts/],
      [4, /"path" is a Node module/],
      [5, /"chalk" is not an allowed package/],
      [8, /resolves to relayer\/registry\.ts/],
      [8, /uses the Node global require/],
      [9, /resolves to cli\/main\.ts/],
      [10, /resolves to typechain-types/],
      [11, /Node global Buffer/],
      [11, /Node global process/],
      [11, /Node global __dirname/],
    ] as const;
    for (const [line, re] of expected) expect(mine.some((m) => m.startsWith(`${line} `) && re.test(m)), `line ${line} ${re}\n${mine.join("\n")}`).to.equal(true);
    expect(mine, mine.join("\n")).to.have.length(expected.length);
    // core/ may not lean on client/ either.
    const upward = browserSafetyViolations(["core/crypto/__fixture__.ts"], (abs) => (abs === entry ? 'import "../../client/sdk";' : readFileSync(abs, "utf8")));
    expect(upward.map((v) => v.what)).to.deep.equal(['"../../client/sdk" resolves to client/sdk.ts (core/ may import only core/)']);
  });

  it("core/: the protocols and the run verifier", () => {
    expect(under("core/"), `\n${describeViolations(under("core/"))}`).to.deep.equal([]);
  });

  it("client/: the SDK", () => {
    expect(under("client/"), `\n${describeViolations(under("client/"))}`).to.deep.equal([]);
  });

  it("web/: the page and its verification worker", () => {
    expect(under("web/"), `\n${describeViolations(under("web/"))}`).to.deep.equal([]);
  });
});
