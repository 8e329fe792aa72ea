/**
 * The trends at the top of a dataset's index of runs: rows read, quarantine rate, expectations
 * met and duration over the runs, oldest to newest, each a small line chart with its figures in a
 * table below (which is also what a screen reader reads), and the version tag of each run.
 */
import type { RunRecord } from '../shared/run-record.js';
import { escapeHtml, formatNumber, formatShare } from './report-html.js';
import { lineChart } from './report-svg.js';

/** What the trends know of one run. */
export interface TrendPoint {
  runId: string;
  /** When the run started (or its date): the charts' order. */
  time: string;
  rows: { read: number; quarantined: number } | undefined;
  expectations: { met: number; evaluated: number } | undefined;
  durationSeconds: number | null;
  tag: string | undefined;
}

/** Runs the charts show, newest ones. */
export const TREND_RUNS = 30;

/** A run's point from its record (rows, statistics, times, version tag). */
export function trendPoint(runId: string, time: string, record: RunRecord | undefined): TrendPoint {
  const v = record?.validation;
  const stats = v?.statistics as
    | { successful_expectations?: number; evaluated_expectations?: number }
    | undefined;
  const started = record?.startedAt ? Date.parse(record.startedAt) : Number.NaN;
  const finished = record?.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;
  return {
    runId,
    time,
    rows: v ? { read: v.rows.read, quarantined: v.rows.quarantined } : undefined,
    expectations:
      stats?.evaluated_expectations !== undefined
        ? { met: stats.successful_expectations ?? 0, evaluated: stats.evaluated_expectations }
        : undefined,
    durationSeconds:
      record?.status !== 'RUNNING' && Number.isFinite(started) && Number.isFinite(finished)
        ? (finished - started) / 1000
        : null,
    tag: record?.version?.tag ?? record?.promotion?.tag,
  };
}

export function renderTrends(points: readonly TrendPoint[]): string {
  const shown = [...points].sort((a, b) => a.time.localeCompare(b.time)).slice(-TREND_RUNS);
  if (shown.length === 0) return '';
  const label = (p: TrendPoint) => `${p.time} (${p.runId})`;
  const quarantineRate = (p: TrendPoint) =>
    p.rows && p.rows.read > 0 ? p.rows.quarantined / p.rows.read : null;
  const charts = [
    lineChart(
      'Rows read per run',
      shown.map((p) => ({ label: label(p), value: p.rows?.read ?? null })),
    ),
    lineChart(
      'Quarantine rate per run (%)',
      shown.map((p) => {
        const rate = quarantineRate(p);
        return { label: label(p), value: rate === null ? null : rate * 100 };
      }),
      '%',
    ),
    lineChart(
      'Expectations met per run (%)',
      shown.map((p) => ({
        label: label(p),
        value:
          p.expectations && p.expectations.evaluated > 0
            ? (p.expectations.met / p.expectations.evaluated) * 100
            : null,
      })),
      '%',
    ),
    lineChart(
      'Duration per run (s)',
      shown.map((p) => ({ label: label(p), value: p.durationSeconds })),
      ' s',
    ),
  ];
  const names = ['Rows read', 'Quarantine rate', 'Expectations met', 'Duration'];
  const rows = [...shown]
    .reverse()
    .map((p) => {
      const rate = quarantineRate(p);
      return (
        `<tr><td>${escapeHtml(p.time)}</td><td><code>${escapeHtml(p.runId)}</code></td>` +
        `<td>${p.rows ? formatNumber(p.rows.read) : ''}</td><td>${rate === null ? '' : formatShare(rate)}</td>` +
        `<td>${p.expectations ? `${p.expectations.met}/${p.expectations.evaluated}` : ''}</td>` +
        `<td>${p.durationSeconds === null ? '' : `${formatNumber(p.durationSeconds)} s`}</td>` +
        `<td>${p.tag ? `<code>${escapeHtml(p.tag)}</code>` : ''}</td></tr>`
      );
    })
    .join('\n');
  return (
    `<h2 id="trends">Trends over the last ${shown.length} run${shown.length === 1 ? '' : 's'}</h2>` +
    `<div class="sl-profiles">${charts.map((c, i) => `<section class="sl-card"><h3>${names[i]}</h3>${c}</section>`).join('')}</div>` +
    `<div class="sl-scroll"><table><thead><tr><th>Started</th><th>Run</th><th>Rows read</th><th>Quarantined</th>` +
    `<th>Expectations met</th><th>Duration</th><th>Version</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`
  );
}
