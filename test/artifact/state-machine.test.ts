import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { runPrefix, runRecordKey } from '../../lambdas/shared/keys.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { lakeSpillPrefix } from '../../lambdas/shared/run-spill.js';
import { type LocalFunction, lakeStorage, runExecution } from '../../src/local/asl-runner.js';
import {
  artifactDatasets,
  type DeployedApp,
  deployedDefinition,
  deployedFunctionArn,
  loadDeployedFunction,
  synthDeployedApp,
  type TestLake,
  testLake,
  type UnavailableFeed,
  unavailableFeed,
} from '../support/deployed-app.js';
import { readWithPyarrow } from '../support/pyarrow.js';

// The state machine as deployed: the template's DefinitionString after its substitutions, each
// Lambda task mapped to the bundle CDK uploads for the function it names, run by the local runner
// against moto. Retry and Catch see the errorType the Lambda runtime would report.

const ordersCsv = join(import.meta.dirname, '..', '..', 'examples', 'orders.csv');
const ORDERS_COLUMNS = readFileSync(ordersCsv, 'utf8').split('\n', 1)[0]!.split(',');

type TaskState = {
  Type: string;
  Parameters?: { FunctionName?: string };
  Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
};

let feed: UnavailableFeed;
let app: DeployedApp;
let definition: StateMachineDefinition;

beforeAll(async () => {
  feed = await unavailableFeed();
  app = synthDeployedApp({ datasetsDir: artifactDatasets(feed.url) });
  definition = deployedDefinition(app);
});

afterAll(async () => {
  await feed.close();
  rmSync(app.outdir, { recursive: true, force: true });
});

const states = () => definition.States as Record<string, TaskState>;

/** The tag filters of the template's lifecycle rules on the reports bucket, one list a rule that has them. */
function reportsTagFilters(deployed: DeployedApp): Array<Array<{ Key: string; Value: string }>> {
  const [reports] = [...deployed.zoneOfBucket].filter(([, zone]) => zone === 'reports').map(([id]) => id);
  const { LifecycleConfiguration } = deployed.template.Resources[reports!]!.Properties as {
    LifecycleConfiguration: { Rules: Array<{ TagFilters?: Array<{ Key: string; Value: string }> }> };
  };
  return LifecycleConfiguration.Rules.flatMap((rule) => (rule.TagFilters ? [rule.TagFilters] : []));
}

/** Each function the definition invokes, by the ARN it names, as its bundle. */
async function bundledFunctions(
  lake: TestLake,
  deployed: { app: DeployedApp; definition: StateMachineDefinition } = { app, definition },
): Promise<Map<string, LocalFunction>> {
  const named = new Set(
    Object.values(deployed.definition.States as Record<string, TaskState>).flatMap((s) =>
      s.Parameters?.FunctionName ? [s.Parameters.FunctionName] : [],
    ),
  );
  const functions = new Map<string, LocalFunction>();
  for (const fn of deployed.app.functions) {
    const arn = deployedFunctionArn(fn.logicalId);
    if (named.has(arn)) functions.set(arn, await loadDeployedFunction(deployed.app, fn, lake));
  }
  expect(functions.size).toBe(named.size);
  return functions;
}

/**
 * CodeBuild runs the Version step, not a bundle (its buildspec runs for real in
 * test/integration/versioning.test.ts): here a build that succeeds and keeps what it was started with.
 */
function versionBuild() {
  const started: Array<{
    ProjectName: string;
    EnvironmentVariablesOverride: Array<{ Name: string; Value: string }>;
  }> = [];
  const task = async (input: unknown) => {
    started.push(input as (typeof started)[number]);
    return {
      Build: { Id: `${(input as { ProjectName: string }).ProjectName}:1`, ExportedEnvironmentVariables: [] },
    };
  };
  return { started, task };
}

async function text(lake: TestLake, zone: keyof TestLake['buckets'], key: string): Promise<string> {
  const out = await lake.s3.send(new GetObjectCommand({ Bucket: lake.buckets[zone], Key: key }));
  return out.Body!.transformToString('utf-8');
}

describe('the deployed state machine with the bundled functions', () => {
  it('runs examples/orders.csv from landing to a recorded, versioned run', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/orders.csv';
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.landing, Key: key, Body: readFileSync(ordersCsv) }),
    );
    const build = versionBuild();
    const input = {
      dataset: 'orders',
      trigger: {
        type: 's3-upload',
        bucket: lake.buckets.landing,
        key,
        size: statSync(ordersCsv).size,
        time: '2026-11-25T13:30:00Z',
      },
    };
    // Act
    const report = await runExecution({
      definition,
      functions: await bundledFunctions(lake),
      tasks: { VersionWithDvc: build.task },
      input,
      name: 'orders-artifact',
      retryIntervalMs: 0,
    });
    // Assess
    expect({ status: report.status, error: report.error, cause: report.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    const entered = report.events.filter((e) => e.type.endsWith('Entered')).map((e) => e.step);
    expect(entered).toEqual([
      'Ingest',
      'IsAlreadyProcessed',
      'RecordRunStarted',
      'IsLargeBatch',
      'ValidateBatch',
      'Decide',
      'PromoteToCurated',
      'ShouldVersion',
      'VersionWithDvc',
      'RecordRun',
      'Succeeded',
    ]);
    const out = report.output as {
      ingest: { runId: string };
      validation: { rows: unknown };
      promotion: { curatedKey: string };
    };
    expect(out.validation.rows).toEqual({ read: 300, valid: 290, quarantined: 10 });
    // Curated is Parquet (the example contract's default): pyarrow reads the 290 valid rows back.
    expect(out.promotion.curatedKey).toMatch(/part-00000\.parquet$/);
    const curated = await lake.s3.send(
      new GetObjectCommand({ Bucket: lake.buckets.curated, Key: out.promotion.curatedKey }),
    );
    const parquetFile = join(mkdtempSync(join(tmpdir(), 'sluice-artifact-curated-')), 'part-00000.parquet');
    writeFileSync(parquetFile, Buffer.from(await curated.Body!.transformToByteArray()));
    expect(readWithPyarrow(parquetFile)[0]!.rows).toHaveLength(290);
    const versionProject = Object.entries(app.template.Resources).find(
      ([, r]) => r.Type === 'AWS::CodeBuild::Project',
    )![0];
    expect(build.started).toHaveLength(1);
    expect(build.started[0]!.ProjectName).toBe(versionProject);
    expect(build.started[0]!.EnvironmentVariablesOverride).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'SLUICE_DATASET', Value: 'orders' }),
        expect.objectContaining({ Name: 'SLUICE_RUN_ID', Value: out.ingest.runId }),
      ]),
    );
    const record = JSON.parse(
      await text(lake, 'reports', runRecordKey('orders', out.ingest.runId)),
    ) as RunRecord;
    expect(record.status).toBe('SUCCEEDED');
    // The bundled validate profiles every column next to the report.
    const profile = JSON.parse(
      await text(lake, 'reports', `orders/dt=2026-11-25/run=${out.ingest.runId}/profile.json`),
    ) as { profile: { rows: number; columns: Array<{ name: string }> } };
    expect(profile.profile.rows).toBe(300);
    expect(profile.profile.columns.map((c) => c.name)).toEqual(ORDERS_COLUMNS);
  });

  it('retries SourceUnavailable from the bundled ingest, then records the run and fails with that name', async () => {
    // Prepare
    const lake = await testLake();
    const retries = states().Ingest!.Retry!.find((r) => r.ErrorEquals.includes('SourceUnavailable'))!;
    const before = feed.requests();
    // Act
    const report = await runExecution({
      definition,
      functions: await bundledFunctions(lake),
      tasks: { VersionWithDvc: versionBuild().task },
      input: { dataset: 'feed', trigger: { type: 'schedule', time: '2026-11-25T11:00:00Z' } },
      name: 'feed-artifact',
      retryIntervalMs: 0,
    });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('SourceUnavailable');
    const retried = report.events.filter((e) => e.type === 'TaskStateRetried' && e.step === 'Ingest');
    expect(retried).toHaveLength(retries.MaxAttempts!);
    expect(feed.requests() - before).toBe(1 + retries.MaxAttempts!);
    const caught = report.events.filter((e) => e.type === 'TaskStateCaught').map((e) => e.step);
    expect(caught).toEqual(['Ingest']);
    const records = (await lake.store.list('reports', 'feed/runs/')).filter((k) =>
      /^feed\/runs\/[^/]+\.json$/.test(k),
    );
    expect(records).toHaveLength(1);
    const record = JSON.parse(await text(lake, 'reports', records[0]!)) as RunRecord;
    expect(record.status).toBe('FAILED');
    expect(record.error?.name).toBe('SourceUnavailable');
    expect(record.error?.message).toContain('HTTP 503');
  });
});

describe('the deployed state machine on a batch larger than its shard size', () => {
  let sharded: { app: DeployedApp; definition: StateMachineDefinition };

  beforeAll(() => {
    // The orders contract as shipped, with shards of about 5 KiB: examples/orders.csv (20 KB) is cut.
    const datasetsDir = mkdtempSync(join(tmpdir(), 'sluice-artifact-sharded-'));
    const orders = readFileSync(join(import.meta.dirname, '..', '..', 'datasets', 'orders.yaml'), 'utf8');
    const format = 'format: { type: csv, header: true, delimiter: "," }';
    expect(orders).toContain(format);
    writeFileSync(
      join(datasetsDir, 'orders.yaml'),
      orders.replace(format, 'format: { type: csv, header: true, delimiter: ",", shard_mb: 0.005 }'),
    );
    const shardedApp = synthDeployedApp({ datasetsDir });
    sharded = { app: shardedApp, definition: deployedDefinition(shardedApp) };
  });

  afterAll(() => {
    rmSync(sharded.app.outdir, { recursive: true, force: true });
  });

  it('validates it in a Distributed Map of the bundled validate function, with the rows of one pass', async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/orders.csv';
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.landing, Key: key, Body: readFileSync(ordersCsv) }),
    );
    const map = (
      sharded.definition.States as Record<string, { ItemReader?: { Parameters: { Bucket: string } } }>
    ).ValidateShards!;
    // The template's reports bucket, as the deployed definition names it, is the test lake's.
    const storage = lakeStorage(lake.store, { [map.ItemReader!.Parameters.Bucket]: 'reports' });
    const input = {
      dataset: 'orders',
      trigger: {
        type: 's3-upload',
        bucket: lake.buckets.landing,
        key,
        size: statSync(ordersCsv).size,
        time: '2026-11-25T13:30:00Z',
      },
    };
    // Act
    const report = await runExecution({
      definition: sharded.definition,
      functions: await bundledFunctions(lake, sharded),
      tasks: { VersionWithDvc: versionBuild().task },
      input,
      name: 'orders-artifact-sharded',
      retryIntervalMs: 0,
      storage,
      workers: 2,
    });
    // Assess
    expect({ status: report.status, error: report.error, cause: report.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    const entered = report.events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.step);
    expect(entered).toEqual(expect.arrayContaining(['PlanShards', 'MergeResults']));
    expect(entered).not.toContain('ValidateBatch');
    const shards = report.mapRuns![0]!.itemCounts;
    expect(shards.total).toBeGreaterThan(1);
    expect(shards.succeeded).toBe(shards.total);
    const out = report.output as {
      ingest: { runId: string };
      validation: { rows: unknown };
      promotion: { curatedKey: string };
    };
    expect(out.validation.rows).toEqual({ read: 300, valid: 290, quarantined: 10 });
    expect(await lake.store.list('curated', out.promotion.curatedKey)).toHaveLength(shards.total);
    // The shards' profiles merge into the one profile of the batch.
    const profile = JSON.parse(
      await text(lake, 'reports', `orders/dt=2026-11-25/run=${out.ingest.runId}/profile.json`),
    ) as { profile: { rows: number; columns: Array<{ name: string }> } };
    expect(profile.profile.rows).toBe(300);
    expect(profile.profile.columns.map((c) => c.name)).toEqual(ORDERS_COLUMNS);
  });

  it("leaves the spill to the reports lifecycle once the run is recorded: the bundled validate tags every key the shards spilled as the template's rule matches", async () => {
    // Prepare
    const lake = await testLake();
    const key = 'orders/orders.csv';
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.buckets.landing, Key: key, Body: readFileSync(ordersCsv) }),
    );
    const map = (
      sharded.definition.States as Record<string, { ItemReader?: { Parameters: { Bucket: string } } }>
    ).ValidateShards!;
    const storage = lakeStorage(lake.store, { [map.ItemReader!.Parameters.Bucket]: 'reports' });
    const trigger = { type: 's3-upload', bucket: lake.buckets.landing, key, size: statSync(ordersCsv).size };
    // Act
    const report = await runExecution({
      definition: sharded.definition,
      functions: await bundledFunctions(lake, sharded),
      tasks: { VersionWithDvc: versionBuild().task },
      input: { dataset: 'orders', trigger: { ...trigger, time: '2026-11-25T14:30:00Z' } },
      name: 'orders-artifact-sharded-spill',
      retryIntervalMs: 0,
      storage,
      workers: 2,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    // CheckKeyPartitions runs only when the shards spilled uniqueness keys.
    expect(report.events.map((e) => e.step)).toContain('CheckKeyPartitions');
    const { ingest } = report.output as { ingest: { runId: string; dt: string } };
    const run = { dataset: 'orders', dt: ingest.dt, runId: ingest.runId };
    // Nothing deletes it (the functions have no s3:DeleteObject): it expires by its tag.
    const spilled = await lake.store.list('reports', lakeSpillPrefix(runPrefix(run)));
    expect(spilled.length).toBeGreaterThan(0);
    const tagFilters = reportsTagFilters(sharded.app);
    expect(tagFilters).toHaveLength(1);
    for (const key of spilled) {
      const { TagSet } = await lake.s3.send(
        new GetObjectTaggingCommand({ Bucket: lake.buckets.reports, Key: key }),
      );
      expect({ key, tags: TagSet }).toEqual({ key, tags: expect.arrayContaining(tagFilters[0]!) });
    }
  });
});
