import { describe, expect, it } from '@jest/globals';
import { describeError, recordRun } from '../../../lambdas/record-run/core.js';
import { InternalError } from '../../../lambdas/shared/errors.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { type RunRecord, readRunRecord, writeTriggerRun } from '../../../lambdas/shared/run-record.js';
import { interleaveOnce } from '../../support/interleave.js';
import { MemoryStore } from '../../support/memory-store.js';

const ingest = { runId: 'r1', dt: '2026-11-25', rawKey: 'k', manifestKey: 'm', sha256: 's', size: 1 };

/** The input of one execution's record step for run r1 of orders. */
function attempt(execution: string, status: 'SUCCEEDED' | 'FAILED', startedAt: string) {
  return {
    status,
    executionId: `arn:aws:states:us-east-1:000000000000:execution:sluice:${execution}`,
    startedAt,
    state: {
      dataset: 'orders',
      ingest,
      ...(status === 'FAILED'
        ? { error: { Error: 'VersioningFailed', Cause: 'git push: remote hung up' } }
        : { promotion: { curatedKey: 'orders/part-r1.jsonl', size: 10 } }),
    },
  };
}

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

  it('keeps a SUCCEEDED run SUCCEEDED when a later attempt of the same run fails, and lists that attempt', async () => {
    // Prepare: a record as written before attempts were kept (no attempts field)
    const store = new MemoryStore();
    const succeeded: RunRecord = {
      dataset: 'orders',
      runId: 'r1',
      dt: '2026-11-25',
      status: 'SUCCEEDED',
      executionId: 'first',
      startedAt: '2026-11-25T10:00:00.000Z',
      finishedAt: '2026-11-25T10:00:05.000Z',
      promotion: { curatedKey: 'orders/part-r1.jsonl', size: 10 },
    };
    await store.put('reports', runRecordKey('orders', 'r1'), JSON.stringify(succeeded));
    const late = attempt('second', 'FAILED', '2026-11-25T10:00:01.000Z');
    // Act
    await recordRun(late, { store, clock: () => new Date('2026-11-25T10:00:09.000Z') });
    // Assess
    expect(await readRunRecord(store, 'orders', 'r1')).toEqual({
      ...succeeded,
      attempts: [
        {
          status: 'FAILED',
          executionId: late.executionId,
          startedAt: '2026-11-25T10:00:01.000Z',
          finishedAt: '2026-11-25T10:00:09.000Z',
          error: { name: 'VersioningFailed', message: 'git push: remote hung up' },
        },
      ],
    });
    const own = JSON.parse(
      await store.readText('reports', 'orders/runs/r1/attempts/2026-11-25T10-00-01-000Z.json'),
    );
    expect(own).toMatchObject({ status: 'FAILED', executionId: late.executionId });
  });

  it('turns a FAILED run SUCCEEDED when a later attempt succeeds, and keeps the failure among its attempts', async () => {
    // Prepare
    const store = new MemoryStore();
    const clock = () => new Date('2026-11-25T10:00:05.000Z');
    await recordRun(attempt('first', 'FAILED', '2026-11-25T10:00:00.000Z'), { store, clock });
    // Act
    await recordRun(attempt('second', 'SUCCEEDED', '2026-11-25T11:00:00.000Z'), { store, clock });
    // Assess
    const saved = await readRunRecord(store, 'orders', 'r1');
    expect(saved).toMatchObject({ status: 'SUCCEEDED', executionId: expect.stringMatching(/:second$/) });
    expect(saved?.error).toBeUndefined();
    expect(saved?.attempts).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        executionId: expect.stringMatching(/:first$/),
        error: expect.objectContaining({ name: 'VersioningFailed' }),
      }),
    ]);
  });

  it('lists an attempt once when its record step is retried after it wrote', async () => {
    // Prepare
    const store = new MemoryStore();
    await recordRun(attempt('first', 'SUCCEEDED', '2026-11-25T10:00:00.000Z'), { store });
    const late = attempt('second', 'FAILED', '2026-11-25T10:00:01.000Z');
    await recordRun(late, { store });
    // Act
    await recordRun(late, { store });
    // Assess
    const saved = await readRunRecord(store, 'orders', 'r1');
    expect(saved?.status).toBe('SUCCEEDED');
    expect(saved?.attempts?.map((a) => a.executionId)).toEqual([late.executionId]);
  });

  it.each([
    ['a success, while a failure of the same run is written', 'SUCCEEDED', 'FAILED'],
    ['a failure, while a success of the same run is written', 'FAILED', 'SUCCEEDED'],
  ] as const)(
    'keeps both updates when recording %s: the first write loses its compare-and-swap and is made again',
    async (_, first, second) => {
      // Prepare
      const store = new MemoryStore();
      const a = attempt('a', first, '2026-11-25T10:00:00.000Z');
      const b = attempt('b', second, '2026-11-25T10:00:00.500Z');
      const writes = interleaveOnce(store, runRecordKey('orders', 'r1'), () => recordRun(b, { store }));
      // Act
      await recordRun(a, { store });
      // Assess: b wrote first; a lost its compare-and-swap once, then wrote on top of b
      expect(writes.outcomes).toEqual([true, false, true]);
      const saved = await readRunRecord(store, 'orders', 'r1');
      const [winner, other] = first === 'SUCCEEDED' ? [a, b] : [b, a];
      expect(saved).toMatchObject({ status: 'SUCCEEDED', executionId: winner.executionId });
      expect(saved?.attempts).toEqual([
        expect.objectContaining({ status: 'FAILED', executionId: other.executionId }),
      ]);
      expect(await store.list('reports', 'orders/runs/r1/attempts/')).toHaveLength(2);
    },
  );

  it('fails with InternalError, not a retried error, when the store refuses every conditional write', async () => {
    // Prepare
    const store = new MemoryStore();
    store.putIfMatch = async () => false;
    // Act
    const recording = recordRun(attempt('a', 'SUCCEEDED', '2026-11-25T10:00:00.000Z'), { store });
    // Assess
    await expect(recording).rejects.toThrow(InternalError);
    await expect(recording).rejects.toThrow(
      /orders\/runs\/r1\.json was changed by another writer on each of 50/,
    );
  });
});

describe("record-run and the run's spill", () => {
  const spillPrefix = 'orders/dt=2026-11-25/run=r1/spill/';

  it.each(['SUCCEEDED', 'FAILED'] as const)(
    'deletes nothing when a sharded run %s: its spill is left for the reports lifecycle to expire',
    async (status) => {
      // Prepare
      const store = new MemoryStore();
      for (const name of ['e0/keys/p0/s0', 'e0/keys/p0/s1', 'e1/values/s0', 'checked/p0.json']) {
        await store.put('reports', `${spillPrefix}${name}`, 'blob', { tags: { 'sluice-spill': '1' } });
      }
      const deleted: string[] = [];
      store.delete = async (zone, key) => {
        deleted.push(`${zone}/${key}`);
      };
      const input = attempt('e1', status, '2026-11-25T10:00:00Z');
      // The state as the sharded branch leaves it: PlanShards's shard list besides the ingest.
      const sharded = {
        ...input,
        state: { ...input.state, shards: { key: 'orders/runs/r1/shards/list.jsonl' } },
      };
      // Act
      await recordRun(sharded, { store, clock: () => new Date('2026-11-25T10:05:00Z') });
      // Assess
      expect(deleted).toEqual([]);
      expect(await store.list('reports', spillPrefix)).toHaveLength(4);
      expect(await readRunRecord(store, 'orders', 'r1')).toMatchObject({ status });
    },
  );
});
