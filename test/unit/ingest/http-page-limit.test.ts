import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../../lambdas/ingest/core.js';
import { bodyOf, readAtMost } from '../../../lambdas/ingest/sources/http.js';
import type { IngestInput } from '../../../lambdas/ingest/types.js';
import { type Contract, parseContract } from '../../../lambdas/shared/contract.js';
import { SourceRefused } from '../../../lambdas/shared/errors.js';
import { FUNCTION_MEMORY_MB } from '../../../lambdas/shared/function-sizes.js';
import { MemoryStore } from '../../support/memory-store.js';

// An HTTP page is read as a stream and abandoned once it passes max_page_bytes, so that a page of
// any size (or a body that never ends) fails the run with a named error instead of taking the
// ingest function's memory.

const CHUNK = 64 * 1024;

function contract(lines: string[]): Contract {
  return parseContract(
    [
      'name: api-pages',
      'source:',
      '  type: http',
      '  url: http://api.invalid/orders',
      '  paging: { type: none }',
      '  retries: 2',
      '  retry_base_ms: 1',
      ...lines.map((line) => `  ${line}`),
      'format: { type: jsonl }',
      'schedule: rate(1 hour)',
      'schema: { type: object, properties: { id: { type: integer } } }',
    ].join('\n'),
    '<inline>',
  );
}

const interval = { start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T13:00:00.000Z' };
const input: IngestInput = {
  dataset: 'api-pages',
  trigger: { type: 'schedule', time: interval.end, interval },
};

/** A body that never ends: chunks of JSON white space for as long as it is read. */
function endlessBody() {
  const state = { bytesPulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.bytesPulled += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { state, stream };
}

/** A fetch that answers every request with `answer()` and counts its calls. */
function fakeFetch(answer: () => Response) {
  const calls: string[] = [];
  const fetch = async (url: string | URL | Request) => {
    calls.push(String(url));
    return answer();
  };
  return { calls, fetch: fetch as typeof globalThis.fetch };
}

function pull(c: Contract, fetch: typeof globalThis.fetch) {
  return ingest(input, { store: new MemoryStore(), contracts: new Map([[c.name, c]]), fetch });
}

describe('the size of an http page', () => {
  it('stops reading a body that never ends at max_page_bytes and fails at once with SourceRefused', async () => {
    // Prepare
    const { state, stream } = endlessBody();
    const { calls, fetch } = fakeFetch(() => new Response(stream, { status: 200 }));
    // Act
    const failure = await pull(contract(['max_page_bytes: 1000000']), fetch).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(SourceRefused);
    expect((failure as Error).message).toMatch(
      /^GET http:\/\/api\.invalid\/orders answered a page larger than max_page_bytes \(1000000 bytes\): 1048576 bytes were read before the page was abandoned\. .*raise source\.max_page_bytes in the contract/,
    );
    expect(state.cancelled).toBe(true);
    expect(state.bytesPulled).toBeLessThanOrEqual(1_000_000 + 2 * CHUNK);
    // Not transient: the same page would be as large on a retry.
    expect(calls).toHaveLength(1);
  });

  it('lands a page of exactly max_page_bytes', async () => {
    // Prepare: two JSON Lines records padded with spaces to 1,000 bytes
    const lines = '{"id":1}\n{"id":2}\n';
    const page = lines + ' '.repeat(1000 - lines.length);
    const { fetch } = fakeFetch(() => new Response(page, { status: 200 }));
    // Act
    const result = await pull(contract(['max_page_bytes: 1000']), fetch);
    // Assess
    expect(result).toMatchObject({ records: 2, files: 1 });
  });

  it('refuses a page one byte over max_page_bytes', async () => {
    // Prepare
    const lines = '{"id":1}\n{"id":2}\n';
    const page = lines + ' '.repeat(1001 - lines.length);
    const { fetch } = fakeFetch(() => new Response(page, { status: 200 }));
    // Act
    const failure = await pull(contract(['max_page_bytes: 1000']), fetch).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(SourceRefused);
    expect((failure as Error).message).toMatch(/\(1000 bytes\): 1001 bytes were read/);
  });

  it('reads only the start of an error answer, however long its body', async () => {
    // Prepare: a 404 whose body never ends
    const bodies: ReturnType<typeof endlessBody>[] = [];
    const { fetch } = fakeFetch(() => {
      const body = endlessBody();
      bodies.push(body);
      return new Response(body.stream, { status: 404 });
    });
    // Act
    const failure = await pull(contract([]), fetch).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(SourceRefused);
    expect((failure as Error).message).toMatch(/answered HTTP 404; expected 2xx \(check the URL/);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.state).toEqual({ cancelled: true, bytesPulled: expect.any(Number) });
    expect(bodies[0]!.state.bytesPulled).toBeLessThanOrEqual(2 * CHUNK);
  });

  it('defaults max_page_bytes to an eighth of the ingest function memory (64 MiB)', () => {
    // Act
    const source = contract([]).source;
    // Assess
    expect(source).toMatchObject({ max_page_bytes: (FUNCTION_MEMORY_MB.ingest * 2 ** 20) / 8 });
    expect(source).toMatchObject({ max_page_bytes: 64 * 2 ** 20 });
  });
});

describe('readAtMost', () => {
  it('keeps the first `limit` bytes of a longer body and counts what it read', async () => {
    // Prepare
    const stream = new Response('abcdefghij').body;
    // Act
    const read = await readAtMost(stream, 4);
    // Assess
    expect(read).toMatchObject({ bytesKept: 4, bytesRead: 10, abandoned: true });
    expect(bodyOf(read)).toEqual(Buffer.from('abcd'));
  });

  it('reads an absent body as empty', async () => {
    // Act
    const read = await readAtMost(null, 4);
    // Assess
    expect(read).toMatchObject({ bytesKept: 0, bytesRead: 0, abandoned: false });
    expect(bodyOf(read)).toEqual(Buffer.alloc(0));
  });
});
