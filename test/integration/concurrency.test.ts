import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadContracts } from '../../lambdas/shared/contract.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import type { WatermarkState } from '../../lambdas/shared/watermark.js';
import { coreFunctions, runInterval, runPipeline } from '../../src/local/pipeline.js';
import type { LocalVersioning } from '../../src/local/version-step.js';

// The same work started twice at once, in one process and in two `sluice` processes on one lake:
// whatever the interleaving, the lake ends with one raw copy, one curated part, one tag and (for a
// pulled source) one watermark move. Assertions are on the lake's contents, never on timing.

const root = join(import.meta.dirname, '..', '..');
const toolsBin = join(root, '.venv', 'bin');
const ordersCsv = 'order_id,amount,status\nA1,10,paid\nA2,20,shipped\nA3,30,paid\n';

/** Files under a directory, relative to it, sorted; [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

function tags(gitRemote: string): string[] {
  return execFileSync('git', ['tag', '--list'], { cwd: gitRemote, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** The run records of a dataset (not their attempts), parsed. */
function runRecords(lakeRoot: string, dataset: string): RunRecord[] {
  const dir = join(lakeRoot, 'reports', dataset, 'runs');
  return filesUnder(dir)
    .filter((file) => !file.includes('/'))
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as RunRecord);
}

/** The lake's contents for one dataset that the guarantees are stated over. */
function lakeContents(lakeRoot: string, dataset: string) {
  return {
    raw: filesUnder(join(lakeRoot, 'raw', dataset)),
    curated: filesUnder(join(lakeRoot, 'curated', dataset)).filter((file) => file.endsWith('.parquet')),
    records: runRecords(lakeRoot, dataset).map((record) => `${record.runId} ${record.status}`),
  };
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `sluice` without waiting for it: two of these started back to back run at once. */
function sluice(args: string[]): Promise<Exit> {
  const child = spawn(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], { cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const versionedContract = (prefix: string) =>
  [
    'name: orders',
    `source: { type: s3-upload, prefix: ${prefix} }`,
    'format: { type: csv }',
    'schema:',
    '  type: object',
    '  required: [order_id, amount]',
    '  properties:',
    '    order_id: { type: string }',
    '    amount: { type: number, minimum: 0 }',
    '    status: { type: string }',
    'version: { dvc: true }',
    '',
  ].join('\n');

/** A temporary folder holding the given contracts, for `--datasets` and loadContracts. */
function datasetsDir(dir: string, files: Record<string, string>): string {
  const datasets = join(dir, 'datasets');
  mkdirSync(datasets, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(datasets, name), text);
  return datasets;
}

function localLake(dir: string) {
  const lakeRoot = join(dir, 'lake');
  const store = new FsObjectStore(lakeRoot);
  const versioning: LocalVersioning = {
    gitRemote: join(dir, 'datasets.git'),
    dvcRemote: join(lakeRoot, 'curated', '_dvc'),
    curatedRoot: join(lakeRoot, 'curated'),
    toolsBin,
    dvcCache: join(dir, 'dvc-cache'),
  };
  return { lakeRoot, store, versioning };
}

/** Servers started by the running test, closed when it ends. */
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A cursor-paged orders API on 127.0.0.1 (a port of the system's choosing) that counts its requests. */
async function startApi(): Promise<{ base: string; requests: string[] }> {
  const requests: string[] = [];
  const orders = [1, 2, 3, 4].map((id) => ({ id, amount: id * 10, updated_at: `2026-11-25T10:0${id}:00Z` }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${url.pathname}${url.search}`);
    const since = url.searchParams.get('updated_since');
    const matching = orders.filter((o) => since === null || o.updated_at > since);
    const from = Number(url.searchParams.get('cursor') ?? 0);
    const next = from + 2 < matching.length ? String(from + 2) : null;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: matching.slice(from, from + 2), meta: { next_cursor: next } }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const httpContract = (base: string) =>
  [
    'name: shop-api',
    'source:',
    '  type: http',
    `  url: ${base}/orders`,
    '  paging: { type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor }',
    '  watermark: { field: updated_at, param: updated_since }',
    'format: { type: json, records_path: data }',
    'schedule: rate(1 hour)',
    'schema:',
    '  type: object',
    '  required: [id, amount]',
    '  properties:',
    '    id: { type: integer }',
    '    amount: { type: number, minimum: 0 }',
    '    updated_at: { type: string }',
    'version: { dvc: true }',
    '',
  ].join('\n');

const interval = { start: '2026-11-25T10:00:00.000Z', end: '2026-11-25T11:00:00.000Z' };

function watermark(lakeRoot: string, dataset: string): WatermarkState {
  return JSON.parse(
    readFileSync(join(lakeRoot, 'reports', dataset, 'watermark.json'), 'utf8'),
  ) as WatermarkState;
}

describe('the same upload event delivered twice', () => {
  it('in one process at once: one raw copy, one curated part, one tag, one SUCCEEDED run record', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-concurrency-'));
    const contracts = loadContracts(
      datasetsDir(dir, { 'orders.yaml': versionedContract('landing/orders/') }),
    );
    const { lakeRoot, store, versioning } = localLake(dir);
    await store.put('landing', 'landing/orders/orders.csv', ordersCsv);
    const functions = coreFunctions({ store, contracts });
    const event = {
      dataset: 'orders',
      trigger: {
        type: 's3-upload',
        bucket: 'landing',
        key: 'landing/orders/orders.csv',
        size: ordersCsv.length,
      },
    };
    const deliver = (name: string) =>
      runPipeline({ input: event, name, functions, versioning, store, retryIntervalMs: 0 });
    // Act
    const reports = await Promise.all([deliver('orders-first'), deliver('orders-second')]);
    // Assess
    expect(reports.map((report) => report.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const contents = lakeContents(lakeRoot, 'orders');
    expect(contents.raw).toHaveLength(2);
    expect(contents.raw.filter((file) => file.endsWith('/orders.csv'))).toHaveLength(1);
    expect(contents.curated).toHaveLength(1);
    expect(contents.records).toEqual([expect.stringMatching(/ SUCCEEDED$/)]);
    expect(tags(versioning.gitRemote)).toHaveLength(1);
  });

  it('in two sluice processes on one lake: one raw copy, one curated part, one tag', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-concurrency-'));
    const datasets = datasetsDir(dir, { 'orders.yaml': versionedContract('landing/orders/') });
    const input = join(dir, 'orders.csv');
    writeFileSync(input, ordersCsv);
    const args = ['--lake', dir, '--datasets', datasets, 'run', 'orders', '--input', input];
    // Act
    const exits = await Promise.all([sluice(args), sluice(args)]);
    // Assess
    for (const exit of exits) expect(exit).toMatchObject({ code: 0 });
    const contents = lakeContents(join(dir, 'lake'), 'orders');
    expect(contents.raw.filter((file) => file.endsWith('/orders.csv'))).toHaveLength(1);
    expect(contents.curated).toHaveLength(1);
    expect(contents.records).toEqual([expect.stringMatching(/ SUCCEEDED$/)]);
    expect(tags(join(dir, 'datasets.git'))).toHaveLength(1);
  });
});

describe('two runs of one pulled interval at once', () => {
  it('in one process: one raw batch, one curated part, one tag, one watermark move', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-concurrency-'));
    const { base } = await startApi();
    const contracts = loadContracts(datasetsDir(dir, { 'shop-api.yaml': httpContract(base) }));
    const { lakeRoot, store, versioning } = localLake(dir);
    const functions = coreFunctions({ store, contracts });
    const run = () =>
      runInterval({
        dataset: 'shop-api',
        interval,
        contracts,
        store,
        functions,
        versioning,
        retryIntervalMs: 0,
      });
    // Act
    const results = await Promise.all([run(), run()]);
    // Assess
    expect(results.map((result) => result.report.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const contents = lakeContents(lakeRoot, 'shop-api');
    expect(new Set(contents.raw.map((file) => file.split('/').slice(0, 2).join('/'))).size).toBe(1);
    expect(contents.curated).toHaveLength(1);
    expect(contents.records).toEqual([expect.stringMatching(/ SUCCEEDED$/)]);
    expect(tags(versioning.gitRemote)).toHaveLength(1);
    const mark = watermark(lakeRoot, 'shop-api');
    expect(mark.history).toHaveLength(1);
    expect(mark.value).toBe('2026-11-25T10:04:00Z');
  });

  it('in two sluice processes on one lake: one raw batch, one curated part, one tag, one watermark move', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-concurrency-'));
    const { base } = await startApi();
    const datasets = datasetsDir(dir, { 'shop-api.yaml': httpContract(base) });
    const args = [
      '--lake',
      dir,
      '--datasets',
      datasets,
      'run',
      'shop-api',
      '--interval-start',
      interval.start,
      '--interval-end',
      interval.end,
    ];
    // Act
    const exits = await Promise.all([sluice(args), sluice(args)]);
    // Assess
    for (const exit of exits) expect(exit).toMatchObject({ code: 0 });
    const lakeRoot = join(dir, 'lake');
    const contents = lakeContents(lakeRoot, 'shop-api');
    expect(new Set(contents.raw.map((file) => file.split('/').slice(0, 2).join('/'))).size).toBe(1);
    expect(contents.curated).toHaveLength(1);
    expect(contents.records).toEqual([expect.stringMatching(/ SUCCEEDED$/)]);
    expect(tags(join(dir, 'datasets.git'))).toHaveLength(1);
    // The run that lost the interval reports the winner's run, already processed or completed again.
    const [runId] = contents.records[0]!.split(' ');
    for (const exit of exits) expect(exit.stdout).toContain(`run ${runId}`);
    const mark = watermark(lakeRoot, 'shop-api');
    expect(mark.history).toHaveLength(1);
    expect(mark.value).toBe('2026-11-25T10:04:00Z');
  });
});
