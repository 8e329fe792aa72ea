/**
 * The curated zone as Parquet and as JSON Lines, on the orders export the validation benches read
 * (bench/orders-csv.ts, 1M rows by default): the CSV is validated once into the validated JSON
 * Lines promotion reads, then
 * - promotion (lambdas/promote/core.ts, a local lake) writes it to curated as each format, in a
 *   process of its own each time, its V8 heap capped at HEAP_MB, so that its peak RSS (VmHWM) is
 *   promotion's: time, bytes, memory;
 * - DuckDB (@duckdb/node-api) runs `SELECT status, SUM(amount) … GROUP BY status` over each
 *   curated file: time, and that both give the same sums.
 * Each figure is the best of --repeat runs. The targets (docs/curated.md): Parquet at most 25% of
 * the JSON Lines bytes, its promotion at most 1.3× the time of JSON Lines'.
 *
 *   node --import tsx bench/curated.ts [--rows N] [--repeat N] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { promote } from '../lambdas/promote/core.js';
import { type CuratedFormat, parseContract } from '../lambdas/shared/contract.js';
import { FsObjectStore } from '../lambdas/shared/fs-object-store.js';
import { validateStream } from '../lambdas/validate/engine.js';
import { generateOrdersCsv } from './orders-csv.js';
import { ordersSuite } from './orders-suite.js';
import { peakRssBytes } from './peak-rss.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    /** Internal: promote the lake's validated part as this format once, print the figures as JSON. */
    child: { type: 'string' },
    lake: { type: 'string' },
    run: { type: 'string' },
  },
});

/**
 * V8's heap for a promotion, MB: half the promote Lambda's memory (lambdas/shared/function-sizes.ts),
 * so that a promotion that held the batch rather than a row group would fail here.
 */
const HEAP_MB = 256;
const DATASET = 'bench-orders';
const DT = '2026-11-25';
const VALIDATED_RUN = 'validated';

function contractFor(format: CuratedFormat) {
  const text = `${ordersSuite({ rowCountMax: 100_000_000, discountMax: false })}curated: { format: ${format} }\n`;
  return parseContract(text, '<inline>');
}

interface Promoted {
  seconds: number;
  bytes: number;
  peakRss: number;
  startRss: number;
}

/** The child: promotes the validated part once, as `format`, under run id `run`. */
async function promoteOnce(lake: string, format: CuratedFormat, runId: string): Promise<void> {
  const startRss = process.memoryUsage().rss;
  const store = new FsObjectStore(lake);
  const contracts = new Map([[DATASET, contractFor(format)]]);
  const started = performance.now();
  const output = await promote(
    { dataset: DATASET, runId, dt: DT, validatedKey: validatedKeyOf(VALIDATED_RUN) },
    { store, contracts },
  );
  const seconds = (performance.now() - started) / 1000;
  const measured: Promoted = { seconds, bytes: output.size, peakRss: peakRssBytes(), startRss };
  console.log(JSON.stringify(measured));
}

function validatedKeyOf(runId: string): string {
  return `${DATASET}/dt=${DT}/run=${runId}/part-00000.jsonl`;
}

function curatedFileOf(lake: string, format: CuratedFormat, runId: string): string {
  return join(lake, 'curated', DATASET, `dt=${DT}`, `run=${runId}`, `part-00000.${format}`);
}

/** Validates the CSV into the lake's validated zone, as ValidateBatch writes it; returns the rows kept. */
async function validate(csv: string, lake: string): Promise<number> {
  const target = join(lake, 'validated', validatedKeyOf(VALIDATED_RUN));
  mkdirSync(dirname(target), { recursive: true });
  const valid = createWriteStream(target);
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const outcome = await validateStream(createReadStream(csv), contractFor('jsonl'), {
    valid,
    quarantine: discard,
  });
  valid.end();
  await finished(valid);
  return outcome.rows.valid;
}

function spawnPromotion(lake: string, format: CuratedFormat, runId: string): Promoted {
  const self = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_MB}`,
      '--import',
      'tsx',
      self,
      '--child',
      format,
      '--lake',
      lake,
      '--run',
      runId,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`promotion as ${format} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Promoted;
}

interface Aggregate {
  seconds: number;
  sums: Record<string, number>;
}

async function aggregate(sql: string, repeat: number): Promise<Aggregate> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  let best = Number.POSITIVE_INFINITY;
  let sums: Record<string, number> = {};
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    const reader = await connection.runAndReadAll(sql);
    best = Math.min(best, (performance.now() - started) / 1000);
    sums = Object.fromEntries(reader.getRows().map(([status, sum]) => [String(status), Number(sum)]));
  }
  connection.closeSync();
  instance.closeSync();
  return { seconds: best, sums };
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const s = (seconds: number) => seconds.toFixed(2);

async function main(): Promise<void> {
  if (args.child) {
    await promoteOnce(args.lake!, args.child as CuratedFormat, args.run!);
    return;
  }
  const rows = Number(args.rows);
  const repeat = Number(args.repeat);
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-curated-'));
  try {
    const csv = join(work, 'orders.csv');
    const lake = join(work, 'lake');
    let started = performance.now();
    generateOrdersCsv(csv, rows);
    console.log(`generated ${rows.toLocaleString('en')} rows, ${mb(statSync(csv).size)} MB of CSV`);
    started = performance.now();
    const valid = await validate(csv, lake);
    const validatedBytes = statSync(join(lake, 'validated', validatedKeyOf(VALIDATED_RUN))).size;
    console.log(
      `validated: ${valid.toLocaleString('en')} rows kept, ${mb(validatedBytes)} MB of JSON Lines, in ${s((performance.now() - started) / 1000)} s`,
    );

    const best: Partial<Record<CuratedFormat, Promoted>> = {};
    for (let i = 0; i < repeat; i++) {
      for (const format of ['jsonl', 'parquet'] as const) {
        const promoted = spawnPromotion(lake, format, `r${i}`);
        if (!best[format] || promoted.seconds < best[format].seconds) best[format] = promoted;
      }
    }
    const jsonl = best.jsonl!;
    const parquet = best.parquet!;
    console.log(
      `\npromotion, best of ${repeat} (a process each, V8 heap capped at ${HEAP_MB} MB; peak RSS is VmHWM, after-load RSS in brackets):`,
    );
    for (const [name, p] of [
      ['jsonl  ', jsonl],
      ['parquet', parquet],
    ] as const) {
      console.log(
        `  ${name}  ${s(p.seconds)} s  ${mb(p.bytes)} MB  peak RSS ${mb(p.peakRss)} MB (${mb(p.startRss)} MB after load)`,
      );
    }
    const byteShare = parquet.bytes / jsonl.bytes;
    const timeRatio = parquet.seconds / jsonl.seconds;
    console.log(
      `  Parquet bytes: ${(byteShare * 100).toFixed(1)}% of JSON Lines (target ≤ 25%: ${byteShare <= 0.25 ? 'met' : 'missed'})`,
    );
    console.log(
      `  Parquet promotion time: ${timeRatio.toFixed(2)}× JSON Lines (target ≤ 1.3×: ${timeRatio <= 1.3 ? 'met' : 'missed'})`,
    );
    console.log(
      `  Parquet promotion rate: ${Math.round(valid / parquet.seconds).toLocaleString('en')} rows/s, ${mb(validatedBytes / parquet.seconds)} MB/s of validated JSON Lines`,
    );

    const query = (from: string) =>
      `SELECT status, SUM(amount) AS amount FROM ${from} GROUP BY status ORDER BY status`;
    const overParquet = await aggregate(
      query(`read_parquet('${curatedFileOf(lake, 'parquet', 'r0')}')`),
      repeat,
    );
    const overJsonl = await aggregate(
      query(`read_json('${curatedFileOf(lake, 'jsonl', 'r0')}', format = 'newline_delimited')`),
      repeat,
    );
    const same = Object.keys(overParquet.sums).every(
      (status) =>
        Math.abs(overParquet.sums[status]! - (overJsonl.sums[status] ?? Number.NaN)) <
        1e-6 * overParquet.sums[status]!,
    );
    console.log(`\nDuckDB, SELECT status, SUM(amount) … GROUP BY status, best of ${repeat}:`);
    console.log(`  over Parquet      ${s(overParquet.seconds)} s`);
    console.log(
      `  over JSON Lines   ${s(overJsonl.seconds)} s (${(overJsonl.seconds / overParquet.seconds).toFixed(1)}× Parquet's)`,
    );
    console.log(
      `  same sums: ${same ? 'yes' : `no: ${JSON.stringify(overParquet.sums)} vs ${JSON.stringify(overJsonl.sums)}`}`,
    );
  } finally {
    if (args.keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
