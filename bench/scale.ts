/**
 * Sharded validation at scale, on this machine's cores (everything local: files in a temp folder).
 *
 *   npm run bench:scale -- [--gb N] [--rows N] [--parts a,b,c] [--workers N] [--dir DIR] [--keep] [--no-python]
 *
 * a. A generated CSV of --gb GB (8 columns, a suite of 12 checks) validated in shards of the
 *    default 256 MiB on --workers threads (default: the cores): MB/s, wall time, each worker
 *    thread's peak V8 heap and the process's peak RSS; then a prefix of about 1 GB, cut at a
 *    record start, validated both ways (sharded and in one pass) and the two reports compared.
 * b. --rows rows (default 1M) of the same columns: one pass (one core), sharded on 1 and on 2
 *    workers, Great Expectations 1.x (pandas) and the same checks hand-written in Polars on 1 and
 *    2 threads, each in a process of its own, side by side: wall time and peak RSS, and ratios.
 * c. Lambda wall time and cost for 10 GB and 100 GB in 100 and 1,000 shards, from the per-shard
 *    throughput measured in (a) (or (b)), through the cost model of `sluice cost`.
 *
 * Each measured run is a child process (this file with --child), so that its peak RSS is its own.
 * GX and Polars run from .venv-bench, created from bench/requirements.txt on first use.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseContract } from '../lambdas/shared/contract.js';
import { validateStream } from '../lambdas/validate/engine.js';
import { publishedResult } from '../lambdas/validate/result-format.js';
import { type AslDefinition, DEFAULT_THROUGHPUT, shardTable } from '../src/cli/cost-model.js';
import { planFile, validateFileInShards } from '../src/local/shard-workers.js';
import { ordersSuite, UNIQUE_ORDER_ID } from './orders-suite.js';

const HELP = `npm run bench:scale -- [options]

  --gb N          size of the generated CSV of part a, in GB (default 10, less when the temp disk
                  has not room for it and its 1 GB prefix)
  --rows N        rows of the file of part b (default 1000000)
  --parts LIST    which parts to run: a, b, c, comma-separated (default a,b,c)
  --workers N     worker threads of part a (default: the cores, ${availableParallelism()} here)
  --dir DIR       where the files go (default: a new folder under the temp dir)
  --keep          keep the generated files
  --no-python     leave out Great Expectations and Polars in part b
  --no-unique     leave expect_column_values_to_be_unique out of the suite of part a (its keys are
                  spilled to disk and checked a partition at a time: the slowest check at scale)
  --help          this text
`;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    gb: { type: 'string' },
    rows: { type: 'string', default: '1000000' },
    parts: { type: 'string', default: 'a,b,c' },
    workers: { type: 'string', default: String(availableParallelism()) },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-python': { type: 'boolean', default: false },
    'no-unique': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    /** Internal: run one measurement and print its figures as JSON (`sharded` or `one-pass`). */
    child: { type: 'string' },
    file: { type: 'string' },
    'shard-bytes': { type: 'string' },
  },
});

const MB = 1e6;
const GB = 1e9;
const MiB = 1024 * 1024;

/** The suite: 8 columns and 12 checks, as a contract of an orders export would have them. */
const CONTRACT = ordersSuite({ rowCountMax: 100_000_000_000, discountMax: true });
const contract = parseContract(
  args['no-unique'] ? CONTRACT.replace(UNIQUE_ORDER_ID, '') : CONTRACT,
  'bench-orders.yaml',
);
if (args['no-unique'] && contract.expectations.length !== 11)
  throw new Error('--no-unique: the suite changed');

// ---------------------------------------------------------------------------------------------
// Generation: rows of about 86 bytes, about 3% with one problem each, 0.2% repeating the order id
// of the row before. Everything after the order id comes from a pool of 100,000 rows made once
// (the email cycles with the row number, as the pool does), so that a row costs an id and a copy:
// written in 4 MB pieces, it runs near disk speed.

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'];
const POOL = 100_000;

/** Row `i`'s columns after the order id, with its line break. */
function tailOf(i: number, next: () => number): string {
  const r = next();
  const customer = r >= 0.002 && r < 0.005 ? '' : `C${(next() * 50000) | 0}`;
  const amount = r >= 0.005 && r < 0.015 ? `-${(next() * 100).toFixed(2)}` : (next() * 5000).toFixed(2);
  const quantity = r >= 0.015 && r < 0.017 ? 'many' : String(1 + ((next() * 20) | 0));
  const status = r >= 0.017 && r < 0.022 ? 'lost' : STATUSES[(next() * 4) | 0];
  const email = r >= 0.022 && r < 0.027 ? 'nobody-at-example' : `user${i}@example.com`;
  const month = 1 + (i % 12);
  const day = 1 + (i % 28);
  const created = `2026-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}T10:00:00Z`;
  const discount = r >= 0.5 ? '' : (next() * 0.3).toFixed(2);
  return `,${customer},${amount},${quantity},${status},${email},${created},${discount}\n`;
}

/** Writes rows until `rows` rows or `bytes` bytes; returns the rows and bytes written. */
function generate(file: string, limit: { rows?: number; bytes?: number }): { rows: number; bytes: number } {
  const next = mulberry32(42);
  const tails = Array.from({ length: POOL }, (_, i) => tailOf(i, next));
  const fd = openSync(file, 'w');
  let piece = 'order_id,customer_id,amount,quantity,status,email,created_at,discount\n';
  let bytes = 0;
  let i = 0;
  const maxRows = limit.rows ?? Number.POSITIVE_INFINITY;
  const maxBytes = limit.bytes ?? Number.POSITIVE_INFINITY;
  for (; i < maxRows && bytes + piece.length < maxBytes; i++) {
    const id = i > 0 && next() < 0.002 ? i - 1 : i;
    piece += `ORD-${String(id).padStart(10, '0')}${tails[i % POOL]}`;
    if (piece.length >= 4 * MiB) {
      bytes += writeSync(fd, piece);
      piece = '';
    }
  }
  bytes += writeSync(fd, piece);
  closeSync(fd);
  return { rows: i, bytes };
}

// ---------------------------------------------------------------------------------------------
// Children: one measurement each, figures on stdout as JSON.

/** The report `sluice validate --json` writes, without its run time. */
function reportOf(outcome: Awaited<ReturnType<typeof validateStream>>): string {
  const report = {
    ...publishedResult(outcome.result),
    meta: { ...outcome.result.meta, dataset: contract.name, decision: outcome.decision },
  } as { meta: Record<string, unknown> };
  delete report.meta.validation_time;
  return JSON.stringify(report);
}

async function child(mode: string, file: string): Promise<void> {
  const started = performance.now();
  let figures: Record<string, unknown>;
  if (mode === 'sharded') {
    const target = Number(args['shard-bytes'] ?? 256 * MiB);
    const plan = await planFile(file, contract, target);
    const planned = performance.now();
    const run = await validateFileInShards(file, contract, plan, { workers: Number(args.workers) });
    figures = {
      shards: plan.shards.length,
      planMs: planned - started,
      threads: run.threads,
      shardTimes: run.shards,
      mergeMs: run.mergeMs,
      spillMs: run.spillMs,
      rows: run.outcome.rows,
      report: reportOf(run.outcome),
    };
  } else {
    const outcome = await validateStream(
      createReadStream(file, { highWaterMark: 256 * 1024 }),
      contract,
      {},
      {
        source: file,
        sizeBytes: statSync(file).size,
      },
    );
    figures = { rows: outcome.rows, report: reportOf(outcome) };
  }
  const wallMs = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ ...figures, wallMs, maxRssBytes: process.resourceUsage().maxRSS * 1024, file })}\n`,
  );
}

const localNode = join(root, 'node_modules', '.bin', 'node');
const NODE = existsSync(localNode) ? localNode : process.execPath;

interface Measured {
  wallMs: number;
  processMs: number;
  maxRssBytes: number;
  [key: string]: unknown;
}

function measureNode(mode: string, file: string, extra: string[] = []): Measured {
  const started = performance.now();
  const result = spawnSync(
    NODE,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--file', file, ...extra],
    { cwd: root, encoding: 'utf8', maxBuffer: 256 * MiB },
  );
  const processMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${mode} on ${file} failed:\n${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as Measured), processMs };
}

const venv = join(root, '.venv-bench');
const python = join(venv, 'bin', 'python');

/** .venv-bench with GX and Polars, created from bench/requirements.txt the first time. */
function ensureVenv(): void {
  if (existsSync(python)) return;
  process.stderr.write('creating .venv-bench from bench/requirements.txt (once)…\n');
  const steps: string[][] = [
    ['python3', '-m', 'venv', venv],
    [join(venv, 'bin', 'pip'), 'install', '-q', '-r', join(root, 'bench', 'requirements.txt')],
  ];
  for (const [command, ...rest] of steps) {
    const result = spawnSync(command!, rest, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`${command} ${rest.join(' ')} failed`);
  }
}

function measurePython(script: string, file: string, env: Record<string, string> = {}): Measured {
  const started = performance.now();
  const result = spawnSync(python, [join(root, 'bench', script), file], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * MiB,
  });
  const processMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${script} on ${file} failed:\n${result.stderr}`);
  const out = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, number | unknown>;
  const wallMs = ((out.readSeconds as number) + (out.checkSeconds as number)) * 1000;
  return { ...out, wallMs, processMs, maxRssBytes: out.maxRssBytes as number };
}

// ---------------------------------------------------------------------------------------------

const mb = (bytes: number) => (bytes / MB).toFixed(0);
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const print = (line = '') => process.stdout.write(`${line}\n`);

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  print(line(header));
  print(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) print(line(row));
}

/** Measured MB/s of one shard (one core), for part c. */
let perShardMBps: number | undefined;

async function partA(dir: string): Promise<void> {
  const free = statfsSync(dir).bavail * statfsSync(dir).bsize;
  const wanted = args.gb !== undefined ? Number(args.gb) : 10;
  // Room for the file, its 1 GB prefix and a margin.
  const gb =
    args.gb !== undefined ? wanted : Math.max(1, Math.min(wanted, Math.floor((free / GB - 2) / 1.2)));
  print(
    `## a. ${gb} GB through the sharded path, ${args.workers} workers, ${contract.expectations.length} checks` +
      (args['no-unique'] ? ' (without expect_column_values_to_be_unique)' : ''),
  );
  const file = join(dir, `orders-${gb}gb.csv`);
  const started = performance.now();
  const written = generate(file, { bytes: gb * GB });
  print(
    `generated ${mb(written.bytes)} MB, ${written.rows.toLocaleString('en-US')} rows, in ${seconds(performance.now() - started)} s`,
  );
  const suite = args['no-unique'] ? ['--no-unique'] : [];
  let run: Measured;
  try {
    run = measureNode('sharded', file, ['--workers', args.workers!, ...suite]);
  } catch (error) {
    // Reported, and the other parts still run: at this size the merge can fail (docs/scale.md).
    const cause = /^\w*Error: .*$/m.exec((error as Error).message.split('\n').slice(1).join('\n'))?.[0];
    print(`the sharded run failed: ${cause ?? (error as Error).message}`);
    process.exitCode = 1;
    if (!args.keep) rmSync(file);
    print();
    return;
  }
  const threads = run.threads as Array<{
    threadId: number;
    peakHeapBytes: number;
    processMaxRssBytes: number;
  }>;
  const times = run.shardTimes as Array<{ bytes: number; elapsedMs: number }>;
  const shardBytes = times.reduce((sum, t) => sum + t.bytes, 0);
  const shardMs = times.reduce((sum, t) => sum + t.elapsedMs, 0);
  perShardMBps = shardBytes / MB / (shardMs / 1000);
  table(
    [
      'file',
      'shards',
      'wall',
      'of which merge',
      'MB/s',
      'per shard MB/s',
      'process peak RSS',
      'worker peak heap (each)',
    ],
    [
      [
        `${mb(written.bytes)} MB`,
        String(run.shards),
        `${seconds(run.wallMs)} s`,
        `${seconds(run.mergeMs as number)} s`,
        (written.bytes / MB / (run.wallMs / 1000)).toFixed(1),
        perShardMBps.toFixed(1),
        `${mb(run.maxRssBytes)} MB`,
        threads.map((t) => `${mb(t.peakHeapBytes)} MB`).join(', '),
      ],
    ],
  );
  print(
    'worker peak heap: V8 total_heap_size + external_memory of each worker thread, sampled at each chunk; ' +
      'process peak RSS: maxRSS of the whole process (main thread with the merge, and every worker).',
  );

  // The first ~1 GB, cut at a record start, validated in shards and in one pass.
  const plan = await planFile(file, contract, Math.min(GB, written.bytes));
  const cut = plan.shards[0]!.end;
  const prefix = join(dir, 'orders-prefix.csv');
  await pipeline(createReadStream(file, { start: 0, end: cut - 1 }), createWriteStream(prefix));
  if (!args.keep) rmSync(file);
  const sharded = measureNode('sharded', prefix, ['--workers', args.workers!, ...suite]);
  const whole = measureNode('one-pass', prefix, suite);
  const same = sharded.report === whole.report;
  print(
    `first ${mb(cut)} MB (cut at a record start): sharded (${sharded.shards} shards) ${seconds(sharded.wallMs)} s ` +
      `(merge ${seconds(sharded.mergeMs as number)} s), ` +
      `one pass ${seconds(whole.wallMs)} s; reports identical (except validation_time): ${same ? 'yes' : 'NO'}`,
  );
  if (!same) {
    writeFileSync(join(dir, 'prefix-sharded.json'), String(sharded.report));
    writeFileSync(join(dir, 'prefix-one-pass.json'), String(whole.report));
    print(`the two reports differ: ${dir}/prefix-{sharded,one-pass}.json`);
    process.exitCode = 1;
  }
  if (!args.keep) rmSync(prefix);
  print();
}

async function partB(dir: string): Promise<void> {
  const rows = Number(args.rows);
  print(`## b. ${rows.toLocaleString('en-US')} rows × 8 columns, 12 checks`);
  const file = join(dir, 'orders-b.csv');
  const { bytes } = generate(file, { rows });
  // Four shards: two for each of two workers, so that a busy core does not leave the other idle.
  const shardBytes = String(Math.ceil(bytes / 4));
  const results: Array<[string, Measured]> = [];
  results.push(['Sluice, one pass (1 core)', measureNode('one-pass', file)]);
  results.push([
    'Sluice, 4 shards, --workers 1',
    measureNode('sharded', file, ['--workers', '1', '--shard-bytes', shardBytes]),
  ]);
  results.push([
    'Sluice, 4 shards, --workers 2',
    measureNode('sharded', file, ['--workers', '2', '--shard-bytes', shardBytes]),
  ]);
  if (!args['no-python']) {
    ensureVenv();
    results.push(['Polars, 1 thread', measurePython('scale-polars.py', file, { POLARS_MAX_THREADS: '1' })]);
    results.push(['Polars, 2 threads', measurePython('scale-polars.py', file, { POLARS_MAX_THREADS: '2' })]);
    results.push(['Great Expectations 1.x (pandas)', measurePython('scale-gx.py', file)]);
  }
  const two = results[2]![1];
  table(
    [
      'run',
      'wall (read + check)',
      'of which merge',
      'process wall',
      'peak RSS',
      'MB/s',
      'vs Sluice --workers 2 (wall)',
    ],
    results.map(([name, m]) => [
      name,
      `${seconds(m.wallMs)} s`,
      m.mergeMs === undefined ? '' : `${seconds(m.mergeMs as number)} s`,
      `${seconds(m.processMs)} s`,
      `${mb(m.maxRssBytes)} MB`,
      (bytes / MB / (m.wallMs / 1000)).toFixed(1),
      `${(m.wallMs / two.wallMs).toFixed(2)}×`,
    ]),
  );
  const one = results[0]![1];
  print(
    `speed-up of --workers 2: ${(results[1]![1].wallMs / two.wallMs).toFixed(2)}× against --workers 1, ` +
      `${(one.wallMs / two.wallMs).toFixed(2)}× against one pass`,
  );
  print(
    'wall (read + check): Sluice from the start of planning to the merged result; Python from reading the CSV ' +
      'to the counts or the suite result, imports excluded (process wall includes them and start-up).',
  );
  if (!args['no-python']) {
    print('unexpected counts / observed values, to show each engine computed the checks:');
    for (const [name, m] of results.slice(3)) print(`  ${name}: ${JSON.stringify(m.observed)}`);
    const sluice = JSON.parse(String(two.report)) as {
      results: Array<{
        expectation_config: { type: string; kwargs: { column?: string } };
        result: Record<string, unknown>;
      }>;
    };
    const observed = Object.fromEntries(
      sluice.results.map((r) => [
        `${r.expectation_config.type} ${r.expectation_config.kwargs.column ?? ''}`.trim(),
        r.result.unexpected_count ?? r.result.observed_value,
      ]),
    );
    print(`  Sluice: ${JSON.stringify(observed)}`);
  }
  perShardMBps ??= bytes / MB / (one.wallMs / 1000);
  if (!args.keep) rmSync(file);
  print();
}

function partC(): void {
  const rate = perShardMBps ?? DEFAULT_THROUGHPUT.validateMBps;
  print(
    `## c. Lambda projection at ${rate.toFixed(1)} MB/s per shard (measured here), one batch a day, month 12`,
  );
  const definition = JSON.parse(
    readFileSync(join(root, 'statemachines', 'pipeline.asl.json'), 'utf8'),
  ) as AslDefinition;
  const rows: string[][] = [];
  for (const bytes of [10 * GB, 100 * GB]) {
    for (const shards of [100, 1000]) {
      const shardMb = bytes / shards / MiB;
      const inputs = {
        sourceType: 's3-upload',
        bytes,
        rows: Math.round(bytes / 95),
        files: 1,
        runsPerDay: 1,
        shardMb,
        dvc: true,
        month: 12,
        validatedRatio: 1.6,
        quarantineShare: 0.01,
        throughput: { ...DEFAULT_THROUGHPUT, validateMBps: rate },
      };
      const [row] = shardTable(inputs, definition, [shardMb], 1000);
      rows.push([
        `${bytes / GB} GB`,
        shards.toLocaleString('en-US'),
        row!.transitions.toLocaleString('en-US'),
        row!.lambdaInvocations.toLocaleString('en-US'),
        `${row!.validationSeconds.toFixed(1)} s`,
        `$${row!.runUsd.toFixed(3)}`,
        `$${row!.monthlyUsd.toFixed(2)}`,
      ]);
    }
  }
  table(
    [
      'batch',
      'shards',
      'transitions',
      'invocations',
      'validation wall time',
      'one run, storage aside',
      'a month',
    ],
    rows,
  );
  print(
    'assumptions: the cost model of `sluice cost` (docs/cost.md) with its defaults, the validation rate replaced by the one measured; ' +
      'up to 1,000 shards at once.',
  );
}

async function main(): Promise<void> {
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.child) {
    await child(args.child, args.file!);
    return;
  }
  const parts = new Set(args.parts!.split(','));
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), 'sluice-bench-scale-'));
  print(
    `# sluice bench:scale — ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'cpu'}, ` +
      `${availableParallelism()} cores, Node ${spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()}`,
  );
  print();
  try {
    if (parts.has('a')) await partA(dir);
    if (parts.has('b')) await partB(dir);
    if (parts.has('c')) partC();
  } finally {
    if (!args.keep && args.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
