import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type AslDefinition,
  DEFAULT_THROUGHPUT,
  localRunStoreCalls,
  runCounts,
} from '../../src/cli/cost-model.js';
import type { StoreCallCounts } from '../../src/local/counting-object-store.js';

// `sluice cost` and `sluice run --count-requests` as a user runs them: the real CLI, a temporary
// folder of contracts and a temporary lake per test. On a terminal wide enough for every table's
// whole values (a narrower one cuts them; test/integration/cli-tables.test.ts checks that).

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'orders.csv');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, COLUMNS: '400' },
  });

function datasetsDir(schedule?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-contracts-'));
  const contract = readFileSync(join(root, 'datasets', 'orders.yaml'), 'utf8');
  writeFileSync(
    join(dir, 'orders.yaml'),
    schedule ? contract.replace(/^schedule: null$/m, `schedule: "${schedule}"`) : contract,
  );
  return dir;
}

const lakeDir = () => mkdtempSync(join(tmpdir(), 'sluice-lake-'));

interface CostJson {
  region: string;
  pricesAsOf: string;
  assumptions: Array<{ name: string; value: unknown; from: string }>;
  perRun: {
    stateTransitions: number;
    lambdaInvocations: number;
    storeCalls: StoreCallCounts;
    path: string[];
  };
  monthly: { runs: number; totalUsd: number; lines: Array<{ service: string; usd: number }> };
  byShardSize: Array<{ shardMb: number; shards: number }>;
}

interface RunJson {
  status: string;
  events: Array<{ type: string; step?: string }>;
  storeCalls?: StoreCallCounts;
}

describe('sluice cost', () => {
  it('prints the monthly cost with its region, price date, assumptions and a table by shard size', () => {
    // Prepare
    const datasets = datasetsDir();
    // Act
    const result = sluice([
      '--datasets',
      datasets,
      '--lake',
      lakeDir(),
      'cost',
      'orders',
      '--bytes',
      '10000000000',
    ]);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Monthly AWS cost of 'orders': \$[\d,]+\.\d\d$/m);
    expect(result.stdout).toMatch(/us-east-1 list prices of \d{4}-\d\d-\d\d/);
    expect(result.stdout).toMatch(/bytes per batch\s+10,000,000,000\s+--bytes/);
    expect(result.stdout).toMatch(/runs per day\s+1\s+assumed: the contract has no schedule/);
    expect(result.stdout).toMatch(/^64\s+150\s+/m);
    expect(result.stdout).toMatch(/^1024\s+10\s+/m);
    expect(result.stdout).toMatch(/in one region is free/);
  });

  it('gives the same estimate as data with --json, runs per day from the contract schedule', () => {
    // Prepare
    const datasets = datasetsDir('rate(1 hour)');
    // Act
    const result = sluice(['--datasets', datasets, '--lake', lakeDir(), 'cost', 'orders', '--json']);
    // Assess
    expect(result.status).toBe(0);
    const cost = JSON.parse(result.stdout) as CostJson;
    expect(cost.region).toBe('us-east-1');
    expect(cost.assumptions).toContainEqual({
      name: 'runs per day',
      value: 24,
      from: 'contract schedule rate(1 hour)',
    });
    expect(cost.monthly.runs).toBeCloseTo(730, 6);
    expect(cost.perRun.stateTransitions).toBe(11);
    expect(cost.byShardSize.map((row) => row.shardMb)).toEqual([64, 256, 1024]);
    expect(cost.monthly.totalUsd).toBeCloseTo(
      cost.monthly.lines.reduce((sum, line) => sum + line.usd, 0),
      4,
    );
  });

  it('refuses a count that is not a positive whole number, exit 2, naming the option', () => {
    // Prepare
    const datasets = datasetsDir();
    // Act
    const result = sluice(['--datasets', datasets, '--lake', lakeDir(), 'cost', 'orders', '--rows', '-5']);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--rows must be a whole number greater than 0, not '-5'/);
  });
});

describe("the cost model's per-run counts against a local run", () => {
  it('equal the transitions, Lambda invocations and store calls of a run of the example batch', () => {
    // Prepare
    const datasets = datasetsDir();
    const lake = lakeDir();
    // Act
    const run = sluice([
      '--datasets',
      datasets,
      '--lake',
      lake,
      'run',
      'orders',
      '-i',
      example,
      '--count-requests',
      '--json',
    ]);
    const cost = sluice(['--datasets', datasets, '--lake', lake, 'cost', 'orders', '--json']);
    // Assess
    expect(run.status).toBe(0);
    expect(cost.status).toBe(0);
    const report = JSON.parse(run.stdout) as RunJson;
    const model = JSON.parse(cost.stdout) as CostJson;
    // The defaults are the run's own batch, read from its run record.
    expect(model.assumptions).toContainEqual({
      name: 'bytes per batch',
      value: statSync(example).size,
      from: 'mean of 1 run record in the lake',
    });
    const entered = report.events.filter((e) => e.type.endsWith('StateEntered')).map((e) => e.step);
    const invoked = report.events.filter((e) => e.type === 'LambdaFunctionScheduled');
    expect(entered).toEqual(model.perRun.path);
    expect(entered).toHaveLength(model.perRun.stateTransitions);
    expect(invoked).toHaveLength(model.perRun.lambdaInvocations);
    expect(report.storeCalls).toEqual(localRunStoreCalls(model.perRun.storeCalls));
  });

  it("equal a later run's store calls, whose data docs read the earlier run's record", () => {
    // Prepare: a first run of the example, then a second batch of other bytes
    const datasets = datasetsDir();
    const lake = lakeDir();
    const second = join(lake, 'orders-2.csv');
    copyFileSync(example, second);
    writeFileSync(
      second,
      `${readFileSync(second, 'utf8').trimEnd()}\nORD-999999,C-1,2026-11-01,paid,5,EUR,1,\n`,
    );
    expect(sluice(['--datasets', datasets, '--lake', lake, 'run', 'orders', '-i', example]).status).toBe(0);
    // Act
    const run = sluice([
      '--datasets',
      datasets,
      '--lake',
      lake,
      'run',
      'orders',
      '-i',
      second,
      '--count-requests',
      '--json',
    ]);
    // Assess
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as RunJson;
    const definition = JSON.parse(
      readFileSync(join(root, 'statemachines', 'pipeline.asl.json'), 'utf8'),
    ) as AslDefinition;
    const expected = runCounts(
      {
        sourceType: 's3-upload',
        bytes: statSync(second).size,
        rows: 301,
        files: 1,
        runsPerDay: 1,
        shardMb: 256,
        dvc: true,
        month: 1,
        validatedRatio: 1.5,
        // datasets/orders.yaml's curated format (the default), which decides promote's calls.
        curatedFormat: 'parquet',
        quarantineShare: 0.03,
        throughput: DEFAULT_THROUGHPUT,
      },
      definition,
      1,
    );
    expect(report.storeCalls).toEqual(localRunStoreCalls(expected.storeCalls));
  });

  it('leaves the JSON of a run without --count-requests as it was', () => {
    // Prepare
    const datasets = datasetsDir();
    // Act
    const run = sluice([
      '--datasets',
      datasets,
      '--lake',
      lakeDir(),
      'run',
      'orders',
      '-i',
      example,
      '--json',
    ]);
    // Assess
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).not.toHaveProperty('storeCalls');
  });

  it('prints the store calls by zone after the summary with --count-requests', () => {
    // Prepare
    const datasets = datasetsDir();
    // Act
    const run = sluice([
      '--datasets',
      datasets,
      '--lake',
      lakeDir(),
      'run',
      'orders',
      '-i',
      example,
      '--count-requests',
    ]);
    // Assess
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Object-store calls of this run, by zone/);
    expect(run.stdout).toMatch(
      /^Zone\s+head\s+read\s+readText\s+readVersioned\s+putIfAbsent\s+putIfMatch\s+put\s+list$/m,
    );
    // The raw manifest read by ValidateBatch and by the START and COMPLETE lineage events; in
    // reports, the two events, RecordRun's check for START and the validation result it reads, the
    // data docs' read of this run's record and the column profile written.
    expect(run.stdout).toMatch(/^raw\s+1\s+1\s+3\s+0\s+2\s+0\s+0\s+0$/m);
    expect(run.stdout).toMatch(/^reports\s+3\s+0\s+2\s+2\s+0\s+2\s+8\s+1$/m);
  });
});
