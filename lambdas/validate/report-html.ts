/** HTML escaping for the data docs' modules: every value from the data or the contract goes through it. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A number for people: up to 4 significant digits, integers whole, no exponent below 1e21. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e15)) return x.toExponential(3);
  return Number(x.toPrecision(4)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** A share (0–1) as a percentage: "3.2%", "<0.01%". */
export function formatShare(share: number): string {
  const value = share * 100;
  if (value > 0 && value < 0.01) return '<0.01%';
  return `${Number(value.toFixed(2))}%`;
}

/** An id usable in an HTML id attribute and a fragment link, from any column name (escaped on output). */
export function anchorId(prefix: string, name: string): string {
  return `${prefix}-${Buffer.from(name, 'utf8').toString('hex').slice(0, 120)}`;
}
