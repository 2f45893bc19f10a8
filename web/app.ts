/**
 * The copyright owner's page (served by `zkdl serve` at /, bundled by relayer/web.ts). It lists the
 * runs with their on-chain status, turns a dropped image or a picked MNIST digit into the run's
 * record format, asks the API, and checks the answer with the SDK right here: the Schnorr opening
 * proof (@noble/curves), the Merkle proof (@openzeppelin/merkle-tree) and, with the chain the server
 * names, the manifest, root and proof against ProofRegistry over read-only JSON-RPC.
 */
import { grayPixels } from "../core/data/quantize";
import type { z } from "zod";
import { type ConfigAnswer, type RunSummary, configAnswer, errorAnswer, examplesAnswer, firstIssue, runsAnswer } from "../client/api";
import { MembershipCheckError, type MembershipResult, checkMembership } from "../client/sdk";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const short = (hex: string) => `${hex.slice(0, 10)}…${hex.slice(-6)}`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** GETs an API answer and parses it with the client's schema. */
async function getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  const res = await fetch(path);
  const body: unknown = await res.json();
  if (!res.ok) {
    const e = errorAnswer.safeParse(body);
    throw new Error(e.success ? e.data.error.message : `${path}: HTTP ${res.status}`);
  }
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

const state: { config?: ConfigAnswer; runs: RunSummary[]; run?: RunSummary } = { runs: [] };

function imageSide(run: RunSummary): number | undefined {
  const side = Math.round(Math.sqrt(run.data.features));
  return side * side === run.data.features ? side : undefined;
}

function renderRuns() {
  const body = $("runs");
  body.replaceChildren();
  if (state.runs.length === 0) body.append(el("tr", {}, el("td", { colSpan: 6, textContent: "no runs served here yet (zkdl publish adds them)" })));
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
  const chain = state.config?.chain;
  try {
    const answer = await checkMembership({ api: location.origin, runId: run.runId, record: { pixels }, ...(chain ? { rpc: chain.rpcUrl, registry: chain.registry } : {}) });
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
  if (!a.member) {
    result.replaceChildren(
      el("p", { className: "verdict not-member", textContent: "Not in this run's training set" }),
      el("p", { className: "note", textContent: "That is the server's word: the dataset's commitments hide the records, so absence cannot be proven, only presence." }),
      el("p", { className: "small", textContent: status }),
      checks(a.checked),
    );
    return;
  }
  result.replaceChildren(
    el("p", { className: "verdict member", textContent: `In the training set: record #${a.index}` }),
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

async function main() {
  wireDrop();
  state.config = await getJson("/v1/config", configAnswer);
  const c = state.config.chain;
  $("chain").textContent = c ? `Chain ${c.chainId} at ${c.rpcUrl}, ProofRegistry ${c.registry}` : "No chain configured: statuses unknown, on-chain checks skipped.";
  state.runs = (await getJson("/v1/runs", runsAnswer)).runs;
  renderRuns();
  if (state.runs[0]) await selectRun(state.runs[0]);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  $("runs").replaceChildren(el("tr", {}, el("td", { colSpan: 6, textContent: `could not load: ${(err as Error).message}` })));
});
