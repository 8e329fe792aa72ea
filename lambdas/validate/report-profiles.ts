/**
 * The profile and drift sections of a run's data docs: a card per column (its type, nulls,
 * distinct values, min/max/mean/stdev, and a histogram or its top values drawn in SVG), the table
 * of drift against the previous promoted run, and the first quarantined rows of each failing
 * expectation. Styles are scoped by `sl-` class names and fluid (grid of cards, tables that scroll
 * inside their own box), so the page around them decides the layout.
 */
import type { QuarantineEntry } from './engine-types.js';
import type { ColumnProfile, Profile } from './profile.js';
import { DRIFT_THRESHOLDS, type ProfileDrift } from './profile-drift.js';
import { anchorId, escapeHtml, formatNumber, formatShare } from './report-html.js';
import { barChart, horizontalBars } from './report-svg.js';
import type { ExpectationValidationResult } from './result-format.js';

export const PROFILE_STYLE = `
.sl-profiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,17rem),1fr));gap:.8rem;margin:.5rem 0}
.sl-card{border:1px solid #e3e7eb;border-radius:6px;padding:.6rem .7rem;min-width:0;overflow-wrap:anywhere}
.sl-card h3{font-size:1rem;margin:0 0 .3rem;overflow-wrap:anywhere}.sl-card:target{outline:2px solid #2f6fde}
.sl-kv{display:grid;grid-template-columns:auto 1fr;gap:.05rem .8rem;margin:.2rem 0 .4rem;font-size:.85rem}
.sl-kv dt{color:#5b6672}.sl-kv dd{margin:0;overflow-wrap:anywhere}
.sl-chart{display:block;max-height:7rem;margin:.2rem 0}.sl-bars rect,.sl-dots circle{fill:#2f6fde}.sl-line{stroke:#2f6fde;stroke-width:1.5}
.sl-axis{display:flex;justify-content:space-between;gap:.5rem;font-size:.75rem;color:#5b6672;overflow-wrap:anywhere}
.sl-top{list-style:none;padding:0;margin:.2rem 0;font-size:.8rem}.sl-top li{display:flex;justify-content:space-between;gap:.5rem}
.sl-top li span:first-child{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;min-width:0}
.sl-scroll{overflow-x:auto;max-width:100%}.sl-flag{color:#9b1c1c;font-weight:600}
.sl-note{font-size:.8rem;color:#5b6672}`;

function describeDistinct(c: ColumnProfile): string {
  const d = c.distinct;
  if (d.exact) return formatNumber(d.count);
  return `≈ ${formatNumber(d.count)} (±${formatShare(d.relative_error ?? 0)}, HyperLogLog)`;
}

/** A value as the report shows it: texts as they are, the rest as JSON; cut at `max` with the whole in a title. */
function shown(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length <= max) return escapeHtml(text);
  return `<span title="${escapeHtml(text)}">${escapeHtml(`${text.slice(0, max - 1)}…`)}</span>`;
}

function edgeLabel(c: ColumnProfile, x: number): string {
  if (c.type === 'date' || c.type === 'date-time') {
    const iso = new Date(x).toISOString();
    return c.type === 'date' ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
  }
  return formatNumber(x);
}

function card(c: ColumnProfile): string {
  const stats: Array<[string, string]> = [
    ['type', escapeHtml(c.type)],
    ['null', `${formatShare(c.null_rate)} (${formatNumber(c.nulls)})`],
    ['distinct', describeDistinct(c)],
  ];
  const n = c.numeric;
  if (n) {
    stats.push(
      ['min', escapeHtml(edgeLabel(c, n.min))],
      ['max', escapeHtml(edgeLabel(c, n.max))],
      ['mean', escapeHtml(edgeLabel(c, n.mean))],
      ['stdev', n.stdev === null ? '–' : formatNumber(n.stdev)],
    );
  }
  let picture = '';
  const h = c.histogram;
  if (h && (c.type !== 'string' || !c.top)) {
    const labels = h.counts.map((_, i) => `${edgeLabel(c, h.edges[i]!)} to ${edgeLabel(c, h.edges[i + 1]!)}`);
    picture =
      barChart(`Histogram of ${c.name}`, h.counts, labels) +
      `<div class="sl-axis"><span>${escapeHtml(edgeLabel(c, h.edges[0]!))}</span><span>${escapeHtml(edgeLabel(c, h.edges[h.edges.length - 1]!))}</span></div>`;
  } else if (c.top) {
    const shownValues = c.top.values.slice(0, 10);
    const label = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    picture =
      horizontalBars(
        `Most common values of ${c.name}`,
        shownValues.map((v) => ({ label: label(v.value), count: v.count })),
      ) +
      `<ul class="sl-top">${shownValues
        .map((v) => `<li><span>${shown(v.value)}</span><span>${formatNumber(v.count)}</span></li>`)
        .join('')}</ul>`;
  }
  return (
    `<section class="sl-card" id="${anchorId('profile', c.name)}"><h3>${escapeHtml(c.name)}</h3>` +
    `<dl class="sl-kv">${stats.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>${picture}</section>`
  );
}

/** The column profiles: one card per column. */
export function renderProfiles(profile: Profile): string {
  if (profile.columns.length === 0) return '';
  return (
    `<h2 id="profiles">Column profiles</h2><div class="sl-note">${formatNumber(profile.rows)} records profiled ` +
    `(every record that could be read, valid or quarantined)</div>` +
    `<div class="sl-profiles">${profile.columns.map(card).join('\n')}</div>`
  );
}

function pair(previous: string, current: string): string {
  return `${previous} → ${current}`;
}

/** The drift table against the previous promoted run. */
export function renderDrift(drift: ProfileDrift): string {
  const rows = drift.columns
    .map((d) => {
      const mean = d.mean
        ? `${pair(formatNumber(d.mean.previous), formatNumber(d.mean.current))}${d.mean.shift === null ? '' : ` (${d.mean.shift >= 0 ? '+' : ''}${d.mean.shift.toFixed(2)} σ)`}`
        : '';
      return (
        `<tr><td><a href="#${anchorId('profile', d.column)}">${escapeHtml(d.column)}</a></td>` +
        `<td>${pair(formatShare(d.null_rate.previous), formatShare(d.null_rate.current))}</td><td>${mean}</td>` +
        `<td>${pair(formatNumber(d.distinct.previous), formatNumber(d.distinct.current))}</td>` +
        `<td>${d.psi === undefined ? '' : d.psi.toFixed(3)}</td>` +
        `<td>${d.flags.length === 0 ? 'no large shift' : `<span class="sl-flag">${d.flags.map(escapeHtml).join('; ')}</span>`}</td></tr>`
      );
    })
    .join('\n');
  const t = DRIFT_THRESHOLDS;
  const changes = [
    drift.added.length > 0 ? `new columns: ${drift.added.map(escapeHtml).join(', ')}` : '',
    drift.removed.length > 0 ? `columns gone: ${drift.removed.map(escapeHtml).join(', ')}` : '',
  ].filter(Boolean);
  return (
    `<h2 id="drift">Drift since the previous promoted run</h2>` +
    `<div class="sl-note">compared with run <code>${escapeHtml(drift.previous.runId)}</code> of ${escapeHtml(drift.previous.dt)}. ` +
    `Flagged: null rate moving more than ${t.nullRate * 100} points, mean more than ${t.meanShift} standard deviations, ` +
    `distinct count more than ${t.distinct * 100}%, PSI above ${t.psiLarge} (${t.psiModerate}–${t.psiLarge} is a moderate shift).</div>` +
    (changes.length > 0 ? `<p>${changes.join('; ')}</p>` : '') +
    `<div class="sl-scroll"><table><thead><tr><th>Column</th><th>Null rate</th><th>Mean</th><th>Distinct</th><th>PSI</th><th>Shift</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`
  );
}

/** The first quarantined rows of one expectation: row number, reason and the record. */
export function renderQuarantineSamples(
  entries: readonly QuarantineEntry[],
  expectation: string,
  column: string | null,
): string {
  const mine = entries.filter((e) =>
    e.failures.some((f) => f.expectation === expectation && (column === null || f.column === column)),
  );
  if (mine.length === 0) return '';
  const rows = mine
    .map((e) => {
      const failure = e.failures.find(
        (f) => f.expectation === expectation && (column === null || f.column === column),
      )!;
      const where = e.file ? `${e.row} of ${e.file}` : String(e.row);
      return `<tr><td>${escapeHtml(where)}</td><td>${escapeHtml(failure.reason)}</td><td><code>${shown(e.record, 160)}</code></td></tr>`;
    })
    .join('');
  return (
    `<details><summary>${mine.length} quarantined row${mine.length === 1 ? '' : 's'} (the first)</summary>` +
    `<div class="sl-scroll"><table><thead><tr><th>Row</th><th>Reason</th><th>Record</th></tr></thead><tbody>${rows}</tbody></table></div></details>`
  );
}

/** A link to a column's profile card, when the column was profiled. */
export function profileLink(profile: Profile | undefined, column: unknown): string {
  if (typeof column !== 'string' || !profile?.columns.some((c) => c.name === column)) return '';
  return `<div><a href="#${anchorId('profile', column)}">profile of ${escapeHtml(column)}</a></div>`;
}

/** Under a failing expectation: a link to its column's profile and its first quarantined rows. */
export function failureDetails(
  r: ExpectationValidationResult,
  context: { profile?: Profile; quarantineSamples?: readonly QuarantineEntry[] },
): string {
  if (r.success) return '';
  const column = r.expectation_config.kwargs.column;
  return (
    profileLink(context.profile, column) +
    renderQuarantineSamples(
      context.quarantineSamples ?? [],
      r.expectation_config.type,
      typeof column === 'string' ? column : null,
    )
  );
}
