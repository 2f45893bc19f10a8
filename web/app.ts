/**
 * The copyright owner's page (served by `zkdl serve` at /, bundled by relayer/web.ts). It lists the
 * runs with their on-chain status, turns a dropped image or a picked MNIST digit into the run's
 * record format, asks the API, and checks the answer with the SDK right here: the Schnorr opening
 * proof (@noble/curves), the Merkle proof (@openzeppelin/merkle-tree) and, with a chain, the
 * manifest, root and proof against ProofRegistry over read-only JSON-RPC. "Verify the whole run here"
 * verifies a run's complete training proof in a Web Worker (web/verify-worker.ts), against the chain,
 * next to the attestors' on-chain verdict.
 *
 * The chain is the one thing trusted: by default the RPC URL, chain id and registry come from this
 * server's /v1/config, so a server that lies about them can point the page at a chain of its own. The
 * user can pin the chain in the page's address, `?rpc=<url>&registry=<address>` (and `&chainId=<id>`),
 * which overrides the server's; the page says which chain it checks against and who named it.
 */
import { ADDRESS_HEX } from "../core/crypto/hex";
import { grayPixels } from "../core/data/quantize";
import type { z } from "zod";
import { type ConfigAnswer, type RunSummary, configAnswer, errorAnswer, examplesAnswer, firstIssue, runsAnswer } from "../client/api";
import { MembershipCheckError, type MembershipResult, checkMembership, membershipHeadline } from "../client/sdk";
import type { VerifyMessage, VerifyResult, VerifyStart } from "./verify-messages";
import type { OnChainRun } from "../client/verify-run";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const short = (hex: string) => `${hex.slice(0, 10)}…${hex.slice(-6)}`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** GETs an API answer and parses it with the client's schema (an error status or a body that is not JSON says so, not a JSON syntax error). */
async function getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(path);
  const json = /^application\/([\w.+-]+\+)?json\b/i.test(res.headers.get("content-type") ?? "");
  const body: unknown = json ? await res.json().catch(() => undefined) : undefined;
  if (!res.ok) {
    const e = errorAnswer.safeParse(body);
    throw new Error(e.success ? e.data.error.message : `${path}: HTTP ${res.status}${json ? "" : ` (${res.headers.get("content-type") ?? "no content type"})`}`);
  }
  if (body === undefined) throw new Error(`${path}: the answer is not JSON (${res.headers.get("content-type") ?? "no content type"})`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new Error(`${path}: malformed answer (${firstIssue(parsed.error)})`);
  return parsed.data;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** A square grayscale record drawn on a canvas (white on black, like MNIST). */
function digitCanvas(pixels: ArrayLike<number>, side: number): HTMLCanvasElement {
  const canvas = el("canvas", { width: side, height: side, className: "digit" });
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) img.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
  ctx.putImageData(img, 0, 0);
  return canvas;
}

/** An image file as the run's record: resized to side×side, one 8-bit gray value per pixel. */
async function imagePixels(file: File, side: number): Promise<number[]> {
  const bitmap = await createImageBitmap(file).catch(() => {
    throw new Error(`${file.name} is not an image this browser can read`);
  });
  const canvas = el("canvas", { width: side, height: side });
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0, side, side);
  return grayPixels(ctx.getImageData(0, 0, side, side).data);
}

/** The chain the page checks against, and who named it: the server's /v1/config, or the user in the page's address. */
type Chain = { readonly rpcUrl: string; readonly registry: string; readonly chainId?: string; readonly source: "server" | "user" };

const state: { config?: ConfigAnswer; chain?: Chain; runs: RunSummary[]; run?: RunSummary } = { runs: [] };

/** The chain pinned in the page's address (?rpc=…&registry=…[&chainId=…]), checked; undefined when none is. */
function pinnedChain(params: URLSearchParams): Chain | undefined {
  const rpc = params.get("rpc");
  const registry = params.get("registry");
  const chainId = params.get("chainId");
  if (rpc === null && registry === null && chainId === null) return undefined;
  if (!rpc || !registry) throw new Error("to pin the chain, give both ?rpc=<JSON-RPC URL> and &registry=<ProofRegistry address>");
  let url: URL;
  try {
    url = new URL(rpc);
  } catch {
    throw new Error(`?rpc=${rpc} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`?rpc=${rpc} is not an http(s) URL`);
  if (!ADDRESS_HEX.test(registry)) throw new Error(`?registry=${registry} is not an address`);
  if (chainId !== null && !/^[1-9][0-9]{0,77}$/.test(chainId)) throw new Error(`?chainId=${chainId} is not a chain id`);
  return { rpcUrl: url.href, registry, ...(chainId ? { chainId } : {}), source: "user" };
}

/** What the page says about the chain it checks against. */
function showChain(c: Chain | undefined) {
  const box = $("chain");
  box.dataset.source = c?.source ?? "none";
  if (!c) {
    box.replaceChildren(
      el("strong", { textContent: "No chain: " }),
      "statuses unknown, on-chain checks skipped; a proof verified here is valid for its run id, but nothing says the run is registered. Pin a chain with ?rpc=<url>&registry=<address> in this page's address.",
    );
    return;
  }
  box.replaceChildren(
    el("strong", { textContent: "Checked against: " }),
    `chain ${c.chainId ?? "(any id)"} at `,
    el("code", { textContent: c.rpcUrl }),
    ", ProofRegistry ",
    el("code", { textContent: c.registry }),
    " — ",
    el("strong", {
      textContent: c.source === "user" ? "pinned by you in this page's address" : "as named by this server (/v1/config)",
    }),
    c.source === "user" ? "." : ". Whoever names the chain decides what it says; to trust your own endpoint instead, open this page with ?rpc=<url>&registry=<address>.",
  );
}

function imageSide(run: RunSummary): number | undefined {
  const side = Math.round(Math.sqrt(run.data.features));
  return side * side === run.data.features ? side : undefined;
}

function renderRuns() {
  const body = $("runs");
  body.replaceChildren();
  if (state.runs.length === 0) body.append(el("tr", {}, el("td", { colSpan: 7, textContent: "no runs served here yet (zkdl publish adds them)" })));
  for (const run of state.runs) {
    const chain = run.chain.error ? `${run.chain.status} (${run.chain.error})` : `${run.chain.status} · ${run.chain.validCount ?? 0} valid / ${run.chain.invalidCount ?? 0} invalid`;
    const row = el(
      "tr",
      { className: `run${run === state.run ? " selected" : ""}`, title: run.runId },
      el("td", {}, el("code", { textContent: short(run.runId) })),
      el("td", { textContent: `MLP ${run.model.layers.join("-")}, batch ${run.model.batch}` }),
      el("td", { textContent: String(run.dataset.size) }),
      el("td", { textContent: String(run.steps) }),
      el("td", { textContent: kib(run.proofBytes) }),
      el("td", {}, el("span", { className: `status ${run.chain.status}`, textContent: chain })),
    );
    row.append(verifyCell(run));
    row.dataset.testid = "run";
    row.onclick = () => selectRun(run);
    body.append(row);
  }
}

async function selectRun(run: RunSummary) {
  state.run = run;
  renderRuns();
  $("result").replaceChildren(el("p", { className: "note", textContent: "Drop an image or pick a digit." }));
  $("query").replaceChildren();
  const box = $("examples");
  box.replaceChildren();
  if (run.data.source !== "mnist") return;
  const side = imageSide(run)!;
  for (const [set, title] of [
    ["train", "MNIST digits from the training range"],
    ["test", "MNIST test digits (never trained on)"],
  ] as const) {
    const { examples } = await getJson(`/v1/examples/mnist?set=${set}&count=8&distinct=true`, examplesAnswer);
    const gallery = el("div", { className: "gallery" });
    for (const ex of examples) {
      const button = el("button", { title: `${set} digit ${ex.index} (a ${ex.label})` }, digitCanvas(ex.pixels, side));
      button.dataset.testid = `example-${set}-${ex.index}`;
      button.onclick = () => void check(ex.pixels, `MNIST ${set} digit ${ex.index} (a ${ex.label})`);
      gallery.append(button);
    }
    box.append(el("p", { className: "small", textContent: title }), gallery);
  }
}

async function check(pixels: number[], what: string) {
  const run = state.run;
  if (!run) return;
  const side = imageSide(run);
  $("query").replaceChildren(...(side ? [digitCanvas(pixels, side)] : []), el("p", { className: "small", textContent: what }));
  const result = $("result");
  result.dataset.state = "checking";
  result.replaceChildren(el("p", { className: "note", textContent: "Asking the API and checking its proofs in this browser…" }));
  const chain = state.chain;
  try {
    const answer = await checkMembership({ api: location.origin, runId: run.runId, record: { pixels }, ...(chain ? { rpc: chain.rpcUrl, registry: chain.registry, ...(chain.chainId ? { chainId: chain.chainId } : {}) } : {}) });
    showAnswer(answer);
  } catch (err) {
    result.dataset.state = err instanceof MembershipCheckError ? "rejected" : "error";
    const title = err instanceof MembershipCheckError ? `The answer does not check out (${err.check})` : "Could not check";
    result.replaceChildren(el("p", { className: "verdict rejected", textContent: title }), el("p", { textContent: (err as Error).message }));
  }
}

function showAnswer(a: MembershipResult) {
  const result = $("result");
  result.dataset.state = a.member ? "member" : "not-member";
  const status = a.status ? `The run is ${a.status} on chain${a.certified ? " (certified by its attestors' quorum)" : ""}.` : "No chain configured: on-chain checks skipped.";
  // "Proven" only for a certified run on a chain the user pinned: a server names a chain of its choosing.
  const source = state.chain?.source === "user" ? "own" : "server";
  const proven = a.proven && source === "own";
  const verdict = (text: string) => el("p", { className: `verdict ${proven ? (a.member ? "member" : "not-member") : "unanchored"}`, textContent: text });
  if (!a.member) {
    result.replaceChildren(
      verdict(`Not in this run's training set: ${membershipHeadline(a, source)}`),
      el("p", { className: "note", textContent: `The record's fingerprint, computed in this browser, lies strictly between two consecutive fingerprints of the run's sorted fingerprint tree${a.proven ? ", whose root the publisher registered and the run's attestors checked against the dataset" : ""}.` }),
      el("p", { className: "small", textContent: status }),
      el("p", { className: "small", textContent: "Checked in this browser:" }),
      checks(a.checked),
      el("p", { className: "small mono", textContent: `fingerprint ${a.fingerprint}` }),
    );
    return;
  }
  result.replaceChildren(
    verdict(`In the training set: ${membershipHeadline(a, source)}`),
    el("p", { className: "small", textContent: status }),
    el("p", { className: "small", textContent: "Checked in this browser:" }),
    checks(a.checked),
    el("p", { className: "small mono", textContent: `root ${a.root}` }),
  );
}

const checks = (names: string[]) => el("ul", { className: "checks" }, ...names.map((n) => el("li", { textContent: n })));

function wireDrop() {
  const drop = $("drop");
  const file = $<HTMLInputElement>("file");
  const take = async (f: File | undefined) => {
    if (!f || !state.run) return;
    $("result").dataset.state = "checking"; // at once: decoding the image comes first
    const side = imageSide(state.run);
    if (!side) {
      $("result").dataset.state = "error";
      $("result").replaceChildren(el("p", { className: "verdict rejected", textContent: "This run's records are not square images" }));
      return;
    }
    try {
      await check(await imagePixels(f, side), f.name);
    } catch (err) {
      $("result").dataset.state = "error";
      $("result").replaceChildren(el("p", { className: "verdict rejected", textContent: (err as Error).message }));
    }
  };
  file.onchange = () => void take(file.files?.[0]);
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add("over");
  };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void take(e.dataTransfer?.files[0]);
  };
}

// ---- Whole-run verification (web/verify-worker.ts): every window proof, in this browser ----

const verifications = new Map<string, { panel: HTMLElement; worker?: Worker }>();

/** The row's "Verify the whole run here" button. */
function verifyCell(run: RunSummary): HTMLTableCellElement {
  const button = el("button", { className: "verify", textContent: "Verify the whole run here", title: "Verify every window proof (the steps proven a window at a time), the chain of weights, the dataset root and the record fingerprints (their tree and their proof) in this browser" });
  button.dataset.testid = "verify-run";
  button.disabled = verifications.get(run.runId)?.worker !== undefined;
  button.onclick = (e) => {
    e.stopPropagation();
    verifyWholeRun(run);
    renderRuns();
  };
  return el("td", {}, button);
}

/** The verdict of the run's attestors, as the chain itself says it. */
function chainVerdict(c: OnChainRun, chain: Chain): string {
  return `On chain (read from ${chain.rpcUrl}, ${chain.source === "user" ? "pinned by you" : "named by this server"}): ${c.status} · ${c.validCount} valid / ${c.invalidCount} invalid attestations`;
}

/** What the attestors' on-chain verdict means next to this browser's. */
function attestorsSay(c: OnChainRun, r: VerifyResult): string {
  switch (c.status) {
    case "Verified":
    case "Rejected": {
      const attested = c.status === "Verified";
      if (attested === r.valid) return `This browser agrees with the attestors (${attested ? "they verified the run" : "they rejected the run"}).`;
      if (!r.valid && r.windows === 0) return "This browser disagrees with the attestors: the bundle served here fails before any window proof, so it is not the run they judged (fetch it from another source).";
      return `This browser DISAGREES with the attestors (they ${attested ? "verified" : "rejected"} the run).`;
    }
    case "Revoked":
      return "The run was revoked (by its publisher or an admin): whatever its proofs say, it is withdrawn and not certified.";
    case "Registered":
      return "The attestors have not decided yet.";
    default:
      return "The run is not registered on this chain.";
  }
}

function verifyWholeRun(run: RunSummary) {
  const old = verifications.get(run.runId);
  old?.worker?.terminate();
  const chain = state.chain ?? null;
  const progress = el("progress", { max: Math.max(run.steps, 1), value: 0 });
  progress.dataset.testid = "verify-progress";
  const count = el("span", { className: "small", textContent: `0 / ${run.steps} steps` });
  const stage = el("p", { className: "small", textContent: "starting…" });
  const verdict = el("p", { className: "verdict" });
  verdict.dataset.testid = "verify-verdict";
  const onChain = el("p", { className: "small", textContent: chain ? `On chain (${chain.rpcUrl}, ${chain.source === "user" ? "pinned by you" : "named by this server"}): reading…` : "No chain: the bundle is bound to the run id alone (keccak(publisher, manifest digest)); whether the run is registered, and the attestors' verdict, are unknown here." });
  onChain.dataset.testid = "verify-chain";
  const panel = old?.panel ?? el("div", { className: "verification" });
  panel.dataset.testid = "verification";
  panel.dataset.runId = run.runId;
  panel.dataset.state = "running";
  panel.replaceChildren(
    el("p", {}, el("strong", { textContent: `Run ` }), el("code", { textContent: short(run.runId) }), ` · MLP ${run.model.layers.join("-")}, ${run.steps} steps, ${kib(run.proofBytes)} of proof`),
    el("div", { className: "bar" }, progress, count),
    stage,
    verdict,
    onChain,
  );
  if (!old) $("verifications").prepend(panel);
  $("verify-none")?.remove();

  const worker = new Worker("/verify-worker.js");
  verifications.set(run.runId, { panel, worker });
  const finish = () => {
    worker.terminate();
    verifications.set(run.runId, { panel });
    renderRuns();
  };
  worker.onmessage = (e: MessageEvent<VerifyMessage>) => {
    const m = e.data;
    if (m.type === "stage") stage.textContent = m.text;
    else if (m.type === "chain" && chain) onChain.textContent = chainVerdict(m.onChain, chain);
    else if (m.type === "progress") {
      progress.max = Math.max(m.total, 1);
      progress.value = m.done;
      count.textContent = `${m.done} / ${m.total} steps`;
      stage.textContent =
        m.done < m.total ? `verifying window ${m.windowsDone + 1} of ${m.windowsTotal} (from step ${m.done + 1} of ${m.total}) with @noble/curves…` : "checked every window";
    } else if (m.type === "result") {
      showRunVerdict(panel, m, { stage, verdict, onChain, chain });
      finish();
    } else if (m.type === "error") {
      panel.dataset.state = "error";
      stage.textContent = "";
      verdict.className = "verdict rejected";
      verdict.textContent = `Could not verify: ${m.message}`;
      finish();
    }
  };
  worker.onerror = (e) => {
    panel.dataset.state = "error";
    verdict.className = "verdict rejected";
    verdict.textContent = `Could not verify: ${e.message || "the verification worker failed"}`;
    finish();
  };
  const start: VerifyStart = { type: "start", bundleUrl: new URL(`/v1/runs/${run.runId}/bundle`, location.origin).href, runId: run.runId, chain: chain ? { rpcUrl: chain.rpcUrl, registry: chain.registry, ...(chain.chainId ? { chainId: chain.chainId } : {}) } : null };
  worker.postMessage(start);
}

function showRunVerdict(panel: HTMLElement, r: VerifyResult, ui: { stage: HTMLElement; verdict: HTMLElement; onChain: HTMLElement; chain: Chain | null }) {
  // Valid proofs not checked against a chain are valid for the run id, nothing more: no green "Valid".
  panel.dataset.state = !r.valid ? "invalid" : r.anchored ? "valid" : "unanchored";
  panel.dataset.ms = String(Math.round(r.ms));
  panel.dataset.steps = String(r.steps);
  panel.dataset.windows = String(r.windows);
  panel.dataset.windowMs = r.windowMs.map((ms) => Math.round(ms)).join(",");
  const seconds = `${(r.ms / 1000).toFixed(2)} s`;
  ui.stage.textContent = `${kib(r.bundleBytes)} downloaded in ${(r.downloadMs / 1000).toFixed(2)} s; ${r.windows} of ${r.totalWindows} window proofs (${r.steps} of ${r.total} steps) verified in ${seconds} (checks against the ${r.anchored ? "chain" : "run id"} included).`;
  const what = `${r.total === 1 ? "the training step" : `all ${r.total} training steps`}, the chain of weights, the dataset root and the record fingerprints verify, in this browser`;
  ui.verdict.className = `verdict ${!r.valid ? "rejected" : r.anchored ? "member" : "unanchored"}`;
  ui.verdict.textContent = !r.valid
    ? `Invalid: ${r.reason ?? "no reason given"}`
    : r.anchored
      ? `Valid: ${what}`
      : `Unanchored: the proof is valid for this run id (${what}), but it was not checked against any chain`;
  if (r.onChain && ui.chain) ui.onChain.textContent = `${chainVerdict(r.onChain, ui.chain)}. ${attestorsSay(r.onChain, r)}`;
}

async function main() {
  wireDrop();
  const pinned = pinnedChain(new URLSearchParams(location.search));
  state.config = await getJson("/v1/config", configAnswer);
  const c = state.config.chain;
  state.chain = pinned ?? (c ? { rpcUrl: c.rpcUrl, registry: c.registry, chainId: c.chainId, source: "server" } : undefined);
  showChain(state.chain);
  state.runs = (await getJson("/v1/runs", runsAnswer)).runs;
  renderRuns();
  if (state.runs[0]) await selectRun(state.runs[0]);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  $("runs").replaceChildren(el("tr", {}, el("td", { colSpan: 7, textContent: `could not load: ${(err as Error).message}` })));
});
