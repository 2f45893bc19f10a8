/**
 * Whole-run verification in a real browser (Debian's Chromium via playwright-core): the page's "Verify
 * the whole run here" runs core/run/verify.ts on pure @noble/curves in a Web Worker, against the
 * chain, and shows its verdict next to the attestors'. Served: a 2-step MNIST run, proven as one window
 * of 2 (Verified on chain), and a copy of it with one byte changed inside window 0's proof, its
 * manifest made consistent and registered like any other (Rejected by the attestors). The page must
 * find the first valid, the second invalid at window 0, and a bundle the server tampers with (one byte of proof.bin, or another
 * run's bundle under this run's id) invalid, each with its reason. The chain is the one thing trusted:
 * without one (a /v1/config naming none) a valid run is "unanchored", not "Valid"; a chain pinned in the
 * page's address (?rpc=…&registry=…) overrides a server's lying /v1/config and is shown as the user's;
 * a pinned chain id the RPC does not report is refused.
 *
 * Chromium as in test/helpers/browser.ts (ZKDL_CHROMIUM, skipped loudly without one outside CI).
 */
import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, openReadyPage, requireChromium } from "../helpers/browser";
import { unpackPublicBundle } from "../../core/run/public-bundle";
import type { LoadedRun } from "../../relayer/runs";
import { type ServedRun, serveVerifiedRun } from "../helpers/served";
import { ethers } from "hardhat";
import { ProofRegistry__factory } from "../../typechain-types";

const STEPS = 2;
const SCREENSHOT = join(__dirname, "../../test-results/web-verify.png");

describe("web page: whole-run verification in a real browser (Web Worker, @noble/curves)", function () {
  this.timeout(300_000);
  let served: ServedRun;
  let browser: Browser;
  let page: Page;
  const pageOf = () => page;

  /** A second page in the same browser, opened at `query`, with /v1/config answered by `config` if given. */
  async function openPage(query: string, config?: unknown): Promise<Page> {
    const p = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    if (config !== undefined) await p.route("**/v1/config", (r) => r.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(config) }));
    await p.goto(served.api + query);
    await p.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    return p;
  }

  before(async function () {
    requireChromium(this);
    const t = performance.now();
    served = await serveVerifiedRun({ steps: STEPS, records: 64, brokenRun: true });
    console.log(`      (two ${STEPS}-step runs trained, published, relayed and attested in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    browser = await launchChromium();
    page = await openReadyPage(browser, served.api);
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });

  /** Clicks the run's "Verify the whole run here" and waits for the verdict. */
  async function verifyInBrowser(runId: string, page = pageOf()): Promise<{ state: string; verdict: string; chain: string; text: string; ms: number; steps: number; windows: number; progress: { value: number; max: number }; seen: string[] }> {
    // Every progress text the panel shows, as it shows it.
    // (a string: the test's TypeScript has no DOM types)
    await page.evaluate(`(() => {
      const seen = (window.progressSeen = []);
      new MutationObserver(() => {
        const text = document.querySelector("[data-testid=verification][data-state=running] .bar span")?.textContent;
        if (text && text !== seen[seen.length - 1]) seen.push(text);
      }).observe(document.getElementById("verifications"), { subtree: true, childList: true, characterData: true, attributes: true });
    })()`);
    await page.click(`[data-testid=run][title="${runId}"] [data-testid=verify-run]`);
    const panel = page.locator(`[data-testid=verification][data-run-id="${runId}"]`);
    await page.waitForSelector(`[data-testid=verification][data-run-id="${runId}"]:not([data-state=running])`, { timeout: 240_000 });
    const progress = panel.locator("[data-testid=verify-progress]");
    return {
      state: (await panel.getAttribute("data-state"))!,
      verdict: await panel.locator("[data-testid=verify-verdict]").innerText(),
      chain: await panel.locator("[data-testid=verify-chain]").innerText(),
      text: await panel.innerText(),
      ms: Number(await panel.getAttribute("data-ms")),
      steps: Number(await panel.getAttribute("data-steps")),
      windows: Number(await panel.getAttribute("data-windows")),
      progress: { value: Number(await progress.evaluate((p) => (p as unknown as { value: number }).value)), max: Number(await progress.evaluate((p) => (p as unknown as { max: number }).max)) },
      seen: (await page.evaluate("window.progressSeen")) as string[],
    };
  }

  /** Makes the API serve `bytes` as the run's bundle while `work` runs. */
  async function lyingServer(runId: string, bytes: Uint8Array, work: () => Promise<void>): Promise<void> {
    const run = served.catalog.get(runId) as LoadedRun;
    const honest = run.bundle;
    Object.assign(run, { bundle: () => bytes });
    try {
      await work();
    } finally {
      Object.assign(run, { bundle: honest });
    }
  }

  it("lists both runs with their on-chain verdicts and a verify button each; serves the worker as JavaScript", async () => {
    const rows = page.locator("[data-testid=run]");
    expect(await rows.count()).to.equal(2);
    expect(await page.locator(`[data-testid=run][title="${served.runId}"]`).innerText()).to.match(/Verified · 2 valid \/ 0 invalid/);
    expect(await page.locator(`[data-testid=run][title="${served.brokenRunId}"]`).innerText()).to.match(/Rejected · 0 valid \/ 2 invalid/);
    expect(await page.locator("[data-testid=verify-run]").count()).to.equal(2);
    const worker = await fetch(`${served.api}/verify-worker.js`);
    expect(worker.status).to.equal(200);
    expect(worker.headers.get("content-type")).to.match(/^text\/javascript/);
  });

  it("verifies a valid run's every window in the browser, next to the attestors' verdict", async () => {
    const r = await verifyInBrowser(served.runId);
    console.log(`      browser verified ${r.steps} steps in ${r.windows} window (784-16-10, batch 16, 64 records) in ${(r.ms / 1000).toFixed(2)} s`);
    expect(r.state, r.text).to.equal("valid");
    expect(r.verdict).to.match(new RegExp(`Valid: all ${STEPS} training steps`));
    expect(r.steps).to.equal(STEPS);
    expect(r.windows).to.equal(1); // the default window of a 2-step run: both steps in one
    expect(r.progress).to.deep.equal({ value: STEPS, max: STEPS });
    // The bar moved window by window (the worker posts after every window).
    expect(r.seen).to.include.members([`0 / ${STEPS} steps`, `${STEPS} / ${STEPS} steps`]);
    expect(r.chain).to.match(/On chain \(read from http:\/\/127\.0\.0\.1:\d+\/?, named by this server\): Verified · 2 valid \/ 0 invalid/);
    expect(r.chain).to.match(/agrees with the attestors/);
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("finds a registered run with a broken window proof invalid at that window (the attestors rejected it too)", async () => {
    const r = await verifyInBrowser(served.brokenRunId!);
    console.log(`      browser refused the broken run after ${r.windows} window in ${(r.ms / 1000).toFixed(2)} s: ${r.verdict}`);
    expect(r.state, r.text).to.equal("invalid");
    expect(r.verdict).to.match(/^Invalid: window 0 \(steps 0–1\): /);
    expect(r.windows).to.equal(1);
    expect(r.steps).to.equal(STEPS);
    expect(r.chain).to.match(/Rejected · 0 valid \/ 2 invalid/);
    expect(r.chain).to.match(/agrees with the attestors/);
  });

  it("finds a bundle with one byte of proof.bin changed by the server invalid", async () => {
    const honest = served.catalog.get(served.runId)!.bundle();
    const tampered = honest.slice();
    // proof.bin is the bundle's last file: a byte inside its (first) window proof.
    const proofBytes = unpackPublicBundle("bundle", honest).read("proof.bin").length;
    tampered[tampered.length - proofBytes + Math.floor(proofBytes / (2 * STEPS))] ^= 0x01;
    await lyingServer(served.runId, tampered, async () => {
      const r = await verifyInBrowser(served.runId);
      expect(r.state, r.text).to.equal("invalid");
      expect(r.verdict).to.equal("Invalid: proof.bin does not match the manifest's digest");
      expect(r.windows).to.equal(0);
      expect(r.chain).to.match(/Verified · 2 valid \/ 0 invalid.*disagrees with the attestors: the bundle served here fails before any window proof/);
    });
  });

  it("finds another run's bundle served under this run's id invalid, before verifying anything", async () => {
    const other = served.catalog.get(served.brokenRunId!)!.bundle();
    await lyingServer(served.runId, other, async () => {
      const r = await verifyInBrowser(served.runId);
      expect(r.state, r.text).to.equal("invalid");
      expect(r.verdict).to.match(/Invalid: the served bundle's manifest \(digest 0x[0-9a-f]{64}\) is not the one run 0x[0-9a-f]{64} was registered with by 0x[0-9a-f]{40}/);
      expect(r.steps).to.equal(0);
    });
  });

  it("calls a valid run checked against no chain 'unanchored', not 'Valid'", async () => {
    const p = await openPage("", { chain: null });
    try {
      expect(await p.locator("[data-testid=chain]").getAttribute("data-source")).to.equal("none");
      const r = await verifyInBrowser(served.runId, p);
      expect(r.state, r.text).to.equal("unanchored");
      expect(r.verdict).to.match(/^Unanchored: the proof is valid for this run id .*but it was not checked against any chain$/);
      expect(r.verdict).to.not.match(/^Valid/);
      expect(r.steps).to.equal(STEPS);
      expect(r.chain).to.match(/^No chain/);
    } finally {
      await p.close();
    }
  });

  it("checks against the chain the user pins in the address, over the server's /v1/config, and refuses a wrong chain id", async () => {
    const registry = served.deployment.contracts.ProofRegistry.address;
    // The server names a registry of its own (here: an empty address) and a made-up RPC.
    const lying = { chain: { rpcUrl: "http://127.0.0.1:9/", chainId: served.deployment.chainId, registry: "0x" + "66".repeat(20) } };
    const pin = (extra = "") => `/?rpc=${encodeURIComponent(served.chain.url)}&registry=${registry}${extra}`;
    const p = await openPage(pin(), lying);
    try {
      const chain = p.locator("[data-testid=chain]");
      expect(await chain.getAttribute("data-source")).to.equal("user");
      expect(await chain.innerText()).to.include(registry).and.match(/pinned by you/);
      const r = await verifyInBrowser(served.runId, p);
      expect(r.state, r.text).to.equal("valid");
      expect(r.chain).to.match(/pinned by you\): Verified · 2 valid \/ 0 invalid.*agrees with the attestors/);
    } finally {
      await p.close();
    }
    const wrong = await openPage(pin("&chainId=1"), lying);
    try {
      const r = await verifyInBrowser(served.runId, wrong);
      expect(r.state, r.text).to.equal("error");
      expect(r.verdict).to.match(/Could not verify: the RPC endpoint is on chain \d+, not the expected chain 1/);
    } finally {
      await wrong.close();
    }
    // The server's own config, unpinned, is shown as the server's.
    expect(await page.locator("[data-testid=chain]").getAttribute("data-source")).to.equal("server");
    expect(await page.locator("[data-testid=chain]").innerText()).to.match(/as named by this server/);
  });

  it("serves the page and its scripts with nosniff, and the page with a CSP that lets it reach any RPC", async () => {
    for (const path of ["/", "/app.js", "/verify-worker.js"]) expect((await fetch(served.api + path)).headers.get("x-content-type-options"), path).to.equal("nosniff");
    const csp = (await fetch(served.api + "/")).headers.get("content-security-policy") ?? "";
    expect(csp).to.match(/script-src 'self'/).and.match(/worker-src 'self'/).and.match(/connect-src \*/);
  });

  it("says an HTML error page from the server is an HTTP error, not a JSON syntax error", async () => {
    const p = await browser.newPage();
    try {
      await p.route("**/v1/runs", (r) => r.fulfill({ status: 502, contentType: "text/html", body: "<html><body>Bad Gateway</body></html>" }));
      await p.goto(served.api);
      await p.waitForSelector("[data-testid=runs] >> text=could not load", { timeout: 30_000 });
      expect(await p.locator("[data-testid=runs]").innerText()).to.match(/could not load: \/v1\/runs: HTTP 502 \(text\/html/).and.not.match(/JSON/);
    } finally {
      await p.close();
    }
  });

  it("keeps working for membership after verifying", async () => {
    await page.click(`[data-testid=run][title="${served.runId}"]`);
    await page.click("[data-testid=example-train-3]");
    await page.waitForSelector("[data-testid=result]:not([data-state=checking])[data-state]", { timeout: 120_000 });
    expect(await page.locator("[data-testid=result]").getAttribute("data-state")).to.equal("member");
  });

  // Last: it changes the run's status.
  it("says a revoked run is revoked, not that the attestors have not decided", async () => {
    const [admin] = await ethers.getSigners();
    await (await ProofRegistry__factory.connect(served.deployment.contracts.ProofRegistry.address, admin).revoke(served.runId, "withdrawn by the test")).wait();
    const r = await verifyInBrowser(served.runId);
    expect(r.state, r.text).to.equal("valid");
    expect(r.chain).to.match(/: Revoked · 2 valid \/ 0 invalid attestations\. The run was revoked/);
    expect(r.chain).to.not.match(/not decided/);
  });
});
