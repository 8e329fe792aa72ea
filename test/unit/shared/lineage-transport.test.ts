import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runEvent } from '../../../lambdas/shared/lineage.js';
import {
  emitRunEvent,
  fileTransport,
  httpTransport,
  lineageFromEnv,
} from '../../../lambdas/shared/lineage-transport.js';
import { MemoryStore } from '../../support/memory-store.js';

const event = runEvent({
  eventType: 'START',
  eventTime: new Date('2026-12-08T10:00:00Z'),
  namespace: 'sluice',
  dataset: 'orders',
  runId: 'r1',
});

/** An HTTP server on 127.0.0.1 that answers `status` and keeps each request's headers and body. */
async function receiver(status: number) {
  const requests: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      requests.push({ headers: request.headers, body });
      response.writeHead(status).end(status >= 400 ? 'lineage store is down' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/lineage`;
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('lineage settings from the environment', () => {
  it('sends nothing but the reports zone when SLUICE_OPENLINEAGE_URL is unset', () => {
    expect(lineageFromEnv({})).toEqual({ namespace: 'sluice', transports: [] });
  });

  it('reads the namespace, console and file: targets', () => {
    // Act
    const console = lineageFromEnv({
      SLUICE_OPENLINEAGE_URL: 'console',
      SLUICE_OPENLINEAGE_NAMESPACE: 'shop',
    });
    const file = lineageFromEnv({ SLUICE_OPENLINEAGE_URL: 'file:/tmp/events.jsonl' });
    // Assess
    expect(console.namespace).toBe('shop');
    expect(console.transports.map((t) => t.target)).toEqual(['console']);
    expect(file.transports.map((t) => t.target)).toEqual(['file:/tmp/events.jsonl']);
  });

  it('refuses a timeout that is not a whole number of milliseconds, naming the variable', () => {
    // Act
    const act = () =>
      lineageFromEnv({
        SLUICE_OPENLINEAGE_URL: 'http://127.0.0.1:5000/',
        SLUICE_OPENLINEAGE_TIMEOUT_MS: '2s',
      });
    // Assess
    expect(act).toThrow("SLUICE_OPENLINEAGE_TIMEOUT_MS '2s': expected a whole number of milliseconds");
  });

  it('sends the API key read from the secret SLUICE_OPENLINEAGE_API_KEY_SECRET names, reading it once', async () => {
    // Prepare
    const server = await receiver(201);
    const reads: string[] = [];
    const settings = lineageFromEnv(
      { SLUICE_OPENLINEAGE_URL: server.url, SLUICE_OPENLINEAGE_API_KEY_SECRET: 'marquez-api-key' },
      {
        secret: async (id) => {
          reads.push(id);
          return 'from-secrets-manager';
        },
      },
    );
    // Act
    for (let i = 0; i < 2; i++) await settings.transports[0]!.send(event);
    await server.close();
    // Assess
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer from-secrets-manager',
      'Bearer from-secrets-manager',
    ]);
    expect(reads).toEqual(['marquez-api-key']);
  });
});

describe('transports', () => {
  it('POSTs the event as JSON over HTTP', async () => {
    // Prepare
    const server = await receiver(200);
    // Act
    await httpTransport({ url: server.url }).send(event);
    await server.close();
    // Assess
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(server.requests[0]!.headers).not.toHaveProperty('authorization');
    expect(JSON.parse(server.requests[0]!.body)).toEqual(event);
  });

  it('throws with the status and the answer of a server that refuses the event', async () => {
    // Prepare
    const server = await receiver(500);
    // Act
    const sent = httpTransport({ url: server.url }).send(event);
    // Assess
    await expect(sent).rejects.toThrow('HTTP 500 Internal Server Error: lineage store is down');
    await server.close();
  });

  it('appends one JSON line per event to a file', async () => {
    // Prepare
    const path = join(mkdtempSync(join(tmpdir(), 'sluice-lineage-')), 'events.jsonl');
    const transport = fileTransport(path);
    // Act
    await transport.send(event);
    await transport.send({ ...event, eventType: 'COMPLETE' });
    // Assess
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).eventType)).toEqual(['START', 'COMPLETE']);
  });
});

describe('emitting an event', () => {
  it('writes it to the reports zone and returns, without throwing, what a server that cannot be reached did not take', async () => {
    // Prepare: a port that was just free, so nothing listens there
    const closed = await receiver(200);
    await closed.close();
    const store = new MemoryStore();
    const warnings: string[] = [];
    // Act
    const undelivered = await emitRunEvent(event, 'orders/lineage/r1/t/START.json', {
      store,
      transports: [httpTransport({ url: closed.url })],
      warn: (message) => warnings.push(message),
    });
    // Assess
    expect(JSON.parse(await store.readText('reports', 'orders/lineage/r1/t/START.json'))).toEqual(event);
    expect(undelivered).toEqual([
      {
        eventType: 'START',
        target: closed.url,
        error: expect.stringMatching(/fetch failed: .*ECONNREFUSED/),
      },
    ]);
    expect(warnings).toEqual([
      expect.stringMatching(/^OpenLineage START event not delivered to http:\/\/127\.0\.0\.1:/),
    ]);
  });
});
