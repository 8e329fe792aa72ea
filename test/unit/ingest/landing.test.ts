import { describe, expect, it } from '@jest/globals';
import { recordLanding } from '../../../lambdas/ingest/landing.js';
import type { IngestOutput } from '../../../lambdas/ingest/types.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { type RunRecord, readRunRecord } from '../../../lambdas/shared/run-record.js';
import { MemoryStore } from '../../support/memory-store.js';

const output: IngestOutput = {
  runId: 'r1',
  dt: '2026-11-25',
  rawKey: 'orders/dt=2026-11-25/run=r1/a.csv',
  files: 2,
  manifestKey: 'orders/dt=2026-11-25/run=r1/_manifest.json',
  sha256: 'abc',
  size: 3,
  empty: false,
  waiting: false,
  waitingFor: '',
  duplicate: false,
  alreadyProcessed: false,
};
const input = { dataset: 'orders', trigger: { type: 'schedule' as const, time: '2026-11-25T10:00:00Z' } };

describe('recordLanding', () => {
  it('writes the manifest, the interval result and a RUNNING record over the previous one', async () => {
    const store = new MemoryStore();
    const previous: RunRecord = {
      dataset: 'orders',
      runId: 'r1',
      dt: '2026-11-25',
      status: 'FAILED',
      finishedAt: '2026-11-25T09:00:00Z',
      error: { name: 'Timeout', message: 'earlier attempt' },
    };
    await recordLanding(store, {
      dataset: 'orders',
      input: { ...input, executionId: 'e2', startedAt: '2026-11-25T10:00:01Z' },
      output,
      manifest: { runId: 'r1' },
      intervalKey: 'orders/intervals/x.json',
      previous,
    });
    expect(JSON.parse(store.bytes('raw', output.manifestKey).toString())).toEqual({ runId: 'r1' });
    expect(JSON.parse(store.bytes('reports', 'orders/intervals/x.json').toString())).toEqual(output);
    expect(await readRunRecord(store, 'orders', 'r1')).toEqual({
      ...previous,
      status: 'RUNNING',
      executionId: 'e2',
      startedAt: '2026-11-25T10:00:01Z',
      trigger: input.trigger,
      raw: { key: output.rawKey, manifestKey: output.manifestKey, files: 2 },
    });
  });

  it('keeps a manifest an earlier attempt wrote: raw is write-once', async () => {
    const store = new MemoryStore();
    await store.put('raw', output.manifestKey, '{"runId":"r1","attempt":1}');
    await recordLanding(store, {
      dataset: 'orders',
      input,
      output,
      manifest: { runId: 'r1', attempt: 2 },
      previous: undefined,
    });
    expect(JSON.parse(store.bytes('raw', output.manifestKey).toString())).toEqual({
      runId: 'r1',
      attempt: 1,
    });
    // Without an interval key, the run record is all that is written to reports.
    expect([...store.objects.keys()].filter((k) => k.startsWith('reports/'))).toEqual([
      `reports/${runRecordKey('orders', 'r1')}`,
    ]);
  });

  it('names no raw objects when nothing was landed, and records a failure as given', async () => {
    const store = new MemoryStore();
    const empty = { ...output, rawKey: '', files: 0, manifestKey: '', empty: true };
    await recordLanding(store, {
      dataset: 'orders',
      input,
      output: empty,
      previous: undefined,
      record: { status: 'FAILED', error: { name: 'ChecksumMismatch', message: 'm' } },
    });
    const record = JSON.parse(store.bytes('reports', runRecordKey('orders', 'r1')).toString()) as RunRecord;
    expect(record).toEqual({
      dataset: 'orders',
      runId: 'r1',
      dt: '2026-11-25',
      status: 'FAILED',
      trigger: input.trigger,
      error: { name: 'ChecksumMismatch', message: 'm' },
    });
    expect([...store.objects.keys()].filter((k) => k.startsWith('raw/'))).toEqual([]);
  });
});
