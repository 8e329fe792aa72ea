import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../../lambdas/ingest/core.js';
import { partitionStateKey } from '../../../lambdas/ingest/stream.js';
import type { IngestOutput } from '../../../lambdas/ingest/types.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { readBatchKeys } from '../../../lambdas/shared/raw-manifest.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = parseContract(
  [
    'name: clicks',
    'source: { type: stream, time_field: event_time, close_after_minutes: 20 }',
    'format: { type: jsonl }',
    'schedule: rate(15 minutes)',
    'schema: { type: object, properties: { id: { type: integer } } }',
  ].join('\n'),
  '<inline>',
);
const contracts = new Map([['clicks', contract]]);
const firehose = (hour: string, name: string) => `clicks/dt=2026-11-25/hour=${hour}/clicks-stream-1-${name}`;

function run(store: MemoryStore, at: string): Promise<IngestOutput> {
  return ingest(
    { dataset: 'clicks', trigger: { type: 'schedule', time: at } },
    { store, contracts, clock: () => new Date(at) },
  );
}

async function delivered(store: MemoryStore, keys: string[]): Promise<void> {
  for (const key of keys) await store.putIfAbsent('raw', key, '{"id":1}\n');
}

describe('stream micro-batches', () => {
  it('validates the oldest closed hour once, leaving an hour that is still open', async () => {
    // Prepare: hours 10 and 11 delivered; at 12:10 hour 11 is not closed (closes 12:20)
    const store = new MemoryStore();
    await delivered(store, [firehose('10', 'a'), firehose('10', 'b'), firehose('11', 'c')]);
    // Act
    const first = await run(store, '2026-11-25T12:10:00Z');
    const second = await run(store, '2026-11-25T12:15:00Z');
    const third = await run(store, '2026-11-25T12:30:00Z');
    // Assess
    expect(first).toMatchObject({ dt: '2026-11-25', files: 2, empty: false });
    expect(await readBatchKeys(store, first.manifestKey)).toEqual([firehose('10', 'a'), firehose('10', 'b')]);
    expect(second).toMatchObject({ empty: true, files: 0 });
    expect(await readBatchKeys(store, third.manifestKey)).toEqual([firehose('11', 'c')]);
    expect(JSON.parse(store.bytes('raw', first.manifestKey).toString())).toMatchObject({
      source: { type: 'stream', partition: 'dt=2026-11-25/hour=10' },
      files: [{ key: firehose('10', 'a') }, { key: firehose('10', 'b') }],
    });
    expect(JSON.parse(store.bytes('reports', runRecordKey('clicks', first.runId)).toString()).status).toBe(
      'RUNNING',
    );
  });

  it('takes late records of a closed hour in a later run, without the objects validated before', async () => {
    // Prepare
    const store = new MemoryStore();
    await delivered(store, [firehose('10', 'a')]);
    const first = await run(store, '2026-11-25T11:30:00Z');
    await delivered(store, [firehose('10', 'late')]);
    // Act
    const late = await run(store, '2026-11-25T11:45:00Z');
    // Assess
    expect(await readBatchKeys(store, first.manifestKey)).toEqual([firehose('10', 'a')]);
    expect(await readBatchKeys(store, late.manifestKey)).toEqual([firehose('10', 'late')]);
    const state = JSON.parse(
      store.bytes('reports', partitionStateKey('clicks', 'dt=2026-11-25/hour=10')).toString(),
    );
    expect(state.batches.map((b: { keys: string[] }) => b.keys)).toEqual([
      [firehose('10', 'a')],
      [firehose('10', 'late')],
    ]);
  });

  it('gives a repeated trigger of the same interval the same batch', async () => {
    // Prepare
    const store = new MemoryStore();
    await delivered(store, [firehose('10', 'a')]);
    const first = await run(store, '2026-11-25T11:30:00Z');
    await delivered(store, [firehose('10', 'late')]);
    // Act
    const again = await run(store, '2026-11-25T11:31:00Z');
    // Assess
    expect(again).toMatchObject({ runId: first.runId, manifestKey: first.manifestKey, duplicate: true });
  });

  it('says which hour an interval took and which closed hours still wait, on a repeated trigger too', async () => {
    // Prepare: at 13:30 hours 10, 11 and 12 are closed
    const store = new MemoryStore();
    await delivered(store, [firehose('10', 'a'), firehose('11', 'b'), firehose('12', 'c')]);
    // Act
    const first = await run(store, '2026-11-25T13:30:00Z');
    const again = await run(store, '2026-11-25T13:35:00Z');
    // Assess
    expect(first.stream).toEqual({
      partition: 'dt=2026-11-25/hour=10',
      backlog: ['dt=2026-11-25/hour=11', 'dt=2026-11-25/hour=12'],
    });
    expect(again).toMatchObject({ runId: first.runId, duplicate: true });
    expect(again.stream).toEqual(first.stream);
  });

  it('refuses a stream contract without a schedule or read as CSV', () => {
    expect(() =>
      parseContract(
        [
          'name: clicks',
          'source: { type: stream, time_field: event_time }',
          'format: { type: csv }',
          'schema: { type: object, properties: { id: { type: integer } } }',
        ].join('\n'),
        '<inline>',
      ),
    ).toThrow(/expected format \{ type: jsonl \}[\s\S]*give a schedule/);
  });
});
