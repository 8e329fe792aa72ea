import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from '@jest/globals';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  type ExecutionReport,
  type LocalFunction,
  lakeStorage,
  localFunctionArn,
  runExecution,
} from '../../../src/local/asl-runner.js';
import { MemoryStore } from '../../support/memory-store.js';

// The local runner runs a Distributed Map state as Step Functions does, field by field of the ASL:
// ItemReader, ItemSelector, ItemBatcher, MaxConcurrency, ToleratedFailure*, ResultWriter, and the
// Map state's own ResultSelector/ResultPath/Retry/Catch. Each child runs the ItemProcessor with the
// plain local functions given here.

const work = localFunctionArn('work');

/** A state machine whose Fan state is a Distributed Map over one Lambda task, then Done. */
function machine(map: Record<string, unknown>, extra: Record<string, unknown> = {}): StateMachineDefinition {
  return {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: work, 'Payload.$': '$' },
              OutputPath: '$.Payload',
              End: true,
            },
          },
        },
        Next: 'Done',
        ...map,
      },
      Done: { Type: 'Succeed' },
      ...extra,
    },
  } as unknown as StateMachineDefinition;
}

function run(
  definition: StateMachineDefinition,
  fn: LocalFunction,
  options: { input?: unknown; store?: MemoryStore; workers?: number } = {},
): Promise<ExecutionReport> {
  return runExecution({
    definition,
    functions: new Map([[work, fn]]),
    input: options.input ?? {},
    name: 'fan-out',
    retryIntervalMs: 0,
    storage: lakeStorage(options.store ?? new MemoryStore()),
    workers: options.workers ?? 4,
  });
}

const echo: LocalFunction = async (payload) => payload;
/** 1..n: the interpreter reads a bare 0 as a state input as no value at all. */
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const jsonl = (items: unknown[]) => `${items.map((item) => JSON.stringify(item)).join('\n')}\n`;

/** A task that throws a named error for an item whose `fail` is true, and echoes the others. */
const failing: LocalFunction = async (payload) => {
  if ((payload as { fail?: boolean }).fail) {
    const error = new Error(`item ${(payload as { n: number }).n} is broken`);
    error.name = 'ItemBroken';
    throw error;
  }
  return payload;
};
const items = (count: number, failures: number) =>
  Array.from({ length: count }, (_, n) => ({ n, fail: n < failures }));

describe('Distributed Map: ItemReader', () => {
  it('reads one item per line of a JSONL object and returns the children outputs in item order', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('reports', 'plans/shards.jsonl', jsonl([{ shard: 0 }, { shard: 1 }, { shard: 2 }]));
    const definition = machine({
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: 'reports', 'Key.$': '$.plan' },
      },
      ResultPath: '$.validated',
    });
    // Act
    const report = await run(definition, async (p) => ({ done: (p as { shard: number }).shard }), {
      store,
      input: { plan: 'plans/shards.jsonl' },
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.output).toEqual({
      plan: 'plans/shards.jsonl',
      validated: [{ done: 0 }, { done: 1 }, { done: 2 }],
    });
    expect(report.mapRuns?.[0]?.executions.map((child) => child.input)).toEqual([
      { shard: 0 },
      { shard: 1 },
      { shard: 2 },
    ]);
  });

  it('passes each object of an S3 listing under the prefix as ListObjectsV2 describes it, cut to MaxItems', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('landing', 'drops/b1/a.csv', 'x\n1\n');
    await store.put('landing', 'drops/b1/b.csv', 'x\n1\n2\n');
    await store.put('landing', 'drops/b1/c.csv', 'x\n');
    await store.put('landing', 'drops/other.csv', 'x\n');
    const definition = machine({
      ItemReader: {
        Resource: 'arn:aws:states:::s3:listObjectsV2',
        ReaderConfig: { MaxItems: 2 },
        Parameters: { Bucket: 'landing', Prefix: 'drops/b1/' },
      },
    });
    // Act
    const report = await run(definition, echo, { store });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const inputs = report.mapRuns?.[0]?.executions.map((child) => child.input);
    expect(inputs).toEqual([
      { Etag: expect.any(String), Key: 'drops/b1/a.csv', LastModified: 0, Size: 4, StorageClass: 'STANDARD' },
      { Etag: expect.any(String), Key: 'drops/b1/b.csv', LastModified: 0, Size: 6, StorageClass: 'STANDARD' },
    ]);
  });

  it('reads a CSV with its header in the first row, a quoted field holding a line break included', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('reports', 'items.csv', 'id,note\r\n1,"two\nlines"\r\n2,plain\r\n');
    const definition = machine({
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' },
        Parameters: { Bucket: 'reports', Key: 'items.csv' },
      },
    });
    // Act
    const report = await run(definition, echo, { store });
    // Assess
    expect(report.output).toEqual([
      { id: '1', note: 'two\nlines' },
      { id: '2', note: 'plain' },
    ]);
  });

  it('reads a JSON array cut to MaxItems, and a CSV with GIVEN headers and a pipe delimiter', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put('reports', 'list.json', JSON.stringify([{ a: 1 }, { a: 2 }, { a: 3 }]));
    await store.put('reports', 'rows.psv', '1|x\n2|y\n');
    const reader = (Key: string, ReaderConfig: Record<string, unknown>) =>
      machine({
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig,
          Parameters: { Bucket: 'reports', Key },
        },
      });
    // Act
    const json = await run(reader('list.json', { InputType: 'JSON', MaxItems: 2 }), echo, { store });
    const csv = await run(
      reader('rows.psv', {
        InputType: 'CSV',
        CSVHeaderLocation: 'GIVEN',
        CSVHeaders: ['id', 'v'],
        CSVDelimiter: 'PIPE',
      }),
      echo,
      { store },
    );
    // Assess
    expect(json.output).toEqual([{ a: 1 }, { a: 2 }]);
    expect(csv.output).toEqual([
      { id: '1', v: 'x' },
      { id: '2', v: 'y' },
    ]);
  });

  it('fails the Map state with States.ItemReaderFailed when the item list is missing, which Catch can handle', async () => {
    // Prepare
    const definition = machine(
      {
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: 'reports', Key: 'missing.json' },
        },
        Catch: [{ ErrorEquals: ['States.ItemReaderFailed'], ResultPath: '$.error', Next: 'Recovered' }],
      },
      { Recovered: { Type: 'Succeed' } },
    );
    // Act
    const report = await run(definition, echo);
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.output).toMatchObject({ error: { Error: 'States.ItemReaderFailed' } });
    expect((report.output as { error: { Cause: string } }).error.Cause).toMatch(
      /s3:\/\/reports\/missing\.json/,
    );
  });
});

describe('Distributed Map: ItemSelector and ItemsPath', () => {
  it('shapes each item from $$.Map.Item.Value, $$.Map.Item.Index and the Map state input', async () => {
    // Prepare
    const definition = machine({
      ItemsPath: '$.files',
      ItemSelector: { 'file.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'run.$': '$.runId' },
    });
    // Act
    const report = await run(definition, echo, { input: { runId: 'r1', files: ['a', 'b'] } });
    // Assess
    expect(report.output).toEqual([
      { file: 'a', index: 0, run: 'r1' },
      { file: 'b', index: 1, run: 'r1' },
    ]);
  });
});

describe('Distributed Map: ItemBatcher', () => {
  it('gives each child at most MaxItemsPerBatch items, with BatchInput, as { BatchInput, Items }', async () => {
    // Prepare
    const definition = machine({
      ItemBatcher: { MaxItemsPerBatch: 3, BatchInput: { 'dataset.$': '$.dataset' } },
      ItemsPath: '$.items',
    });
    // Act
    const report = await run(definition, echo, {
      input: { dataset: 'orders', items: [1, 2, 3, 4, 5, 6, 7] },
    });
    // Assess
    expect(report.output).toEqual([
      { BatchInput: { dataset: 'orders' }, Items: [1, 2, 3] },
      { BatchInput: { dataset: 'orders' }, Items: [4, 5, 6] },
      { BatchInput: { dataset: 'orders' }, Items: [7] },
    ]);
  });

  it('closes a batch before its input would pass MaxInputBytesPerBatch', async () => {
    // Prepare: {"Items":[]} is 12 bytes; each 10-byte item adds 10, and a comma after the first
    const item = 'x'.repeat(8); // "xxxxxxxx" is 10 bytes of JSON
    const definition = machine({
      ItemBatcher: { MaxInputBytesPerBatch: 12 + 10 + 1 + 10 },
      ItemsPath: '$.items',
    });
    // Act
    const report = await run(definition, echo, { input: { items: [item, item, item, item, item] } });
    // Assess
    const batches = report.output as Array<{ Items: string[] }>;
    expect(batches.map((batch) => batch.Items.length)).toEqual([2, 2, 1]);
    for (const batch of batches) expect(JSON.stringify(batch).length).toBeLessThanOrEqual(33);
  });
});

/**
 * A task that holds each call until as many calls run as the map run may run at once (fewer at the
 * tail), then lets the oldest finish: the most that ever ran together is what the runner allowed.
 */
function concurrencyProbe(expected: number, total: number) {
  let running = 0;
  let finished = 0;
  let most = 0;
  const held: Array<() => void> = [];
  const release = () => {
    if (held.length > 0 && running >= Math.min(expected, total - finished)) held.shift()!();
  };
  const fn: LocalFunction = async (payload) => {
    running++;
    most = Math.max(most, running);
    const done = new Promise<void>((resolve) => held.push(resolve));
    release();
    await done;
    running--;
    finished++;
    release();
    return payload;
  };
  return { fn, most: () => most };
}

describe('Distributed Map: MaxConcurrency', () => {
  it('runs at most MaxConcurrency children at once when there are more workers', async () => {
    // Prepare
    const probe = concurrencyProbe(3, 10);
    const definition = machine({ MaxConcurrency: 3, ItemsPath: '$.items' });
    // Act
    const report = await run(definition, probe.fn, { input: { items: upTo(10) }, workers: 8 });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(probe.most()).toBe(3);
    expect(report.output).toEqual(upTo(10));
  });

  it('runs as many children at once as there are workers when MaxConcurrency is 0 (unbounded)', async () => {
    // Prepare
    const probe = concurrencyProbe(5, 12);
    const definition = machine({ MaxConcurrency: 0, ItemsPath: '$.items' });
    // Act
    const report = await run(definition, probe.fn, { input: { items: upTo(12) }, workers: 5 });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(probe.most()).toBe(5);
    expect(report.mapRuns?.[0]?.maxConcurrency).toBe(0);
  });
});

describe('Distributed Map: tolerated failures', () => {
  const tolerant = (fields: Record<string, unknown>) => machine({ ItemsPath: '$.items', ...fields });

  it('succeeds when the failed items are exactly ToleratedFailurePercentage of all items', async () => {
    // Act: 2 of 10 fail, 20% tolerated
    const report = await run(tolerant({ ToleratedFailurePercentage: 20 }), failing, {
      input: { items: items(10, 2) },
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const output = report.output as unknown[];
    expect(output).toHaveLength(10);
    expect(output[0]).toMatchObject({ Status: 'FAILED', Error: 'ItemBroken', Cause: 'item 0 is broken' });
    expect(output[2]).toEqual({ n: 2, fail: false });
    expect(report.mapRuns?.[0]?.itemCounts).toEqual({ total: 10, succeeded: 8, failed: 2, pending: 0 });
  });

  it('fails with States.ExceedToleratedFailureThreshold when one more item fails than the percentage allows', async () => {
    // Act: 3 of 10 fail, 20% tolerated
    const report = await run(tolerant({ ToleratedFailurePercentage: 20 }), failing, {
      input: { items: items(10, 3) },
      workers: 1,
    });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(report.cause).toMatch(/3 of 10 items failed, over the tolerated 20%/);
    // With one child at a time, none starts after the third failure.
    expect(report.mapRuns?.[0]?.itemCounts).toEqual({ total: 10, succeeded: 0, failed: 3, pending: 7 });
  });

  it('succeeds at exactly ToleratedFailureCount failed items and fails at one more', async () => {
    // Act
    const atCount = await run(tolerant({ ToleratedFailureCount: 2 }), failing, {
      input: { items: items(6, 2) },
    });
    const overCount = await run(tolerant({ ToleratedFailureCount: 2 }), failing, {
      input: { items: items(6, 3) },
    });
    // Assess
    expect(atCount.status).toBe('SUCCEEDED');
    expect(overCount.status).toBe('FAILED');
    expect(overCount.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('tolerates no failure when neither threshold is set', async () => {
    // Act
    const report = await run(tolerant({}), failing, { input: { items: items(5, 1) } });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('counts every item of a failed batch as failed', async () => {
    // Prepare: batches of 3; the first batch fails as a whole
    const batchFails: LocalFunction = async (payload) => {
      const { Items } = payload as { Items: Array<{ fail: boolean }> };
      if (Items.some((item) => item.fail)) throw new Error('batch broken');
      return Items.length;
    };
    const definition = tolerant({ ItemBatcher: { MaxItemsPerBatch: 3 }, ToleratedFailureCount: 2 });
    // Act
    const report = await run(definition, batchFails, { input: { items: items(9, 1) }, workers: 1 });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.cause).toMatch(/3 of 9 items failed/);
    expect(report.mapRuns?.[0]?.executionCounts).toMatchObject({ total: 3, failed: 1 });
  });
});

describe('Distributed Map: ResultWriter', () => {
  it('writes SUCCEEDED_0.json, FAILED_0.json and manifest.json under <Prefix>/<map run id>/ and outputs where they are', async () => {
    // Prepare
    const store = new MemoryStore();
    const definition = machine({
      ItemsPath: '$.items',
      ToleratedFailurePercentage: 50,
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: 'reports', Prefix: 'runs/r1' },
      },
      ResultPath: '$.results',
    });
    // Act
    const report = await run(definition, failing, { store, input: { items: items(3, 1) } });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const mapRunArn = report.mapRuns?.[0]?.mapRunArn ?? '';
    const mapRunId = mapRunArn.split(':').at(-1);
    expect(mapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:sluice-pipeline\/Fan:[0-9a-f-]{36}$/,
    );
    const manifestKey = `runs/r1/${mapRunId}/manifest.json`;
    expect((report.output as { results: unknown }).results).toEqual({
      MapRunArn: mapRunArn,
      ResultWriterDetails: { Bucket: 'reports', Key: manifestKey },
    });
    const succeeded = JSON.parse(await store.readText('reports', `runs/r1/${mapRunId}/SUCCEEDED_0.json`));
    const failed = JSON.parse(await store.readText('reports', `runs/r1/${mapRunId}/FAILED_0.json`));
    expect(succeeded.map((record: { Output: string }) => JSON.parse(record.Output))).toEqual([
      { n: 1, fail: false },
      { n: 2, fail: false },
    ]);
    expect(succeeded[0]).toMatchObject({ Status: 'SUCCEEDED', Input: '{"n":1,"fail":false}' });
    expect(failed).toEqual([
      expect.objectContaining({ Status: 'FAILED', Error: 'ItemBroken', Cause: 'item 0 is broken' }),
    ]);
    const manifest = JSON.parse(await store.readText('reports', manifestKey));
    expect(manifest).toEqual({
      DestinationBucket: 'reports',
      MapRunArn: mapRunArn,
      ResultFiles: {
        FAILED: [{ Key: `runs/r1/${mapRunId}/FAILED_0.json`, Size: expect.any(Number) }],
        PENDING: [],
        SUCCEEDED: [{ Key: `runs/r1/${mapRunId}/SUCCEEDED_0.json`, Size: expect.any(Number) }],
      },
    });
  });

  it('writes the results of a map run that failed, so that the failed children can be read', async () => {
    // Prepare
    const store = new MemoryStore();
    const definition = machine({
      ItemsPath: '$.items',
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: 'reports', Prefix: 'runs' },
      },
    });
    // Act
    const report = await run(definition, failing, { store, input: { items: items(2, 1) }, workers: 1 });
    // Assess
    expect(report.error).toBe('States.ExceedToleratedFailureThreshold');
    const keys = await store.list('reports', 'runs/');
    expect(keys.map((key) => key.split('/').at(-1)).sort()).toEqual(['FAILED_0.json', 'manifest.json']);
  });
});

describe('Distributed Map: the Map state fields the interpreter applies', () => {
  it('applies ResultSelector and ResultPath to the map run result', async () => {
    // Prepare
    const definition = machine({
      ItemsPath: '$.items',
      ResultSelector: { 'count.$': 'States.ArrayLength($)' },
      ResultPath: '$.summary',
    });
    // Act
    const report = await run(definition, echo, { input: { items: [1, 2, 3] } });
    // Assess
    expect(report.output).toEqual({ items: [1, 2, 3], summary: { count: 3 } });
  });

  it('catches States.ExceedToleratedFailureThreshold with the Map state Catch', async () => {
    // Prepare
    const definition = machine(
      {
        ItemsPath: '$.items',
        Catch: [
          {
            ErrorEquals: ['States.ExceedToleratedFailureThreshold'],
            ResultPath: '$.error',
            Next: 'Recovered',
          },
        ],
      },
      { Recovered: { Type: 'Pass', End: true } },
    );
    // Act
    const report = await run(definition, failing, { input: { items: items(3, 1) } });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.output).toMatchObject({ error: { Error: 'States.ExceedToleratedFailureThreshold' } });
    expect(report.events.some((event) => event.step === 'Recovered')).toBe(true);
  });

  it('starts a new map run for each Retry of the Map state', async () => {
    // Prepare: the first map run fails, the second succeeds
    let calls = 0;
    const flaky: LocalFunction = async (payload) => {
      calls++;
      if (calls === 1) throw new Error('first call fails');
      return payload;
    };
    const definition = machine({
      ItemsPath: '$.items',
      Retry: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], MaxAttempts: 1 }],
    });
    // Act
    const report = await run(definition, flaky, { input: { items: [1] } });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.mapRuns?.map((mapRun) => mapRun.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(new Set(report.mapRuns?.map((mapRun) => mapRun.mapRunArn)).size).toBe(2);
  });
});

describe('Distributed Map: abort', () => {
  it('stops a map run when the execution is aborted: no child starts after, and the run is ABORTED', async () => {
    // Prepare: abort once two children are running, then let them finish
    const abort = new AbortController();
    let started = 0;
    const held: Array<() => void> = [];
    const fn: LocalFunction = async (payload) => {
      started++;
      const done = new Promise<void>((resolve) => held.push(resolve));
      if (started === 2) {
        abort.abort();
        for (const release of held) release();
      }
      await done;
      return payload;
    };
    // Act
    const report = await runExecution({
      definition: machine({ ItemsPath: '$.items' }),
      functions: new Map([[work, fn]]),
      input: { items: upTo(10) },
      name: 'aborted',
      workers: 2,
      signal: abort.signal,
    });
    // Assess
    expect(report.status).toBe('ABORTED');
    expect(started).toBe(2);
    expect(report.mapRuns?.[0]?.status).toBe('ABORTED');
    expect(report.mapRuns?.[0]?.itemCounts.pending).toBe(8);
  });
});

describe('Distributed Map: history', () => {
  it('shows the map run between the Map state lines, as the console does', async () => {
    // Act
    const report = await run(machine({ ItemsPath: '$.items' }), echo, { input: { items: [1, 2] } });
    // Assess
    expect(report.events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    const succeeded = report.events.find((event) => event.type === 'MapRunSucceeded');
    expect(succeeded?.detail).toMatch(/items: 2 succeeded, 0 failed, 0 not run, of 2/);
    expect(report.mapRuns?.[0]?.executions.map((child) => child.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(report.mapRuns?.[0]?.executions[0]?.executionArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:execution:sluice-pipeline\/Fan:[0-9a-f-]{36}$/,
    );
  });

  it('records a failed map run with its error before the Map state fails', async () => {
    // Act
    const report = await run(machine({ ItemsPath: '$.items' }), failing, { input: { items: items(1, 1) } });
    // Assess
    const types = report.events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapRunStarted',
      'MapRunFailed',
    ]);
    expect(types.at(-1)).toBe('ExecutionFailed');
    expect(report.events.find((event) => event.type === 'MapRunFailed')?.error).toBe(
      'States.ExceedToleratedFailureThreshold',
    );
  });
});

describe('Distributed Map: scale', () => {
  it('runs a map of 10,000 items from a JSONL item list to completion', async () => {
    // Prepare
    const store = new MemoryStore();
    const count = 10_000;
    await store.put('reports', 'plan.jsonl', jsonl(Array.from({ length: count }, (_, n) => ({ n }))));
    const definition = machine({
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: 'reports', Key: 'plan.jsonl' },
      },
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: 'reports', Prefix: 'out' },
      },
    });
    // Act
    const report = await run(definition, async (p) => (p as { n: number }).n * 2, { store, workers: 8 });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(report.mapRuns?.[0]?.itemCounts).toEqual({
      total: count,
      succeeded: count,
      failed: 0,
      pending: 0,
    });
    const manifest = JSON.parse(
      await store.readText(
        'reports',
        (report.output as { ResultWriterDetails: { Key: string } }).ResultWriterDetails.Key,
      ),
    );
    const records = JSON.parse(await store.readText('reports', manifest.ResultFiles.SUCCEEDED[0].Key));
    const outputs = records.map((record: { Output: string }) => Number(record.Output));
    expect(outputs).toEqual(Array.from({ length: count }, (_, n) => n * 2));
  });
});

describe('Distributed Map: children in worker threads', () => {
  const threads = {
    module: join(import.meta.dirname, '..', '..', 'support', 'map-thread-tasks.ts'),
    data: { tag: 't1' },
  };

  it('runs each child in one of at most `workers` threads, with the tasks the named module builds there', async () => {
    // Act
    const report = await runExecution({
      definition: machine({ ItemsPath: '$.items' }),
      functions: new Map(),
      input: { items: upTo(6) },
      name: 'threads',
      workers: 2,
      threads,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const outputs = report.output as Array<{ payload: number; threadId: number; tag: string }>;
    expect(outputs.map((output) => output.payload)).toEqual(upTo(6));
    expect(outputs.every((output) => output.tag === 't1' && output.threadId !== threadId)).toBe(true);
    expect(new Set(outputs.map((output) => output.threadId)).size).toBeLessThanOrEqual(2);
  });

  it('fails the Map state, not a child, when a thread cannot load its task module', async () => {
    // Act
    const report = await runExecution({
      definition: machine({ ItemsPath: '$.items', ToleratedFailurePercentage: 100 }),
      functions: new Map(),
      input: { items: upTo(4) },
      name: 'threads',
      workers: 2,
      threads: { module: join(import.meta.dirname, 'no-such-module.ts') },
    });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.cause).toMatch(/no-such-module/);
    expect(report.mapRuns?.[0]).toBeUndefined();
    expect(report.events.find((event) => event.type === 'MapRunFailed')?.cause).toMatch(/no-such-module/);
  });

  it('counts a child that fails in a thread against the tolerated failures, with its error', async () => {
    // Act
    const report = await runExecution({
      definition: machine({ ItemsPath: '$.items', ToleratedFailureCount: 1 }),
      functions: new Map(),
      input: { items: [{ fail: true }, { fail: false }] },
      name: 'threads',
      workers: 2,
      threads,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect((report.output as unknown[])[0]).toMatchObject({ Status: 'FAILED', Error: 'ItemBroken' });
  });
});
