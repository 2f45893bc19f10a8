/**
 * "Trust no one": what runs in a browser (core/, the protocols and the run verifier; client/, the SDK;
 * web/app.ts, the page) imports no Node module and nothing native. This walks their import graph with
 * the TypeScript parser (imports, `import type`, `export … from`, `import x = require()`, `require()`,
 * dynamic `import()`, `import("…").T` types) and fails naming the file and the specifier for:
 *   - a Node builtin (`node:…` or a bare builtin name);
 *   - a relative import leaving the browser-safe folders (native/, prover/, relayer/, cli/,
 *     typechain-types/, …), or core/ importing client/ or web/;
 *   - a package outside ALLOWED_PACKAGES;
 *   - a free use of the Node globals Buffer, process, __dirname, __filename, require, global, module,
 *     exports (a parameter or a local of that name is not one), or one reached through the global
 *     object (`globalThis.process`, `self["Buffer"]`, `window.require`);
 *   - code made from strings: `eval(…)`, `Function(…)`, `new Function(…)`.
 * And the three folders hold no source but TypeScript (.ts): a .js, .mjs, .cjs, .mts, .cts, .tsx or
 * .jsx file there would be outside this walk (other files — README.md, index.html, tsconfig.json — are fine).
 */
import { expect } from "chai";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

const ROOT = resolve(__dirname, "../..");

/** The packages browser code may import (by package name; deep imports of them are fine). */
const ALLOWED_PACKAGES = new Set(["@noble/curves", "@noble/hashes", "@openzeppelin/merkle-tree", "zod", "ethers"]);

const NODE_GLOBALS = new Set(["Buffer", "process", "__dirname", "__filename", "require", "global", "module", "exports"]);
/** The names of the global object in a browser, a worker and Node. */
const GLOBAL_OBJECTS = new Set(["globalThis", "self", "window", "global"]);
/** Source files the walk would not read: none may sit in the browser-safe folders. */
const OTHER_SOURCES = /\.(js|mjs|cjs|mts|cts|tsx|jsx)$/;

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

/**
 * Free uses of Node's globals (an identifier that is not a property name, a member, or bound by a
 * declaration in an enclosing scope), Node globals reached through the global object, and code made
 * from strings (eval, Function).
 */
export function nodeGlobalUses(sf: ts.SourceFile): Reference[] {
  const out: Reference[] = [];
  const at = (node: ts.Node, specifier: string) => out.push({ specifier, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text) && !isMemberName(node) && !isBound(node)) at(node, `uses the Node global ${node.text}`);
    // globalThis.process, self["Buffer"], window.require: the global object's Node properties.
    const viaGlobal =
      ts.isPropertyAccessExpression(node) ? node.name.text : ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression) ? node.argumentExpression.text : undefined;
    if (viaGlobal !== undefined && NODE_GLOBALS.has(viaGlobal)) {
      const object = (node as ts.PropertyAccessExpression | ts.ElementAccessExpression).expression;
      if (ts.isIdentifier(object) && GLOBAL_OBJECTS.has(object.text) && !isBound(object)) at(node, `uses the Node global ${viaGlobal} (${object.text}.${viaGlobal})`);
    }
    // eval(…), Function(…), new Function(…): code from strings.
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && ts.isIdentifier(node.expression) && ["eval", "Function"].includes(node.expression.text) && !isBound(node.expression)) {
      at(node, `${ts.isNewExpression(node) ? "new " : ""}${node.expression.text}(…) runs code from a string`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The names a binding (a name or a destructuring pattern) declares. */
function bindingNames(name: ts.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) into.add(name.text);
  else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bindingNames(e.name, into);
}

/** The names a scope-making node declares directly (var hoisting across blocks aside: conservative). */
function declaredIn(scope: ts.Node): Set<string> {
  const names = new Set<string>();
  if (ts.isFunctionLike(scope)) {
    for (const p of scope.parameters) bindingNames(p.name, names);
    if ((ts.isFunctionExpression(scope) || ts.isClassExpression(scope)) && scope.name) names.add(scope.name.text);
  }
  if (ts.isCatchClause(scope) && scope.variableDeclaration) bindingNames(scope.variableDeclaration.name, names);
  if ((ts.isForStatement(scope) || ts.isForInStatement(scope) || ts.isForOfStatement(scope)) && scope.initializer && ts.isVariableDeclarationList(scope.initializer)) {
    for (const d of scope.initializer.declarations) bindingNames(d.name, names);
  }
  const statements = ts.isSourceFile(scope) || ts.isBlock(scope) || ts.isModuleBlock(scope) ? scope.statements : ts.isCaseClause(scope) || ts.isDefaultClause(scope) ? scope.statements : undefined;
  for (const st of statements ?? []) {
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) bindingNames(d.name, names);
    else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) names.add(st.name.text);
    else if (ts.isImportDeclaration(st) && st.importClause) {
      const c = st.importClause;
      if (c.name) names.add(c.name.text);
      if (c.namedBindings) {
        if (ts.isNamespaceImport(c.namedBindings)) names.add(c.namedBindings.name.text);
        else for (const e of c.namedBindings.elements) names.add(e.name.text);
      }
    } else if (ts.isImportEqualsDeclaration(st)) names.add(st.name.text);
  }
  return names;
}

/** Is `id` declared in a scope around it (a parameter, a local, an import), rather than a free name? */
function isBound(id: ts.Identifier): boolean {
  for (let scope: ts.Node | undefined = id.parent; scope; scope = scope.parent) if (declaredIn(scope).has(id.text)) return true;
  return false;
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
    for (const { specifier, line } of nodeGlobalUses(sf)) flag(line, specifier);
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

/** Source files under `dir` that are not TypeScript (.ts), which the walk would not read. */
function otherSources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .map((f) => `${dir}/${f.split(sep).join("/")}`)
    .filter((f) => OTHER_SOURCES.test(f))
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
      'const g = globalThis.process; const h = self["Buffer"]; const i = window.require; const j = module.require("fs");',
      'const k = eval("1"); const l = new Function("return 1"); const m = Function("return 2");',
      "function free(process: number, [Buffer]: number[]) { const require = 1; return process + Buffer + require; }",
      "const n = (x: { process: number }) => { for (const global of [1]) return global + x.process; }; try {} catch (module) { module; }",
      "const q = globalThis.crypto; const r = self.location; const s = window.document;",
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
      [13, /Node global process \(globalThis\.process\)/],
      [13, /Node global Buffer \(self\.Buffer\)/],
      [13, /Node global require \(window\.require\)/],
      [13, /uses the Node global module$/],
      [14, /^14 eval\(…\) runs code from a string/],
      [14, /^14 new Function\(…\) runs code from a string/],
      [14, /^14 Function\(…\) runs code from a string/],
    ] as const;
    for (const [line, re] of expected) expect(mine.some((m) => m.startsWith(`${line} `) && re.test(m)), `line ${line} ${re}\n${mine.join("\n")}`).to.equal(true);
    expect(mine, mine.join("\n")).to.have.length(expected.length);
    // core/ may not lean on client/ either.
    const upward = browserSafetyViolations(["core/crypto/__fixture__.ts"], (abs) => (abs === entry ? 'import "../../client/sdk";' : readFileSync(abs, "utf8")));
    expect(upward.map((v) => v.what)).to.deep.equal(['"../../client/sdk" resolves to client/sdk.ts (core/ may import only core/)']);
  });

  it("a file that is not TypeScript source is found (a synthetic listing)", () => {
    const listing = ["web/index.html", "web/tsconfig.json", "core/README.md", "core/a.ts", "core/b.d.ts", "core/c.js", "client/d.mjs", "client/e.cjs", "web/f.mts", "web/g.tsx", "web/h.jsx", "core/i.cts"];
    expect(listing.filter((f) => OTHER_SOURCES.test(f))).to.deep.equal(["core/c.js", "client/d.mjs", "client/e.cjs", "web/f.mts", "web/g.tsx", "web/h.jsx", "core/i.cts"]);
  });

  it("core/, client/, web/ hold no source but .ts (no .js, .mjs, .cjs, .mts, .cts, .tsx, .jsx)", () => {
    expect([...otherSources("core"), ...otherSources("client"), ...otherSources("web")]).to.deep.equal([]);
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
