import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { freshDatabase } from '../support/postgres.js';

// A secret planted where a user keeps it (SLUICE_SECRET_<NAME>, read locally in place of Secrets
// Manager), then looked for in everything a `sluice run` leaves behind: its stdout and stderr,
// every object of the local lake (all zones, manifests, reports, run records, watermarks) and the
// execution history `sluice history --json --events` prints.

const ROOT = join(import.meta.dirname, '..', '..');
const INTERVAL = ['--interval-start', '2026-11-25T10:00:00Z', '--interval-end', '2026-11-25T11:00:00Z'];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/sluice.mjs …` without blocking this process, which serves the API it calls. */
function sluice(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'sluice.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function serve(listener: RequestListener): Promise<string> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Every file under a directory, with its text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

/** Where a secret turns up: the output streams and lake files that contain it. */
function whereFound(secret: string, run: Result, history: Result, lake: string): string[] {
  const outputs = {
    'run stdout': run.stdout,
    'run stderr': run.stderr,
    'history stdout': history.stdout,
    'history stderr': history.stderr,
  };
  return [
    ...Object.entries(outputs)
      .filter(([, text]) => text.includes(secret))
      .map(([name]) => name),
    ...filesUnder(lake)
      .filter(({ text }) => text.includes(secret))
      .map(({ path }) => path),
  ];
}

/** A folder with the one contract (its file named after the dataset), and an empty lake. */
function project(contract: string): { datasets: string; lake: string } {
  const datasets = mkdtempSync(join(tmpdir(), 'sluice-secret-contracts-'));
  const name = /^name: (\S+)$/m.exec(contract)![1]!;
  writeFileSync(join(datasets, `${name}.yaml`), contract);
  return { datasets, lake: mkdtempSync(join(tmpdir(), 'sluice-secret-lake-')) };
}

/** A run of a dataset, then its history as JSON with every event: all a user sees of it. */
async function runAndHistory(
  dataset: string,
  where: { datasets: string; lake: string },
  env: Record<string, string>,
) {
  const common = ['--datasets', where.datasets, '--lake', where.lake];
  const run = await sluice([...common, 'run', dataset, ...INTERVAL], env);
  const history = await sluice([...common, 'history', dataset, '--json', '--events'], env);
  return { run, history };
}

const httpContract = (api: string, auth: string) =>
  [
    'name: shop-api',
    'source:',
    '  type: http',
    `  url: ${api}/v1/orders`,
    `  auth: ${auth}`,
    'format: { type: json, records_path: data }',
    'schedule: rate(1 hour)',
    'schema:',
    '  type: object',
    '  required: [id, amount]',
    '  properties: { id: { type: integer }, amount: { type: number, minimum: 0 } }',
  ].join('\n');

const PAGE = JSON.stringify({
  data: [
    { id: 1, amount: 10 },
    { id: 2, amount: -1 },
  ],
});

describe('a secret read locally from SLUICE_SECRET_*', () => {
  it('sends an http bearer token and leaves it in no output, lake object or history', async () => {
    // Prepare
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const api = await serve((req, res) => {
      const ok = req.headers.authorization === `Bearer ${token}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? PAGE : '{}');
    });
    const where = project(httpContract(api, '{ type: bearer, secret: shop/api-token }'));
    // Act
    const { run, history } = await runAndHistory('shop-api', where, { SLUICE_SECRET_SHOP_API_TOKEN: token });
    // Assess
    expect([run.status, run.stderr]).toEqual([0, expect.stringContaining("running 'shop-api'")]);
    expect(run.stdout).toMatch(/quarantined\s+1\s/);
    expect(history.status).toBe(0);
    expect(whereFound(token, run, history, where.lake)).toEqual([]);
  }, 120_000);

  it('sends an http API key as a query parameter and leaves it in no output, lake object or history', async () => {
    // Prepare: the key travels in the URL, which manifests and messages name
    const key = `key-${randomBytes(12).toString('hex')}`;
    const api = await serve((req, res) => {
      const ok = new URL(req.url ?? '/', 'http://x').searchParams.get('api_key') === key;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? PAGE : '{}');
    });
    const where = project(httpContract(api, '{ type: query, param: api_key, secret: shop/api-key }'));
    // Act
    const { run, history } = await runAndHistory('shop-api', where, { SLUICE_SECRET_SHOP_API_KEY: key });
    // Assess
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/quarantined\s+1\s/);
    // The raw manifest names the URL the pages came from, so the key would be found there if kept.
    expect(whereFound(api.replace('http://', ''), run, history, where.lake)).toContainEqual(
      expect.stringMatching(/raw\/shop-api\/.*\/_manifest\.json$/),
    );
    expect(whereFound(key, run, history, where.lake)).toEqual([]);
  }, 120_000);

  it('keeps an http API key out of the failure the refusing API causes, and out of the run record', async () => {
    // Prepare: the API refuses every request (403 fails the run at once, without retries)
    const key = `key-${randomBytes(12).toString('hex')}`;
    const api = await serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"forbidden"}');
    });
    const where = project(httpContract(api, '{ type: query, param: api_key, secret: shop/api-key }'));
    // Act
    const { run, history } = await runAndHistory('shop-api', where, { SLUICE_SECRET_SHOP_API_KEY: key });
    // Assess
    expect(run.status).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/SourceRefused/);
    expect(whereFound(key, run, history, where.lake)).toEqual([]);
  }, 120_000);

  it('connects to postgres with a password in its connection secret and leaves it nowhere', async () => {
    // Prepare: a login role of its own, with the planted password
    const db = await freshDatabase();
    const role = `${db.name}_reader`;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    await db.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await db.pool.query(`CREATE TABLE ${db.name}.orders (id bigint PRIMARY KEY, amount numeric NOT NULL)`);
    await db.pool.query(`INSERT INTO ${db.name}.orders VALUES (1, 10), (2, 20)`);
    await db.pool.query(`GRANT USAGE ON SCHEMA ${db.name} TO ${role}`);
    await db.pool.query(`GRANT SELECT ON ${db.name}.orders TO ${role}`);
    cleanups.push(async () => {
      await db.drop();
      const admin = new pg.Client({ connectionString: process.env.SLUICE_TEST_POSTGRES_URL });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    });
    const url = new URL(db.url);
    url.username = role;
    url.password = password;
    const where = project(
      [
        'name: shop-orders',
        'source:',
        '  type: postgres',
        '  connection_secret: shop/orders-db',
        `  table: ${db.name}.orders`,
        '  watermark_column: id',
        'format: { type: jsonl }',
        'schedule: rate(1 hour)',
        'schema:',
        '  type: object',
        '  properties: { id: { type: integer }, amount: { type: number } }',
      ].join('\n'),
    );
    // Act
    const { run, history } = await runAndHistory('shop-orders', where, {
      SLUICE_SECRET_SHOP_ORDERS_DB: url.toString(),
    });
    // Assess
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/rows read\s+2/);
    expect(whereFound(password, run, history, where.lake)).toEqual([]);
  }, 120_000);
});
