import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadContracts } from '../../lambdas/shared/contract.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import { openLake } from '../../src/cli/lake.js';
import {
  type LocalFunction,
  loadDefinition,
  localFunctionArn,
  runExecution,
} from '../../src/local/asl-runner.js';
import {
  coreFunctions,
  type FunctionId,
  localSubstitutions,
  PIPELINE_ASL,
  runUpload,
} from '../../src/local/pipeline.js';
import {
  FAULT_CLOCK,
  FaultyStore,
  faultRunArgs,
  filesWithHashes,
  gitPushFailsOnce,
  InjectedFault,
  OUTPUT_ZONES,
  outputsOf,
  runSluice,
  type S3FaultRule,
  startS3FaultProxy,
  tagMessages,
} from '../support/faults.js';
import { motoEndpoint } from '../support/moto-lake.js';

// Faults injected into local runs, on both lake kinds: each either is retried away (the run
// succeeds) or fails the run with a named error and a run record, leaving raw intact; a re-run of
// the same input then leaves exactly the bytes an undisturbed run leaves on a fresh lake.

const root = join(import.meta.dirname, '..', '..');
const versioned = join(root, 'test', 'fixtures', 'datasets-versioned');
const plain = join(root, 'test', 'fixtures', 'datasets');
const ordersCsv = 'order_id,amount,status\nA1,10,paid\nA2,20,lost\nA3,30,shipped\n';
const clock = FAULT_CLOCK;

function inputFile(dir: string): string {
  const file = join(dir, 'orders.csv');
  writeFileSync(file, ordersCsv);
  return file;
}

interface InProcessRun {
  lakeDir: string;
  datasets: string;
  input: string;
  s3Endpoint?: string;
  bucketPrefix?: string;
  wrapStore?: (store: ObjectStore) => ObjectStore;
  wrapFunctions?: (functions: Record<FunctionId, LocalFunction>) => Record<FunctionId, LocalFunction>;
}

/** One `sluice run orders --input …` in this process, with the faults the options put in. */
async function runOrders(options: InProcessRun) {
  const lake = await openLake({
    lake: options.lakeDir,
    s3Endpoint: options.s3Endpoint,
    bucketPrefix: options.bucketPrefix,
  });
  const store = options.wrapStore ? options.wrapStore(lake.store) : lake.store;
  const contracts = loadContracts(options.datasets);
  const functions = coreFunctions({ store, contracts });
  const { report } = await runUpload({
    dataset: 'orders',
    inputFile: options.input,
    store,
    contracts,
    functions: options.wrapFunctions ? options.wrapFunctions(functions) : functions,
    versioning: lake.versioning,
    retryIntervalMs: 0,
    clock,
  });
  const runId = (report.output as { ingest?: { runId?: string } } | undefined)?.ingest?.runId;
  return { report, store: lake.store, versioning: lake.versioning, runId };
}

/** What an undisturbed run of the same input leaves on a fresh lake of the same kind. */
async function cleanRun(datasets: string, input: string, s3Endpoint?: string) {
  const lakeDir = mkdtempSync(join(tmpdir(), 'sluice-faults-clean-'));
  const run = await runOrders({ lakeDir, datasets, input, s3Endpoint, bucketPrefix: bucketPrefix() });
  expect(run.report.status).toBe('SUCCEEDED');
  return { outputs: await outputsOf(run.store), tags: tagMessages(run.versioning.gitRemote) };
}

const bucketPrefix = () => `f${randomBytes(4).toString('hex')}`;

async function runRecordsOf(store: ObjectStore) {
  const keys = (await store.list('reports', 'orders/runs/')).filter((key) =>
    /^orders\/runs\/[^/]+\.json$/.test(key),
  );
  return Promise.all(keys.map(async (key) => JSON.parse(await store.readText('reports', key))));
}

describe('a fault in the lake directory', () => {
  it.each(['validated', 'quarantine', 'curated'] as const)(
    'when writing to %s fails the run with the named error and a FAILED record, keeps raw, and a re-run gives the undisturbed bytes',
    async (zone) => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-fs-'));
      const input = inputFile(dir);
      const lakeDir = join(dir, 'lake');
      const clean = await cleanRun(versioned, input);
      // Act
      const faulty = await runOrders({
        lakeDir,
        datasets: versioned,
        input,
        wrapStore: (store) => new FaultyStore(store, [{ method: 'put', zone, times: 1 }]),
      });
      const rawAfterFault = Object.fromEntries(
        Object.entries(await outputsOf(faulty.store)).filter(([key]) => key.startsWith('raw/')),
      );
      const records = await runRecordsOf(faulty.store);
      const rerun = await runOrders({ lakeDir, datasets: versioned, input });
      // Assess
      expect(faulty.report.status).toBe('FAILED');
      expect(records).toEqual([
        expect.objectContaining({
          status: 'FAILED',
          error: expect.objectContaining({ name: 'InjectedFault' }),
        }),
      ]);
      expect(Object.keys(rawAfterFault).length).toBeGreaterThan(0);
      expect(rerun.report.status).toBe('SUCCEEDED');
      const outputs = await outputsOf(rerun.store);
      expect(outputs).toEqual(clean.outputs);
      expect(Object.fromEntries(Object.entries(outputs).filter(([key]) => key.startsWith('raw/')))).toEqual(
        rawAfterFault,
      );
      expect(tagMessages(rerun.versioning.gitRemote)).toEqual(clean.tags);
    },
  );
});

describe('a core that throws', () => {
  it('fails the run with its named error, records it, keeps raw, and a re-run gives the undisturbed bytes', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-core-'));
    const input = inputFile(dir);
    const lakeDir = join(dir, 'lake');
    const clean = await cleanRun(versioned, input);
    // Act
    const faulty = await runOrders({
      lakeDir,
      datasets: versioned,
      input,
      wrapFunctions: (functions) => ({
        ...functions,
        promote: async () => {
          throw new InjectedFault('promote failed on purpose');
        },
      }),
    });
    const records = await runRecordsOf(faulty.store);
    const rerun = await runOrders({ lakeDir, datasets: versioned, input });
    // Assess
    expect(faulty.report.status).toBe('FAILED');
    expect(records).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({
          name: 'InjectedFault',
          message: expect.stringContaining('on purpose'),
        }),
      }),
    ]);
    expect(rerun.report.status).toBe('SUCCEEDED');
    expect(await outputsOf(rerun.store)).toEqual(clean.outputs);
    expect(tagMessages(rerun.versioning.gitRemote)).toEqual(clean.tags);
  });
});

describe('a core that exceeds its time', () => {
  it('fails the run with States.Timeout and a FAILED record, keeps raw, and a re-run gives the undisturbed bytes', async () => {
    // Prepare: the pipeline's own definition, with ValidateBatch given 1 s instead of 900 s
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-timeout-'));
    const input = inputFile(dir);
    const lakeDir = join(dir, 'lake');
    const clean = await cleanRun(plain, input);
    const definition = loadDefinition(PIPELINE_ASL, localSubstitutions()) as unknown as {
      States: Record<string, { TimeoutSeconds?: number }>;
    };
    const validateState = definition.States.ValidateBatch;
    if (!validateState) throw new Error('the pipeline has no ValidateBatch state');
    validateState.TimeoutSeconds = 1;
    const { store } = await openLake({ lake: lakeDir });
    const contracts = loadContracts(plain);
    const functions: Record<FunctionId, LocalFunction> = {
      ...coreFunctions({ store, contracts }),
      validate: () => new Promise(() => undefined),
    };
    await store.put('landing', 'landing/orders/orders.csv', ordersCsv);
    // Act
    const report = await runExecution({
      definition: definition as never,
      functions: new Map(Object.entries(functions).map(([id, fn]) => [localFunctionArn(id), fn])),
      input: {
        dataset: 'orders',
        trigger: {
          type: 's3-upload',
          bucket: 'landing',
          key: 'landing/orders/orders.csv',
          size: ordersCsv.length,
          time: clock().toISOString(),
        },
      },
      // The plain orders contract asks for no version: the state is never entered.
      tasks: { VersionWithDvc: async () => ({}) },
      name: 'orders-timeout',
      retryIntervalMs: 0,
    });
    const records = await runRecordsOf(store);
    const raw = Object.keys(await outputsOf(store)).filter((key) => key.startsWith('raw/'));
    const rerun = await runOrders({ lakeDir, datasets: plain, input });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(records).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({ name: 'States.Timeout' }),
      }),
    ]);
    expect(raw).toHaveLength(2);
    expect(rerun.report.status).toBe('SUCCEEDED');
    expect(await outputsOf(rerun.store)).toEqual(clean.outputs);
  });
});

describe('an S3 API that fails requests', () => {
  const transient: [string, S3FaultRule][] = [
    ['500 InternalError', { method: 'PUT', times: 2, fault: { status: 500, code: 'InternalError' } }],
    [
      '503 ServiceUnavailable',
      { method: 'PUT', times: 2, fault: { status: 503, code: 'ServiceUnavailable' } },
    ],
    ['503 SlowDown', { method: 'GET', times: 2, fault: { status: 503, code: 'SlowDown' } }],
  ];
  it.each(transient)('retries %s and the run succeeds with the undisturbed bytes', async (_name, rule) => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-s3-'));
    const input = inputFile(dir);
    const clean = await cleanRun(plain, input, motoEndpoint());
    const proxy = await startS3FaultProxy(motoEndpoint(), [rule]);
    try {
      // Act
      const run = await runOrders({
        lakeDir: join(dir, 'lake'),
        datasets: plain,
        input,
        s3Endpoint: proxy.endpoint,
        bucketPrefix: bucketPrefix(),
      });
      // Assess
      expect(Object.values(proxy.injected).reduce((a, b) => a + b, 0)).toBe(2);
      expect(run.report.status).toBe('SUCCEEDED');
      expect(await outputsOf(run.store)).toEqual(clean.outputs);
    } finally {
      await proxy.close();
    }
  });

  it('survives a connection dropped mid-upload: the run succeeds or fails named, and a re-run gives the undisturbed bytes', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-drop-'));
    const input = inputFile(dir);
    const clean = await cleanRun(plain, input, motoEndpoint());
    const prefix = bucketPrefix();
    const proxy = await startS3FaultProxy(motoEndpoint(), [
      { method: 'PUT', path: /-(validated|curated)\//, times: 1, fault: 'drop' },
    ]);
    try {
      // Act
      const first = await runOrders({
        lakeDir: join(dir, 'lake'),
        datasets: plain,
        input,
        s3Endpoint: proxy.endpoint,
        bucketPrefix: prefix,
      });
      const records = await runRecordsOf(first.store);
      const rerun = await runOrders({
        lakeDir: join(dir, 'lake'),
        datasets: plain,
        input,
        s3Endpoint: proxy.endpoint,
        bucketPrefix: prefix,
      });
      // Assess
      expect(proxy.injected.drop).toBe(1);
      expect(records).toEqual([expect.objectContaining({ status: first.report.status })]);
      expect(rerun.report.status).toBe('SUCCEEDED');
      expect(await outputsOf(rerun.store)).toEqual(clean.outputs);
    } finally {
      await proxy.close();
    }
  });
});

/** Every final key of the output zones in a lake directory, with its sha256; temporary files apart. */
function finalFiles(lakeDir: string) {
  const all = filesWithHashes(join(lakeDir, 'lake'));
  const isTemp = (path: string) => path.split('/').some((part) => part.startsWith('.sluice-tmp-'));
  const outputs = Object.fromEntries(
    Object.entries(all).filter(
      ([path]) => !isTemp(path) && OUTPUT_ZONES.some((zone) => path.startsWith(`${zone}/`)),
    ),
  );
  return { outputs, temps: Object.keys(all).filter(isTemp) };
}

const cliArgs = (lakeDir: string, input: string) => faultRunArgs(lakeDir, versioned, input);

describe('sluice run killed (SIGKILL) during a step', () => {
  it.each(['ValidateBatch', 'PromoteToCurated', 'VersionWithDvc'])(
    'during %s leaves no half-written object, and the next run cleans up and gives the undisturbed bytes',
    async (step) => {
      // Prepare
      const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-kill-'));
      const input = inputFile(dir);
      const cleanLake = join(dir, 'clean');
      const lakeDir = join(dir, 'lake');
      // Act
      const killed = await runSluice(cliArgs(lakeDir, input), { killAt: step });
      const afterKill = finalFiles(lakeDir);
      const rerun = await runSluice(cliArgs(lakeDir, input));
      const clean = await runSluice(cliArgs(cleanLake, input));
      // Assess
      expect(killed.signal).toBe('SIGKILL');
      expect(clean.code).toBe(0);
      expect(rerun.code).toBe(0);
      const expected = finalFiles(cleanLake).outputs;
      for (const [path, hash] of Object.entries(afterKill.outputs)) {
        expect([path, hash]).toEqual([path, expected[path]]);
      }
      const after = finalFiles(lakeDir);
      expect(after.outputs).toEqual(expected);
      expect(after.temps).toEqual([]);
      expect(tagMessages(join(lakeDir, 'datasets.git'))).toEqual(
        tagMessages(join(cleanLake, 'datasets.git')),
      );
    },
  );
});

describe('the Version step failing after dvc push, before git push', () => {
  it('fails the run with a named error and a FAILED record, and a re-run versions the undisturbed snapshot once', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-push-'));
    const input = inputFile(dir);
    const lakeDir = join(dir, 'lake');
    const cleanLake = join(dir, 'clean');
    const shim = gitPushFailsOnce(dir);
    const env = { ...process.env, PATH: `${shim.bin}:${process.env.PATH}` };
    // Act
    const failed = await runSluice([...cliArgs(lakeDir, input)], { env });
    const records = JSON.parse((await runSluice(['--lake', lakeDir, 'runs', 'orders', '--json'])).stdout);
    const rerun = await runSluice(cliArgs(lakeDir, input), { env });
    const clean = await runSluice(cliArgs(cleanLake, input));
    // Assess
    expect(shim.failed()).toBe(true);
    expect(failed.code).not.toBe(0);
    expect(records).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({
          name: 'VersioningFailed',
          message: expect.stringContaining('remote hung up'),
        }),
      }),
    ]);
    expect(tagMessages(join(lakeDir, 'datasets.git'))).toHaveLength(1);
    expect(rerun.code).toBe(0);
    expect(clean.code).toBe(0);
    expect(finalFiles(lakeDir).outputs).toEqual(finalFiles(cleanLake).outputs);
    expect(tagMessages(join(lakeDir, 'datasets.git'))).toEqual(tagMessages(join(cleanLake, 'datasets.git')));
  });
});

describe('a second execution of the same input that fails after the first succeeded', () => {
  it('leaves the run SUCCEEDED in its record and in sluice runs, and lists the failed attempt', async () => {
    // Prepare: the second execution ingests first, then waits at ValidateBatch until the first has
    // succeeded, and fails at PromoteToCurated
    const dir = mkdtempSync(join(tmpdir(), 'sluice-faults-late-'));
    const input = inputFile(dir);
    const lakeDir = join(dir, 'lake');
    let ingested = () => {};
    let finished = () => {};
    const secondIngested = new Promise<void>((resolve) => {
      ingested = resolve;
    });
    const firstFinished = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const second = runOrders({
      lakeDir,
      datasets: plain,
      input,
      wrapFunctions: (functions) => ({
        ...functions,
        validate: async (payload) => {
          ingested();
          await firstFinished;
          return functions.validate(payload);
        },
        promote: async () => {
          throw new InjectedFault('promote failed on purpose');
        },
      }),
    });
    // Act
    await Promise.race([secondIngested, second]);
    const first = await runOrders({ lakeDir, datasets: plain, input });
    finished();
    const late = await second;
    const records = await runRecordsOf(first.store);
    const listed = await runSluice(['--lake', lakeDir, 'runs', 'orders', '--json']);
    const table = await runSluice(['--lake', lakeDir, 'runs', 'orders']);
    // Assess
    expect([first.report.status, late.report.status]).toEqual(['SUCCEEDED', 'FAILED']);
    const succeeded = expect.objectContaining({
      runId: first.runId,
      status: 'SUCCEEDED',
      executionId: first.report.executionArn,
      attempts: [
        expect.objectContaining({
          status: 'FAILED',
          executionId: late.report.executionArn,
          error: expect.objectContaining({ name: 'InjectedFault' }),
        }),
      ],
    });
    expect(records).toEqual([succeeded]);
    expect(JSON.parse(listed.stdout)).toEqual([succeeded]);
    expect(table.stdout).toMatch(new RegExp(`${first.runId}\\s.*SUCCEEDED`));
    const attempts = await first.store.list('reports', `orders/runs/${first.runId}/attempts/`);
    expect(attempts).toHaveLength(2);
  });
});
