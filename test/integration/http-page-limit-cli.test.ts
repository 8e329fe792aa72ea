import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { peakRssMiB, REPORT_PEAK_RSS } from '../support/peak-rss.js';

// `sluice run` of an HTTP API whose answer is a gzip bomb: 300 KB on the wire that `fetch` decodes
// into 300 MiB. The page is abandoned at max_page_bytes, the run fails with a named error and a
// run record, and the process stays far below what holding the page would take.

const ROOT = join(import.meta.dirname, '..', '..');
const INTERVAL = ['--interval-start', '2026-11-25T10:00:00Z', '--interval-end', '2026-11-25T11:00:00Z'];
const MIB = 2 ** 20;
/** Peak RSS allowed to the run: holding the decoded page once would pass it. */
const PEAK_RSS_LIMIT = 400 * MIB;

let bomb: Buffer;

beforeAll(async () => {
  // 300 MiB of JSON white space, compressed once as a stream (under a second, ~300 KB).
  const spaces = Buffer.alloc(MIB, 0x20);
  const parts: Buffer[] = [];
  const chunks = Readable.from(
    (function* () {
      for (let i = 0; i < 300; i++) yield spaces;
    })(),
  );
  for await (const part of chunks.pipe(createGzip())) parts.push(part as Buffer);
  bomb = Buffer.concat(parts);
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The peak resident set size of the sluice process, in bytes, as it reports it on exit. */
  peakRss: number;
}

/** `node bin/sluice.mjs …`, without blocking this process, which serves the API. */
function sluice(args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', REPORT_PEAK_RSS, join(ROOT, 'bin', 'sluice.mjs'), ...args],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => {
      resolve({ status, stdout, stderr, peakRss: peakRssMiB(stderr) * 1024 * 1024 });
    });
  });
}

async function serve(listener: RequestListener): Promise<string> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A folder with the one contract, and an empty lake. */
function project(name: string, url: string, source: string[] = []): { datasets: string; lake: string } {
  const datasets = mkdtempSync(join(tmpdir(), 'sluice-page-limit-contracts-'));
  writeFileSync(
    join(datasets, `${name}.yaml`),
    [
      `name: ${name}`,
      'source:',
      '  type: http',
      `  url: ${url}`,
      ...source.map((line) => `  ${line}`),
      'format: { type: json, records_path: data }',
      'schedule: rate(1 hour)',
      'schema: { type: object, required: [id], properties: { id: { type: integer } } }',
    ].join('\n'),
  );
  return { datasets, lake: mkdtempSync(join(tmpdir(), 'sluice-page-limit-lake-')) };
}

/** The run records a run left in the lake. */
function runRecords(lake: string, dataset: string): RunRecord[] {
  return readdirSync(lake, { recursive: true })
    .map(String)
    .filter((path) => new RegExp(`(^|/)reports/${dataset}/runs/[^/]+\\.json$`).test(path))
    .filter((path) => !path.split('/').includes('.meta'))
    .map((path) => JSON.parse(readFileSync(join(lake, path), 'utf8')) as RunRecord);
}

describe('sluice run of an http page past max_page_bytes', () => {
  it('fails a gzip bomb with SourceRefused, a FAILED run record and exit 1, within bounded memory', async () => {
    // Prepare: the contract keeps the default max_page_bytes (64 MiB)
    let requests = 0;
    const api = await serve((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
    });
    const where = project('bomb-api', `${api}/v1/orders`);
    // Act
    const run = await sluice([
      '--datasets',
      where.datasets,
      '--lake',
      where.lake,
      'run',
      'bomb-api',
      ...INTERVAL,
    ]);
    // Assess
    expect(bomb.length).toBeLessThan(MIB);
    expect(run.status).toBe(EXIT.failed);
    expect(run.stderr + run.stdout).toMatch(
      /SourceRefused.*GET http:\/\/127\.0\.0\.1:\d+\/v1\/orders answered a page larger than max_page_bytes \(67108864 bytes\): \d+ bytes were read \(decoded from Content-Encoding gzip\)/s,
    );
    expect(runRecords(where.lake, 'bomb-api')).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({ name: 'SourceRefused' }),
      }),
    ]);
    // SourceRefused is not transient: neither the source nor the state machine asked again.
    expect(requests).toBe(1);
    expect(run.peakRss).toBeLessThan(PEAK_RSS_LIMIT);
  }, 120_000);

  it('lands a gzip page whose decoded size is just under max_page_bytes', async () => {
    // Prepare: two records padded with white space to 1 MiB less one byte, decoded
    const records = '{"data":[{"id":1},{"id":2}]}';
    const page = records + ' '.repeat(MIB - 1 - records.length);
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(page));
    });
    const where = project('under-api', `${api}/v1/orders`, [`max_page_bytes: ${MIB}`]);
    // Act
    const run = await sluice([
      '--datasets',
      where.datasets,
      '--lake',
      where.lake,
      'run',
      'under-api',
      ...INTERVAL,
    ]);
    // Assess
    expect([run.status, run.stderr]).toEqual([EXIT.ok, expect.not.stringMatching(/SourceRefused/)]);
    expect(run.stdout).toMatch(/rows read\s+2/);
    expect(runRecords(where.lake, 'under-api')).toEqual([expect.objectContaining({ status: 'SUCCEEDED' })]);
  }, 120_000);
});
