import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ingest } from '../../lambdas/ingest/core.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';
import { SourceRefused, SourceUnavailable } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { runRecordKey, watermarkKey } from '../../lambdas/shared/keys.js';
import { readBatchKeys } from '../../lambdas/shared/raw-manifest.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { coreFunctions, runInterval } from '../../src/local/pipeline.js';

// The http source against a real HTTP server on 127.0.0.1 that pages, fails and recovers.

interface Order {
  id: number;
  amount: number;
  updated_at: string;
}

const ORDERS: readonly Order[] = Array.from({ length: 7 }, (_, i) => ({
  id: i + 1,
  amount: i === 4 ? -5 : 10 * (i + 1),
  updated_at: `2026-11-25T10:0${i}:00Z`,
}));

interface Api {
  base: string;
  /** The records the API serves; a test may add some. */
  orders: Order[];
  /** Each request's path and query, in order. */
  requests: string[];
  /** The bodies of the pages served, per request path+query. */
  served: Map<string, string>;
  /** Status codes to answer instead of a page, per request path+query, consumed in order. */
  failures: Map<string, Array<{ status: number; retryAfter?: string }>>;
}

/** Servers started by the running test; each test has its own, closed when it ends. */
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function handle(api: Api, req: IncomingMessage, res: ServerResponse) {
  const { base, orders, requests, served, failures } = api;
  const url = new URL(req.url ?? '/', base);
  const key = `${url.pathname}${url.search}`;
  requests.push(key);
  const failure = failures.get(key)?.shift();
  if (failure) {
    send(
      res,
      failure.status,
      '{"error":"try again"}',
      failure.retryAfter ? { 'retry-after': failure.retryAfter } : {},
    );
    return;
  }
  if (url.pathname === '/private' && req.headers.authorization !== 'Bearer s3cret') {
    send(res, 401, '{"error":"unauthorized"}');
    return;
  }
  const since = url.searchParams.get('updated_since');
  const matching = orders.filter((o) => since === null || o.updated_at > since);
  if (url.pathname === '/orders' || url.pathname === '/private') {
    // Cursor paging, 2 records a page: { data, meta: { next_cursor } }.
    const from = Number(url.searchParams.get('cursor') ?? 0);
    const page = matching.slice(from, from + 2);
    const next = from + 2 < matching.length ? String(from + 2) : null;
    const body = JSON.stringify({ data: page, meta: { next_cursor: next } });
    served.set(key, body);
    send(res, 200, body);
    return;
  }
  if (url.pathname === '/lines') {
    // Link-header paging of JSON Lines, 3 records a page.
    const from = Number(url.searchParams.get('offset') ?? 0);
    const body = matching
      .slice(from, from + 3)
      .map((o) => JSON.stringify(o))
      .join('\n');
    const link: Record<string, string> =
      from + 3 < matching.length ? { link: `<${base}/lines?offset=${from + 3}>; rel="next"` } : {};
    send(res, 200, body, { 'content-type': 'application/x-ndjson', ...link });
    return;
  }
  if (url.pathname === '/export.csv') {
    // Page-number paging of CSV, each page with its header, 3 rows a page.
    const page = Number(url.searchParams.get('page'));
    const rows = orders.slice((page - 1) * 3, page * 3);
    const body = ['id,amount,updated_at', ...rows.map((o) => `${o.id},${o.amount},${o.updated_at}`)].join(
      '\n',
    );
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.end(rows.length > 0 ? `${body}\n` : 'id,amount,updated_at\n');
    return;
  }
  send(res, 404, '{"error":"not found"}');
}

/** A paged API on 127.0.0.1 (a port of the system's choosing) with its own records and request log. */
async function startApi(): Promise<Api> {
  const api: Api = { base: '', orders: [...ORDERS], requests: [], served: new Map(), failures: new Map() };
  const server = createServer((req, res) => handle(api, req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

const schema = [
  'schema:',
  '  type: object',
  '  required: [id, amount]',
  '  properties:',
  '    id: { type: integer }',
  '    amount: { type: number, minimum: 0 }',
  '    updated_at: { type: string }',
];

function contract(name: string, source: string[], format: string): Contract {
  return parseContract(
    [
      `name: ${name}`,
      'source:',
      '  type: http',
      ...source.map((l) => `  ${l}`),
      format,
      'schedule: rate(1 hour)',
      ...schema,
    ].join('\n'),
    '<inline>',
  );
}

const hour = (n: number) => ({
  start: new Date(Date.UTC(2026, 10, 25, n)).toISOString(),
  end: new Date(Date.UTC(2026, 10, 25, n + 1)).toISOString(),
});

function pipeline(c: Contract, sleep?: (ms: number) => Promise<unknown>) {
  const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-http-')));
  const contracts = new Map([[c.name, c]]);
  const functions = coreFunctions({ store, contracts, sleep });
  return {
    store,
    run: (n: number) =>
      runInterval({ dataset: c.name, interval: hour(n), contracts, store, functions, retryIntervalMs: 0 }),
    ingest: (n: number) =>
      ingest(
        { dataset: c.name, trigger: { type: 'schedule', time: hour(n).end, interval: hour(n) } },
        { store, contracts },
      ),
  };
}

describe('the http source', () => {
  it('lands each page as received, retries a 500 and a 429 after its Retry-After, and validates the records', async () => {
    // Prepare
    const { base, served, failures } = await startApi();
    const c = contract(
      'shop-api',
      [
        `url: ${base}/orders`,
        'paging: { type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor }',
        'watermark: { field: updated_at, param: updated_since }',
        'retry_base_ms: 20',
      ],
      'format: { type: json, records_path: data }',
    );
    failures.set('/orders?cursor=2', [{ status: 500 }]);
    failures.set('/orders?cursor=4', [{ status: 429, retryAfter: '1' }]);
    const waits: number[] = [];
    const { store, run } = pipeline(c, async (ms) => {
      waits.push(ms);
    });
    // Act
    const { report } = await run(10);
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    // Two waits: the 500's backoff (full jitter under 20 ms), then the 429's Retry-After of 1 s.
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThan(20);
    expect(waits[1]).toBe(1000);
    const out = report.output as {
      ingest: { manifestKey: string; runId: string };
      validation: { rows: unknown };
    };
    const rawKeys = await readBatchKeys(store, out.ingest.manifestKey);
    expect(rawKeys.map((k) => k.split('/').at(-1))).toEqual([
      'page-00001.json',
      'page-00002.json',
      'page-00003.json',
      'page-00004.json',
    ]);
    expect(await store.readText('raw', rawKeys[2]!)).toBe(served.get('/orders?cursor=4'));
    expect(out.validation.rows).toEqual({ read: 7, valid: 6, quarantined: 1 });
    const manifest = JSON.parse(await store.readText('raw', out.ingest.manifestKey)) as {
      details: { retries: number; pages: number };
      files: unknown[];
    };
    expect(manifest.details).toMatchObject({ retries: 2, pages: 4 });
    expect(manifest.files).toHaveLength(4);
    expect(JSON.parse(await store.readText('reports', watermarkKey('shop-api')))).toMatchObject({
      column: 'updated_at',
      value: '2026-11-25T10:06:00Z',
    });
  });

  it('asks the next run only for what is newer than the watermark', async () => {
    // Prepare
    const { base, orders, requests } = await startApi();
    const c = contract(
      'shop-api-next',
      [
        `url: ${base}/orders`,
        'paging: { type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor }',
        'watermark: { field: updated_at, param: updated_since, initial: "2026-11-25T10:03:00Z" }',
      ],
      'format: { type: json, records_path: data }',
    );
    const { store, ingest: pull } = pipeline(c);
    // Act
    const first = await pull(10);
    orders.push({ id: 8, amount: 80, updated_at: '2026-11-25T10:07:00Z' });
    const second = await pull(11);
    // Assess
    expect(requests).toContain('/orders?updated_since=2026-11-25T10%3A03%3A00Z');
    expect(first.records).toBe(3);
    expect(requests).toContain('/orders?updated_since=2026-11-25T10%3A06%3A00Z');
    expect(second.records).toBe(1);
    expect(await store.readText('raw', second.rawKey)).toMatch(/"id":8/);
  });

  it('stops at max_pages and continues from there on the next run', async () => {
    // Prepare
    const { base } = await startApi();
    const c = contract(
      'shop-api-limited',
      [
        `url: ${base}/orders`,
        'paging: { type: cursor, cursor_path: meta.next_cursor, cursor_param: cursor }',
        'watermark: { field: updated_at, param: updated_since }',
        'max_pages: 3',
      ],
      'format: { type: json, records_path: data }',
    );
    const { store, ingest: pull } = pipeline(c);
    // Act
    const first = await pull(10);
    const stopped = JSON.parse(await store.readText('reports', watermarkKey('shop-api-limited'))) as {
      cursor?: string;
    };
    const second = await pull(11);
    // Assess
    expect(first.files).toBe(3);
    expect(stopped.cursor).toBe(`${base}/orders?cursor=6`);
    expect(second.records).toBe(1);
    expect(await store.readText('raw', second.rawKey)).toMatch(/"id":7/);
    const after = JSON.parse(await store.readText('reports', watermarkKey('shop-api-limited'))) as {
      cursor?: string;
    };
    expect(after.cursor).toBeUndefined();
  });

  it('follows Link headers through JSON Lines pages and page numbers through CSV pages', async () => {
    // Prepare
    const { base } = await startApi();
    const lines = pipeline(
      contract('lines-api', [`url: ${base}/lines`, 'paging: { type: link }'], 'format: { type: jsonl }'),
    );
    const csv = pipeline(
      contract(
        'csv-api',
        [`url: ${base}/export.csv`, 'paging: { type: page, page_param: page, size: 3 }'],
        'format: { type: csv }',
      ),
    );
    // Act
    const jsonl = await lines.run(10);
    const csvRun = await csv.run(10);
    // Assess
    for (const { report } of [jsonl, csvRun]) {
      expect(report.status).toBe('SUCCEEDED');
      const out = report.output as { validation: { rows: unknown } };
      expect(out.validation.rows).toEqual({ read: 7, valid: 6, quarantined: 1 });
    }
    expect((csvRun.report.output as { ingest: { files: number } }).ingest.files).toBe(3);
  });

  it('fails with SourceUnavailable after its retries, recorded with the URL and the last status', async () => {
    // Prepare
    const { base, requests, failures } = await startApi();
    const c = contract(
      'down-api',
      [`url: ${base}/orders?down=1`, 'retries: 2', 'retry_base_ms: 1'],
      'format: { type: json, records_path: data }',
    );
    failures.set(
      '/orders?down=1',
      Array.from({ length: 12 }, () => ({ status: 503 })),
    );
    const { store, run } = pipeline(c);
    // Act
    const { report } = await run(10);
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('SourceUnavailable');
    expect(report.cause).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/orders\?down=1 failed 3 times, last with HTTP 503/,
    );
    const records = await store.list('reports', 'down-api/runs/');
    const record = JSON.parse(
      await store.readText('reports', records.find((k) => /runs\/[^/]+\.json$/.test(k))!),
    ) as RunRecord;
    expect(record).toMatchObject({ status: 'FAILED', error: { name: 'SourceUnavailable' } });
    // The ASL retried the ingest (SourceUnavailable): 4 attempts of 3 requests.
    expect(requests.filter((r) => r === '/orders?down=1')).toHaveLength(12);
  });

  it('refuses at once when the API refuses the credentials, and sends the token it reads from the environment', async () => {
    // Prepare
    const { base } = await startApi();
    const c = contract(
      'private-api',
      [`url: ${base}/private`, 'auth: { type: bearer, env: SLUICE_TEST_API_TOKEN }'],
      'format: { type: json, records_path: data }',
    );
    const store = new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-http-')));
    const contracts = new Map([[c.name, c]]);
    const pull = (token: string) =>
      ingest(
        { dataset: c.name, trigger: { type: 'schedule', time: hour(1).end, interval: hour(1) } },
        { store, contracts, env: { SLUICE_TEST_API_TOKEN: token } },
      );
    // Act
    const refused = await pull('wrong').catch((e: unknown) => e);
    const accepted = await pull('s3cret');
    // Assess
    expect(refused).toBeInstanceOf(SourceRefused);
    expect((refused as Error).message).toMatch(/answered HTTP 401.*check the credentials/);
    expect(accepted.records).toBe(2);
    expect(await store.head('reports', runRecordKey(c.name, accepted.runId))).toBeDefined();
  });

  it('names a page that is not JSON with MalformedInput', async () => {
    // Prepare
    const { base } = await startApi();
    const c = contract('broken-api', [`url: ${base}/lines`], 'format: { type: json, records_path: data }');
    const { ingest: pull } = pipeline(c);
    // Act
    const error = await pull(10).catch((e: unknown) => e);
    // Assess
    expect((error as Error).name).toBe('MalformedInput');
    expect((error as Error).message).toMatch(/\/lines \(page 1\): not valid JSON/);
    expect(error).not.toBeInstanceOf(SourceUnavailable);
  });
});
