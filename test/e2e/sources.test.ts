import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { motoEndpoint } from '../support/moto-lake.js';
import { freshDatabase } from '../support/postgres.js';
import { freshProject, sluice, sluiceAsync, sluiceJob } from './support/cli.js';
import { contractFromDocs, shopOrders, writeContract } from './support/contracts.js';
import { COVERED, documented, words } from './support/documented.js';

// `sluice run` of a dataset of each source type, with the contract made from the source's example
// in docs/sources.md and the command the documents show, on a fresh local lake per test.

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The file names under a zone of the project's lake, for one dataset. */
function filesIn(lake: string, zone: string, dataset: string): string[] {
  return readdirSync(join(lake, 'lake', zone, dataset), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

describe('sluice run of each source type, as documented', () => {
  it('runs a partner drop folder (s3 partner-drop): verified by its manifest, validated as one batch', () => {
    // Prepare: drops/2026-11-25 of the documented command, completed by the example's manifest.json
    const project = freshProject();
    writeContract(
      project.dir,
      contractFromDocs('## Partner drops', 'acme-shipments', {
        type: 'object',
        required: ['shipment_id', 'weight_kg'],
        properties: { shipment_id: { type: 'string' }, weight_kg: { type: 'number', minimum: 0 } },
      }),
    );
    const part1 = 'shipment_id,weight_kg\nS1,10.5\nS2,3\n';
    const part2 = 'shipment_id,weight_kg\nS3,-1\nS4,7\n';
    const drop = join(project.dir, 'drops', '2026-11-25');
    mkdirSync(drop, { recursive: true });
    writeFileSync(join(drop, 'part-1.csv'), part1);
    writeFileSync(join(drop, 'part-2.csv'), part2);
    writeFileSync(
      join(drop, 'manifest.json'),
      JSON.stringify({
        files: [
          { name: 'part-1.csv', sha256: sha256(part1) },
          { name: 'part-2.csv', sha256: sha256(part2) },
        ],
      }),
    );
    const [run] = documented(COVERED.runPartnerDrop);
    // Act
    const result = sluice(project, words(run!));
    // Assess
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+4/);
    expect(result.stdout).toMatch(/quarantined\s+1\s/);
    expect(filesIn(project.lake, 'raw', 'acme-shipments')).toEqual([
      '_manifest.json',
      'part-1.csv',
      'part-2.csv',
    ]);
  });

  it('checks the deadlines of incomplete partner batches without --input, as the schedule does', () => {
    // Prepare: drops/2026-11-25 of the documented command, with its manifest not yet delivered
    const project = freshProject();
    writeContract(
      project.dir,
      contractFromDocs('## Partner drops', 'acme-shipments', {
        type: 'object',
        required: ['shipment_id'],
        properties: { shipment_id: { type: 'string' }, weight_kg: { type: 'number', minimum: 0 } },
      }),
    );
    const drop = join(project.dir, 'drops', '2026-11-25');
    mkdirSync(drop, { recursive: true });
    writeFileSync(join(drop, 'part-1.csv'), 'shipment_id,weight_kg\nS1,10.5\n');
    const [deliver] = documented(COVERED.runPartnerDrop);
    const [check] = documented(COVERED.runPartnerDeadlines);
    const waiting = sluice(project, words(deliver!));
    // Act
    const result = sluice(project, words(check!));
    // Assess: the batch is waiting, not yet overdue, and nothing was landed
    expect(waiting.status).toBe(0);
    expect(waiting.stdout).toMatch(/Waiting: the partner batch is not complete yet; missing manifest\.json/);
    expect(result.stderr).toMatch(/checking the deadlines of 'acme-shipments' partner batches/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Deadlines checked: 1 incomplete batch/);
    expect(existsSync(join(project.lake, 'lake', 'raw', 'acme-shipments'))).toBe(false);
  });

  it('runs an interval of an HTTP API (http): every page fetched with the credentials and landed', async () => {
    // Prepare: docs/sources.md's http example against an API served here; its secret
    // shop/api-token is read locally from SLUICE_SECRET_SHOP_API_TOKEN.
    const token = randomBytes(8).toString('hex');
    const records = Array.from({ length: 5 }, (_, i) => ({
      id: i + 1,
      amount: i === 3 ? -1 : 10 * (i + 1),
      updated_at: `2026-11-25T10:0${i}:00Z`,
    }));
    const requests: string[] = [];
    const api = await serve((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(url.search);
      const authorized =
        req.headers.authorization === `Bearer ${token}` && /application\/json/.test(req.headers.accept ?? '');
      if (url.pathname !== '/v1/orders' || !authorized || url.searchParams.get('limit') !== '100') {
        res.writeHead(authorized ? 404 : 401).end();
        return;
      }
      const since = url.searchParams.get('updated_since') ?? '';
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const matching = records.filter((r) => r.updated_at > since);
      const next = from + 2 < matching.length ? String(from + 2) : null;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: matching.slice(from, from + 2), meta: { next_cursor: next } }));
    });
    const project = freshProject();
    writeContract(
      project.dir,
      contractFromDocs(
        '## HTTP APIs',
        'shop-api',
        {
          type: 'object',
          required: ['id', 'amount'],
          properties: { id: { type: 'integer' }, amount: { type: 'number', minimum: 0 } },
        },
        { url: `${api}/v1/orders` },
      ),
    );
    // The documented `sluice run` of a pulled source, for this dataset.
    const [run] = documented(COVERED.runPostgres);
    // Act
    const result = await sluiceAsync(project, words(run!, { 'shop-orders': 'shop-api' }), {
      env: { SLUICE_SECRET_SHOP_API_TOKEN: token },
    });
    // Assess
    expect([result.status, result.stderr]).toEqual([0, expect.not.stringMatching(/Error/)]);
    expect(result.stdout).toMatch(/rows read\s+5/);
    expect(result.stdout).toMatch(/quarantined\s+1\s/);
    expect(requests[0]).toMatch(/updated_since=2026-01-01T00%3A00%3A00Z/);
    expect(filesIn(project.lake, 'raw', 'shop-api')).toEqual([
      '_manifest.json',
      'page-00001.json',
      'page-00002.json',
      'page-00003.json',
    ]);
  });

  it('runs an interval of a PostgreSQL table (postgres) long enough to print its progress', async () => {
    // Prepare: docs/sources.md's postgres example, reading a table of its own database; SHOP_DB_URL
    // is that database's URL (the documented `export SHOP_DB_URL=$(node scripts/postgres.mjs start)`
    // gives the server's). A million rows take seconds to read, past the one-second progress line.
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    await db.pool.query(
      `CREATE TABLE ${db.name}.orders (id bigserial PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL)`,
    );
    await db.pool.query(
      `INSERT INTO ${db.name}.orders (customer, amount) SELECT 'c' || (g % 97), (g % 1000) / 10.0 FROM generate_series(1, 1000000) g`,
    );
    const project = freshProject();
    writeContract(project.dir, shopOrders(`${db.name}.orders`));
    const [run] = documented(COVERED.runPostgres);
    // Act: a step that fails would be retried with the state machine's backoff (minutes); the
    // run is stopped at the first failed step, since the documents promise none
    const result = await sluiceJob(
      project,
      words(run!),
      (stderr, job) => {
        if (/^ {4}✗ /m.test(stderr)) job.interrupt();
      },
      { env: { SHOP_DB_URL: db.url } },
    );
    // Assess
    expect(result.stderr).not.toMatch(/^ {4}✗ /m);
    expect(result.stderr).toMatch(
      /running 'shop-orders' for 2026-11-25T12:00:00.000Z – 2026-11-25T13:00:00.000Z/,
    );
    expect(result.stderr).toMatch(/^ {4}… [\d,]+ rows, [\d.]+ MB$/m);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+1,000,000/);
  });

  it('runs the micro-batch of a stream (stream) over the hours delivered into the local raw zone', () => {
    // Prepare: docs/sources.md's stream example; Kinesis and Firehose are deployed only, so the
    // objects are laid out as Firehose delivers them, in an hour closed well before now.
    const project = freshProject();
    writeContract(
      project.dir,
      contractFromDocs('## Streams', 'clicks', {
        type: 'object',
        required: ['id', 'event_time'],
        properties: { id: { type: 'integer' }, event_time: { type: 'string' } },
      }),
    );
    const hourAgo = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const [dt, hour] = [hourAgo.slice(0, 10), hourAgo.slice(11, 13)];
    const partition = join(project.lake, 'lake', 'raw', 'clicks', `dt=${dt}`, `hour=${hour}`);
    mkdirSync(partition, { recursive: true });
    const line = (id: number) => `${JSON.stringify({ id, event_time: `${dt}T${hour}:0${id}:00Z` })}\n`;
    writeFileSync(join(partition, 'clicks-stream-1-2026-a'), line(1) + line(2));
    writeFileSync(join(partition, 'clicks-stream-1-2026-b'), line(3));
    // Act: `sluice run <dataset>`, as docs/sources.md says, for the last whole interval
    const result = sluice(project, ['sluice', 'run', 'clicks']);
    // Assess
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+3/);
  });

  it('runs my.csv against an S3 API with --s3-endpoint and prints the report as --json', () => {
    // Prepare: moto from the test setup; buckets of a prefix of this test's own; a contract
    // without versions (a version on S3 is covered by test/integration/versioning.test.ts)
    const project = freshProject();
    const contract = join(project.dir, 'datasets', 'orders.yaml');
    writeFileSync(contract, readFileSync(contract, 'utf8').replace(/^version: .*$/m, ''));
    const prefix = `e2e${randomBytes(4).toString('hex')}`;
    const [run] = documented(COVERED.runUpload);
    const args = [...words(run!), '--s3-endpoint', motoEndpoint(), '--bucket-prefix', prefix, '--json'];
    // Act
    const result = sluice(project, args, {
      env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
    });
    // Assess
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as {
      status: string;
      output: { validation: { rows: unknown }; version?: unknown; ingest: { rawKey: string } };
    };
    expect(report.status).toBe('SUCCEEDED');
    expect(report.output.validation.rows).toEqual({ read: 300, valid: 290, quarantined: 10 });
    expect(report.output.version).toBeUndefined();
    expect(report.output.ingest.rawKey).toMatch(/^orders\/dt=\d{4}-\d\d-\d\d\/run=[0-9a-f]{16}\/my\.csv$/);
  });
});

/** An HTTP server on 127.0.0.1 with a port of the system's choosing, closed after the test. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
