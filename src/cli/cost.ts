import { readFileSync } from 'node:fs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import { FUNCTION_MEMORY_MB } from '../../lambdas/shared/function-sizes.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { intervalsBetween, parseSchedule } from '../../lambdas/shared/schedule.js';
import { PIPELINE_ASL } from '../local/pipeline.js';
import { contractsFor } from './contracts.js';
import {
  type AslDefinition,
  CHILD_EXECUTION_TRANSITIONS,
  type CostInputs,
  DAYS_PER_MONTH,
  DEFAULT_THROUGHPUT,
  type MonthlyCost,
  monthlyCost,
  type RunCounts,
  runCounts,
  type ShardRow,
  shardTable,
  UNIQUENESS_EXPECTATIONS,
} from './cost-model.js';
import { PRICES, PRICES_AS_OF, PRICES_REGION, rateOf } from './cost-prices.js';
import { EXIT } from './exit-codes.js';
import { openLake } from './lake.js';
import { table } from './table.js';

export interface CostCommandOptions {
  datasets: string;
  lake: string;
  rows?: string;
  bytes?: string;
  files?: string;
  runsPerDay?: string;
  shardMb?: string;
  month?: string;
  json?: boolean;
}

/** One input of the model, with its value and where it came from. */
export interface Assumption {
  name: string;
  value: number | string | boolean;
  from: string;
}

/** The shard size a contract gives (format.shard_mb), or the default. */
export const DEFAULT_SHARD_MB = 256;
/** Raw bytes of a batch when neither the options nor the lake's run records say. */
const DEFAULT_BYTES = 100 * 1e6;
/** Raw bytes per row when neither rows and bytes nor run records give them. */
const DEFAULT_BYTES_PER_ROW = 100;
const DEFAULT_VALIDATED_RATIO = 1.6;
const DEFAULT_QUARANTINE_SHARE = 0.01;
/** Curated Parquet bytes per validated JSON Lines byte, as `npm run bench:curated` measured it (docs/curated.md). */
const PARQUET_CURATED_RATIO = 0.12;

export async function costCommand(dataset: string, options: CostCommandOptions): Promise<number> {
  const { contract } = contractsFor(dataset, options.datasets);
  const { store } = await openLake({ lake: options.lake });
  const history = await recordedBatches(store, contract.name);
  const { inputs, assumptions } = costInputs(contract, options, history);
  const definition = JSON.parse(readFileSync(PIPELINE_ASL, 'utf8')) as AslDefinition;
  const estimate = {
    counts: runCounts(inputs, definition),
    month: monthlyCost(inputs, definition),
    shards: shardTable(inputs, definition, shardSizesFor(inputs.shardMb)),
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(costJson(contract.name, assumptions, estimate), null, 2)}\n`);
  } else {
    process.stdout.write(`${renderCost(contract.name, assumptions, estimate)}\n`);
  }
  return EXIT.ok;
}

/** What the lake's run records say about a dataset's batches: those that were validated. */
export interface RecordedBatches {
  runs: number;
  bytes?: number;
  rows?: number;
  files?: number;
  quarantineShare?: number;
  validatedRatio?: number;
}

/** Averages over the dataset's validated runs in the local lake (none when it has no runs). */
export async function recordedBatches(store: ObjectStore, dataset: string): Promise<RecordedBatches> {
  const keys = (await store.list('reports', `${dataset}/runs/`)).filter((key) =>
    /^[^/]+\/runs\/[^/]+\.json$/.test(key),
  );
  const records: RunRecord[] = [];
  for (const key of keys) {
    const record = JSON.parse(await store.readText('reports', key)) as RunRecord;
    if (record.validation && (record.source?.size ?? record.pulled?.size) !== undefined) records.push(record);
  }
  if (records.length === 0) return { runs: 0 };
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const sizeOf = (r: RunRecord) => r.source?.size ?? r.pulled?.size ?? 0;
  const ratios = records
    .filter((r) => r.promotion && r.validation!.rows.valid > 0)
    .map((r) => r.promotion!.size / ((sizeOf(r) * r.validation!.rows.valid) / r.validation!.rows.read));
  return {
    runs: records.length,
    bytes: mean(records.map(sizeOf)),
    rows: mean(records.map((r) => r.validation!.rows.read)),
    files: mean(records.map((r) => r.raw?.files ?? r.pulled?.files ?? 1)),
    quarantineShare: mean(
      records.map((r) => r.validation!.rows.quarantined / Math.max(1, r.validation!.rows.read)),
    ),
    ...(ratios.length > 0 ? { validatedRatio: mean(ratios) } : {}),
  };
}

/** Runs a day of a schedule expression: a rate divides the day; a cron's runs (interval ends) are counted over one week. */
export function runsPerDayOf(schedule: string): number {
  const parsed = parseSchedule(schedule);
  if (parsed.kind === 'rate') return (24 * 3600 * 1000) / parsed.periodMs;
  const week = 7 * 24 * 3600 * 1000;
  const from = Date.parse('2026-01-05T00:00:00Z');
  // Whole intervals from a week earlier, so that the one running across the week's start is there too.
  const intervals = intervalsBetween(
    parsed,
    new Date(from - week),
    new Date(from + week),
    2 * 7 * 24 * 60 + 1,
  );
  return intervals.filter((interval) => Date.parse(interval.end) > from).length / 7;
}

/** The model's inputs, each from an option, the contract, the lake's run records or an assumption. */
export function costInputs(
  contract: Contract,
  options: Omit<CostCommandOptions, 'datasets' | 'lake' | 'json'>,
  history: RecordedBatches,
): { inputs: CostInputs; assumptions: Assumption[] } {
  const assumptions: Assumption[] = [];
  const take = <T extends number | string | boolean>(name: string, value: T, from: string): T => {
    assumptions.push({ name, value, from });
    return value;
  };
  const records = `mean of ${history.runs} run record${history.runs === 1 ? '' : 's'} in the lake`;
  const given = (name: string, raw: string | undefined, whole: boolean) =>
    raw === undefined ? undefined : positive(name, raw, whole);

  const rowsGiven = given('--rows', options.rows, true);
  const bytesGiven = given('--bytes', options.bytes, true);
  const bytesPerRow = history.bytes && history.rows ? history.bytes / history.rows : DEFAULT_BYTES_PER_ROW;
  const perRowFrom = history.bytes && history.rows ? records : 'assumed';
  let bytes: number;
  let rows: number;
  if (bytesGiven !== undefined) {
    bytes = take('bytes per batch', bytesGiven, '--bytes');
    rows =
      rowsGiven !== undefined
        ? take('rows per batch', rowsGiven, '--rows')
        : take(
            'rows per batch',
            Math.round(bytes / bytesPerRow),
            `bytes ÷ ${bytesPerRow.toFixed(0)} B/row (${perRowFrom})`,
          );
  } else if (rowsGiven !== undefined) {
    rows = take('rows per batch', rowsGiven, '--rows');
    bytes = take(
      'bytes per batch',
      Math.round(rows * bytesPerRow),
      `rows × ${bytesPerRow.toFixed(0)} B/row (${perRowFrom})`,
    );
  } else if (history.bytes !== undefined && history.rows !== undefined) {
    bytes = take('bytes per batch', Math.round(history.bytes), records);
    rows = take('rows per batch', Math.round(history.rows), records);
  } else {
    bytes = take('bytes per batch', DEFAULT_BYTES, 'assumed (no runs in the lake; --bytes sets it)');
    rows = take('rows per batch', Math.round(bytes / bytesPerRow), `bytes ÷ ${bytesPerRow} B/row (assumed)`);
  }

  const filesGiven = given('--files', options.files, true);
  const files =
    filesGiven !== undefined
      ? take('files per batch', filesGiven, '--files')
      : contract.source.type === 's3-upload'
        ? take('files per batch', 1, 'contract: an s3-upload batch is one object')
        : history.files !== undefined
          ? take('files per batch', Math.max(1, Math.round(history.files)), records)
          : take('files per batch', 1, 'assumed (--files sets it)');

  const perDayGiven = given('--runs-per-day', options.runsPerDay, false);
  const runsPerDay =
    perDayGiven !== undefined
      ? take('runs per day', perDayGiven, '--runs-per-day')
      : contract.schedule
        ? take('runs per day', runsPerDayOf(contract.schedule), `contract schedule ${contract.schedule}`)
        : take('runs per day', 1, 'assumed: the contract has no schedule (--runs-per-day sets it)');

  const shardGiven = given('--shard-mb', options.shardMb, false);
  const contractShard = (contract.format as { shard_mb?: number }).shard_mb;
  const shardMb =
    shardGiven !== undefined
      ? take('shard size (MiB)', shardGiven, '--shard-mb')
      : contractShard !== undefined
        ? take('shard size (MiB)', contractShard, 'contract format.shard_mb')
        : take('shard size (MiB)', DEFAULT_SHARD_MB, 'default of format.shard_mb');

  const monthGiven = given('--month', options.month, true);
  const month = take(
    'month of operation',
    monthGiven ?? 12,
    monthGiven !== undefined ? '--month' : 'assumed: storage after a year of runs (--month sets it)',
  );
  const dvc = take('DVC versions (Version build)', contract.version.dvc, 'contract version.dvc');
  const uniqueness = take(
    'uniqueness expectations (sharded: CheckKeyPartitions)',
    contract.expectations.filter((x) => x.scope !== 'snapshot' && UNIQUENESS_EXPECTATIONS.has(x.type)).length,
    'contract expectations',
  );
  const quarantineShare = take(
    'share of rows quarantined',
    round(history.quarantineShare ?? DEFAULT_QUARANTINE_SHARE, 4),
    history.quarantineShare !== undefined ? records : 'assumed',
  );
  const validatedRatio = take(
    'validated JSON Lines bytes per raw byte',
    round(history.validatedRatio ?? DEFAULT_VALIDATED_RATIO, 3),
    history.validatedRatio !== undefined ? records : 'assumed',
  );
  const curatedRatio =
    contract.curated.format === 'jsonl'
      ? take('curated bytes per validated byte', 1, 'contract curated.format: jsonl (a copy)')
      : take(
          'curated bytes per validated byte',
          PARQUET_CURATED_RATIO,
          'contract curated.format: parquet; measured by bench:curated (docs/curated.md)',
        );
  take('source type', contract.source.type, 'contract source.type');
  const t = DEFAULT_THROUGHPUT;
  take(
    'validation throughput (MB/s per invocation or shard)',
    t.validateMBps,
    "measured: one shard's rate in bench:scale (docs/scale.md)",
  );
  take('ingest copy throughput (MB/s)', t.ingestMBps, 'assumed');
  take('promote copy throughput (MB/s)', t.promoteMBps, 'assumed');
  take('fixed time per Lambda invocation (ms)', t.invocationOverheadMs, 'assumed');
  take('MergeResults time per shard (ms)', t.mergeMsPerShard, 'assumed');
  take(
    'Lambda memory (MB): ingest / validate / promote / record-run',
    `${FUNCTION_MEMORY_MB.ingest} / ${FUNCTION_MEMORY_MB.validate} / ${FUNCTION_MEMORY_MB.promote} / ${FUNCTION_MEMORY_MB.recordRun}`,
    'the stack (lambdas/shared/function-sizes.ts); shard steps use validate’s',
  );
  take('Version build: fixed minutes', t.versionFixedMinutes, 'assumed (clone, install DVC, commit, push)');
  take('Version build: MB/s hashed and pushed (small; large ×3)', t.versionMBps, 'assumed');
  take('reports zone bytes per run', t.reportsBytesPerRun, 'assumed');
  take('days per month', round(DAYS_PER_MONTH, 3), 'AWS bills a month as 730 hours');

  return {
    inputs: {
      sourceType: contract.source.type,
      bytes,
      rows,
      files,
      runsPerDay,
      shardMb,
      dvc,
      uniqueness,
      month,
      validatedRatio,
      curatedRatio,
      curatedFormat: contract.curated.format,
      quarantineShare,
      throughput: t,
    },
    assumptions,
  };
}

function positive(name: string, raw: string, whole: boolean): number {
  const value = Number(raw);
  if (!(Number.isFinite(value) && value > 0) || (whole && !Number.isInteger(value))) {
    throw new ConfigurationError(
      `${name} must be a ${whole ? 'whole number' : 'number'} greater than 0, not '${raw}'`,
    );
  }
  return value;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

interface Estimate {
  counts: RunCounts;
  month: MonthlyCost;
  shards: ShardRow[];
}

function costJson(dataset: string, assumptions: Assumption[], estimate: Estimate) {
  const { counts, month, shards } = estimate;
  return {
    dataset,
    region: PRICES_REGION,
    pricesAsOf: PRICES_AS_OF,
    assumptions,
    perRun: {
      sharded: counts.sharded,
      shards: counts.shards,
      stateTransitions: counts.transitions,
      path: counts.path,
      lambdaInvocations: counts.lambda.length,
      lambda: counts.lambda.map((i) => ({ ...i, seconds: round(i.seconds, 3) })),
      storeCalls: counts.storeCalls,
      versionStoreCalls: counts.versionStoreCalls,
      s3Requests: counts.s3Requests,
      versionBuildMinutes: counts.versionMinutes,
      versionCompute: counts.versionCompute,
      kmsRequests: counts.kmsRequests,
    },
    monthly: {
      runs: round(month.runsPerMonth, 3),
      lines: month.lines.map((l) => ({ ...l, quantity: round(l.quantity, 6), usd: round(l.usd, 6) })),
      totalUsd: round(month.totalUsd, 6),
      storageGbMonths: Object.fromEntries(
        Object.entries(month.storageGbMonths).map(([zone, gb]) => [zone, round(gb, 6)]),
      ),
    },
    byShardSize: shards.map((row) => ({
      ...row,
      runUsd: round(row.runUsd, 6),
      monthlyUsd: round(row.monthlyUsd, 6),
      validationSeconds: round(row.validationSeconds, 1),
    })),
    warnings: counts.warnings,
    prices: PRICES,
  };
}

/** Dollars to the cent, with what is below a cent shown as such rather than as $0.00. */
export function usd(value: number): string {
  if (value === 0) return '$0.00';
  if (value < 0.005) return '< $0.01';
  return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function quantity(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

function renderCost(dataset: string, assumptions: Assumption[], estimate: Estimate): string {
  const { counts, month, shards } = estimate;
  const out: string[] = [];
  out.push(
    `Monthly AWS cost of '${dataset}': ${usd(month.totalUsd)}`,
    `(${PRICES_REGION} list prices of ${PRICES_AS_OF}, on demand, before any free tier; ${quantity(month.runsPerMonth)} runs a month)`,
    '',
    table(
      ['Assumption', 'Value', 'From'],
      assumptions.map((a) => [
        a.name,
        typeof a.value === 'number' ? quantity(a.value) : String(a.value),
        a.from,
      ]),
    ),
    '',
    `One run${counts.sharded ? ` (sharded: ${counts.shards} shards)` : ''}, the dataset's first: later runs' data docs also read up to 49 earlier run records (the month counts them)`,
    table(
      ['What', 'Count'],
      [
        [
          'state transitions',
          `${counts.transitions}  (${counts.path.join(' → ')}${counts.sharded ? ` + ${counts.shards + counts.keyPartitions} child executions (${counts.shards} shards, ${counts.keyPartitions} key partitions) × ${CHILD_EXECUTION_TRANSITIONS}` : ''})`,
        ],
        ['Lambda invocations', `${counts.lambda.length}  (${summariseInvocations(counts)})`],
        ...Object.entries(counts.s3Requests).map(([zone, r]) => [
          `S3 requests: ${zone}`,
          `${r.put} PUT/LIST, ${r.get} GET/HEAD`,
        ]),
        [
          'Version build',
          counts.versionMinutes > 0
            ? `${counts.versionMinutes} min on ${counts.versionCompute}`
            : 'none (the contract asks for no DVC versions)',
        ],
        ['KMS requests', `${counts.kmsRequests} (at most: the buckets use S3 Bucket Keys)`],
      ],
    ),
    '',
    'One month',
    table(
      ['Service', 'Item', 'Quantity', 'Price', 'Cost'],
      [
        ...month.lines.map((l) => [
          l.service,
          l.item,
          `${quantity(l.quantity)} ${l.unit}`,
          rateOf(l.price),
          usd(l.usd),
        ]),
        ['Total', '', '', '', usd(month.totalUsd)],
      ],
    ),
    '',
    'By shard size, for this batch (a batch over the shard size takes the sharded branch; storage is the same for all)',
    table(
      [
        'Shard MiB',
        'Shards',
        'Transitions',
        'Invocations',
        'Per run (no storage)',
        'Per month',
        'Validation wall time',
      ],
      shards.map((row) => [
        String(row.shardMb),
        row.sharded ? String(row.shards) : '1 (single path)',
        String(row.transitions),
        String(row.lambdaInvocations),
        `$${row.runUsd.toFixed(4)}`,
        usd(row.monthlyUsd),
        `${row.validationSeconds.toFixed(1)} s`,
      ]),
    ),
  );
  if (counts.warnings.length > 0) out.push('', 'Warnings', ...counts.warnings.map((w) => `  ${w}`));
  out.push(
    '',
    'Data transfer between S3, Lambda and CodeBuild in one region is free. Not included: CloudWatch Logs,',
    'X-Ray traces, the KMS key itself ($1 a month for the stack), the uniqueness fan-out of a sharded run.',
    `Prices: ${[...new Set(Object.values(PRICES).map((p) => p.source))].join(', ')}`,
  );
  return out.join('\n');
}

function summariseInvocations(counts: RunCounts): string {
  const bySteps = new Map<string, { n: number; memoryMb: number; seconds: number }>();
  for (const i of counts.lambda) {
    const entry = bySteps.get(i.step) ?? { n: 0, memoryMb: i.memoryMb, seconds: i.seconds };
    entry.n += 1;
    bySteps.set(i.step, entry);
  }
  return [...bySteps]
    .map(
      ([step, e]) =>
        `${e.n > 1 ? `${e.n} × ` : ''}${step} ${e.memoryMb} MB ${e.seconds < 10 ? e.seconds.toFixed(2) : Math.round(e.seconds)} s`,
    )
    .join(', ');
}

/** The shard sizes the table compares: 64, 256 and 1024 MiB, and the one costed when it is another. */
export function shardSizesFor(shardMb: number): number[] {
  return [...new Set([64, 256, 1024, shardMb])].sort((a, b) => a - b);
}
