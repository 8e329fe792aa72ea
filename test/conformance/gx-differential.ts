/**
 * Runs the generated cases (gx-cases.ts) through real Great Expectations (gx_runner.py, pandas,
 * one Python process for every case) and through Sluice's validateStream on the same rows as a
 * CSV file, and compares what both report.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseContract } from '../../lambdas/shared/contract.js';
import { validateStream } from '../../lambdas/validate/engine.js';
import type { Case, Row } from './gx-cases.js';

const root = join(import.meta.dirname, '..', '..');
export const PYTHON = join(root, '.venv', 'bin', 'python');

/** What one side reported for a case. */
export interface Reported {
  success: boolean | null;
  exception: boolean;
  result: Record<string, unknown>;
  message?: string;
}

/** The result fields compared, beside success and whether the expectation raised. */
export const COMPARED_FIELDS = [
  'element_count',
  'unexpected_count',
  'missing_count',
  'observed_value',
  'partial_unexpected_list',
  'unexpected_list',
  'unexpected_index_list',
  'partial_missing_list',
] as const;

export interface Disagreement {
  /** The case: expectation · scenario · result_format. */
  id: string;
  type: string;
  scenario: string;
  resultFormat: string;
  field: string;
  gx: unknown;
  sluice: unknown;
}

/** GX's reports of every case, in order, from one Python process. */
export async function runGx(cases: readonly Case[]): Promise<Reported[]> {
  if (!existsSync(PYTHON)) {
    throw new Error(
      `no ${PYTHON}: run the tests through \`npm test\`, which installs .venv with great_expectations`,
    );
  }
  const child = spawn(PYTHON, [join(import.meta.dirname, 'gx_runner.py')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GX_ANALYTICS_ENABLED: 'false', TQDM_DISABLE: '1' },
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const input = cases.map((c) => ({
    id: c.id,
    columns: c.columns,
    csv: csvOf(c.fileColumns, c.rows),
    type: c.type,
    kwargs: c.kwargs,
  }));
  child.stdin.end(JSON.stringify(input));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    throw new Error(`gx_runner.py exited ${code}: ${Buffer.concat(stderr).toString().slice(-2000)}`);
  }
  return JSON.parse(Buffer.concat(stdout).toString()) as Reported[];
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvOf(columns: readonly string[], rows: readonly Row[]): string {
  return [columns.join(','), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(','))]
    .map((line) => `${line}\n`)
    .join('');
}

/** Sluice's report of one case: the rows as a CSV file, validated against a one-expectation contract. */
export async function runSluice(c: Case): Promise<Reported> {
  const columns = Object.keys(c.columns);
  const contract = parseContract(
    JSON.stringify({
      name: 'conformance',
      source: { type: 's3-upload', prefix: 'conformance/' },
      format: { type: 'csv', header: true },
      schema: {
        type: 'object',
        properties: Object.fromEntries(columns.map((name) => [name, { type: c.columns[name] }])),
      },
      expectations: [{ type: c.type, kwargs: c.kwargs }],
    }),
    '<inline>',
  );
  const outcome = await validateStream(Readable.from([csvOf(c.fileColumns, c.rows)]), contract, {});
  const entry = outcome.result.results.find((r) => r.expectation_config.type === c.type);
  if (!entry) throw new Error(`${c.id}: Sluice reported no result for ${c.type}`);
  return {
    success: entry.success,
    exception: entry.exception_info.raised_exception,
    result: entry.result as Record<string, unknown>,
    message: entry.exception_info.exception_message ?? undefined,
  };
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => same(v, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => same((a as Row)[k], (b as Row)[k]));
  }
  return a === b;
}

/** Where Sluice's report of a case differs from GX's: success, raised, and each compared field. */
export function compare(c: Case, gx: Reported, sluice: Reported): Disagreement[] {
  const out: Disagreement[] = [];
  const differ = (field: string, g: unknown, s: unknown) => {
    if (!same(g, s)) {
      out.push({
        id: c.id,
        type: c.type,
        scenario: c.scenario,
        resultFormat: c.resultFormat,
        field,
        gx: g,
        sluice: s,
      });
    }
  };
  differ('raised', gx.exception, sluice.exception);
  differ('success', gx.success, sluice.success);
  // What an expectation that raised reports is the exception; GX and Sluice word it differently.
  if (gx.exception || sluice.exception) return out;
  for (const field of COMPARED_FIELDS) {
    // GX lists the set's missing values in Python set order, which is no order: compared sorted.
    const value = (r: Reported) =>
      field === 'partial_missing_list' && Array.isArray(r.result[field])
        ? [...(r.result[field] as unknown[])].sort()
        : r.result[field];
    differ(field, value(gx), value(sluice));
  }
  return out;
}

export interface DifferentialRun {
  cases: number;
  expectations: number;
  agreements: number;
  disagreements: Disagreement[];
  milliseconds: number;
}

/** Runs every case through both and compares them. */
export async function differential(cases: readonly Case[]): Promise<DifferentialRun> {
  const started = performance.now();
  const gx = await runGx(cases);
  const disagreements: Disagreement[] = [];
  let agreements = 0;
  for (const [i, c] of cases.entries()) {
    const found = compare(c, gx[i]!, await runSluice(c));
    if (found.length === 0) agreements++;
    disagreements.push(...found);
  }
  return {
    cases: cases.length,
    expectations: new Set(cases.map((c) => c.type)).size,
    agreements,
    disagreements,
    milliseconds: performance.now() - started,
  };
}
