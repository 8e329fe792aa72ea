import { describe, expect, it } from '@jest/globals';
import { describeError, recordRun } from '../../../lambdas/record-run/core.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { writeTriggerRun } from '../../../lambdas/shared/run-record.js';
import { MemoryStore } from '../../support/memory-store.js';

describe('record-run', () => {
  it('reads the message out of a Lambda error cause as Step Functions passes it', () => {
    const cause = JSON.stringify({
      errorType: 'MalformedInput',
      errorMessage: 'line 3: not UTF-8',
      trace: [],
    });
    expect(describeError({ Error: 'MalformedInput', Cause: cause })).toEqual({
      name: 'MalformedInput',
      message: 'line 3: not UTF-8',
    });
  });

  it('keeps a plain cause as the message', () => {
    expect(describeError({ Error: 'ValidationFailed', Cause: 'no rows' })).toEqual({
      name: 'ValidationFailed',
      message: 'no rows',
    });
  });

  it('records a run that failed before ingest under an id derived from its trigger', async () => {
    // Prepare
    const store = new MemoryStore();
    const state = {
      dataset: 'orders',
      trigger: { type: 's3-upload', key: 'landing/orders/gone.csv', time: '2026-11-25T10:00:00Z' },
      error: { Error: 'ObjectNotFound', Cause: 'gone' },
    };
    // Act
    const { recordKey } = await recordRun(
      { status: 'FAILED', state },
      { store, clock: () => new Date('2026-11-25T10:01:00Z') },
    );
    // Assess
    const saved = JSON.parse(await store.readText('reports', recordKey));
    expect(saved).toMatchObject({
      status: 'FAILED',
      dt: '2026-11-25',
      error: { name: 'ObjectNotFound', message: 'gone' },
    });
    expect(recordKey).toMatch(/^orders\/runs\/trigger-[0-9a-f]{16}\.json$/);
  });

  it('records an ingest failure on the run the ingest recorded for its trigger, not on a second one', async () => {
    // Prepare: the ingest recorded run r1 for this trigger, then failed it
    const store = new MemoryStore();
    const trigger = {
      type: 'partner-drop',
      key: 'landing/acme/b1/manifest.json',
      time: '2026-11-25T10:00:00Z',
    };
    await store.put(
      'reports',
      runRecordKey('acme', 'r1'),
      JSON.stringify({ dataset: 'acme', runId: 'r1', dt: '2026-11-25', status: 'FAILED', raw: { key: 'k' } }),
    );
    await writeTriggerRun(store, 'acme', trigger, 'r1');
    const state = {
      dataset: 'acme',
      trigger,
      error: { Error: 'ChecksumMismatch', Cause: 'part-1.csv differs' },
    };
    // Act
    const { recordKey } = await recordRun({ status: 'FAILED', state }, { store });
    // Assess
    expect(recordKey).toBe(runRecordKey('acme', 'r1'));
    expect(JSON.parse(await store.readText('reports', recordKey))).toMatchObject({
      runId: 'r1',
      status: 'FAILED',
      raw: { key: 'k' },
      error: { name: 'ChecksumMismatch', message: 'part-1.csv differs' },
    });
    expect((await store.list('reports', 'acme/runs/')).filter((k) => !k.includes('/attempts/'))).toEqual([
      runRecordKey('acme', 'r1'),
    ]);
  });

  it('clears the error of an earlier failed attempt when the run succeeds', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put(
      'reports',
      runRecordKey('orders', 'r1'),
      JSON.stringify({ status: 'FAILED', error: { name: 'X', message: 'y' } }),
    );
    const state = {
      dataset: 'orders',
      ingest: { runId: 'r1', dt: '2026-11-25', rawKey: 'k', manifestKey: 'm', sha256: 's', size: 1 },
    };
    // Act
    await recordRun({ status: 'SUCCEEDED', state, startedAt: '2026-11-25T10:00:00Z' }, { store });
    // Assess
    const saved = JSON.parse(await store.readText('reports', runRecordKey('orders', 'r1')));
    expect(saved.status).toBe('SUCCEEDED');
    expect(saved.error).toBeUndefined();
    expect(await store.list('reports', 'orders/runs/r1/attempts/')).toHaveLength(1);
  });
});
