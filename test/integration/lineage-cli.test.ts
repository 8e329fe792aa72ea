import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { RunEvent } from '../../lambdas/shared/lineage.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { openLineageProblems } from '../support/openlineage.js';

// `sluice run` as a user runs it, with SLUICE_OPENLINEAGE_URL pointing at a lineage server on
// 127.0.0.1. The CLI is spawned asynchronously: the server answers in this process meanwhile.

const root = join(import.meta.dirname, '..', '..');

function sluice(
  args: string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  event: RunEvent;
}

/** A lineage server on 127.0.0.1 (a port the system picks) that keeps what it is sent and answers `status`. */
async function lineageServer(status: number) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        event: JSON.parse(body),
      });
      response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return { url: `http://127.0.0.1:${port}/api/v1/lineage`, received };
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Every lineage event the lake's reports zone holds for a dataset, by file name. */
function storedEvents(lake: string, dataset: string): Map<string, RunEvent> {
  const dir = join(lake, 'lake', 'reports', dataset, 'lineage');
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter(
    (e) => e.isFile() && /^[A-Z]+\.json$/.test(e.name),
  );
  return new Map(files.map((e) => [e.name, JSON.parse(readFileSync(join(e.parentPath, e.name), 'utf8'))]));
}

function runRecord(lake: string, dataset: string): RunRecord {
  const dir = join(lake, 'lake', 'reports', dataset, 'runs');
  const [file] = readdirSync(dir).filter((name) => name.endsWith('.json'));
  return JSON.parse(readFileSync(join(dir, file!), 'utf8'));
}

describe('sluice run with SLUICE_OPENLINEAGE_URL', () => {
  it('POSTs START then COMPLETE of the run to the lineage server, with the API key, as the reports zone keeps them', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const server = await lineageServer(201);
    // Act
    const result = await sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv'], {
      SLUICE_OPENLINEAGE_URL: server.url,
      SLUICE_OPENLINEAGE_API_KEY: 'key-for-tests',
    });
    // Assess
    expect(result.status).toBe(0);
    expect(server.received.map((r) => [r.method, r.url, r.event.eventType])).toEqual([
      ['POST', '/api/v1/lineage', 'START'],
      ['POST', '/api/v1/lineage', 'COMPLETE'],
    ]);
    for (const { headers } of server.received) {
      expect(headers.authorization).toBe('Bearer key-for-tests');
      expect(headers['content-type']).toBe('application/json');
    }
    const [start, complete] = server.received.map((r) => r.event);
    expect(complete!.run.runId).toBe(start!.run.runId);
    expect(complete!.run.facets.parent).toMatchObject({
      job: { namespace: 'sluice', name: 'sluice-pipeline' },
    });
    expect(complete!.inputs).toEqual([
      expect.objectContaining({
        namespace: 'file',
        name: expect.stringMatching(/\/raw\/orders\/dt=.*\/orders\.csv$/),
      }),
    ]);
    expect(complete!.inputs[0]!.inputFacets).toMatchObject({
      dataQualityMetrics: { rowCount: 300, bytes: 20887 },
    });
    expect(complete!.outputs.map((o) => o.name)).toEqual([
      expect.stringMatching(/\/curated\/orders\/$/),
      expect.stringMatching(/\/quarantine\/orders\/$/),
    ]);
    expect(complete!.outputs[0]!.facets).toMatchObject({
      version: { datasetVersion: runRecord(lake, 'orders').version!.md5 },
    });
    const stored = storedEvents(lake, 'orders');
    expect(stored.get('START.json')).toEqual(start);
    expect(stored.get('COMPLETE.json')).toEqual(complete);
    for (const event of [start, complete]) expect(openLineageProblems(event)).toEqual([]);
  });

  it('emits START and FAIL, with the failure as errorMessage, for a batch that cannot be promoted; both valid', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const input = join(lake, 'orders-wrong.csv');
    writeFileSync(input, 'id,price\nX,1\n');
    const server = await lineageServer(200);
    // Act
    const result = await sluice(['--lake', lake, 'run', 'orders', '--input', input], {
      SLUICE_OPENLINEAGE_URL: server.url,
    });
    // Assess
    expect(result.status).toBe(1);
    expect(server.received.map((r) => r.event.eventType)).toEqual(['START', 'FAIL']);
    const fail = server.received[1]!.event;
    expect(fail.run.facets.errorMessage).toMatchObject({
      message: expect.stringMatching(/^ValidationFailed: /),
    });
    expect(fail.outputs.map((o) => o.name)).not.toContainEqual(expect.stringMatching(/\/curated\//));
    expect(fail.inputs[0]!.inputFacets).toMatchObject({
      dataQualityMetrics: { bytes: 13 },
      dataQualityAssertions: {
        assertions: expect.arrayContaining([expect.objectContaining({ success: false })]),
      },
    });
    for (const event of storedEvents(lake, 'orders').values()) expect(openLineageProblems(event)).toEqual([]);
  });

  it('finishes the run when the lineage server fails, says so, and lists the undelivered events in the run record', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const server = await lineageServer(503);
    // Act
    const result = await sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv'], {
      SLUICE_OPENLINEAGE_URL: server.url,
    });
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Execution orders-\S+: SUCCEEDED/);
    expect(result.stderr).toMatch(
      /OpenLineage START event not delivered to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/lineage: HTTP 503/,
    );
    expect(runRecord(lake, 'orders').lineage?.undelivered?.map((u) => u.eventType)).toEqual([
      'START',
      'COMPLETE',
    ]);
    expect([...storedEvents(lake, 'orders').keys()].sort()).toEqual(['COMPLETE.json', 'START.json']);
  });

  it('refuses a SLUICE_OPENLINEAGE_URL that is not http(s), console or file:, exit 2, naming the variable', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = await sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv'], {
      SLUICE_OPENLINEAGE_URL: 'ftp://lineage.example.com/',
    });
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /SLUICE_OPENLINEAGE_URL 'ftp:\/\/lineage\.example\.com\/': expected an http\(s\) URL/,
    );
  });
});
