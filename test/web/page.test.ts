/**
 * The web page in a real browser: Debian's Chromium, driven by playwright-core, against the API over a
 * real Hardhat JSON-RPC chain with a run published, relayed and attested by both attestors. The page
 * must list the run as Verified, prove a training digit's membership in the browser (and on-chain),
 * answer "not a member" for a test digit, read an uploaded PNG, and reject a tampered answer. A
 * screenshot is written to test-results/web-page.png.
 *
 * Chromium comes from `apt-get install chromium` (.ci/run does it); set ZKDL_CHROMIUM to use another
 * binary. Without one the test fails under CI and is skipped, loudly, elsewhere.
 */
import { expect } from "chai";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium, openReadyPage, requireChromium } from "../helpers/browser";
import { mnistDigit } from "../../prover/records";
import { quantizeRequest } from "../../client/membership-request";
import { fingerprintOf, fingerprintPoint } from "../../core/dataset/fingerprints";
import { type ServedRun, digitPng, serveVerifiedRun } from "../helpers/served";

const SCREENSHOT = join(__dirname, "../../test-results/web-page.png");

describe("web page: membership checked in a real browser (Chromium via playwright-core)", function () {
  this.timeout(300_000);
  let served: ServedRun;
  let browser: Browser;
  let page: Page;

  before(async function () {
    requireChromium(this);
    served = await serveVerifiedRun();
    browser = await launchChromium();
    page = await openReadyPage(browser, served.api);
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });

  const result = () => page.locator("[data-testid=result]");
  /** The page's verdict on the last query ("member", "not-member", "rejected", "error"), with its text. */
  async function answered(): Promise<{ state: string; text: string }> {
    await page.waitForSelector("[data-testid=result]:not([data-state=checking])[data-state]", { timeout: 120_000 });
    return { state: (await result().getAttribute("data-state"))!, text: await result().innerText() };
  }

  it("lists the run with its on-chain status", async () => {
    const row = page.locator("[data-testid=run]");
    expect(await row.count()).to.equal(1);
    expect(await row.getAttribute("title")).to.equal(served.runId);
    expect(await row.innerText()).to.match(/Verified · 2 valid \/ 0 invalid/);
    expect(await row.innerText()).to.match(/784-16-10/);
  });

  it("proves a training digit's membership in the browser and on-chain", async () => {
    await page.click("[data-testid=example-train-3]");
    const { state, text } = await answered();
    expect(state, text).to.equal("member");
    expect(text).to.match(/record #3/);
    expect(text).to.match(/Verified on chain/);
    expect(text).to.match(/opening proof/i);
    expect(text).to.match(/on-chain/i);
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).to.equal(true);
  });

  it("answers 'not a member — proven on chain' for a test digit on a chain the user pins, and not 'proven' on the chain the server names", async () => {
    // The server names the chain (/v1/config): it could name one of its own, so the page does not call it a proof.
    await page.click("[data-testid=example-test-0]");
    const named = await answered();
    expect(named.state, named.text).to.equal("not-member");
    expect(named.text).to.match(/Not in this run's training set: not a member on the chain this server named — not a proof until you pin your own chain/);
    expect(named.text).to.match(/non-membership on-chain \(ProofRegistry\.verifyNonMember\)/);
    expect(await page.locator("[data-testid=result] .verdict").getAttribute("class")).to.include("unanchored");
    // Pinned in the page's address: proven.
    const registry = served.deployment.contracts.ProofRegistry.address;
    const pinned = await openReadyPage(browser, `${served.api}/?rpc=${encodeURIComponent(served.chain.url)}&registry=${registry}`);
    try {
      await pinned.click("[data-testid=example-test-0]");
      await pinned.waitForSelector("[data-testid=result]:not([data-state=checking])[data-state]", { timeout: 120_000 });
      const text = await pinned.locator("[data-testid=result]").innerText();
      expect(await pinned.locator("[data-testid=result]").getAttribute("data-state"), text).to.equal("not-member");
      expect(text).to.match(/Not in this run's training set: not a member — proven on chain/);
      expect(text).to.match(/Verified on chain/);
      expect(text).to.match(/non-membership on-chain \(ProofRegistry\.verifyNonMember\)/);
      expect(await pinned.locator("[data-testid=result] .verdict").getAttribute("class")).to.include("not-member");
    } finally {
      await pinned.close();
    }
  });

  it("rejects a tampered 'not a member' answer for a trained digit", async () => {
    // The server answers a trained digit with a test digit's gap: the page's own fingerprint is not in it.
    const run = served.catalog.get(served.runId)!;
    const testDigit = Array.from(mnistDigit("test", 0).pixels);
    const fingerprint = fingerprintOf(fingerprintPoint(run.key, quantizeRequest({ pixels: testDigit }, run.manifest.data.features, run.manifest.model.fracBits)));
    const outsider = (await (await fetch(`${served.api}/v1/runs/${served.runId}/membership`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pixels: testDigit, fingerprint }) })).json()) as Record<string, unknown>;
    expect(outsider.member).to.equal(false);
    await page.route("**/membership", async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      await route.fulfill({ response: res, json: { ...outsider, recordDigest: body.recordDigest, fingerprint: JSON.parse(route.request().postData() ?? "{}").fingerprint } });
    });
    try {
      await page.click("[data-testid=example-train-2]");
      const { state, text } = await answered();
      expect(state, text).to.equal("rejected");
      expect(text, text).to.match(/does not check out \(gap\)/);
    } finally {
      await page.unroute("**/membership");
    }
  });

  it("reads an uploaded PNG", async () => {
    await page.setInputFiles("[data-testid=file]", { name: "digit-5.png", mimeType: "image/png", buffer: digitPng(mnistDigit("train", 5).pixels) });
    const { state, text } = await answered();
    expect(state, text).to.equal("member");
    expect(text).to.match(/record #5/);
  });

  it("rejects a tampered answer", async () => {
    await page.route("**/membership", async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.opening.z = "0x" + (BigInt(body.opening.z) ^ 1n).toString(16).padStart(64, "0");
      await route.fulfill({ response: res, json: body });
    });
    try {
      await page.click("[data-testid=example-train-1]");
      const { state, text } = await answered();
      expect(state, text).to.equal("rejected");
      expect(text).to.match(/does not check out/);
    } finally {
      await page.unroute("**/membership");
    }
  });
});
