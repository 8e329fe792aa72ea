import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { recordRun } from '../../lambdas/record-run/core.js';
import { runRecordKey } from '../../lambdas/shared/keys.js';
import { readRunRecord } from '../../lambdas/shared/run-record.js';
import { interleaveOnce } from '../support/interleave.js';
import { type MotoLake, motoLake } from '../support/moto-lake.js';

// The run record's compare-and-swap on a real S3 API (moto): If-None-Match to create it, If-Match
// with the ETag read to replace it.

const root = join(import.meta.dirname, '..', '..');
let lake: MotoLake;

beforeAll(async () => {
  lake = await motoLake(join(root, 'test', 'fixtures', 'datasets'));
});

const ingest = { runId: 'r1', dt: '2026-11-25', rawKey: 'k', manifestKey: 'm', sha256: 's', size: 1 };

describe('the run record on S3', () => {
  it('keeps both updates when a failed attempt writes between the read and the write of a success', async () => {
    // Prepare
    const dataset = 'orders';
    const succeeded = {
      status: 'SUCCEEDED' as const,
      executionId: 'exec-a',
      startedAt: '2026-11-25T10:00:00.000Z',
      state: { dataset, ingest },
    };
    const failed = {
      status: 'FAILED' as const,
      executionId: 'exec-b',
      startedAt: '2026-11-25T10:00:00.500Z',
      state: { dataset, ingest, error: { Error: 'VersioningFailed', Cause: 'remote hung up' } },
    };
    const writes = interleaveOnce(lake.store, runRecordKey(dataset, 'r1'), () =>
      recordRun(failed, { store: lake.store }),
    );
    // Act
    await recordRun(succeeded, { store: lake.store });
    // Assess: S3 refused the success's first write (412), made again on top of the failure
    expect(writes.outcomes).toEqual([true, false, true]);
    const saved = await readRunRecord(lake.store, dataset, 'r1');
    expect(saved).toMatchObject({ status: 'SUCCEEDED', executionId: 'exec-a' });
    expect(saved?.error).toBeUndefined();
    expect(saved?.attempts).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        executionId: 'exec-b',
        error: { name: 'VersioningFailed', message: 'remote hung up' },
      }),
    ]);
  });
});
