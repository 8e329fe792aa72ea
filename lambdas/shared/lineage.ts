import { createHash } from 'node:crypto';
import type { ObjectStore, Zone } from './object-store.js';

/**
 * OpenLineage RunEvents (spec 2-0-2) of a Sluice run, built from what the run already has: its
 * raw objects, its validation result, what it promoted and the DVC version it made. Lineage
 * servers (Marquez, DataHub, OpenMetadata) take these as they are. OpenLineage has no JavaScript
 * client, so the events are plain objects built here and sent by lineage-transport.ts.
 */

/** Who wrote the events: OpenLineage asks for a URI naming the producer and its version. */
export const SLUICE_PRODUCER = 'https://github.com/sluice-data/sluice/tree/v0.1.0';

export const RUN_EVENT_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';

/** The facet schemas each facet claims, the versions the test fixtures hold (test/fixtures/openlineage/). */
export const FACET_SCHEMA_URLS = {
  parent: 'https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet',
  errorMessage:
    'https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet',
  jobType: 'https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
  dataQualityMetrics:
    'https://openlineage.io/spec/facets/1-0-3/DataQualityMetricsInputDatasetFacet.json#/$defs/DataQualityMetricsInputDatasetFacet',
  dataQualityAssertions:
    'https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet',
  schema: 'https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
  version:
    'https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet',
} as const;

/** START when a run begins; COMPLETE, FAIL or ABORT (a local run stopped by Ctrl-C) when it ends. */
export type RunEventType = 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';

interface Facet {
  _producer: string;
  _schemaURL: string;
}

export interface LineageDataset {
  namespace: string;
  name: string;
  facets?: Record<string, Facet>;
  inputFacets?: Record<string, Facet>;
  outputFacets?: Record<string, Facet>;
}

export interface RunEvent {
  eventType: RunEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets: Record<string, Facet> };
  job: { namespace: string; name: string; facets: Record<string, Facet> };
  inputs: LineageDataset[];
  outputs: LineageDataset[];
}

/** The namespace of the RFC 4122 name-based UUIDs of Sluice runs (the URL namespace: names are URLs). */
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** A version-5 (SHA-1, name-based) UUID: the same name gives the same UUID, on every machine. */
export function nameBasedUuid(name: string): string {
  const bytes = createHash('sha1').update(URL_NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The OpenLineage run id of a Sluice run. Sluice's run id is derived from the dataset and the
 * batch's bytes, so every attempt of one batch (a retry, a re-run after a fix) reports to the
 * same OpenLineage run.
 */
export function lineageRunId(dataset: string, runId: string): string {
  return nameBasedUuid(`sluice://${dataset}/runs/${runId}`);
}

/** The OpenLineage run id of a Step Functions execution (the parent run), from its ARN. */
export function executionRunId(executionArn: string): string {
  return nameBasedUuid(executionArn);
}

/** The state machine an execution ARN belongs to: `arn:aws:states:<region>:<account>:execution:<machine>:<name>`. */
export function stateMachineOf(executionArn: string): string {
  return executionArn.split(':')[6] || 'sluice-pipeline';
}

/**
 * An object of the lake as an OpenLineage dataset: on S3, namespace `s3://<bucket>` and name the
 * key; in a local lake (a directory), namespace `file` and name the path, as OpenLineage names them.
 */
export function lakeDataset(store: ObjectStore, zone: Zone, key: string): LineageDataset {
  const where = store.describe(zone, key);
  const s3 = /^s3:\/\/([^/]+)\/(.*)$/.exec(where);
  if (s3) return { namespace: `s3://${s3[1]}`, name: s3[2]! };
  return { namespace: 'file', name: where };
}

function facet<T extends object>(schema: keyof typeof FACET_SCHEMA_URLS, fields: T): Facet & T {
  return { _producer: SLUICE_PRODUCER, _schemaURL: FACET_SCHEMA_URLS[schema], ...fields };
}

/** The GX-shaped validation result, as far as lineage reads it (validation.json in the reports zone). */
export interface ValidationReport {
  meta?: { columns?: string[] };
  results?: Array<{
    success?: boolean;
    expectation_config?: { type?: string; kwargs?: { column?: unknown } };
    result?: {
      observed_value?: unknown;
      unexpected_count?: unknown;
      missing_count?: unknown;
    };
  }>;
}

type ColumnMetrics = { nullCount?: number; distinctCount?: number; min?: number; max?: number };

/**
 * The input facets of a validated batch, from its validation result alone (the data is not read
 * again): `dataQualityAssertions`, one per expectation, and `dataQualityMetrics`, whose column
 * metrics are those the expectations measured: nullCount from `expect_column_values_to_not_be_null`
 * or any column-map expectation's `missing_count`, distinctCount from
 * `expect_column_unique_value_count_to_be_between`, min and max from
 * `expect_column_min_to_be_between` / `expect_column_max_to_be_between` on numbers.
 */
export function dataQualityFacets(
  report: ValidationReport,
  batch: { rowCount: number; bytes: number; fileCount: number },
): Record<string, Facet> {
  const columns = new Map<string, ColumnMetrics>((report.meta?.columns ?? []).map((c) => [c, {}]));
  const assertions: Array<{ assertion: string; success: boolean; column?: string }> = [];
  for (const entry of report.results ?? []) {
    const type = entry.expectation_config?.type ?? 'unknown';
    const column = entry.expectation_config?.kwargs?.column;
    assertions.push({
      assertion: type,
      success: entry.success === true,
      ...(typeof column === 'string' ? { column } : {}),
    });
    if (typeof column !== 'string' || !entry.result) continue;
    const metrics = columns.get(column) ?? {};
    columns.set(column, metrics);
    const { observed_value: observed, unexpected_count: unexpected, missing_count: missing } = entry.result;
    if (type === 'expect_column_values_to_not_be_null' && isCount(unexpected)) metrics.nullCount = unexpected;
    else if (isCount(missing)) metrics.nullCount ??= missing;
    if (type === 'expect_column_unique_value_count_to_be_between' && isCount(observed)) {
      metrics.distinctCount = observed;
    }
    if (type === 'expect_column_min_to_be_between' && isFiniteNumber(observed)) metrics.min = observed;
    if (type === 'expect_column_max_to_be_between' && isFiniteNumber(observed)) metrics.max = observed;
  }
  return {
    dataQualityMetrics: facet('dataQualityMetrics', {
      rowCount: batch.rowCount,
      bytes: batch.bytes,
      fileCount: batch.fileCount,
      columnMetrics: Object.fromEntries(columns),
    }),
    dataQualityAssertions: facet('dataQualityAssertions', { assertions }),
  };
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** A JSON Schema of one record (a contract's `schema`), as far as the schema facet reads it. */
export interface RecordSchema {
  properties?: Record<string, { type?: unknown; format?: unknown; description?: unknown }>;
}

/** The `schema` facet of records described by a JSON Schema: one field per property, in order. */
export function schemaFacet(schema: RecordSchema): Facet {
  const fields = Object.entries(schema.properties ?? {}).map(([name, property], i) => ({
    name,
    ...(typeOf(property) ? { type: typeOf(property) } : {}),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    ordinal_position: i + 1,
  }));
  return facet('schema', { fields });
}

function typeOf(property: { type?: unknown; format?: unknown }): string | undefined {
  const types = (Array.isArray(property.type) ? property.type : [property.type]).filter(
    (t): t is string => typeof t === 'string' && t !== 'null',
  );
  if (types.length === 0) return undefined;
  const type = types.join('|');
  return typeof property.format === 'string' ? `${type}(${property.format})` : type;
}

/** The record a quarantined row is kept as (lambdas/validate/row-failure.ts), for its schema facet. */
export const QUARANTINE_RECORD_SCHEMA: RecordSchema = {
  properties: {
    row: { type: 'integer', description: 'line of the row in its file' },
    index: { type: 'integer', description: 'position of the row in the batch' },
    failures: { type: 'array', description: 'column, expectation, reason and value of each failure' },
    record: { type: 'object', description: 'the row as read' },
  },
};

/** The `version` facet: the dataset's version, with any more fields a reader may use (tag, commit). */
export function versionFacet(datasetVersion: string, more: Record<string, string> = {}): Facet {
  return facet('version', { datasetVersion, ...more });
}

export interface RunEventParts {
  eventType: RunEventType;
  eventTime: Date;
  /** The namespace of Sluice's jobs, one per deployment: `SLUICE_OPENLINEAGE_NAMESPACE`. */
  namespace: string;
  dataset: string;
  runId: string;
  /** The Step Functions execution running the run: the parent run. */
  executionArn?: string;
  inputs?: LineageDataset[];
  outputs?: LineageDataset[];
  /** The failure of a FAIL or ABORT event: its name and message. */
  error?: { name: string; message: string };
}

/**
 * One RunEvent of a dataset's run: the job is the dataset's pipeline (`<namespace>` / dataset),
 * the parent run its Step Functions execution (a job named after the state machine).
 */
export function runEvent(parts: RunEventParts): RunEvent {
  const runFacets: Record<string, Facet> = {};
  if (parts.executionArn) {
    runFacets.parent = facet('parent', {
      run: { runId: executionRunId(parts.executionArn) },
      job: { namespace: parts.namespace, name: stateMachineOf(parts.executionArn) },
    });
  }
  if (parts.error && (parts.eventType === 'FAIL' || parts.eventType === 'ABORT')) {
    runFacets.errorMessage = facet('errorMessage', {
      message: parts.error.message ? `${parts.error.name}: ${parts.error.message}` : parts.error.name,
      programmingLanguage: 'TypeScript',
    });
  }
  return {
    eventType: parts.eventType,
    eventTime: parts.eventTime.toISOString(),
    producer: SLUICE_PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA_URL,
    run: { runId: lineageRunId(parts.dataset, parts.runId), facets: runFacets },
    job: {
      namespace: parts.namespace,
      name: parts.dataset,
      facets: {
        jobType: facet('jobType', { processingType: 'BATCH', integration: 'SLUICE', jobType: 'JOB' }),
      },
    },
    inputs: parts.inputs ?? [],
    outputs: parts.outputs ?? [],
  };
}
