import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ingest } from '../../lambdas/ingest/core.js';
import type { IngestOutput, IngestPorts } from '../../lambdas/ingest/types.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';
import { SourceUnavailable } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { watermarkKey } from '../../lambdas/shared/keys.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import { readBatchKeys } from '../../lambdas/shared/raw-manifest.js';
import { readWatermark } from '../../lambdas/shared/watermark.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';

// Incremental extraction from a real PostgreSQL (scripts/postgres.mjs) into a local lake.

let db: TestDatabase;
const env = { SLUICE_PG: '' };

beforeAll(async () => {
  db = await freshDatabase();
  env.SLUICE_PG = db.url;
});

afterAll(async () => {
  await db?.drop();
});

function contractFor(table: string, extra: string[] = []): Contract {
  return parseContract(
    [
      `name: ${table.replace(/_/g, '-')}`,
      'source:',
      '  type: postgres',
      '  connection: SLUICE_PG',
      `  table: ${db.name}.${table}`,
      '  watermark_column: id',
      '  batch_size: 5000',
      ...extra,
      'format: { type: jsonl }',
      'schedule: rate(1 hour)',
      'schema: { type: object, properties: { id: { type: integer } } }',
    ].join('\n'),
    '<inline>',
  );
}

const hour = (n: number) => ({
  start: new Date(Date.UTC(2026, 10, 25, n)).toISOString(),
  end: new Date(Date.UTC(2026, 10, 25, n + 1)).toISOString(),
});

function runner(contract: Contract, store: ObjectStore, ports: Pick<IngestPorts, 'sleep' | 'clock'> = {}) {
  const contracts = new Map([[contract.name, contract]]);
  return (n: number) =>
    ingest(
      { dataset: contract.name, trigger: { type: 'schedule', time: hour(n).end, interval: hour(n) } },
      { store, contracts, env, ...ports },
    );
}

/**
 * A clock that only moves when the run sleeps, and a sleep that returns at once after `onSleep`:
 * what a run waits for is then decided by the test, never by the machine's speed.
 */
function fakeTime(onSleep: (ms: number) => Promise<void> | void = () => undefined) {
  let now = Date.UTC(2026, 10, 25, 12);
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: () => new Date(now),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
      await onSleep(ms);
    },
  };
}

/** Every id in the raw objects a run committed (`id` is each line's first field). */
async function idsLanded(store: ObjectStore, output: IngestOutput): Promise<number[]> {
  const ids: number[] = [];
  for (const key of output.files > 0 ? await readBatchKeys(store, output.manifestKey) : []) {
    const lines = createInterface({
      input: await store.read('raw', key),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      if (!line.startsWith('{"id":')) throw new Error(`unexpected line in ${key}: ${line.slice(0, 80)}`);
      ids.push(Number.parseInt(line.slice(6), 10));
    }
  }
  return ids;
}

/**
 * Writers that keep inserting while runs extract: some hold their transaction open after the
 * insert (so ids commit out of order), some take an id with nextval() before inserting it, some
 * roll back. Returns the ids that committed.
 */
function concurrentWriters(pool: pg.Pool, table: string, count: number) {
  let stop = false;
  const committed: number[] = [];
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  const commit = (ids: number[]) => {
    committed.push(...ids);
    for (const waiter of waiting.splice(0)) {
      if (committed.length >= waiter.count) waiter.resolve();
      else waiting.push(waiter);
    }
  };
  const writer = async (seed: number) => {
    let n = seed;
    while (!stop) {
      n += 1;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        let ids: number[];
        if (n % 5 === 0) {
          const { rows } = await client.query<{ id: string }>(`SELECT nextval('${table}_id_seq') AS id`);
          await sleep(n % 40);
          ids = [Number(rows[0]!.id)];
          await client.query(`INSERT INTO ${table} (id, payload) VALUES ($1, 'late')`, ids);
        } else {
          const { rows } = await client.query<{ id: string }>(
            `INSERT INTO ${table} (payload) SELECT 'w' || g FROM generate_series(1, $1) g RETURNING id`,
            [1 + (n % 20)],
          );
          ids = rows.map((r) => Number(r.id));
        }
        await sleep((n * 37) % 120);
        if (n % 10 === 3) await client.query('ROLLBACK');
        else {
          await client.query('COMMIT');
          commit(ids);
        }
      } finally {
        client.release();
      }
    }
  };
  const running = Array.from({ length: count }, (_, i) => writer(i * 1000));
  return {
    committed,
    /** Resolves once the writers have committed `n` more transactions' ids than now. */
    commits(n: number): Promise<void> {
      const count = committed.length + n;
      return new Promise((resolve) => waiting.push({ count, resolve }));
    },
    async stop() {
      stop = true;
      await Promise.all(running);
    },
  };
}

describe('the postgres source', () => {
  it('lands a million rows exactly once across runs while other sessions insert and commit out of order', async () => {
    // Prepare: a million rows, then writers that keep inserting during every run
    const table = `${db.name}.events`;
    await db.pool.query(
      `CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text NOT NULL, amount numeric(12,2))`,
    );
    await db.pool.query(
      `INSERT INTO ${table} (payload, amount) SELECT 'row ' || g, g / 100.0 FROM generate_series(1, 1000000) g`,
    );
    const contract = contractFor('events');
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-pg-')));
    const run = runner(contract, store);
    const writers = concurrentWriters(db.pool, table, 4);
    // Act: runs one after another, two at once (they race for the watermark), then a last one;
    // between them the writers commit some more
    const outputs: IngestOutput[] = [];
    try {
      outputs.push(await run(0));
      await writers.commits(30);
      outputs.push(await run(1));
      outputs.push(...(await Promise.all([run(2), run(3)])));
      await writers.commits(30);
      outputs.push(await run(4));
    } finally {
      await writers.stop();
    }
    outputs.push(await run(5));
    const again = await run(1);
    // Assess: every committed id landed in exactly one run
    const landed = Float64Array.from(
      (await Promise.all(outputs.map((o) => idsLanded(store, o)))).flat(),
    ).sort();
    const inTable = Float64Array.from(
      (await db.pool.query<{ id: string }>(`SELECT id FROM ${table}`)).rows.map((r) => Number(r.id)),
    ).sort();
    expect(inTable.length).toBeGreaterThan(1_000_000);
    expect(writers.committed.length).toBeGreaterThan(50);
    expect(landed.length).toBe(inTable.length);
    // Sorted side by side with the table's primary keys: no id missing, none twice.
    expect(landed.findIndex((id, i) => id !== inTable[i])).toBe(-1);
    expect(outputs[0]!.records).toBeGreaterThanOrEqual(1_000_000);
    // The repeated interval extracted nothing new: it is the run committed before.
    expect(again).toMatchObject({ runId: outputs[1]!.runId, duplicate: true });
    const { state } = await readWatermark(store, contract.name);
    expect(state?.value).toBe(String(inTable.at(-1)));
    expect(state?.history.map((h) => h.runId).sort()).toEqual(outputs.map((o) => o.runId).sort());
  }, 90_000);

  it('waits for a transaction that took an id before the run started, and lands its row once it commits', async () => {
    // Prepare: a session holds id n uncommitted while a later id commits
    const table = `${db.name}.slow`;
    await db.pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text)`);
    await db.pool.query(`INSERT INTO ${table} (payload) VALUES ('a'), ('b')`);
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-pg-')));
    const slow = await db.pool.connect();
    let committed = false;
    // The slow transaction commits while the run waits: at its first pause.
    const time = fakeTime(async () => {
      if (committed) return;
      committed = true;
      await slow.query('COMMIT');
      slow.release();
    });
    const run = runner(contractFor('slow'), store, time);
    const first = await run(0);
    await slow.query('BEGIN');
    const held = (
      await slow.query<{ id: string }>(`INSERT INTO ${table} (payload) VALUES ('slow') RETURNING id`)
    ).rows[0]!.id;
    await db.pool.query(`INSERT INTO ${table} (payload) VALUES ('fast')`);
    // Act: the run starts while the slow transaction is open
    const second = await run(1);
    // Assess
    expect(await idsLanded(store, first)).toEqual([1, 2]);
    expect(await idsLanded(store, second)).toEqual([Number(held), Number(held) + 1]);
    const manifest = JSON.parse(await store.readText('raw', second.manifestKey)) as {
      details: { waitedMs: number; isolation: string };
    };
    expect(committed).toBe(true);
    expect(time.sleeps.length).toBeGreaterThan(0);
    expect(manifest.details.waitedMs).toBe(time.sleeps.reduce((sum, ms) => sum + ms, 0));
    expect(manifest.details.isolation).toBe('repeatable read, read only');
  });

  it('gives up with SourceUnavailable when an older transaction stays open, and leaves the watermark', async () => {
    // Prepare
    const table = `${db.name}.stuck`;
    await db.pool.query(`CREATE TABLE ${table} (id bigserial PRIMARY KEY, payload text)`);
    await db.pool.query(`INSERT INTO ${table} (payload) VALUES ('a')`);
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-pg-')));
    const time = fakeTime();
    const run = runner(contractFor('stuck', ['  horizon_wait_seconds: 1']), store, time);
    const open = await db.pool.connect();
    await open.query('BEGIN');
    await open.query('SELECT 1');
    // Act
    const result = run(0).catch((error: unknown) => error);
    const error = await result;
    await open.query('ROLLBACK');
    open.release();
    // Assess
    expect(error).toBeInstanceOf(SourceUnavailable);
    expect((error as Error).message).toMatch(
      /open since before .* still running after 1 s: .*idle in transaction/,
    );
    expect(await store.head('reports', watermarkKey('stuck'))).toBeUndefined();
    // It looked again until a second had passed, then gave up.
    expect(time.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeGreaterThan(1000);
  });

  it('extracts by a timestamp set from the database clock, and reads an updated row again as its new version', async () => {
    // Prepare
    const table = `${db.name}.accounts`;
    await db.pool.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, balance numeric(12,2), big bigint, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await db.pool.query(
      `INSERT INTO ${table} (id, balance, big) VALUES (1, 10.50, 9007199254740993), (2, 20, 7)`,
    );
    const contract = parseContract(
      [
        'name: accounts',
        `source: { type: postgres, connection: SLUICE_PG, query: "SELECT id, balance, big, updated_at FROM ${table}", watermark_column: updated_at }`,
        'format: { type: jsonl }',
        'schedule: rate(1 hour)',
        'schema: { type: object, properties: { id: { type: integer } } }',
      ].join('\n'),
      '<inline>',
    );
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-pg-')));
    const run = runner(contract, store);
    const read = async (output: IngestOutput) =>
      (await store.readText('raw', output.rawKey))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    // Act
    const first = await run(0);
    await db.pool.query(`UPDATE ${table} SET balance = 11, updated_at = clock_timestamp() WHERE id = 1`);
    const second = await run(1);
    const third = await run(2);
    // Assess
    const rows = await read(first);
    expect(rows.map((r) => [r.id, r.balance, r.big])).toEqual([
      [1, 10.5, '9007199254740993'],
      [2, 20, 7],
    ]);
    expect(rows[0]!.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect((await read(second)).map((r) => [r.id, r.balance])).toEqual([[1, 11]]);
    expect(third).toMatchObject({ empty: true, files: 0 });
  });
});
