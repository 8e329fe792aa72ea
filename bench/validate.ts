/**
 * Validation throughput: generates a CSV of N rows × 8 columns (a few percent deliberately bad),
 * validates it from disk through `validateStream` with a 12-entry suite (the schema,
 * not_null ×3, unique, between ×2, in_set, match_regex, value_lengths_between, mean_between, row
 * count), and prints rows/s, MB/s, peak RSS and the row counts, three ways: validating only, as
 * `sluice validate` does (the result, no rows written, no profiles), validating and writing the
 * valid records and the quarantine as JSON Lines files, as the validate Lambda does (profiling
 * every column), and the same without profiles: what profiling adds, side by side. The profiled run
 * also renders its HTML data docs and prints their size and profile.json's.
 *
 * The validation runs in a process of its own, from this file bundled by esbuild as the Lambda
 * function is (no TypeScript loader, no generator), so that its peak RSS (VmHWM, bench/peak-rss.ts)
 * is what a Lambda would see. --repeat N validates N times and prints the best.
 *
 *   node --import tsx bench/validate.ts [--rows N] [--ids sorted|shuffled] [--chunk BYTES] [--repeat N] [--reference] [--keep]
 *
 * --reference also times papaparse reading the same file and doing nothing else, once per round,
 * in a fresh process as the validation is (NOTES.md: ~1.5M rows/s on the reference machine), and
 * scales the best rate per CPU-second by it, for a slower or busier machine.
 */

import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Papa from 'papaparse';
import { parseContract } from '../lambdas/shared/contract.js';
import { renderValidationHtml } from '../lambdas/validate/data-docs.js';
import { validateStream } from '../lambdas/validate/engine.js';
import { generateOrdersCsv } from './orders-csv.js';
import { ordersSuite } from './orders-suite.js';
import { peakRssBytes } from './peak-rss.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    chunk: { type: 'string', default: String(64 * 1024) },
    keep: { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    /**
     * Order of the unique order_id column: `sorted` (as an export ordered by its key usually is)
     * or `shuffled` (the same ids in random order, which uniqueness pays more for).
     */
    ids: { type: 'string', default: 'sorted' },
    /** Internal: validate this file and print the figures as JSON (the bundled child). */
    child: { type: 'string' },
    /**
     * Internal, for the child: `files` writes the outputs (profiling), `unprofiled` the same without
     * profiles, `none` validates only, `papaparse` times papaparse.
     */
    outputs: { type: 'string', default: 'files' },
  },
});
const rows = Number(args.rows);
const chunkSize = Number(args.chunk);

const contract = parseContract(ordersSuite({ rowCountMax: 100_000_000, discountMax: false }), '<inline>');

/** What one validation in the child process measured. */
interface Measured {
  rows: { read: number; valid: number; quarantined: number };
  seconds: number;
  cpuSeconds: number;
  /** Peak resident set of the whole process, bytes (VmHWM). */
  peakRss: number;
  /** Resident set once the bundle was loaded, before validating. */
  startRss: number;
  passed: string;
  promote: boolean;
  reasons: string[];
  /** Bytes of the run's HTML data docs and of its profile.json, when it profiled. */
  report?: { html: number; profile: number };
}

/** The child: validates `input` once and prints what it measured as one line of JSON. */
async function validateOnce(input: string, writes: boolean, profile: boolean): Promise<void> {
  const startRss = process.memoryUsage().rss;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-out-'));
  try {
    const outputs = writes
      ? {
          valid: createWriteStream(join(dir, 'valid.jsonl')),
          quarantine: createWriteStream(join(dir, 'quarantine.jsonl')),
        }
      : {};
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const outcome = await validateStream(
      createReadStream(input, { highWaterMark: chunkSize }),
      contract,
      outputs,
      { source: input, sizeBytes: statSync(input).size, profile, quarantineSamples: profile },
    );
    const streams = Object.values(outputs);
    for (const stream of streams) stream.end();
    await Promise.all(streams.map((stream) => finished(stream)));
    const cpu = process.cpuUsage(cpuBefore);
    const { statistics } = outcome.result;
    const measured: Measured = {
      rows: outcome.rows,
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRss: peakRssBytes(),
      startRss,
      passed: `${statistics.successful_expectations}/${statistics.evaluated_expectations}`,
      promote: outcome.decision.promote,
      reasons: outcome.decision.reasons,
      ...(outcome.profile ? { report: reportSize(outcome) } : {}),
    };
    console.log(JSON.stringify(measured));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sizes of the data docs a run writes (after the timed validation). */
function reportSize(outcome: Awaited<ReturnType<typeof validateStream>>): { html: number; profile: number } {
  const html = renderValidationHtml(outcome.result, {
    dataset: contract.name,
    runId: 'bench',
    decision: outcome.decision,
    rows: outcome.rows,
    profile: outcome.profile!,
    quarantineSamples: outcome.quarantineSamples ?? [],
  });
  return {
    html: Buffer.byteLength(html),
    profile: Buffer.byteLength(JSON.stringify({ profile: outcome.profile })),
  };
}

/** papaparse's rows per CPU-second on the reference machine (NOTES.md). */
const REFERENCE_RATE = 1.5e6;

/**
 * The child for --reference: papaparse parsing the file and doing nothing else, timed as the
 * validation is (a fresh process, the same chunks), printed as papaparse's rows per CPU-second.
 * Timed in the parent instead, papaparse ran with a JIT warmed by the rounds before it, which
 * the validation, always in a fresh process, never has.
 */
async function papaparseOnce(input: string): Promise<void> {
  const before = process.cpuUsage();
  let parsed = 0;
  await new Promise<void>((resolve, reject) => {
    Papa.parse(createReadStream(input, { highWaterMark: chunkSize }), {
      step: () => {
        parsed++;
      },
      complete: () => resolve(),
      error: reject,
    });
  });
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ rate: parsed / ((used.user + used.system) / 1e6) }));
}

/**
 * Prints the best of one kind's runs. With papaparse's best rate here, also the best rate per
 * CPU-second scaled to the reference machine: × REFERENCE_RATE / papaparse's rate here.
 */
function report(title: string, runs: Measured[], bytes: number, reference: number | undefined): void {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  console.log(`${title}: ${best.seconds.toFixed(2)} s`);
  if (runs.length > 1)
    console.log(`  runs: ${runs.map((m) => `${m.seconds.toFixed(2)} s`).join(', ')}; best shown`);
  console.log(
    `  ${Math.round(best.rows.read / best.seconds).toLocaleString('en')} rows/s` +
      ` (${Math.round(best.rows.read / best.cpuSeconds).toLocaleString('en')} per CPU-second: ${best.cpuSeconds.toFixed(2)} s CPU)`,
  );
  if (reference !== undefined) {
    const perCpuSecond = Math.max(...runs.map((m) => m.rows.read / m.cpuSeconds));
    const scaled = Math.round((perCpuSecond * REFERENCE_RATE) / reference);
    console.log(
      `  scaled to the reference machine by papaparse: ~${scaled.toLocaleString('en')} rows per CPU-second`,
    );
  }
  console.log(`  ${(bytes / 1e6 / best.seconds).toFixed(1)} MB/s`);
  console.log(
    `  peak RSS ${mib(Math.max(...runs.map((m) => m.peakRss)))} MiB, whole process (${mib(best.startRss)} MiB loaded, before validating)`,
  );
  console.log(
    `  rows read ${best.rows.read}, valid ${best.rows.valid}, quarantined ${best.rows.quarantined}`,
  );
  console.log(`  expectations ${best.passed} passed; promote: ${best.promote}`);
  for (const reason of best.reasons) console.log(`    ${reason}`);
  if (best.report) {
    console.log(
      `  data docs ${(best.report.html / 1024).toFixed(0)} KiB (validation.html), profile.json ${(best.report.profile / 1024).toFixed(0)} KiB`,
    );
  }
}

/** Bundles this file as the Lambda functions are bundled: one ESM file for plain `node`. */
async function bundle(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'validate-bench.mjs');
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outfile,
    logLevel: 'error',
    // Only the parent bundles; the child never loads esbuild, so it stays out of the child's memory.
    external: ['esbuild'],
    // Some dependencies are CommonJS that call require(): give the ESM bundle one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return outfile;
}

type ChildKind = 'files' | 'unprofiled' | 'none' | 'papaparse';

function child(bundled: string, input: string, outputs: ChildKind): string {
  const childArgs = [bundled, '--child', input, '--chunk', String(chunkSize), '--outputs', outputs];
  const run = spawnSync(process.execPath, childArgs, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const what = outputs === 'papaparse' ? 'papaparse' : 'validation';
  if (run.status !== 0) throw new Error(`the ${what} process failed (exit ${run.status})`);
  return run.stdout.trim().split('\n').at(-1)!;
}

function measure(bundled: string, input: string, outputs: Exclude<ChildKind, 'papaparse'>): Measured {
  return JSON.parse(child(bundled, input, outputs)) as Measured;
}

/** papaparse's rows per CPU-second, from a process of its own. */
function papaparseRate(bundled: string, input: string): number {
  return (JSON.parse(child(bundled, input, 'papaparse')) as { rate: number }).rate;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const input = join(dir, 'orders.csv');
  try {
    const started = performance.now();
    generateOrdersCsv(input, rows, args.ids);
    const bytes = statSync(input).size;
    console.log(
      `generated ${rows.toLocaleString('en')} rows (order ids ${args.ids}), ${(bytes / 1e6).toFixed(1)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const bundled = await bundle(dir);
    const kinds = [
      { outputs: 'none', title: 'validate only, as sluice validate (no rows written)' },
      { outputs: 'files', title: 'validate and write valid + quarantine JSON Lines, as the validate Lambda' },
      { outputs: 'unprofiled', title: 'the same without column profiles' },
    ] as const;
    const runs: Measured[][] = kinds.map(() => []);
    const references: number[] = [];
    // Alternated (papaparse too, with --reference), so that a slow minute of a shared machine
    // does not fall on one kind only.
    for (let i = 0; i < Math.max(1, Number(args.repeat)); i++) {
      for (const [k, kind] of kinds.entries()) runs[k]!.push(measure(bundled, input, kind.outputs));
      if (args.reference) references.push(papaparseRate(bundled, input));
    }
    console.log(`node ${process.version}, chunk ${chunkSize} bytes`);
    const reference = references.length > 0 ? Math.max(...references) : undefined;
    for (const [k, kind] of kinds.entries()) report(kind.title, runs[k]!, bytes, reference);
    const best = (k: number) => Math.min(...runs[k]!.map((m) => m.seconds));
    console.log(`column profiles add ${(((best(1) - best(2)) / best(2)) * 100).toFixed(1)}% (best of each)`);
    if (reference !== undefined) {
      console.log(
        `reference: papaparse parse only, best ${Math.round(reference).toLocaleString('en')} rows per CPU-second` +
          ` (runs: ${references.map((r) => `${Math.round(r / 1000)}k`).join(', ')}; ~${REFERENCE_RATE / 1e6}M on the reference machine)`,
      );
    }
  } finally {
    if (args.keep) console.log(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (args.child !== undefined && args.outputs === 'papaparse') await papaparseOnce(args.child);
else if (args.child !== undefined)
  await validateOnce(args.child, args.outputs !== 'none', args.outputs === 'files');
else await main();
