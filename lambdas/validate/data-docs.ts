/**
 * Data docs: a self-contained static HTML page per validation run (suite, each expectation's
 * outcome, observed values, samples of unexpected values, links to the outputs) and an index of
 * a dataset's runs. No script, no network fetch, CSS inline; every value from the data or the
 * contract is HTML-escaped, because the data is untrusted.
 */
import { type RunLocation, runPrefix } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { QuarantineEntry } from './engine-types.js';
import type { Profile } from './profile.js';
import type { ProfileDrift } from './profile-drift.js';
import {
  type HistoryEntry,
  RUNS_WITH_RECORDS,
  readHistory,
  reportedRuns,
  runTime,
} from './report-history.js';
import { escapeHtml } from './report-html.js';
import { failureDetails, PROFILE_STYLE, renderDrift, renderProfiles } from './report-profiles.js';
import { renderTrends, type TrendPoint, trendPoint } from './report-trends.js';
import type { ExpectationValidationResult, SuiteValidationResult } from './result-format.js';

/** What the page links to and says about the run, besides the result. */
export interface DataDocsContext {
  dataset: string;
  runId?: string;
  decision: { promote: boolean; reasons: string[]; warnings?: string[] };
  rows: { read: number; valid: number; quarantined: number };
  /** Where the outputs are (s3://…, or a file path), for links. */
  outputs?: { validated?: string; quarantine?: string; report?: string };
  /** Column profiles, drift from the previous promoted run, first quarantined rows (report-profiles.ts). */
  profile?: Profile;
  drift?: ProfileDrift;
  quarantineSamples?: readonly QuarantineEntry[];
}

/** One run in a dataset's index. */
export interface RunIndexEntry {
  dt: string;
  runId: string;
  /** Relative link from the index to the run's HTML page. */
  href: string;
  jsonHref: string;
  status?: string;
  summary?: string;
}

export { escapeHtml };

/**
 * JSON with a space after each comma and colon, so that a long list (a table's column set) wraps
 * between its items rather than in the middle of a name.
 */
export function spacedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(spacedJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, item]) => `${JSON.stringify(k)}: ${spacedJson(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(v) ?? String(v);
}

/** The most of one value a page holds: beyond it, the result JSON next to the page has the rest. */
const WHOLE_VALUE_MAX = 20_000;

/** The first `n` UTF-16 units of `text`, without splitting a surrogate pair (an emoji) in two. */
function head(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/** Text, escaped: whole when short, else cut to `max` with the whole text a click away (no script: a details element). */
function longText(text: string, max: number): string {
  if (text.length <= max) return escapeHtml(text);
  const whole =
    text.length > WHOLE_VALUE_MAX
      ? `${escapeHtml(head(text, WHOLE_VALUE_MAX))}… <span class="muted">(${(text.length - WHOLE_VALUE_MAX).toLocaleString('en-US')} more characters in the result JSON)</span>`
      : escapeHtml(text);
  return (
    `<details class="long"><summary>${escapeHtml(head(text, max - 1))}… ` +
    `<span class="muted">(${text.length.toLocaleString('en-US')} characters)</span></summary>` +
    `<div class="whole">${whole}</div></details>`
  );
}

/** A value as JSON, escaped; cut to `max` characters with the whole value available. */
function value(v: unknown, max = 200): string {
  return v === undefined ? '' : longText(spacedJson(v), max);
}

/**
 * A link target that cannot run script: s3:// as the console's object URL, a local path as a
 * file: URL, anything else not linked.
 */
export function safeHref(location: string): string | undefined {
  const s3 = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
  if (s3) {
    return `https://s3.console.aws.amazon.com/s3/object/${encodeURIComponent(s3[1]!)}?prefix=${encodeURIComponent(s3[2]!)}`;
  }
  if (location.startsWith('/')) return `file://${location.split('/').map(encodeURIComponent).join('/')}`;
  if (/^https:\/\//.test(location)) return location;
  return undefined;
}

function link(label: string, location: string | undefined): string {
  if (!location) return '';
  const href = safeHref(location);
  const text = `${escapeHtml(label)}: <code>${escapeHtml(location)}</code>`;
  return href ? `<a href="${escapeHtml(href)}">${text}</a>` : text;
}

/**
 * One stylesheet for the run page and the index. The page fits any width from a phone's 375 px
 * up: long values wrap anywhere rather than widen the page, a table is laid out in fixed columns
 * inside its own scroll box, and below 48rem each table row becomes a card with labelled cells.
 */
const STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;padding:1.5rem 2rem;color:#1d232a;max-width:80rem;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.muted{color:#5b6672}.pill{display:inline-block;padding:.1rem .55rem;border-radius:1rem;font-weight:600;font-size:.85rem;white-space:nowrap}
.ok{background:#dff5e3;color:#17652b}.fail{background:#fde2e1;color:#9b1c1c}.warn{background:#fff3cd;color:#7a5300}
.stats{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;list-style:none;margin:.6rem 0;padding:0}
.box{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.4rem 0;table-layout:fixed}
th,td{border-bottom:1px solid #e3e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f5f7f9;font-weight:600}
code,pre,.whole,.mono{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre,.whole{white-space:pre-wrap;margin:0;max-height:14rem;overflow:auto}
ul{margin:.3rem 0;padding-left:1.2rem}li{margin:.1rem 0}
details summary{cursor:pointer}details.more summary{color:#5b6672;font-size:.9em}details.long[open] summary{margin-bottom:.2rem}
svg{max-width:100%;height:auto}.meter{vertical-align:middle}
.results .c-outcome{width:7.5rem}.results .c-type{width:25%}.results .c-kwargs{width:20%}.results .c-observed{width:20%}
.runs .c-dt{width:7rem}.runs .c-run{width:26%}.runs .c-status{width:8rem}.runs .c-json{width:3.5rem}
@media (max-width:48rem){
body{padding:1rem .75rem}
.cards,.cards tbody,.cards tr,.cards td{display:block;width:100%}
.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.cards tr{border:1px solid #e3e7eb;border-radius:.4rem;margin:.6rem 0;padding:.3rem .6rem}
.cards td{border:0;padding:.2rem 0}
.cards td[data-label]:not(:empty)::before{content:attr(data-label);display:block;font-size:.8rem;font-weight:600;color:#5b6672}
}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}${PROFILE_STYLE}</style></head>
<body>${body}</body></html>
`;
}

function outcomePill(r: ExpectationValidationResult): string {
  if (r.success) return '<span class="pill ok">passed</span>';
  if (r.exception_info.raised_exception) return '<span class="pill fail">not evaluated</span>';
  return r.expectation_config.severity === 'warning'
    ? '<span class="pill warn">warning</span>'
    : '<span class="pill fail">failed</span>';
}

function kwargsOf(r: ExpectationValidationResult): string {
  const { result_format: _format, ...kwargs } = r.expectation_config.kwargs;
  if (r.expectation_config.type === 'expect_rows_to_match_contract_schema')
    return '<span class="muted">contract schema</span>';
  return Object.entries(kwargs)
    .map(([k, v]) => `<div><code>${escapeHtml(k)}</code>=${value(v, 120)}</div>`)
    .join('');
}

function observed(r: ExpectationValidationResult): string {
  const res = r.result;
  const parts: string[] = [];
  if (r.exception_info.raised_exception) parts.push(escapeHtml(r.exception_info.exception_message ?? ''));
  if ('observed_value' in res) parts.push(`observed ${value(res.observed_value)}`);
  if (res.element_count !== undefined) {
    const pct = res.unexpected_percent;
    parts.push(
      `${res.unexpected_count ?? 0} unexpected of ${res.element_count}` +
        (pct !== null && pct !== undefined ? ` (${Number(pct.toFixed(3))}%)` : '') +
        (res.missing_count !== undefined ? `; ${res.missing_count} missing` : ''),
    );
  }
  if (res.details) parts.push(`<div class="mono">${value(res.details, 600)}</div>`);
  return parts.join('<br>');
}

/**
 * One unexpected value. The contract-schema expectation's values are `{column, problem}` pairs:
 * shown as the column and the sentence, which read shorter than their JSON.
 */
function sample(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const { column, problem, ...rest } = v as Record<string, unknown>;
    if (typeof column === 'string' && typeof problem === 'string' && Object.keys(rest).length === 0) {
      return `<code>${escapeHtml(column)}</code>: ${longText(problem, 160)}`;
    }
  }
  return value(v, 120);
}

/** Samples shown in a row; the rest of the first ten open below them, so one row is not a tall band. */
const SAMPLES_SHOWN = 3;
const SAMPLES_MAX = 10;

function samples(r: ExpectationValidationResult): string {
  const counts = r.result.partial_unexpected_counts;
  const items =
    counts && counts.length > 0
      ? counts.slice(0, SAMPLES_MAX).map((c) => `<li>${sample(c.value)} × ${c.count}</li>`)
      : (r.result.partial_unexpected_list ?? []).slice(0, SAMPLES_MAX).map((v) => `<li>${sample(v)}</li>`);
  if (items.length === 0) return '';
  const shown = `<ul>${items.slice(0, SAMPLES_SHOWN).join('')}</ul>`;
  if (items.length <= SAMPLES_SHOWN) return shown;
  const more = items.length - SAMPLES_SHOWN;
  return `${shown}<details class="more"><summary>${more} more</summary><ul>${items.slice(SAMPLES_SHOWN).join('')}</ul></details>`;
}

/** The share of expectations met as a small bar; its label says the same for a screen reader. */
function metMeter(met: number, evaluated: number): string {
  const share = evaluated === 0 ? 0 : Math.round((met / evaluated) * 100);
  const label = `${met} of ${evaluated} expectations met`;
  return (
    `<svg class="meter" role="img" aria-label="${label}" viewBox="0 0 100 8" width="96" height="8" preserveAspectRatio="none">` +
    `<title>${label}</title><rect width="100" height="8" rx="2" fill="#fde2e1"/>` +
    `<rect width="${share}" height="8" rx="2" fill="#2f9e44"/></svg>`
  );
}

/** The page of one validation run. */
export function renderValidationHtml(result: SuiteValidationResult, context: DataDocsContext): string {
  const { decision, rows, outputs = {} } = context;
  const stats = result.statistics;
  const title = `${context.dataset}${context.runId ? ` run ${context.runId}` : ''} — validation`;
  const verdict = decision.promote
    ? '<span class="pill ok">promoted</span>'
    : '<span class="pill fail">not promoted</span>';
  const reasons =
    decision.reasons.length > 0
      ? `<h2>Why not promoted</h2><ul>${decision.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`
      : '';
  const warnings =
    (decision.warnings ?? []).length > 0
      ? `<h2>Warnings</h2><ul>${(decision.warnings ?? []).map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`
      : '';
  const links = [
    link('quarantined rows', outputs.quarantine),
    link('validated records', outputs.validated),
    link('result JSON', outputs.report),
  ].filter(Boolean);
  const table = result.results
    .map(
      (r) =>
        `<tr><td data-label="Outcome">${outcomePill(r)}</td><td data-label="Expectation"><code>${escapeHtml(r.expectation_config.type)}</code>` +
        `<div class="muted">severity ${escapeHtml(r.expectation_config.severity)}</div></td>` +
        `<td data-label="kwargs">${kwargsOf(r)}</td><td data-label="Observed">${observed(r)}</td>` +
        `<td data-label="Unexpected samples">${samples(r)}${failureDetails(r, context)}</td></tr>`,
    )
    .join('\n');
  const body = `
<h1>${escapeHtml(context.dataset)} ${verdict}</h1>
<div class="muted">suite <code>${escapeHtml(result.meta.expectation_suite_name)}</code>${context.runId ? ` · run <code>${escapeHtml(context.runId)}</code>` : ''} · validated ${escapeHtml(result.meta.validation_time)}${result.meta.batch_spec.path ? ` · <code>${escapeHtml(result.meta.batch_spec.path)}</code>` : ''}</div>
<ul class="stats"><li>rows read <b>${rows.read}</b></li><li>valid <b>${rows.valid}</b></li><li>quarantined <b>${rows.quarantined}</b></li>
<li>expectations met <b>${stats.successful_expectations}/${stats.evaluated_expectations}</b> ${metMeter(stats.successful_expectations, stats.evaluated_expectations)}</li><li>on_failure <b>${escapeHtml(result.meta.on_failure)}</b></li></ul>
${links.length > 0 ? `<ul>${links.map((l) => `<li>${l}</li>`).join('')}</ul>` : ''}
${reasons}${warnings}
<h2>Expectations</h2>
<div class="box"><table class="results cards"><thead><tr><th class="c-outcome">Outcome</th><th class="c-type">Expectation</th><th class="c-kwargs">kwargs</th><th class="c-observed">Observed</th><th>Unexpected samples</th></tr></thead>
<tbody>
${table}
</tbody></table></div>
${result.meta.stopped_early ? `<p class="muted">Stopped early: ${escapeHtml(result.meta.stopped_early)}</p>` : ''}
${context.drift ? renderDrift(context.drift) : ''}${context.profile ? renderProfiles(context.profile) : ''}`;
  return page(title, body);
}

/** A dataset's index of runs, newest first, with the trends of the runs whose records were read. */
export function renderRunIndex(
  dataset: string,
  runs: readonly RunIndexEntry[],
  trends: readonly TrendPoint[] = [],
): string {
  const rows = [...runs]
    .sort((a, b) => (a.dt === b.dt ? b.runId.localeCompare(a.runId) : b.dt.localeCompare(a.dt)))
    .map(
      (r) =>
        `<tr><td data-label="Date">${escapeHtml(r.dt)}</td><td data-label="Run"><a href="${escapeHtml(r.href)}"><code>${escapeHtml(r.runId)}</code></a></td>` +
        `<td data-label="Status">${r.status ? escapeHtml(r.status) : ''}</td><td data-label="Summary">${r.summary ? longText(r.summary, 400) : ''}</td>` +
        `<td><a href="${escapeHtml(r.jsonHref)}">json</a></td></tr>`,
    )
    .join('\n');
  return page(
    `${dataset} — validation runs`,
    `<h1>${escapeHtml(dataset)}: validation runs</h1><div class="muted">${runs.length} run${runs.length === 1 ? '' : 's'}, newest first</div>
${renderTrends(trends)}
<div class="box"><table class="runs cards"><thead><tr><th class="c-dt">Date</th><th class="c-run">Run</th><th class="c-status">Status</th><th>Summary</th><th class="c-json"></th></tr></thead><tbody>
${rows}
</tbody></table></div>`,
  );
}

/**
 * The runs found under a dataset's reports prefix, from their keys
 * (`<dataset>/dt=<date>/run=<id>/validation.json`), as links relative to `<dataset>/index.html`.
 */
export function runsFromKeys(dataset: string, keys: readonly string[]): RunIndexEntry[] {
  return reportedRuns(dataset, keys).map(withLinks);
}

/** A run's entry in the index, with its page and result as links relative to the index. */
function withLinks({ dt, runId }: { dt: string; runId: string }): RunIndexEntry {
  const base = `dt=${dt}/run=${runId}/`;
  return { dt, runId, href: `${base}validation.html`, jsonHref: `${base}validation.json` };
}

/**
 * Writes the run's page next to its validation.json and rebuilds the dataset's index from the
 * report keys under its prefix (and the run records there, for status and trends). Returns both keys.
 */
export async function writeDataDocs(
  store: ObjectStore,
  run: RunLocation,
  result: SuiteValidationResult,
  context: DataDocsContext,
  known?: { runs: HistoryEntry[] },
): Promise<{ htmlKey: string; indexKey: string }> {
  const htmlKey = `${runPrefix(run)}validation.html`;
  const indexKey = `${run.dataset}/index.html`;
  const html = { contentType: 'text/html; charset=utf-8' };
  await store.put('reports', htmlKey, renderValidationHtml(result, context), html);
  const { runs: history } = known ?? (await readHistory(store, run.dataset));
  // The history lists every reported run among the keys, newest first (report-history.ts runsInKeys).
  const runs = history.map(withLinks);
  const records = new Map(history.map((h) => [h.runId, h]));
  const points: TrendPoint[] = [];
  for (const entry of runs.slice(0, RUNS_WITH_RECORDS)) {
    const found = records.get(entry.runId);
    if (entry.runId === run.runId) {
      entry.status = context.decision.promote ? 'promoted' : 'not promoted';
      // This run's record is written when it ends: its figures come from the validation itself.
      points.push({
        ...trendPoint(entry.runId, found ? runTime(found) : entry.dt, found?.record),
        rows: context.rows,
        expectations: {
          met: result.statistics.successful_expectations,
          evaluated: result.statistics.evaluated_expectations,
        },
      });
      continue;
    }
    entry.status = found?.record?.status;
    entry.summary = found?.record?.validation?.summary;
    if (found) points.push(trendPoint(entry.runId, runTime(found), found.record));
  }
  await store.put('reports', indexKey, renderRunIndex(run.dataset, runs, points), html);
  return { htmlKey, indexKey };
}
