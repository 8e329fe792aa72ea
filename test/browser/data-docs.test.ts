import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'puppeteer-core';
import { launchChromium, measure, openHtml } from '../support/chromium.js';
import {
  demoReport,
  everyObservedKindReport,
  hostileReport,
  indexReport,
  passingReport,
  wideReport,
} from './reports.js';

// The data docs as a user sees them: rendered by headless Chromium at a laptop's and a phone's
// width, from a file, with every request but the page's own intercepted.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

const REPORTS: Array<[string, () => string | Promise<string>]> = [
  ['the demo run (orders.csv)', demoReport],
  ['a run where every expectation passes', passingReport],
  ['a failure of every kind of observed value', everyObservedKindReport],
  ['a file of 200 columns', wideReport],
  ['hostile values in every field', hostileReport],
  ['the index of 60 runs', indexReport],
];

describe.each(REPORTS)('%s', (_name, render) => {
  it.each([1280, 375])('fits %i px wide with no horizontal page scroll', async (width) => {
    // Prepare
    const html = await render();
    // Act
    const { page } = await openHtml(browser, html, width);
    const layout = await measure(page);
    await page.close();
    // Assess
    expect(layout.innerWidth).toBe(width);
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
  });

  it('draws every SVG with a non-empty box, makes no request and runs no script', async () => {
    // Prepare
    const html = await render();
    // Act
    const { page, requests, dialogs } = await openHtml(browser, html, 1280);
    const layout = await measure(page);
    const pwned = await page.evaluate(() => (window as { __sluicePwned?: number }).__sluicePwned);
    await page.close();
    // Assess
    for (const box of layout.svgBoxes) {
      expect(box.width).toBeGreaterThan(0);
      expect(box.height).toBeGreaterThan(0);
    }
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(layout.scripts).toBe(0);
    expect(layout.handlers).toEqual([]);
    expect(pwned).toBeUndefined();
  });
});

describe('the run page', () => {
  it('draws the expectations-met bar as an SVG with a text equivalent', async () => {
    // Prepare
    const html = await demoReport();
    // Act
    const { page } = await openHtml(browser, html, 1280);
    const meter = await page.evaluate(() => {
      const svg = document.querySelector('svg.meter');
      return svg ? { label: svg.getAttribute('aria-label'), box: svg.getBoundingClientRect().width } : null;
    });
    await page.close();
    // Assess
    expect(meter?.label).toMatch(/^\d+ of 9 expectations met$/);
    expect(meter?.box).toBeGreaterThan(0);
  });

  it('keeps hostile values inert even without its Content-Security-Policy: escaping alone stops them', async () => {
    // Prepare
    const html = (await hostileReport()).replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    // Act
    const { page, requests, dialogs } = await openHtml(browser, html, 1280);
    const layout = await measure(page);
    const pwned = await page.evaluate(() => (window as { __sluicePwned?: number }).__sluicePwned);
    await page.close();
    // Assess
    expect(html).not.toContain('Content-Security-Policy');
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(layout.scripts).toBe(0);
    expect(pwned).toBeUndefined();
  });

  it('cuts a long value and keeps the whole of it in a details element', async () => {
    // Prepare
    const html = everyObservedKindReport();
    // Act
    const { page } = await openHtml(browser, html, 375);
    const long = await page.evaluate(() => {
      const details = document.querySelector('details.long');
      if (!details) return null;
      const closed = details.querySelector('summary')?.textContent ?? '';
      (details as HTMLDetailsElement).open = true;
      const whole = details.querySelector('.whole') as HTMLElement;
      return { closed, whole: whole.textContent ?? '', wholeWidth: whole.getBoundingClientRect().right };
    });
    const layout = await measure(page);
    await page.close();
    // Assess
    expect(long?.closed).toMatch(/…/);
    expect(long?.whole.length).toBeGreaterThan(long?.closed.length ?? 0);
    expect(long?.wholeWidth).toBeLessThanOrEqual(375);
    expect(layout.scrollWidth).toBeLessThanOrEqual(375);
  });

  it("wraps the observed column list of expect_table_columns_to_match_set within the page's width", async () => {
    // Prepare
    const html = everyObservedKindReport();
    // Act
    const { page } = await openHtml(browser, html, 1280);
    const cell = await page.evaluate(() => {
      const row = Array.from(document.querySelectorAll('tr')).find((tr) =>
        tr.textContent?.includes('expect_table_columns_to_match_set'),
      );
      const observed = row?.querySelector('td[data-label="Observed"]');
      if (!observed) return null;
      const box = observed.getBoundingClientRect();
      const lineHeight = Number.parseFloat(getComputedStyle(observed).lineHeight);
      return { right: box.right, height: box.height, lineHeight };
    });
    await page.close();
    // Assess
    expect(cell?.right).toBeLessThanOrEqual(1280);
    expect(cell?.height).toBeGreaterThan(2 * (cell?.lineHeight ?? 0));
  });
});
