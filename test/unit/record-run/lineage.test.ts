import { describe, expect, it } from '@jest/globals';
import { type RecordRunInput, recordRun } from '../../../lambdas/record-run/core.js';
import { lineagePrefix } from '../../../lambdas/shared/keys.js';
import { lineageRunId, type RunEvent } from '../../../lambdas/shared/lineage.js';
import type { LineageTransport } from '../../../lambdas/shared/lineage-transport.js';
import type { Zone } from '../../../lambdas/shared/object-store.js';
import { readRunRecord } from '../../../lambdas/shared/run-record.js';
import { MemoryStore } from '../../support/memory-store.js';
import { openLineageProblems } from '../../support/openlineage.js';

/** The lake as S3 names it, so that datasets get their s3:// namespaces. */
class S3NamedStore extends MemoryStore {
  override describe(zone: Zone, key: string): string {
    return `s3://sluice-${zone}/${key}`;
  }
}

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SluicePipeline:orders-1';
const STARTED = '2026-12-08T10:00:00.000Z';
const RUN = 'orders/dt=2026-12-08/run=r1/';

const ingest = {
  runId: 'r1',
  dt: '2026-12-08',
  rawKey: `${RUN}a.csv`,
  manifestKey: `${RUN}_manifest.json`,
  sha256: 's',
  size: 2048,
};
const validation = {
  success: false,
  promote: true,
  summary: '3 rows read, 2 validated, 1 quarantined',
  rows: { read: 3, valid: 2, quarantined: 1 },
  statistics: {},
  reportKey: `${RUN}validation.json`,
  validatedKey: `${RUN}part-00000.jsonl`,
  quarantineKey: `${RUN}rejected-rows.jsonl`,
};

/** A landed batch of two files and its validation result, as Ingest and ValidateBatch leave them. */
async function landedBatch(): Promise<S3NamedStore> {
  const store = new S3NamedStore();
  await store.put(
    'raw',
    ingest.manifestKey,
    JSON.stringify({ files: [{ key: `${RUN}a.csv` }, { key: `${RUN}b.csv` }] }),
  );
  await store.put(
    'reports',
    validation.reportKey,
    JSON.stringify({
      meta: { columns: ['order_id', 'amount'] },
      results: [
        {
          success: false,
          expectation_config: { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'order_id' } },
          result: { element_count: 3, unexpected_count: 1 },
        },
      ],
    }),
  );
  return store;
}

function input(
  status: RecordRunInput['status'],
  state: Partial<RecordRunInput['state']> = {},
): RecordRunInput {
  return {
    status,
    executionId: EXECUTION,
    startedAt: STARTED,
    state: { dataset: 'orders', ingest, ...state },
  };
}

const contracts = new Map([
  [
    'orders',
    {
      name: 'orders',
      schema: { type: 'object', properties: { order_id: { type: 'string' }, amount: { type: 'number' } } },
    },
  ],
]) as unknown as Parameters<typeof recordRun>[1]['contracts'];

async function eventAt(store: MemoryStore, name: string): Promise<RunEvent> {
  return JSON.parse(await store.readText('reports', `${lineagePrefix('orders', 'r1', STARTED)}${name}.json`));
}

/** A transport that keeps what it is sent, or refuses it. */
function transport(refuse?: string): LineageTransport & { sent: RunEvent[] } {
  const sent: RunEvent[] = [];
  return {
    target: 'http://lineage.test/api/v1/lineage',
    sent,
    async send(event) {
      if (refuse) throw new Error(refuse);
      sent.push(event);
    },
  };
}

describe('lineage of a run through the record-run function', () => {
  it('emits START with the raw objects of the batch as inputs when the run begins, leaving the run record alone', async () => {
    // Prepare
    const store = await landedBatch();
    const server = transport();
    // Act
    await recordRun(input('RUNNING'), {
      store,
      clock: () => new Date('2026-12-08T10:00:01Z'),
      lineage: { namespace: 'sluice', transports: [server] },
    });
    // Assess
    const start = await eventAt(store, 'START');
    expect(start).toMatchObject({
      eventType: 'START',
      eventTime: '2026-12-08T10:00:01.000Z',
      run: { runId: lineageRunId('orders', 'r1') },
      job: { namespace: 'sluice', name: 'orders' },
      inputs: [
        { namespace: 's3://sluice-raw', name: `${RUN}a.csv` },
        { namespace: 's3://sluice-raw', name: `${RUN}b.csv` },
      ],
      outputs: [],
    });
    expect(server.sent).toEqual([start]);
    expect(await readRunRecord(store, 'orders', 'r1')).toBeUndefined();
    expect(openLineageProblems(start)).toEqual([]);
  });

  it('emits COMPLETE with data-quality input facets and the curated and quarantine outputs with schema and version', async () => {
    // Prepare
    const store = await landedBatch();
    const ports = { store, contracts, clock: () => new Date('2026-12-08T10:05:00Z') };
    await recordRun(input('RUNNING'), ports);
    // Act
    await recordRun(
      input('SUCCEEDED', {
        validation,
        promotion: { curatedKey: `${RUN}part-00000.jsonl`, size: 10 },
        version: {
          buildId: 'b1',
          exported: [
            { Name: 'SLUICE_DVC_MD5', Value: '2d2b23cb595632fd2284037877ef48e0.dir' },
            { Name: 'SLUICE_VERSION_TAG', Value: 'orders@2026-12-08-r1' },
            { Name: 'SLUICE_VERSION_COMMIT', Value: 'dc41342' },
          ],
        },
      }),
      ports,
    );
    // Assess
    const complete = await eventAt(store, 'COMPLETE');
    expect(complete.inputs[0]?.inputFacets).toMatchObject({
      dataQualityMetrics: {
        rowCount: 3,
        bytes: 2048,
        fileCount: 2,
        columnMetrics: { order_id: { nullCount: 1 } },
      },
      dataQualityAssertions: {
        assertions: [
          { assertion: 'expect_column_values_to_not_be_null', success: false, column: 'order_id' },
        ],
      },
    });
    expect(complete.outputs).toMatchObject([
      {
        namespace: 's3://sluice-curated',
        name: 'orders/',
        facets: {
          schema: {
            fields: [
              { name: 'order_id', type: 'string' },
              { name: 'amount', type: 'number' },
            ],
          },
          version: { datasetVersion: '2d2b23cb595632fd2284037877ef48e0.dir', tag: 'orders@2026-12-08-r1' },
        },
      },
      { namespace: 's3://sluice-quarantine', name: 'orders/', facets: { version: { datasetVersion: 'r1' } } },
    ]);
    expect(openLineageProblems(complete)).toEqual([]);
  });

  it('emits FAIL with an errorMessage run facet, and the START the run never emitted when its ingest failed', async () => {
    // Prepare: the ingest failed, so the state has no run id and no batch
    const store = new S3NamedStore();
    const failed: RecordRunInput = {
      status: 'FAILED',
      executionId: EXECUTION,
      startedAt: STARTED,
      state: {
        dataset: 'orders',
        trigger: { type: 's3-upload', key: 'orders/gone.csv', time: STARTED },
        error: { Error: 'ObjectNotFound', Cause: 'landing/orders/gone.csv does not exist' },
      },
    };
    // Act
    const { recordKey, lineage } = await recordRun(failed, {
      store,
      clock: () => new Date('2026-12-08T10:00:02Z'),
    });
    // Assess
    const events = await Promise.all(
      ['START', 'FAIL'].map(async (name) =>
        JSON.parse(await store.readText('reports', `${lineage.prefix}${name}.json`)),
      ),
    );
    expect(events.map((e) => [e.eventType, e.eventTime])).toEqual([
      ['START', STARTED],
      ['FAIL', '2026-12-08T10:00:02.000Z'],
    ]);
    expect(events[1].run.facets.errorMessage.message).toBe(
      'ObjectNotFound: landing/orders/gone.csv does not exist',
    );
    expect(recordKey).toMatch(/^orders\/runs\/trigger-/);
    for (const event of events) expect(openLineageProblems(event)).toEqual([]);
  });

  it('records the run when the lineage server refuses its events, listing each event it did not take', async () => {
    // Prepare
    const store = await landedBatch();
    const warnings: string[] = [];
    const ports = {
      store,
      clock: () => new Date('2026-12-08T10:05:00Z'),
      lineage: { namespace: 'sluice', transports: [transport('HTTP 503 Service Unavailable')] },
      warn: (message: string) => warnings.push(message),
    };
    // Act
    await recordRun(input('RUNNING'), ports);
    await recordRun(input('SUCCEEDED', { validation }), ports);
    // Assess
    const record = await readRunRecord(store, 'orders', 'r1');
    expect(record?.status).toBe('SUCCEEDED');
    expect(record?.lineage?.undelivered).toEqual([
      {
        eventType: 'START',
        target: 'http://lineage.test/api/v1/lineage',
        error: 'HTTP 503 Service Unavailable',
      },
      {
        eventType: 'COMPLETE',
        target: 'http://lineage.test/api/v1/lineage',
        error: 'HTTP 503 Service Unavailable',
      },
    ]);
    expect(warnings).toHaveLength(2);
    expect(
      await store.head('reports', `${lineagePrefix('orders', 'r1', STARTED)}COMPLETE.json`),
    ).toBeDefined();
  });

  it('records the run when its lineage cannot be built from the lake, saying why', async () => {
    // Prepare: the validation result the COMPLETE event reads is missing
    const store = await landedBatch();
    await store.delete('reports', validation.reportKey);
    // Act
    await recordRun(input('SUCCEEDED', { validation }), {
      store,
      clock: () => new Date('2026-12-08T10:05:00Z'),
    });
    // Assess
    const record = await readRunRecord(store, 'orders', 'r1');
    expect(record?.status).toBe('SUCCEEDED');
    expect(record?.lineage?.error).toMatch(/^ObjectNotFound: .*validation\.json/);
  });

  it('emits ABORT with the interruption as errorMessage for a run stopped by Ctrl-C', async () => {
    // Prepare
    const store = await landedBatch();
    const ports = { store, clock: () => new Date('2026-12-08T10:01:00Z') };
    await recordRun(input('RUNNING'), ports);
    // Act
    await recordRun(
      input('ABORTED', {
        error: { Error: 'RunInterrupted', Cause: 'the run was interrupted during ValidateBatch' },
      }),
      ports,
    );
    // Assess
    const abort = await eventAt(store, 'ABORT');
    expect(abort.eventType).toBe('ABORT');
    expect(abort.run.facets.errorMessage).toMatchObject({
      message: 'RunInterrupted: the run was interrupted during ValidateBatch',
    });
    expect(openLineageProblems(abort)).toEqual([]);
  });
});
