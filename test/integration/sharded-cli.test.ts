import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice run` on a batch larger than its contract's format.shard_mb: the real CLI and ASL, the
// Distributed Map ValidateShards run locally with its shards in worker threads, against the same
// file run in one pass (a shard size above its size).

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });

/**
 * About 240 KB of orders, CRLF line ends, with what only the whole file shows: an order id whose
 * first occurrence is far earlier (another shard), quoted fields holding a line break, statuses
 * outside the set and negative amounts spread over the file.
 */
function ordersCsv(): string {
  const statuses = ['placed', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
  const rows = ['order_id,customer_id,order_date,status,amount,currency,quantity,email'];
  for (let i = 0; i < 4000; i++) {
    const id = i === 3500 ? 'ORD-100010' : `ORD-${String(100000 + i).padStart(6, '0')}`;
    const status = i % 397 === 5 ? 'lost' : statuses[i % 6];
    const amount = i % 511 === 7 ? '-3.5' : ((i * 1.37) % 900).toFixed(2);
    const email = i % 50 === 0 ? '"line one\nline two, x@y.com"' : i % 3 ? `u${i}@example.com` : '';
    const date = `2026-11-${String(1 + (i % 28)).padStart(2, '0')}`;
    rows.push(`${id},C${i % 977},${date},${status},${amount},EUR,${1 + (i % 5)},${email}`);
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** The orders contract with a shard size, in a datasets folder of its own; `unique: false` drops its uniqueness expectation. */
function datasetsWithShardMb(shardMb: number, { unique = true } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
  writeFileSync(
    join(dir, 'orders.yaml'),
    [
      'name: orders',
      'source: { type: s3-upload, prefix: orders/ }',
      `format: { type: csv, shard_mb: ${shardMb} }`,
      // The curated rows of a sharded run are compared byte for byte with one pass's: as JSON Lines.
      'curated: { format: jsonl }',
      'schema:',
      '  type: object',
      '  required: [order_id, customer_id, order_date, status, amount, currency]',
      '  properties:',
      '    order_id: { type: string, pattern: "^ORD-[0-9]{6}$" }',
      '    customer_id: { type: string }',
      '    order_date: { type: string, format: date }',
      '    status: { type: string }',
      '    amount: { type: number, minimum: 0 }',
      '    currency: { type: string }',
      '    quantity: { type: integer, minimum: 1 }',
      '    email: { type: [string, "null"] }',
      'expectations:',
      ...(unique ? ['  - type: expect_column_values_to_be_unique', '    kwargs: { column: order_id }'] : []),
      '  - type: expect_column_values_to_be_in_set',
      '    kwargs: { column: status, value_set: [placed, paid, shipped, delivered, cancelled, refunded] }',
      '  - type: expect_column_mean_to_be_between',
      '    kwargs: { column: amount, min_value: 0, max_value: 1000 }',
      '  - type: expect_column_values_to_be_between',
      '    kwargs: { column: amount, min_value: 0, max_value: 100000, mostly: 0.95 }',
      'on_failure: quarantine',
      'version: { dvc: false }',
    ].join('\n'),
  );
  return dir;
}

/** The one run folder of a zone of the lake (`<zone>/orders/dt=…/run=…/`). */
function runDir(lake: string, zone: string): string {
  const dataset = join(lake, 'lake', zone, 'orders');
  const [dt] = readdirSync(dataset).filter((name) => name.startsWith('dt='));
  const [run] = readdirSync(join(dataset, dt!));
  return join(dataset, dt!, run!);
}

/** The run folder of the sharded branch's lists and results in reports (`reports/orders/runs/<run>/shards/`). */
function shardsDir(lake: string): string {
  const runs = join(lake, 'lake', 'reports', 'orders', 'runs');
  const [run] = readdirSync(runs);
  return join(runs, run!, 'shards');
}

interface RunReport {
  status: string;
  events: Array<{ type: string; step: string }>;
  mapRuns: Array<{
    step: string;
    status: string;
    itemCounts: { total: number; succeeded: number };
    executions: Array<{ status: string; output?: unknown }>;
  }>;
}

/** `sluice run orders --json` in shards of 20 KB, on two workers. */
function runInShards(
  lake: string,
  input: string,
  datasets: string,
  extra: readonly string[] = [],
): { status: number | null; report: RunReport } {
  const result = sluice([
    '--lake',
    lake,
    '--datasets',
    datasets,
    'run',
    'orders',
    '--input',
    input,
    '--workers',
    '2',
    '--json',
    ...extra,
  ]);
  return { status: result.status, report: JSON.parse(result.stdout) as RunReport };
}

/** The files under a folder and its subfolders (none when it is not there). */
const filesUnder = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name))
    : [];

const partsOf = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^part-\d{5}\.jsonl$/.test(name))
    .sort();
const joined = (dir: string) => partsOf(dir).map((name) => readFileSync(join(dir, name), 'utf8'));

/** The validation report without what names the lake or the moment: comparable between two lakes. */
function reportOf(lake: string): unknown {
  const text = readFileSync(join(runDir(lake, 'reports'), 'validation.json'), 'utf8');
  const report = JSON.parse(text.replaceAll(lake, '<lake>')) as { meta: Record<string, unknown> };
  delete report.meta.validation_time;
  delete report.meta.outputs;
  return report;
}

describe('sluice run on a batch larger than its shard size', () => {
  it('validates it in shards on worker threads with the result, quarantine and curated rows of one pass', () => {
    // Prepare
    const work = mkdtempSync(join(tmpdir(), 'sluice-sharded-'));
    const input = join(work, 'orders.csv');
    writeFileSync(input, ordersCsv());
    const sharded = join(work, 'sharded');
    const whole = join(work, 'whole');
    mkdirSync(sharded);
    mkdirSync(whole);
    // Act
    const inShards = sluice([
      '--lake',
      sharded,
      '--datasets',
      datasetsWithShardMb(0.02),
      'run',
      'orders',
      '--input',
      input,
      '--workers',
      '2',
      '--json',
    ]);
    const inOnePass = sluice([
      '--lake',
      whole,
      '--datasets',
      datasetsWithShardMb(256),
      'run',
      'orders',
      '--input',
      input,
      '--json',
    ]);
    // Assess
    expect(inShards.stderr).not.toMatch(/Error:/);
    expect(inShards.status).toBe(0);
    expect(inOnePass.status).toBe(0);
    const report = JSON.parse(inShards.stdout) as {
      status: string;
      events: Array<{ type: string; step: string }>;
      mapRuns: Array<{ step: string; status: string; itemCounts: { total: number; succeeded: number } }>;
    };
    const steps = report.events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.step);
    expect(steps).toEqual(expect.arrayContaining(['PlanShards', 'MergeResults']));
    expect(steps).not.toContain('ValidateBatch');
    expect(report.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['MapRunStarted', 'MapRunSucceeded']),
    );
    const [mapRun] = report.mapRuns;
    expect(mapRun).toMatchObject({ step: 'ValidateShards', status: 'SUCCEEDED' });
    const shards = mapRun!.itemCounts.total;
    expect(shards).toBeGreaterThan(5);
    expect(mapRun!.itemCounts.succeeded).toBe(shards);
    expect(partsOf(runDir(sharded, 'validated'))).toHaveLength(shards);
    expect(partsOf(runDir(sharded, 'curated'))).toHaveLength(shards);
    expect(partsOf(runDir(whole, 'curated'))).toEqual(['part-00000.jsonl']);
    expect(joined(runDir(sharded, 'curated')).join('')).toBe(joined(runDir(whole, 'curated')).join(''));
    const quarantine = (lake: string) =>
      readFileSync(join(runDir(lake, 'quarantine'), 'rejected-rows.jsonl'), 'utf8');
    expect(quarantine(sharded)).toBe(quarantine(whole));
    // The duplicate in a late shard: its global row (header, 3,500 records before it, 70 of them
    // two lines long) and index, and the row of the first occurrence, 13, in the first shard.
    const duplicate = quarantine(sharded)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { row: number; index: number; failures: Array<{ reason: string }> })
      .find((entry) => entry.index === 3500);
    expect(duplicate?.row).toBe(1 + 3500 + 70 + 1);
    expect(duplicate!.failures.map((f) => f.reason)).toContain('must be unique; the same value is on row 13');
    expect(reportOf(sharded)).toEqual(reportOf(whole));
  });

  it('checks the uniqueness keys the shards spilled in a second map run, one child per key partition', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders.csv');
    writeFileSync(input, ordersCsv());
    // Act
    const { status, report } = runInShards(lake, input, datasetsWithShardMb(0.02));
    // Assess
    expect(status).toBe(0);
    expect(report.mapRuns.map((run) => run.step)).toEqual(['ValidateShards', 'CheckKeyPartitions']);
    const check = report.mapRuns[1]!;
    const partitions = readFileSync(join(shardsDir(lake), 'key-partitions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { partition: number }).partition);
    expect(partitions.length).toBeGreaterThan(0);
    expect(check).toMatchObject({ status: 'SUCCEEDED', itemCounts: { total: partitions.length } });
    expect(check.executions.map((child) => (child.output as { partition: number }).partition)).toEqual(
      partitions,
    );
    // The one order id in two shards is found by the partition that holds it.
    const found = check.executions.reduce(
      (sum, child) => sum + (child.output as { duplicates: number }).duplicates,
      0,
    );
    expect(found).toBe(1);
  });

  it("removes the spill from the lake's reports zone when the run ends, as no lifecycle rule runs on a local lake", () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders.csv');
    writeFileSync(input, ordersCsv());
    // Act
    const { status, report } = runInShards(lake, input, datasetsWithShardMb(0.02));
    // Assess
    expect(status).toBe(0);
    // The shards spilled their uniqueness keys: the key partitions were checked from the spill.
    expect(report.mapRuns.map((run) => run.step)).toContain('CheckKeyPartitions');
    const run = runDir(lake, 'reports');
    const spill = join(run, 'spill');
    const meta = join(
      lake,
      'lake',
      '.meta',
      'reports',
      relative(join(lake, 'lake', 'reports'), run),
      'spill',
    );
    expect([...filesUnder(spill), ...filesUnder(meta)]).toEqual([]);
    // The run's other reports stay.
    expect(readdirSync(run)).toContain('validation.json');
  });

  it('leaves the removal of the spill out of the calls --count-requests counts, as a deployed run makes none', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders.csv');
    writeFileSync(input, ordersCsv());
    // Act
    const { status, report } = runInShards(lake, input, datasetsWithShardMb(0.02), ['--count-requests']);
    // Assess
    expect(status).toBe(0);
    const { storeCalls } = report as RunReport & { storeCalls: Record<string, Record<string, number>> };
    expect(storeCalls.reports?.put).toBeGreaterThan(0);
    expect(storeCalls.reports).not.toHaveProperty('delete');
    expect(filesUnder(join(runDir(lake, 'reports'), 'spill'))).toEqual([]);
  });

  it('skips the key partition checks when the contract has no uniqueness expectation', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders.csv');
    writeFileSync(input, ordersCsv());
    // Act
    const { status, report } = runInShards(lake, input, datasetsWithShardMb(0.02, { unique: false }));
    // Assess
    expect(status).toBe(0);
    const entered = report.events.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.step);
    expect(entered).toEqual(expect.arrayContaining(['ValidateShards', 'PlanKeyPartitions', 'MergeResults']));
    expect(entered).not.toContain('CheckKeyPartitions');
    expect(report.mapRuns.map((run) => run.step)).toEqual(['ValidateShards']);
  });

  it('keeps a batch within its shard size on the one ValidateBatch pass', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders.csv');
    writeFileSync(input, ordersCsv());
    // Act
    const result = sluice([
      '--lake',
      lake,
      '--datasets',
      datasetsWithShardMb(1),
      'run',
      'orders',
      '--input',
      input,
      '--json',
    ]);
    // Assess
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      events: Array<{ type: string; step: string }>;
      mapRuns?: unknown[];
    };
    const steps = report.events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.step);
    expect(steps).toContain('ValidateBatch');
    expect(steps).not.toContain('PlanShards');
    expect(report.mapRuns ?? []).toEqual([]);
  });

  it('refuses --workers that is not a whole number of at least 1', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = sluice([
      '--lake',
      lake,
      'run',
      'orders',
      '--input',
      'examples/orders.csv',
      '--workers',
      '0',
    ]);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/--workers must be a whole number of at least 1, not '0'/);
  });
});
