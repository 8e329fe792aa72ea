import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../../lambdas/ingest/core.js';
import { postgresSource } from '../../../lambdas/ingest/sources/postgres.js';
import type { IngestInput } from '../../../lambdas/ingest/types.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { InternalError, SourceUnavailable } from '../../../lambdas/shared/errors.js';
import { coreFunctions, runPipeline } from '../../../src/local/pipeline.js';
import { MemoryStore } from '../../support/memory-store.js';

// A bug inside a source (a TypeError in Sluice, in a library or in a callback it was given) is not
// the source being unavailable: it fails at once as InternalError, which the state machine does
// not retry, naming the original error and where it was thrown.

const contract = parseContract(
  [
    'name: api-pages',
    'source:',
    '  type: http',
    '  url: http://api.invalid/orders',
    '  paging: { type: none }',
    '  retries: 2',
    '  retry_base_ms: 1',
    'format: { type: jsonl }',
    'schedule: rate(1 hour)',
    'schema: { type: object, properties: { id: { type: integer } } }',
  ].join('\n'),
  '<inline>',
);
const contracts = new Map([[contract.name, contract]]);
const interval = { start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T13:00:00.000Z' };
const input: IngestInput = {
  dataset: contract.name,
  trigger: { type: 'schedule', time: interval.end, interval },
};

/** A fetch that fails as `error` and counts its calls. */
function failingFetch(error: Error) {
  const calls: string[] = [];
  const fetch = async (url: string | URL | Request) => {
    calls.push(String(url));
    throw error;
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

function brokenListener(): never {
  const progress = undefined as unknown as { rowsRead: number };
  return progress.rowsRead as never;
}

describe('a programming error inside a source', () => {
  it('fails ingest at once as InternalError, naming the TypeError and where it was thrown', async () => {
    // Prepare: a TypeError without a network cause, as a bug throws it
    let bug: TypeError | undefined;
    try {
      brokenListener();
    } catch (error) {
      bug = error as TypeError;
    }
    const { calls, fetch } = failingFetch(bug!);
    // Act
    const failure = await ingest(input, { store: new MemoryStore(), contracts, fetch }).catch(
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(InternalError);
    expect((failure as Error).name).toBe('InternalError');
    expect((failure as Error).message).toMatch(
      /a bug in Sluice while ingesting dataset 'api-pages' \(schedule\): TypeError: Cannot read properties of undefined \(reading 'rowsRead'\) \(at \S+ \(.*programming-errors\.test\.ts:\d+:\d+\)\)/,
    );
    expect((failure as Error).cause).toBe(bug);
    expect(calls).toHaveLength(1);
  });

  it('still retries a network failure (fetch failed, with its socket error as the cause)', async () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const { calls, fetch } = failingFetch(new TypeError('fetch failed', { cause: refused }));
    // Act
    const failure = await ingest(input, { store: new MemoryStore(), contracts, fetch }).catch(
      (error: unknown) => error,
    );
    // Assess
    expect(failure).toBeInstanceOf(SourceUnavailable);
    expect((failure as Error).message).toMatch(/failed 3 times, last with fetch failed \(ECONNREFUSED\)/);
    expect(calls).toHaveLength(3);
  });

  it('is not retried by the state machine, and the run fails with InternalError', async () => {
    // Prepare
    const store = new MemoryStore();
    const { calls, fetch } = failingFetch(new TypeError("Cannot read properties of undefined (reading 'x')"));
    const functions = {
      ...coreFunctions({ store, contracts }),
      ingest: (payload: unknown) => ingest(payload as IngestInput, { store, contracts, fetch }),
    };
    // Act
    const report = await runPipeline({ input, name: 'api-pages-bug', functions, retryIntervalMs: 0 });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('InternalError');
    expect(report.cause).toMatch(/TypeError: Cannot read properties of undefined \(reading 'x'\)/);
    expect(report.events.filter((e) => e.type === 'TaskStateRetried')).toEqual([]);
    expect(report.events.filter((e) => e.type === 'LambdaFunctionFailed')).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });
});

describe('the progress port', () => {
  // These lines are checked by `tsc --noEmit` (the type-check step), which fails if the
  // `@ts-expect-error` finds no error: a listener of another shape must not compile where a
  // source or the CLI hands one to ingest. Without `onProgress` declared on IngestPorts, a
  // listener of rows only passed through unchecked and crashed the first time it was called.
  it('does not compile a listener of a row count where { rowsRead, bytesRead } is given', () => {
    const rowsOnly = (rows: number) => rows.toLocaleString('en-US');
    const ports = { store: new MemoryStore(), contracts, onProgress: rowsOnly };
    const config = {
      type: 'postgres' as const,
      connection: 'PG',
      table: 't',
      watermark_column: 'id',
      batch_size: 1,
      horizon_wait_seconds: 1,
      lag_seconds: 0,
    };
    // @ts-expect-error IngestPorts.onProgress takes { rowsRead, bytesRead }, not a row count
    const run = () => ingest(input, ports);
    // @ts-expect-error the postgres source reports { rowsRead, bytesRead } too
    const source = () => postgresSource(config, ports);
    expect([typeof run, typeof source]).toEqual(['function', 'function']);
  });
});
