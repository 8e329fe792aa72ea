import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from '@jest/globals';

// `sluice query` as a user runs it: the real CLI on a lake that `sluice run` made from the example
// orders (300 rows: 290 promoted, 10 quarantined, one DVC version). The run happens once; each
// test queries its own copy of that lake.

const root = join(import.meta.dirname, '..', '..');
const datasets = join(root, 'datasets');
const { SLUICE_DVC_CACHE: _kept, ...env } = process.env;

const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    env: { ...env, DVC_NO_ANALYTICS: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });

let demo: string;
let tag: string;

beforeAll(() => {
  demo = mkdtempSync(join(tmpdir(), 'sluice-query-demo-'));
  const run = sluice([
    '--lake',
    demo,
    '--datasets',
    datasets,
    'run',
    'orders',
    '--input',
    'examples/orders.csv',
  ]);
  if (run.status !== 0) throw new Error(`sluice run failed:\n${run.stdout}\n${run.stderr}`);
  tag = /^version\s+(orders@\S+)/m.exec(run.stdout)![1]!;
}, 120_000);

/** A copy of the demo lake of this test's own. */
function demoLake(): string {
  const lake = mkdtempSync(join(tmpdir(), 'sluice-query-'));
  cpSync(demo, lake, { recursive: true });
  return lake;
}

const query = (lake: string, ...args: string[]) =>
  sluice(['--lake', lake, '--datasets', datasets, 'query', ...args]);

describe('sluice query on the demo lake', () => {
  it('prints a table of an aggregate over the curated rows', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT count(*) AS orders, count(DISTINCT status) AS statuses FROM orders');
    // Assess
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'orders  statuses',
      '──────  ────────',
      '290     6',
      '(1 row)',
      '',
    ]);
  });

  it('prints the rows as a JSON array of objects with --json, counts as numbers and dates in ISO 8601', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(
      lake,
      'SELECT status, count(*) AS n, min(order_date) AS first, max(dt) AS dt FROM orders GROUP BY status ORDER BY status LIMIT 2',
      '--json',
    );
    // Assess
    expect(result.status).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      status: 'cancelled',
      n: expect.any(Number),
      first: expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
      dt: expect.stringMatching(/^\d{4}-\d\d-\d\d$/),
    });
  });

  it('prints CSV with a header line with --csv', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT order_id, amount FROM orders ORDER BY order_id LIMIT 2', '--csv');
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('order_id,amount\r\nORD-100001,587.59\r\nORD-100002,38.56\r\n');
  });

  it('reads the quarantined rows with their reasons and the run records, one view each', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const quarantine = query(
      lake,
      "SELECT count(*) AS n, count(*) FILTER (WHERE record.amount = '-12.5') AS negative FROM orders_quarantine",
      '--json',
    );
    const reasons = query(
      lake,
      'SELECT row, failures[1].reason AS reason FROM orders_quarantine ORDER BY row LIMIT 1',
      '--json',
    );
    const runs = query(
      lake,
      'SELECT status, validation.rows.quarantined AS quarantined, version.tag AS tag FROM orders_runs',
      '--json',
    );
    // Assess
    expect(JSON.parse(quarantine.stdout)).toEqual([{ n: 10, negative: 1 }]);
    expect(JSON.parse(reasons.stdout)).toEqual([{ row: 19, reason: 'must be >= 0, got -12.5' }]);
    expect(JSON.parse(runs.stdout)).toEqual([{ status: 'SUCCEEDED', quarantined: 10, tag }]);
  });

  it('reads the Parquet parts promotion writes, a column a part lacks as null', async () => {
    // Prepare: the demo's curated part, rewritten without the customer_id column.
    const lake = demoLake();
    const dir = join(lake, 'lake', 'curated', 'orders');
    const part = (readdirSync(dir, { recursive: true }) as string[])
      .filter((file) => file.endsWith('part-00000.parquet'))
      .map((file) => join(dir, file))[0]!;
    const narrower = `${part}.narrower`;
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT order_id, amount, status FROM read_parquet('${part}')) TO '${narrower}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    renameSync(narrower, part);
    // Act
    const result = query(
      lake,
      'SELECT count(*) AS n, typeof(amount) AS amount, count(customer_id) AS customers FROM orders GROUP BY ALL',
      '--json',
    );
    // Assess
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([{ n: 290, amount: 'DOUBLE', customers: 0 }]);
  });

  it("shows a dataset's columns and no rows before its first run", () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-query-empty-'));
    // Act
    const result = query(lake, 'SELECT * FROM orders');
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(
      'order_id  customer_id  order_date  status  amount  currency  quantity  email  dt  run',
    );
    expect(result.stdout).toMatch(/^\(0 rows\)$/m);
  });
});

describe('sluice query on a version', () => {
  it("reads a version's rows with --version and with AT '<tag>', while orders reads curated as it is now", () => {
    // Prepare: a lake of its own, since a copy's dataset repository still pushes to the original's
    const lake = mkdtempSync(join(tmpdir(), 'sluice-query-versions-'));
    const first = sluice([
      '--lake',
      lake,
      '--datasets',
      datasets,
      'run',
      'orders',
      '--input',
      'examples/orders.csv',
    ]);
    const firstTag = /^version\s+(orders@\S+)/m.exec(first.stdout)![1]!;
    const more = join(lake, 'more.csv');
    writeFileSync(
      more,
      readFileSync(join(root, 'examples', 'orders.csv'), 'utf8')
        .split('\n')
        .slice(0, 11)
        .join('\n'),
    );
    expect(sluice(['--lake', lake, '--datasets', datasets, 'run', 'orders', '--input', more]).status).toBe(0);
    // Act
    const now = query(lake, 'SELECT count(*) AS n FROM orders', '--json');
    const version = query(lake, 'SELECT count(*) AS n FROM orders', '--version', firstTag, '--json');
    const both = query(
      lake,
      `SELECT (SELECT count(*) FROM orders AT '${firstTag}') AS earlier, (SELECT count(*) FROM orders) AS latest, (SELECT count(*) FROM orders AT '${firstTag}') AS again`,
      '--json',
    );
    // Assess
    expect(version.stderr).toBe('');
    expect(JSON.parse(now.stdout)).toEqual([{ n: 300 }]);
    expect(JSON.parse(version.stdout)).toEqual([{ n: 290 }]);
    expect(JSON.parse(both.stdout)).toEqual([{ earlier: 290, latest: 300, again: 290 }]);
  });

  it('exits 2 and names the tag when the version is not there', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT count(*) FROM orders', '--version', 'orders@2000-01-01-nope');
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /ConfigurationError: no version 'orders@2000-01-01-nope' in .*; 'sluice versions orders' lists them/,
    );
  });

  it('exits 2 and lists the datasets when the tag names an unknown dataset', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT 1', '--version', 'refunds@2026-12-01');
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /ConfigurationError: --version: no dataset 'refunds' .*; known datasets: orders/,
    );
  });
});

describe('sluice query errors', () => {
  it('exits 2 with QueryFailed and the parser message when the SQL does not parse', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELEC count(*) FROM orders');
    // Assess
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^sluice: QueryFailed: the query over the local lake \(.+\) failed: Parser Error: syntax error at or near "SELEC"/,
    );
  });

  it('exits 2 and lists the views when the SQL names an unknown dataset', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT * FROM refunds');
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Catalog Error: Table with name refunds does not exist/);
    expect(result.stderr).toMatch(/the views here: orders, orders_quarantine, orders_runs/);
  });

  it('exits 1 with QueryFailed when the query fails while running', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT CAST(order_id AS INTEGER) FROM orders');
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/QueryFailed: .*Conversion Error: Could not convert string 'ORD-/);
  });

  it('exits 2 when --json and --csv are both given', () => {
    // Prepare
    const lake = demoLake();
    // Act
    const result = query(lake, 'SELECT 1', '--json', '--csv');
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/ConfigurationError: --json and --csv both given; choose one/);
  });

  it('stops quietly and exits 0 when the reader of its output goes away, as | head does', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-query-pipe-'));
    const child = spawn(
      process.execPath,
      [
        join(root, 'bin', 'sluice.mjs'),
        '--lake',
        lake,
        '--datasets',
        datasets,
        'query',
        'SELECT * FROM range(5000000)',
        '--csv',
      ],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    // Act
    child.stdout.once('data', () => child.stdout.destroy());
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    // Assess
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
