/**
 * Debian's Chromium driven by playwright-core, for the browser tests: `apt-get install chromium`
 * (.ci/run does it), or ZKDL_CHROMIUM for another binary. Without one a suite fails under CI and is
 * skipped, loudly, elsewhere.
 */
import { existsSync } from "node:fs";
import { type Browser, type Page, chromium } from "playwright-core";

export const CHROMIUM = process.env.ZKDL_CHROMIUM ?? "/usr/bin/chromium";

/** Skips the suite (or fails it under CI) when there is no Chromium; call first in `before`. */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set ZKDL_CHROMIUM)`);
  console.warn(`      (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium or set ZKDL_CHROMIUM)`);
  ctx.skip();
}

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });

/** A new page at `url`, once the page says it is ready (body[data-ready=true]); its script errors name a failure to load. */
export async function openReadyPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 }).catch((e) => {
    throw new Error(`the page did not load (${errors.join("; ") || (e as Error).message})`);
  });
  return page;
}
