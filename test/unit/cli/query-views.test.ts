import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { quoteLiteral } from '../../../src/cli/query-sql.js';
import { curatedParts, curatedViewSql, datasetViews, duckdbType } from '../../../src/cli/query-views.js';

const contract = parseContract(
  [
    'name: events',
    'source: { type: s3-upload, prefix: events/ }',
    'format: { type: jsonl }',
    'schema:',
    '  type: object',
    '  properties:',
    '    id: { type: integer }',
    '    score: { type: number }',
    '    ok: { type: boolean }',
    '    name: { type: [string, "null"] }',
    '    day: { type: string, format: date }',
    '    at: { type: string, format: date-time }',
    '    tags: { type: array, items: { type: string } }',
    '    where: { type: object, properties: { city: { type: string }, zip: { type: integer } } }',
  ].join('\n'),
  'events.yaml',
);

/** A lake directory with these files, by their path under it. */
function lakeWith(files: Record<string, string>): string {
  const zones = mkdtempSync(join(tmpdir(), 'sluice-query-views-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(zones, path, '..'), { recursive: true });
    writeFileSync(join(zones, path), text);
  }
  return zones;
}

/** Runs SQL in a fresh DuckDB with these views; returns the result's column types and rows as JSON. */
async function select(views: Array<{ name: string; sql: string }>, sql: string, setup: string[] = []) {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    for (const statement of setup) await connection.run(statement);
    for (const view of views) await connection.run(`CREATE VIEW "${view.name}" AS ${view.sql}`);
    const reader = await connection.runAndReadAll(sql);
    return {
      types: Object.fromEntries(reader.columnNames().map((n, i) => [n, String(reader.columnTypes()[i])])),
      rows: reader.getRowObjectsJson(),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const run = 'events/dt=2026-12-01/run=r1';
const line = JSON.stringify({
  id: 7,
  score: 1.5,
  ok: true,
  name: null,
  day: '2026-11-30',
  at: '2026-11-30T10:00:00Z',
  tags: ['a', 'b'],
  where: { city: 'Lyon', zip: 69001 },
});

describe('duckdbType', () => {
  it.each([
    [{ type: 'integer' }, 'BIGINT'],
    [{ type: 'number' }, 'DOUBLE'],
    [{ type: 'boolean' }, 'BOOLEAN'],
    [{ type: 'string' }, 'VARCHAR'],
    [{ type: 'string', format: 'date' }, 'DATE'],
    [{ type: 'string', format: 'date-time' }, 'TIMESTAMPTZ'],
    [{ type: 'string', format: 'email' }, 'VARCHAR'],
    [{ type: ['integer', 'null'] }, 'BIGINT'],
    [{ type: ['integer', 'number'] }, 'DOUBLE'],
    [{ type: ['string', 'integer'] }, 'JSON'],
    [{ type: 'null' }, 'JSON'],
    [{}, 'JSON'],
    [{ type: 'array', items: { type: 'integer' } }, 'BIGINT[]'],
    [{ type: 'array' }, 'JSON'],
    [{ type: 'object' }, 'JSON'],
    [
      {
        type: 'object',
        properties: { a: { type: 'string' }, 'b c': { type: 'array', items: { type: 'number' } } },
      },
      'STRUCT("a" VARCHAR, "b c" DOUBLE[])',
    ],
  ])('maps %j to %s', (schema, expected) => {
    // Act
    const type = duckdbType(schema);
    // Assess
    expect(type).toBe(expected);
  });
});

describe('the curated view', () => {
  it("types JSON Lines parts from the contract's schema, with dt and run from the keys", async () => {
    // Prepare
    const zones = lakeWith({ [`curated/${run}/part-00000.jsonl`]: `${line}\n` });
    // Act
    const { types, rows } = await select(datasetViews(contract, { zones }), 'SELECT * FROM events');
    // Assess
    expect(types).toEqual({
      id: 'BIGINT',
      score: 'DOUBLE',
      ok: 'BOOLEAN',
      name: 'VARCHAR',
      day: 'DATE',
      at: 'TIMESTAMP WITH TIME ZONE',
      tags: 'VARCHAR[]',
      where: 'STRUCT("city" VARCHAR, "zip" BIGINT)',
      dt: 'DATE',
      run: 'VARCHAR',
    });
    expect(rows).toEqual([
      {
        id: '7',
        score: 1.5,
        ok: true,
        name: null,
        day: '2026-11-30',
        at: '2026-11-30 10:00:00+00',
        tags: ['a', 'b'],
        where: { city: 'Lyon', zip: '69001' },
        dt: '2026-12-01',
        run: 'r1',
      },
    ]);
  });

  it('has the contract columns and no rows when the dataset has no curated files', async () => {
    // Prepare
    const zones = lakeWith({});
    // Act
    const { types, rows } = await select(datasetViews(contract, { zones }), 'SELECT * FROM events');
    // Assess
    expect(Object.keys(types)).toEqual([
      'id',
      'score',
      'ok',
      'name',
      'day',
      'at',
      'tags',
      'where',
      'dt',
      'run',
    ]);
    expect(types.at).toBe('TIMESTAMP WITH TIME ZONE');
    expect(rows).toEqual([]);
  });

  it('reads Parquet parts with their own types beside JSON Lines parts of other runs', async () => {
    // Prepare
    const zones = lakeWith({
      [`curated/${run}/part-00000.jsonl`]: `${line}\n`,
      'curated/events/dt=2026-12-02/run=r2/.keep': '',
    });
    const parquet = join(zones, 'curated/events/dt=2026-12-02/run=r2/part-00000.parquet');
    await select([], 'SELECT 1', [
      `COPY (SELECT 8::BIGINT AS id, 2.5::DOUBLE AS score, DATE '2026-12-02' AS day) TO ${quoteLiteral(parquet)} (FORMAT parquet)`,
    ]);
    // Act
    const read = await select(
      datasetViews(contract, { zones }),
      'SELECT run, id, score, day, ok FROM events ORDER BY id',
    );
    // Assess
    expect(read.types).toMatchObject({ id: 'BIGINT', score: 'DOUBLE', day: 'DATE', ok: 'BOOLEAN' });
    expect(read.rows).toEqual([
      { run: 'r1', id: '7', score: 1.5, day: '2026-11-30', ok: true },
      { run: 'r2', id: '8', score: 2.5, day: '2026-12-02', ok: null },
    ]);
  });

  it('leaves out a batch whose first part is not there yet, as a promotion under way has it', async () => {
    // Prepare
    const zones = lakeWith({
      [`curated/${run}/part-00000.jsonl`]: `${line}\n`,
      'curated/events/dt=2026-12-02/run=r2/part-00001.jsonl': `${line}\n`,
      'curated/events/dt=2026-12-02/run=r3/.sluice-tmp-0a0b0c0d-1-ff': `${line}\n`,
    });
    // Act
    const parts = curatedParts(join(zones, 'curated', 'events'));
    // Assess
    expect(parts).toEqual({ jsonl: [join(zones, 'curated', run, 'part-00000.jsonl')], parquet: [] });
  });

  it('reads a restored version from its own directory', async () => {
    // Prepare
    const version = lakeWith({ 'dt=2026-12-01/run=r9/part-00000.jsonl': `${line}\n${line}\n` });
    // Act
    const { rows } = await select(
      [{ name: 'v', sql: curatedViewSql(contract, curatedParts(version)) }],
      'SELECT run, count(*) AS n FROM v GROUP BY run',
    );
    // Assess
    expect(rows).toEqual([{ run: 'r9', n: '2' }]);
  });
});

describe('the quarantine and runs views', () => {
  it("read the quarantined rows with the record's values as text, and each run record", async () => {
    // Prepare
    const zones = lakeWith({
      'quarantine/events/dt=2026-12-01/run=r1/rejected-rows.jsonl': `${JSON.stringify({
        row: 3,
        index: 1,
        failures: [
          {
            column: 'score',
            expectation: 'expect_rows_to_match_contract_schema',
            reason: 'must be number',
            value: 'x',
          },
        ],
        record: { id: 9, score: 'x' },
      })}\n`,
      'reports/events/runs/r1.json': JSON.stringify(
        {
          dataset: 'events',
          runId: 'r1',
          dt: '2026-12-01',
          status: 'FAILED',
          startedAt: '2026-12-01T10:00:00.000Z',
          error: { name: 'ValidationFailed', message: 'no row passed' },
        },
        null,
        2,
      ),
      'reports/events/runs/r1/attempts/2026-12-01T10-00-00-000Z.json': '{"status": "FAILED"}',
    });
    // Act
    const views = datasetViews(contract, { zones });
    const quarantine = await select(
      views,
      'SELECT row, failures[1].reason AS reason, record.id, record.score, dt FROM events_quarantine',
    );
    const runs = await select(views, 'SELECT runId, status, startedAt, error.name AS error FROM events_runs');
    // Assess
    expect(quarantine.rows).toEqual([
      { row: '3', reason: 'must be number', id: '9', score: 'x', dt: '2026-12-01' },
    ]);
    expect(runs.rows).toEqual([
      { runId: 'r1', status: 'FAILED', startedAt: '2026-12-01 10:00:00+00', error: 'ValidationFailed' },
    ]);
  });

  it('have their columns and no rows before the first run', async () => {
    // Prepare
    const zones = lakeWith({});
    // Act
    const views = datasetViews(contract, { zones });
    const quarantine = await select(views, 'SELECT * FROM events_quarantine');
    const runs = await select(views, 'SELECT * FROM events_runs');
    // Assess
    expect(Object.keys(quarantine.types)).toEqual([
      'row',
      'index',
      'file',
      'failures',
      'record',
      'dt',
      'run',
    ]);
    expect(quarantine.types.record).toBe(
      'STRUCT("id" VARCHAR, "score" VARCHAR, "ok" VARCHAR, "name" VARCHAR, "day" VARCHAR, "at" VARCHAR, "tags" VARCHAR, "where" VARCHAR)',
    );
    expect(runs.types).toMatchObject({ runId: 'VARCHAR', startedAt: 'TIMESTAMP WITH TIME ZONE' });
    expect(quarantine.rows).toEqual([]);
    expect(runs.rows).toEqual([]);
  });
});
