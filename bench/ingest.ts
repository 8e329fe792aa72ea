/**
 * Ingest throughput of the pulled sources, each extraction in a child process of its own so that
 * its peak RSS is its own:
 * - postgres: a table of N rows × 6 columns on the checkout's PostgreSQL (scripts/postgres.mjs),
 *   extracted by `ingest` (watermark horizon, one REPEATABLE READ snapshot, server-side cursor,
 *   JSON Lines to a temp file, landed in a local lake); rows/s, MB/s and peak RSS for several N,
 *   to show memory staying flat as rows grow;
 * - http: a local server on 127.0.0.1 serving cursor-paged JSON pages; pages/s, MB/s and peak RSS.
 *
 *   node --import tsx bench/ingest.ts [--rows 250000,500000,1000000] [--pages 200] [--page-records 1000]
 *
 * SLUICE_BENCH_POSTGRES_URL points it at another server (it creates and drops a database there).
 */

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ingest } from '../lambdas/ingest/core.js';
import { parseContract } from '../lambdas/shared/contract.js';
import { FsObjectStore } from '../lambdas/shared/fs-object-store.js';
import { peakRssBytes } from './peak-rss.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '250000,500000,1000000' },
    pages: { type: 'string', default: '200' },
    'page-records': { type: 'string', default: '1000' },
    'batch-size': { type: 'string', default: '10000' },
    child: { type: 'string' },
    url: { type: 'string' },
  },
});

const interval = { start: '2026-11-25T00:00:00.000Z', end: '2026-11-25T01:00:00.000Z' };

/** One extraction, in this process: prints its figures as one JSON line. */
async function child(kind: string, url: string): Promise<void> {
  const source =
    kind === 'postgres'
      ? `source: { type: postgres, connection: BENCH_URL, table: bench.events, watermark_column: id, batch_size: ${args['batch-size']} }\nformat: { type: jsonl }`
      : `source: { type: http, url: "${url}/events", paging: { type: cursor, cursor_path: next, cursor_param: cursor }, max_pages: 100000 }\nformat: { type: json, records_path: data }`;
  const contract = parseContract(
    `name: bench\n${source}\nschedule: rate(1 hour)\nschema: { type: object, properties: { id: { type: integer } } }`,
    '<inline>',
  );
  const lake = mkdtempSync(join(tmpdir(), 'sluice-bench-ingest-'));
  const started = process.hrtime.bigint();
  const out = await ingest(
    { dataset: 'bench', trigger: { type: 'schedule', time: interval.end, interval } },
    { store: new FsObjectStore(lake), contracts: new Map([['bench', contract]]), env: { BENCH_URL: url } },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(lake, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({ records: out.records, bytes: out.size, files: out.files, seconds, peakRssMb: peakRssBytes() / 1024 / 1024 })}\n`,
  );
}

interface Figures {
  records: number;
  bytes: number;
  files: number;
  seconds: number;
  peakRssMb: number;
}

/** Runs one extraction in a child process; asynchronously, so that the HTTP server here can answer it. */
async function runChild(kind: string, url: string): Promise<Figures> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      import.meta.filename,
      '--child',
      kind,
      '--url',
      url,
      '--batch-size',
      args['batch-size'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${kind} extraction failed:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Figures;
}

async function postgresFigures(): Promise<string[]> {
  const serverUrl =
    process.env.SLUICE_BENCH_POSTGRES_URL ??
    spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'postgres.mjs'), 'start'], {
      encoding: 'utf8',
    }).stdout.trim();
  if (!serverUrl) throw new Error('no PostgreSQL: scripts/postgres.mjs start failed');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS sluice_bench_ingest WITH (FORCE)');
  await admin.query('CREATE DATABASE sluice_bench_ingest');
  const url = new URL(serverUrl);
  url.pathname = '/sluice_bench_ingest';
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  await db.query('CREATE SCHEMA bench');
  const lines: string[] = [];
  try {
    for (const rows of args.rows.split(',').map(Number)) {
      await db.query('DROP TABLE IF EXISTS bench.events');
      await db.query(
        `CREATE TABLE bench.events (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL,
           status text NOT NULL, created_at timestamptz NOT NULL, payload jsonb)`,
      );
      await db.query(
        `INSERT INTO bench.events (customer, amount, status, created_at, payload)
           SELECT 'customer-' || (g % 10007), (g % 100000) / 100.0, (ARRAY['paid','shipped','refunded'])[1 + g % 3],
                  timestamptz '2026-01-01' + g * interval '1 second', jsonb_build_object('n', g, 'tag', 't' || (g % 17))
           FROM generate_series(1, $1) g`,
        [rows],
      );
      await db.query('ANALYZE bench.events');
      const f = await runChild('postgres', url.toString());
      lines.push(
        `postgres  ${String(rows).padStart(9)} rows  ${fmt(f.records / f.seconds, 0).padStart(9)} rows/s  ${fmt(f.bytes / 1e6 / f.seconds, 1).padStart(6)} MB/s  ${fmt(f.bytes / 1e6, 1).padStart(7)} MB  ${fmt(f.seconds, 2).padStart(6)} s  peak RSS ${fmt(f.peakRssMb, 0)} MB`,
      );
    }
  } finally {
    await db.end();
    await admin.query('DROP DATABASE IF EXISTS sluice_bench_ingest WITH (FORCE)');
    await admin.end();
  }
  return lines;
}

async function httpFigures(): Promise<string[]> {
  const pages = Number(args.pages);
  const perPage = Number(args['page-records']);
  const page = (n: number) =>
    JSON.stringify({
      data: Array.from({ length: perPage }, (_, i) => ({
        id: n * perPage + i,
        customer: `customer-${(n * perPage + i) % 10007}`,
        amount: ((n * perPage + i) % 100000) / 100,
        status: 'paid',
        updated_at: new Date(Date.UTC(2026, 0, 1) + (n * perPage + i) * 1000).toISOString(),
      })),
      next: n + 1 < pages ? String(n + 1) : null,
    });
  const bodies = Array.from({ length: pages }, (_, n) => Buffer.from(page(n)));
  const server = createServer((req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(bodies[n]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const f = await runChild('http', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return [
      `http      ${String(f.files).padStart(9)} pages ${fmt(f.files / f.seconds, 0).padStart(9)} pages/s ${fmt(f.bytes / 1e6 / f.seconds, 1).padStart(6)} MB/s  ${fmt(f.bytes / 1e6, 1).padStart(7)} MB  ${fmt(f.seconds, 2).padStart(6)} s  peak RSS ${fmt(f.peakRssMb, 0)} MB  (${f.records} records)`,
    ];
  } finally {
    server.close();
  }
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

if (args.child) {
  await child(args.child, args.url!);
} else {
  process.stdout.write(`Ingest bench (node ${process.version}, ${new Date().toISOString()})\n`);
  for (const line of await postgresFigures()) process.stdout.write(`${line}\n`);
  for (const line of await httpFigures()) process.stdout.write(`${line}\n`);
}
