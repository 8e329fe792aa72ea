import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadStandaloneContractFile } from '../../lambdas/shared/contract.js';
import { planFile } from '../../src/local/shard-workers.js';
import { random } from '../support/random.js';

// `sluice validate --workers N` as a user runs it: a file larger than the contract's shard size is
// validated in shards on worker threads, and prints and writes what one pass over it does.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });

const MIB = 1024 * 1024;

/** The orders contract, 8 columns and 12 checks; `shardMb` omitted keeps the default (256 MiB): one pass. */
function contractIn(dir: string, file: string, shardMb?: number): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `name: orders
source: { type: s3-upload, prefix: landing/orders/ }
format: { type: csv${shardMb === undefined ? '' : `, shard_mb: ${shardMb}`} }
schema:
  type: object
  required: [id, status]
  properties:
    id: { type: integer }
    customer: { type: string }
    amount: { type: number }
    quantity: { type: integer }
    status: { type: string }
    created: { type: string }
    email: { type: string }
    note: { type: string }
expectations:
  - type: expect_column_values_to_not_be_null
    kwargs: { column: customer }
  - type: expect_column_values_to_be_unique
    kwargs: { column: id, result_format: COMPLETE }
  - type: expect_column_values_to_be_between
    kwargs: { column: amount, min_value: 0, max_value: 1000, mostly: 0.9, result_format: { result_format: COMPLETE, include_unexpected_rows: true } }
  - type: expect_column_values_to_be_in_set
    kwargs: { column: status, value_set: [new, paid, shipped] }
  - type: expect_column_values_to_match_regex
    severity: warning
    kwargs: { column: email, regex: '^[a-z0-9.]+@[a-z]+\\.com$' }
  - type: expect_column_value_lengths_to_be_between
    kwargs: { column: customer, min_value: 1, max_value: 12 }
  - type: expect_column_mean_to_be_between
    kwargs: { column: amount, min_value: 0, max_value: 1000 }
  - type: expect_column_stdev_to_be_between
    kwargs: { column: quantity, max_value: 100 }
  - type: expect_column_median_to_be_between
    kwargs: { column: quantity, min_value: 1 }
  - type: expect_column_values_to_be_increasing
    severity: warning
    kwargs: { column: id, result_format: COMPLETE }
  - type: expect_compound_columns_to_be_unique
    severity: warning
    kwargs: { column_list: [customer, created] }
  - type: expect_table_row_count_to_be_between
    kwargs: { min_value: 1 }
`,
  );
  return path;
}

/** A CSV quoted where needed. */
const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * About `bytes` of orders: a few nulls, bad amounts and statuses, duplicate ids far apart (in
 * other shards), and at each MiB mark a note in quotes whose line breaks straddle the mark, with
 * text after each break that reads like a record.
 */
function ordersCsv(bytes: number, seed: number): string {
  const next = random(seed);
  const lines = ['id,customer,amount,quantity,status,created,email,note'];
  let length = lines[0]!.length + 1;
  let mark = MIB;
  for (let i = 1; length < bytes; i++) {
    const id = next() < 0.002 && i > 2000 ? Math.floor(next() * i) : i;
    const customer = next() < 0.01 ? '' : `c${Math.floor(next() * 5000)}`;
    const amount = next() < 0.02 ? '-5' : (next() * 900).toFixed(2);
    const quantity = String(1 + Math.floor(next() * 9));
    const status = ['new', 'paid', 'shipped', 'lost'][Math.floor(next() * 3.05)]!;
    const created = `2026-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-0${1 + Math.floor(next() * 9)}`;
    const email = next() < 0.01 ? 'nobody' : `u${i}@example.com`;
    let note = next() < 0.05 ? 'fragile, "handle" with care' : '';
    if (length + 200 > mark) {
      note = `first line\n${i + 1},c1,1.00,1,paid,2026-01-01,x@y.com,\n${'z'.repeat(150)}\nlast`;
      mark += MIB;
    }
    const line = [id, customer, amount, quantity, status, created, email, note]
      .map(String)
      .map(cell)
      .join(',');
    lines.push(line);
    length += Buffer.byteLength(line) + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** The report with its run time removed, which differs from run to run. */
function reportWithoutTime(path: string): unknown {
  const report = JSON.parse(readFileSync(path, 'utf8')) as { meta: Record<string, unknown> };
  delete report.meta.validation_time;
  return report;
}

describe('sluice validate --workers', () => {
  it('validates a file over the shard size in shards and prints and writes what one pass does', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
    const sharded = contractIn(dir, 'orders.yaml', 1);
    const whole = contractIn(join(mkdtempSync(join(tmpdir(), 'sluice-workers-whole-'))), 'orders.yaml');
    const file = join(dir, 'orders.csv');
    const text = ordersCsv(4 * MIB, 7);
    writeFileSync(file, text);
    const noteStart = text.lastIndexOf('"first line', MIB);
    const noteEnd = text.indexOf('last"', noteStart);
    const plan = await planFile(
      file,
      loadStandaloneContractFile(sharded, () => {}),
      MIB,
    );
    // Act
    const json = join(dir, 'report.json');
    const one = sluice(['validate', whole, file, '--json', json]);
    const onePassReport = reportWithoutTime(json);
    const two = sluice(['validate', sharded, file, '--workers', '2', '--json', json]);
    // Assess
    expect(plan.shards.length).toBeGreaterThanOrEqual(4);
    // The first cut falls inside a quoted note whose line breaks look like records; the shard starts after it.
    expect(noteStart).toBeLessThan(MIB);
    expect(noteEnd).toBeGreaterThan(MIB);
    expect(plan.shards[1]?.start).toBe(text.indexOf('\n', noteEnd) + 1);
    expect(two.stderr).toContain(`shards ${plan.shards.length}/${plan.shards.length}`);
    expect(two.status).toBe(one.status);
    expect(two.stdout).toBe(one.stdout);
    const report = reportWithoutTime(json) as {
      results: Array<{ expectation_config: { type: string }; result: { unexpected_index_list?: number[] } }>;
    };
    expect(report).toEqual(onePassReport);
    const unique = report.results.find(
      (r) => r.expectation_config.type === 'expect_column_values_to_be_unique',
    );
    // Duplicates whose first occurrence is shards before the repeat.
    expect(
      Math.max(...(unique?.result.unexpected_index_list ?? [])) -
        Math.min(...(unique?.result.unexpected_index_list ?? [])),
    ).toBeGreaterThan(20_000);
  });

  it('gives what one pass gives with one worker', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
    const sharded = contractIn(dir, 'orders.yaml', 1);
    const whole = contractIn(join(mkdtempSync(join(tmpdir(), 'sluice-workers-whole-'))), 'orders.yaml');
    const file = join(dir, 'orders.csv');
    writeFileSync(file, ordersCsv(4 * MIB, 11));
    // Act
    const json = join(dir, 'report.json');
    const one = sluice(['validate', whole, file, '--json', json]);
    const onePassReport = reportWithoutTime(json);
    const single = sluice(['validate', sharded, file, '--workers', '1', '--json', json]);
    // Assess
    expect(single.stderr).toMatch(/shards (\d+)\/\1 /);
    expect(single.status).toBe(one.status);
    expect(single.stdout).toBe(one.stdout);
    expect(reportWithoutTime(json)).toEqual(onePassReport);
  });

  it('fails with the error of the shard that broke, named as one pass names it, and exits 2', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
    const sharded = contractIn(dir, 'orders.yaml', 1);
    const file = join(dir, 'orders.csv');
    const text = Buffer.from(ordersCsv(3 * MIB, 3));
    // Bytes that are not UTF-8, in the last shard.
    const at = text.lastIndexOf('\n', text.length - 2) + 2;
    text[at] = 0xff;
    writeFileSync(file, text);
    // Act
    const result = sluice(['validate', sharded, file, '--workers', '2']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/sluice: MalformedInput: .*UTF-8.*\(shard \d of \d: bytes \d+–\d+ of /);
  });

  it('refuses a --workers that is not a positive integer', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
    const sharded = contractIn(dir, 'orders.yaml', 1);
    const file = join(dir, 'orders.csv');
    writeFileSync(file, ordersCsv(1000, 5));
    // Act
    const result = sluice(['validate', sharded, file, '--workers', 'two']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--workers must be a positive integer, got 'two'");
  });
});
