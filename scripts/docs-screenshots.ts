/**
 * Regenerates the screenshots of the demo's data docs in docs/img/ (`npm run docs:screenshots`):
 * runs the demo (`sluice run orders --input examples/orders.csv`) on a fresh lake in a temporary
 * directory, then opens its run page and its dataset index in headless Chromium, at a laptop's
 * width (1280 px) and a phone's (375 px), and saves each whole page as a PNG.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const root = join(import.meta.dirname, '..');
const out = join(root, 'docs', 'img');

function chromium(): string {
  const found = spawnSync(process.execPath, [join(root, 'scripts', 'chromium.mjs')], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`no Chromium: ${found.stderr.trim()}`);
  return found.stdout.trim();
}

function runDemo(lake: string): string {
  const run = spawnSync(
    process.execPath,
    [join(root, 'bin', 'sluice.mjs'), '--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv'],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (run.status !== 0) throw new Error(`the demo run failed (exit ${run.status}):\n${run.stdout}`);
  const reports = join(lake, 'lake', 'reports', 'orders');
  const page = readdirSync(reports, { recursive: true, encoding: 'utf8' }).find((f) =>
    f.endsWith('validation.html'),
  );
  if (!page) throw new Error(`the demo run wrote no validation.html under ${reports}`);
  return join(reports, page);
}

const lake = mkdtempSync(join(tmpdir(), 'sluice-screenshots-'));
const runPage = runDemo(lake);
const indexPage = join(lake, 'lake', 'reports', 'orders', 'index.html');
mkdirSync(out, { recursive: true });
const browser = await puppeteer.launch({
  executablePath: chromium(),
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const shots: Array<[string, string, number]> = [
    ['data-docs-run-1280.png', runPage, 1280],
    ['data-docs-run-375.png', runPage, 375],
    ['data-docs-index-1280.png', indexPage, 1280],
  ];
  for (const [name, file, width] of shots) {
    const page = await browser.newPage();
    await page.setViewport({ width, height: 800 });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    await page.screenshot({ path: join(out, name) as `${string}.png`, fullPage: true });
    await page.close();
    process.stderr.write(`docs/img/${name}\n`);
  }
} finally {
  await browser.close();
}
