import { describe, expect, it } from '@jest/globals';
import {
  dataQualityFacets,
  executionRunId,
  lakeDataset,
  lineageRunId,
  nameBasedUuid,
  runEvent,
  schemaFacet,
} from '../../../lambdas/shared/lineage.js';
import { MemoryStore } from '../../support/memory-store.js';
import { openLineageProblems } from '../../support/openlineage.js';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SluicePipeline:orders-20261208T101500Z';

describe('OpenLineage run ids', () => {
  it('derives the same run UUID from the same dataset and run id, every time', () => {
    // Act
    const first = lineageRunId('orders', 'eba8f1c648bda8f3');
    const again = lineageRunId('orders', 'eba8f1c648bda8f3');
    // Assess
    expect(again).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives another run, or the same run id of another dataset, another UUID', () => {
    // Act
    const ids = new Set([
      lineageRunId('orders', 'eba8f1c648bda8f3'),
      lineageRunId('orders', 'eba8f1c648bda8f4'),
      lineageRunId('customers', 'eba8f1c648bda8f3'),
    ]);
    // Assess
    expect(ids.size).toBe(3);
  });

  it('makes RFC 4122 version-5 UUIDs: a name in the URL namespace gives what uuid.uuid5 of Python gives', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_URL, 'https://www.example.com/')
    expect(nameBasedUuid('https://www.example.com/')).toBe('3d3ed9d2-aa3d-5fa6-90e8-ed662e90f559');
  });
});

describe('RunEvent', () => {
  it('names the Step Functions execution as the parent run, its state machine as the parent job', () => {
    // Act
    const event = runEvent({
      eventType: 'START',
      eventTime: new Date('2026-12-08T10:15:00Z'),
      namespace: 'sluice',
      dataset: 'orders',
      runId: 'r1',
      executionArn: EXECUTION,
    });
    // Assess
    expect(event.run.facets.parent).toMatchObject({
      run: { runId: executionRunId(EXECUTION) },
      job: { namespace: 'sluice', name: 'SluicePipeline' },
    });
    expect(event.job).toMatchObject({ namespace: 'sluice', name: 'orders' });
    expect(event.run.runId).toBe(lineageRunId('orders', 'r1'));
    expect(openLineageProblems(event)).toEqual([]);
  });

  it('gives a FAIL event an errorMessage run facet with the error name and message', () => {
    // Act
    const event = runEvent({
      eventType: 'FAIL',
      eventTime: new Date('2026-12-08T10:16:00Z'),
      namespace: 'sluice',
      dataset: 'orders',
      runId: 'r1',
      executionArn: EXECUTION,
      error: { name: 'ValidationFailed', message: 'no row passed' },
    });
    // Assess
    expect(event.eventType).toBe('FAIL');
    expect(event.run.facets.errorMessage).toMatchObject({
      message: 'ValidationFailed: no row passed',
      programmingLanguage: 'TypeScript',
    });
    expect(openLineageProblems(event)).toEqual([]);
  });

  it('gives a COMPLETE event no errorMessage even when the state carries an error', () => {
    // Act
    const event = runEvent({
      eventType: 'COMPLETE',
      eventTime: new Date('2026-12-08T10:16:00Z'),
      namespace: 'sluice',
      dataset: 'orders',
      runId: 'r1',
      error: { name: 'SourceUnavailable', message: 'retried' },
    });
    // Assess
    expect(event.run.facets).not.toHaveProperty('errorMessage');
  });
});

describe('lake objects as OpenLineage datasets', () => {
  it('names an S3 object by namespace s3://<bucket> and its key', () => {
    // Prepare
    const store = new (class extends MemoryStore {
      override describe(zone: string, key: string) {
        return `s3://sluice-${zone}-123/${key}`;
      }
    })();
    // Act
    const dataset = lakeDataset(store, 'raw', 'orders/dt=2026-12-08/run=r1/orders.csv');
    // Assess
    expect(dataset).toEqual({
      namespace: 's3://sluice-raw-123',
      name: 'orders/dt=2026-12-08/run=r1/orders.csv',
    });
  });

  it('names a file of a local lake by namespace file and its path', () => {
    // Prepare
    const store = new (class extends MemoryStore {
      override describe(zone: string, key: string) {
        return `/home/me/.sluice/lake/${zone}/${key}`;
      }
    })();
    // Act
    const dataset = lakeDataset(store, 'raw', 'orders/x.csv');
    // Assess
    expect(dataset).toEqual({ namespace: 'file', name: '/home/me/.sluice/lake/raw/orders/x.csv' });
  });
});

describe('data-quality facets from a validation result', () => {
  const report = {
    meta: { columns: ['order_id', 'amount', 'status'] },
    results: [
      {
        success: false,
        expectation_config: { type: 'expect_column_values_to_not_be_null', kwargs: { column: 'order_id' } },
        result: { element_count: 300, unexpected_count: 2 },
      },
      {
        success: true,
        expectation_config: { type: 'expect_column_values_to_be_unique', kwargs: { column: 'order_id' } },
        result: { unexpected_count: 0, missing_count: 2 },
      },
      {
        success: true,
        expectation_config: { type: 'expect_column_min_to_be_between', kwargs: { column: 'amount' } },
        result: { observed_value: -1.5 },
      },
      {
        success: true,
        expectation_config: { type: 'expect_column_max_to_be_between', kwargs: { column: 'amount' } },
        result: { observed_value: 250000 },
      },
      {
        success: true,
        expectation_config: {
          type: 'expect_column_unique_value_count_to_be_between',
          kwargs: { column: 'status' },
        },
        result: { observed_value: 6 },
      },
      {
        success: true,
        expectation_config: { type: 'expect_table_row_count_to_be_between', kwargs: { min_value: 1 } },
        result: { observed_value: 300 },
      },
    ],
  };

  it('takes rowCount and bytes from the batch, column metrics from the expectations that measured them', () => {
    // Act
    const facets = dataQualityFacets(report, { rowCount: 300, bytes: 20887, fileCount: 1 });
    // Assess
    expect(facets.dataQualityMetrics).toMatchObject({
      rowCount: 300,
      bytes: 20887,
      fileCount: 1,
      columnMetrics: {
        order_id: { nullCount: 2 },
        amount: { min: -1.5, max: 250000 },
        status: { distinctCount: 6 },
      },
    });
  });

  it('makes one assertion per expectation, with its column when it has one', () => {
    // Act
    const facets = dataQualityFacets(report, { rowCount: 300, bytes: 20887, fileCount: 1 });
    // Assess
    expect(facets.dataQualityAssertions).toMatchObject({
      assertions: [
        { assertion: 'expect_column_values_to_not_be_null', success: false, column: 'order_id' },
        { assertion: 'expect_column_values_to_be_unique', success: true, column: 'order_id' },
        { assertion: 'expect_column_min_to_be_between', success: true, column: 'amount' },
        { assertion: 'expect_column_max_to_be_between', success: true, column: 'amount' },
        { assertion: 'expect_column_unique_value_count_to_be_between', success: true, column: 'status' },
        { assertion: 'expect_table_row_count_to_be_between', success: true },
      ],
    });
  });

  it('leaves out a min or max that is not a number (dates, strings), which the facet cannot hold', () => {
    // Act
    const facets = dataQualityFacets(
      {
        results: [
          {
            success: true,
            expectation_config: { type: 'expect_column_min_to_be_between', kwargs: { column: 'day' } },
            result: { observed_value: '2026-01-01' },
          },
        ],
      },
      { rowCount: 1, bytes: 10, fileCount: 1 },
    );
    // Assess
    expect(facets.dataQualityMetrics).toMatchObject({ columnMetrics: { day: {} } });
  });
});

describe('schema facet', () => {
  it("lists a record schema's properties in order with their JSON types, null left out", () => {
    // Act
    const facet = schemaFacet({
      properties: {
        order_id: { type: 'string' },
        order_date: { type: 'string', format: 'date' },
        quantity: { type: ['integer', 'null'], description: 'units' },
      },
    });
    // Assess
    expect(facet).toMatchObject({
      fields: [
        { name: 'order_id', type: 'string', ordinal_position: 1 },
        { name: 'order_date', type: 'string(date)', ordinal_position: 2 },
        { name: 'quantity', type: 'integer', description: 'units', ordinal_position: 3 },
      ],
    });
  });
});

describe('the OpenLineage schemas the tests validate with', () => {
  it('refuse an event whose run id is not a UUID and a facet without its _schemaURL', () => {
    // Prepare
    const event = runEvent({
      eventType: 'START',
      eventTime: new Date('2026-12-08T10:15:00Z'),
      namespace: 'sluice',
      dataset: 'orders',
      runId: 'r1',
      executionArn: EXECUTION,
    });
    const { _schemaURL: _, ...parent } = event.run.facets.parent!;
    // Act
    const problems = openLineageProblems({
      ...event,
      run: { runId: 'r1', facets: { parent } },
    });
    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^event\/run\/runId: must match format "uuid"/),
        expect.stringMatching(/^run\/facets\/parent: must have required property '_schemaURL'/),
      ]),
    );
  });
});
