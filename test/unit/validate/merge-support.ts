/** Helpers for the shard merge tests: generated data, cutting it at records, and a sharded run. */
import { Readable, Writable } from 'node:stream';
import type { Contract } from '../../../lambdas/shared/contract.js';
import { type ShardOutcome, validateShard } from '../../../lambdas/validate/engine.js';
import {
  globalShardOutputs,
  mergeShardOutcomes,
  shardPlacements,
} from '../../../lambdas/validate/shard-merge.js';
import { resolveSpill } from '../../../lambdas/validate/shard-spill.js';
import type { Spill } from '../../../lambdas/validate/spill.js';
import { random } from '../../support/random.js';
import { contractFrom, validate } from './support.js';

export const NOW = () => new Date('2026-11-25T10:00:00Z');

/** The columns of the generated data. */
export const SCHEMA = `type: object
properties:
  id: { type: integer }
  x: { type: number }
  y: { type: number }
  s: { type: string }
  d: { type: string }
  j: { type: string }`;

/** A contract of the given format and expectations (YAML list, indented by two). */
export function mergeContract(format: 'csv' | 'jsonl', expectations: string): Contract {
  const indent = (text: string) =>
    text
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
  return contractFrom(
    `name: orders\nsource: { type: s3-upload, prefix: landing/orders/ }\nformat: { type: ${format} }\n` +
      `schema:\n${indent(SCHEMA)}\nexpectations:\n${indent(expectations)}\n`,
  );
}

type Cell = number | string | null;

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

/**
 * Rows with a few percent of everything an expectation can find: nulls, duplicate ids (near and
 * far apart), ids out of order, decimals whose sums round, odd strings, bad dates and JSON.
 */
export function generatedRows(seed: number, count: number): Cell[][] {
  const next = random(seed);
  const rows: Cell[][] = [];
  let id = 0;
  for (let i = 0; i < count; i++) {
    const roll = next();
    id = roll < 0.05 && i > 0 ? Math.floor(next() * id) : roll < 0.1 ? id : id + 1 + Math.floor(next() * 3);
    const x = next() < 0.05 ? null : Math.round(next() * 1e6) / 1e4 - (next() < 0.03 ? 150 : 0);
    const y = next() < 0.05 ? null : next() < 0.3 && x !== null ? 100 - x : Math.round(next() * 1e3) / 7;
    const s = pick(next, [null, 'red', 'green', 'blue', 'blue', 'black', 'white', 'pink', 'teal']);
    const d = pick(next, [null, '2026-11-25', '2026-02-30', '2025-01-07', 'tomorrow', '25/11/2026']);
    const j = pick(next, [null, '{"a":1}', '{"a":2}', '{"b":1}', '3', '{oops', '{"a":"x,y"}']);
    rows.push([id, x, y, s, d, j]);
  }
  return rows;
}

const COLUMNS = ['id', 'x', 'y', 's', 'd', 'j'];

/** The rows as a file: CSV with a header (quoted where needed) or JSON Lines (nulls as absent keys or null). */
export function render(format: 'csv' | 'jsonl', rows: Cell[][], crlf = false): string {
  const end = crlf ? '\r\n' : '\n';
  if (format === 'csv') {
    const cell = (v: Cell) => {
      if (v === null) return '';
      const text = String(v);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    return `${COLUMNS.join(',')}${end}${rows.map((r) => `${r.map(cell).join(',')}${end}`).join('')}`;
  }
  return rows
    .map((r, i) => {
      const record: Record<string, Cell> = {};
      COLUMNS.forEach((c, k) => {
        if (r[k] !== null) record[c] = r[k]!;
        else if (i % 2 === 0) record[c] = null;
      });
      return `${JSON.stringify(record)}${end}`;
    })
    .join('');
}

/** Where records start: after each line feed (the generated data has none inside a record). */
export function recordStarts(text: string, format: 'csv' | 'jsonl'): number[] {
  const starts: number[] = format === 'jsonl' ? [0] : [];
  for (let i = text.indexOf('\n'); i !== -1 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) {
    starts.push(i + 1);
  }
  return starts;
}

/** Cut points (byte offsets at record starts, ascending, repeats allowed: an empty shard) for `shards` shards. */
export function randomCuts(next: () => number, starts: number[], shards: number): number[] {
  const cuts: number[] = [];
  for (let k = 1; k < shards; k++) cuts.push(starts.length === 0 ? 0 : pick(next, starts));
  return cuts.sort((a, b) => a - b);
}

export interface Compared {
  whole: Awaited<ReturnType<typeof validate>>;
  merged: ReturnType<typeof mergeShardOutcomes>;
  valid: string;
  quarantine: string;
  shards: ShardOutcome[];
}

/**
 * Validates `text` whole, and in shards cut at `cuts` (each shard's state through JSON, as it
 * travels between invocations), then merges the shards' outcomes and outputs.
 */
export async function wholeAndSharded(text: string, contract: Contract, cuts: number[]): Promise<Compared> {
  const whole = await validate(text, contract, { now: NOW });
  const bytes = Buffer.from(text);
  const header =
    contract.format.type === 'csv' ? text.slice(0, text.indexOf('\n')).replace(/\r$/, '') : undefined;
  const bounds = [0, ...cuts, bytes.length];
  const shards: ShardOutcome[] = [];
  const outputs: Array<{ valid: string; quarantine: string }> = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const valid = collector();
    const quarantine = collector();
    const outcome = await validateShard(
      Readable.from([bytes.subarray(bounds[k]!, bounds[k + 1]!)]),
      contract,
      { valid: valid.stream, quarantine: quarantine.stream },
      k === 0 ? { now: NOW } : { now: NOW, csvHeader: header, continues: true },
    );
    shards.push(JSON.parse(JSON.stringify(outcome)) as ShardOutcome);
    outputs.push({ valid: valid.text(), quarantine: quarantine.text() });
  }
  const merged = mergeShardOutcomes(contract, shards, { now: NOW });
  const placements = shardPlacements(contract, shards, { now: NOW });
  const parts = outputs.map((o, k) => globalShardOutputs(o, placements[k]!));
  return {
    whole,
    merged,
    valid: parts.map((p) => p.valid).join(''),
    quarantine: parts.map((p) => p.quarantine).join(''),
    shards,
  };
}

export interface SpilledRun {
  shards: ShardOutcome[];
  merged: ReturnType<typeof mergeShardOutcomes>;
  valid: string;
  quarantine: string;
}

/** The file validated in shards cut at `cuts`, spilling, then resolved and merged as a deployed run does. */
export async function spilledRun(
  text: string,
  contract: Contract,
  cuts: number[],
  spill: Spill,
  partitions: number,
  selectLimit?: number,
): Promise<SpilledRun> {
  const bytes = Buffer.from(text);
  const header =
    contract.format.type === 'csv' ? text.slice(0, text.indexOf('\n')).replace(/\r$/, '') : undefined;
  const bounds = [0, ...cuts, bytes.length];
  const shards: ShardOutcome[] = [];
  const outputs: Array<{ valid: string; quarantine: string }> = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const valid = collector();
    const quarantine = collector();
    const outcome = await validateShard(
      Readable.from([bytes.subarray(bounds[k]!, bounds[k + 1]!)]),
      contract,
      { valid: valid.stream, quarantine: quarantine.stream },
      {
        now: NOW,
        spill: { spill, shard: k, partitions },
        ...(k === 0 ? {} : { csvHeader: header, continues: true }),
      },
    );
    shards.push(JSON.parse(JSON.stringify(outcome)) as ShardOutcome);
    outputs.push({ valid: valid.text(), quarantine: quarantine.text() });
  }
  const spilled = JSON.parse(
    JSON.stringify(await resolveSpill(contract, shards, spill, { selectLimit })),
  ) as Awaited<ReturnType<typeof resolveSpill>>;
  const merged = mergeShardOutcomes(contract, shards, { now: NOW, spilled });
  const placements = shardPlacements(contract, shards, { now: NOW, spilled });
  const parts = outputs.map((o, k) => globalShardOutputs(o, placements[k]!));
  return {
    shards,
    merged,
    valid: parts.map((p) => p.valid).join(''),
    quarantine: parts.map((p) => p.quarantine).join(''),
  };
}

function collector() {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

/** A suite of several kinds at once: thresholds, each result_format, warnings and errors. */
export const MIXED = [
  `- type: expect_column_values_to_be_unique
  kwargs: { column: id, result_format: { result_format: SUMMARY, partial_unexpected_count: 3 } }`,
  `- type: expect_column_values_to_be_between
  kwargs: { column: x, min_value: 0, max_value: 95, mostly: 0.9, result_format: { result_format: COMPLETE, include_unexpected_rows: true } }`,
  `- type: expect_column_values_to_be_in_set
  severity: warning
  kwargs: { column: s, value_set: [red, green, blue], mostly: 0.5, result_format: BASIC }`,
  `- type: expect_compound_columns_to_be_unique
  severity: warning
  kwargs: { column_list: [s, d], result_format: COMPLETE }`,
  `- type: expect_column_values_to_be_increasing
  kwargs: { column: id, result_format: COMPLETE }`,
  `- type: expect_column_values_to_match_json_schema
  kwargs: { column: j, json_schema: { type: object }, mostly: 0.2 }`,
  `- type: expect_column_mean_to_be_between
  kwargs: { column: x, min_value: 0 }`,
  `- type: expect_column_stdev_to_be_between
  severity: warning
  kwargs: { column: y, max_value: 1 }`,
  `- type: expect_column_quantile_values_to_be_between
  kwargs: { column: y, quantile_ranges: { quantiles: [0.25, 0.75], value_ranges: [[0, 50], [50, null]] } }`,
  `- type: expect_column_distinct_values_to_be_in_set
  kwargs: { column: d, value_set: [2026-11-25] }`,
  `- type: expect_table_row_count_to_be_between
  kwargs: { min_value: 1 }`,
  `- type: expect_table_columns_to_match_set
  kwargs: { column_set: [id, x, y, s, d, j] }`,
].join('\n');
