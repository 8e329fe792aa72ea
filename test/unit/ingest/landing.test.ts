import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { recordLanding, writeRawOnce } from '../../../lambdas/ingest/landing.js';
import type { IngestOutput } from '../../../lambdas/ingest/types.js';
import { RawObjectConflict } from '../../../lambdas/shared/errors.js';
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

  it('leaves a run SUCCEEDED when another execution of it claims it RUNNING after it succeeded', async () => {
    // Prepare: the claiming execution read the record while it was still RUNNING
    const store = new MemoryStore();
    const running: RunRecord = { dataset: 'orders', runId: 'r1', dt: '2026-11-25', status: 'RUNNING' };
    const succeeded: RunRecord = {
      ...running,
      status: 'SUCCEEDED',
      executionId: 'e1',
      finishedAt: '2026-11-25T10:00:09Z',
    };
    await store.put('reports', runRecordKey('orders', 'r1'), JSON.stringify(succeeded));
    // Act
    await recordLanding(store, {
      dataset: 'orders',
      input: { ...input, executionId: 'e2', startedAt: '2026-11-25T10:00:01Z' },
      output,
      manifest: { runId: 'r1' },
      previous: running,
    });
    // Assess
    expect(await readRunRecord(store, 'orders', 'r1')).toEqual(succeeded);
  });
});

describe('writeRawOnce', () => {
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const key = 'orders/dt=2026-11-25/run=r1/a.csv';
  const write = (text: string) => ({
    key,
    body: text,
    sha256: sha(text),
    from: 'mem://landing/orders/a.csv',
    metadata: { 'source-key': 'orders/a.csv' },
  });

  it('writes the bytes with their sha256 and source beside them', async () => {
    // Prepare
    const store = new MemoryStore();
    // Act
    const created = await writeRawOnce(store, write('id\n1\n'));
    // Assess
    expect(created).toBe(true);
    expect(store.bytes('raw', key).toString()).toBe('id\n1\n');
    expect((await store.head('raw', key))?.metadata).toEqual({
      sha256: sha('id\n1\n'),
      'source-key': 'orders/a.csv',
    });
  });

  it('is a no-op for the same bytes, and keeps the object as it was', async () => {
    // Prepare
    const store = new MemoryStore();
    await writeRawOnce(store, write('id\n1\n'));
    const before = store.objects.get(`raw/${key}`);
    // Act
    const created = await writeRawOnce(store, write('id\n1\n'));
    // Assess
    expect(created).toBe(false);
    expect(store.objects.get(`raw/${key}`)).toBe(before);
  });

  it('hashes the bytes of an object written without sha256 metadata: the same bytes are a no-op', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('raw', key, 'id\n1\n');
    // Act
    const created = await writeRawOnce(store, write('id\n1\n'));
    // Assess
    expect(created).toBe(false);
    expect(store.bytes('raw', key).toString()).toBe('id\n1\n');
  });

  it('refuses other bytes with RawObjectConflict naming both hashes, with or without sha256 metadata', async () => {
    // Prepare
    const withMetadata = new MemoryStore();
    await writeRawOnce(withMetadata, write('id\n1\n'));
    const without = new MemoryStore();
    await without.put('raw', key, 'id\n1\n');
    // Act
    const attempts = [withMetadata, without].map((store) => writeRawOnce(store, write('id\n2\n')));
    // Assess
    for (const attempt of attempts) {
      await expect(attempt).rejects.toThrow(RawObjectConflict);
      await expect(attempt).rejects.toThrow(
        `mem://raw/${key} already holds different bytes (sha256 ${sha('id\n1\n')}); ` +
          `mem://landing/orders/a.csv (sha256 ${sha('id\n2\n')}) was not written`,
      );
    }
    expect(withMetadata.bytes('raw', key).toString()).toBe('id\n1\n');
    expect(without.bytes('raw', key).toString()).toBe('id\n1\n');
  });
});
