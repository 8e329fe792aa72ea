/**
 * Small inline SVG charts for the data docs: a histogram, horizontal bars of top values, and a
 * line of a measure over runs. Each scales to its container (viewBox, width 100%), carries a
 * <title> and a <desc> that say in words what it draws (screen readers read those, and the page's
 * tables repeat the figures), and holds no script and no link. Every text is escaped by the caller's
 * escapeHtml; numbers are written by the code here.
 */
import { escapeHtml, formatNumber } from './report-html.js';

let ids = 0;

/** A fresh id for title/desc within one page (the page is written by one process, in one go). */
function nextId(prefix: string): string {
  ids += 1;
  return `${prefix}${ids}`;
}

function svg(width: number, height: number, title: string, desc: string, body: string): string {
  const id = nextId('svg');
  return (
    `<svg class="sl-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" ` +
    `aria-labelledby="${id}t ${id}d" xmlns="http://www.w3.org/2000/svg">` +
    `<title id="${id}t">${escapeHtml(title)}</title><desc id="${id}d">${escapeHtml(desc)}</desc>${body}</svg>`
  );
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Vertical bars, one per bin: `labels[i]` names bin i in the description. */
export function barChart(title: string, counts: readonly number[], labels: readonly string[]): string {
  const width = 320;
  const height = 80;
  const max = Math.max(1, ...counts);
  const step = width / Math.max(1, counts.length);
  const bars = counts
    .map((c, i) => {
      const h = c === 0 ? 0 : Math.max(1, (c / max) * (height - 2));
      return `<rect x="${round(i * step + 0.5)}" y="${round(height - h)}" width="${round(Math.max(0.5, step - 1))}" height="${round(h)}"/>`;
    })
    .join('');
  const desc = counts.map((c, i) => `${labels[i] ?? i}: ${formatNumber(c)}`).join('; ');
  return svg(width, height, title, desc, `<g class="sl-bars">${bars}</g>`);
}

/** Horizontal bars, one per value, longest first as given. */
export function horizontalBars(
  title: string,
  entries: ReadonlyArray<{ label: string; count: number }>,
): string {
  const width = 320;
  const row = 14;
  const height = Math.max(row, entries.length * row);
  const max = Math.max(1, ...entries.map((e) => e.count));
  const bars = entries
    .map((e, i) => {
      const w = e.count === 0 ? 0 : Math.max(1, (e.count / max) * width);
      return `<rect x="0" y="${i * row + 2}" width="${round(w)}" height="${row - 4}"/>`;
    })
    .join('');
  const desc = entries.map((e) => `${e.label}: ${formatNumber(e.count)}`).join('; ');
  return svg(width, height, title, desc, `<g class="sl-bars">${bars}</g>`);
}

/** A measure over runs, oldest to newest: a line with a dot per run; null values leave a gap. */
export function lineChart(
  title: string,
  points: ReadonlyArray<{ label: string; value: number | null }>,
  unit = '',
): string {
  const width = 320;
  const height = 60;
  const pad = 4;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const min = values.length > 0 ? Math.min(...values) : 0;
  const max = values.length > 0 ? Math.max(...values) : 1;
  const span = max - min || 1;
  const x = (i: number) =>
    points.length <= 1 ? width / 2 : pad + (i * (width - 2 * pad)) / (points.length - 1);
  const y = (v: number) => height - pad - ((v - min) / span) * (height - 2 * pad);
  let path = '';
  let pen = false;
  const dots: string[] = [];
  points.forEach((p, i) => {
    if (p.value === null || !Number.isFinite(p.value)) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${round(x(i))} ${round(y(p.value))}`;
    pen = true;
    dots.push(`<circle cx="${round(x(i))}" cy="${round(y(p.value))}" r="2.5"/>`);
  });
  const desc = points
    .map((p) => `${p.label}: ${p.value === null ? 'no value' : `${formatNumber(p.value)}${unit}`}`)
    .join('; ');
  return svg(
    width,
    height,
    title,
    desc,
    `<path class="sl-line" d="${path}" fill="none"/><g class="sl-dots">${dots.join('')}</g>`,
  );
}
