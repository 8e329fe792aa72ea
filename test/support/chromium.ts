/// <reference lib="dom" />
/**
 * Headless Chromium for the browser tests, driven by puppeteer-core. The jest global setup finds
 * (or installs, as root on Debian) the binary with scripts/chromium.mjs and passes its path on in
 * SLUICE_TEST_CHROMIUM; when it could not, the tests fail with the reason it gave.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.SLUICE_TEST_CHROMIUM;
  if (!executablePath) {
    throw new Error(
      `no Chromium for the browser tests: ${process.env.SLUICE_TEST_CHROMIUM_ERROR ?? 'scripts/chromium.mjs did not run'}`,
    );
  }
  // --no-sandbox: Chromium refuses to start as root otherwise, and the tests run as root here.
  return puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** What loading a page did: every request it made, every dialog a script opened, script errors. */
export interface Loaded {
  page: Page;
  requests: string[];
  dialogs: string[];
}

/**
 * Opens `html` from a file (as a user opens a downloaded report) at `width` CSS pixels, with
 * request interception on: the page's own document is the only request let through, any other is
 * recorded and aborted, so nothing leaves the machine even if a page asked.
 */
export async function openHtml(browser: Browser, html: string, width: number): Promise<Loaded> {
  const file = join(mkdtempSync(join(tmpdir(), 'sluice-browser-')), 'page.html');
  writeFileSync(file, html);
  const url = `file://${file}`;
  const page = await browser.newPage();
  await page.setViewport({ width, height: 800 });
  const requests: string[] = [];
  const dialogs: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    requests.push(request.url());
    if (request.url() === url) void request.continue();
    else void request.abort();
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests: requests.filter((r) => r !== url), dialogs };
}

/** How the page lays out: its scroll width against the viewport, and each inline SVG's box. */
export async function measure(page: Page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    svgBoxes: Array.from(document.querySelectorAll('svg')).map((svg) => {
      const box = svg.getBoundingClientRect();
      return { width: box.width, height: box.height };
    }),
    scripts: document.scripts.length,
    handlers: Array.from(document.querySelectorAll('*')).flatMap((element) =>
      Array.from(element.attributes)
        .filter((a) => /^on/i.test(a.name))
        .map((a) => `${element.tagName} ${a.name}`),
    ),
  }));
}
