/**
 * The merge of sharded validation with and without the spill: --keys distinct ids (default 1M) in
 * --shards shards (default 8), under expect_column_values_to_be_unique and a median. The shards are
 * validated once (outcomes and spill written to a temporary folder); then each merge runs in a
 * fresh process, so that its peak memory is its own:
 *
 * - carried: the outcomes carry every key and value; mergeShardOutcomes holds them all.
 * - spilled, P partitions: the outcomes carry counts; resolveSpill checks the partitions one after
 *   the other and selects the median's values, then mergeShardOutcomes takes the results.
 *
 * Prints each merge's wall time (reading the outcomes included), its peak heap (the largest heap
 * before a collection, from --trace-gc, garbage included), the most a full collection left live,
 * and its peak RSS (typed arrays and buffers included). Both merges are checked to agree.
 *
 *   node --import tsx bench/spill-merge.ts [--keys N] [--shards N]
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type Contract, parseContract } from '../lambdas/shared/contract.js';
import { type ShardOutcome, validateShard } from '../lambdas/validate/engine.js';
import { mergeShardOutcomes } from '../lambdas/validate/shard-merge.js';
import { resolveSpill } from '../lambdas/validate/shard-spill.js';
import { DirectorySpill, spillPartitions } from '../lambdas/validate/spill.js';
import { peakRssBytes } from './peak-rss.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    keys: { type: 'string', default: '1000000' },
    shards: { type: 'string', default: '8' },
    partitions: { type: 'string' },
  },
});

const CONTRACT = `name: bench
source: { type: s3-upload, prefix: landing/bench/ }
format: { type: csv }
schema:
  type: object
  properties:
    id: { type: string }
    x: { type: number }
expectations:
  - type: expect_column_values_to_be_unique
    kwargs: { column: id, result_format: SUMMARY }
  - type: expect_column_median_to_be_between
    kwargs: { column: x, min_value: 0 }
`;

function contract(): Contract {
  return parseContract(CONTRACT, 'bench.yaml');
}

const discard = () => new Writable({ write: (_c, _e, callback) => callback() });

async function prepare(dir: string, keys: number, shards: number): Promise<void> {
  const perShard = Math.ceil(keys / shards);
  const partitions = spillPartitions(shards, perShard);
  const carried: ShardOutcome[] = [];
  const spilled: ShardOutcome[] = [];
  const manyPartitions: ShardOutcome[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const lines = shard === 0 ? ['id,x'] : [];
    // Ids in a scattered order (not increasing), as a hash set must hold them.
    for (let i = 0; i < perShard; i++) {
      const n = shard * perShard + i;
      lines.push(`id-${((n * 2654435761) % 4294967296).toString(36)}-${n},${(n * 7919) % 100003}`);
    }
    const text = `${lines.join('\n')}\n`;
    const options = shard === 0 ? {} : { csvHeader: 'id,x' };
    const outputs = () => ({ valid: discard(), quarantine: discard() });
    carried.push(await validateShard(Readable.from([text]), contract(), outputs(), options));
    spilled.push(
      await validateShard(Readable.from([text]), contract(), outputs(), {
        ...options,
        spill: { spill: new DirectorySpill(join(dir, 'spill-p')), shard, partitions },
      }),
    );
    manyPartitions.push(
      await validateShard(Readable.from([text]), contract(), outputs(), {
        ...options,
        spill: { spill: new DirectorySpill(join(dir, 'spill-8p')), shard, partitions: partitions * 8 },
      }),
    );
  }
  writeFileSync(join(dir, 'carried.json'), JSON.stringify(carried));
  writeFileSync(join(dir, 'spilled.json'), JSON.stringify(spilled));
  writeFileSync(join(dir, 'spilled-8p.json'), JSON.stringify(manyPartitions));
  console.log(
    JSON.stringify({
      partitions,
      outcomeBytes: {
        carried: readFileSync(join(dir, 'carried.json')).length,
        spilled: readFileSync(join(dir, 'spilled.json')).length,
      },
    }),
  );
}

async function merge(dir: string, mode: string): Promise<void> {
  const started = process.hrtime.bigint();
  const file = mode === 'carried' ? 'carried.json' : mode === 'spilled' ? 'spilled.json' : 'spilled-8p.json';
  const outcomes = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ShardOutcome[];
  const spill = new DirectorySpill(join(dir, mode === 'spilled' ? 'spill-p' : 'spill-8p'));
  const spilledResults = mode === 'carried' ? undefined : await resolveSpill(contract(), outcomes, spill);
  const outcome = mergeShardOutcomes(contract(), outcomes, {
    spilled: spilledResults,
    now: () => new Date(0),
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    JSON.stringify({
      seconds,
      maxRssMB: peakRssBytes() / 1024 / 1024,
      results: outcome.result.results.map((r) => r.result),
    }),
  );
}

function run(dir: string, mode: string) {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--trace-gc', 'bench/spill-merge.ts', 'merge', dir, mode],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`merge ${mode} failed: ${child.stderr}`);
  const lines = child.stdout.trim().split('\n');
  let peakHeapMB = 0;
  let peakLiveMB = 0;
  for (const line of lines) {
    const gc = /ms: ([A-Za-z-]+)[^\d]* (\d+(?:\.\d+)?) \(\d+(?:\.\d+)?\) -> (\d+(?:\.\d+)?)/.exec(line);
    if (!gc) continue;
    peakHeapMB = Math.max(peakHeapMB, Number(gc[2]));
    if (gc[1] === 'Mark-Compact') peakLiveMB = Math.max(peakLiveMB, Number(gc[3]));
  }
  const result = JSON.parse(lines.findLast((line) => line.startsWith('{'))!) as {
    seconds: number;
    maxRssMB: number;
    results: unknown;
  };
  return {
    mode,
    seconds: result.seconds,
    peakHeapMB,
    peakLiveMB,
    maxRssMB: result.maxRssMB,
    results: result.results,
  };
}

async function main(): Promise<void> {
  if (positionals[0] === 'merge') {
    await merge(positionals[1]!, positionals[2]!);
    return;
  }
  const keys = Number(args.keys);
  const shards = Number(args.shards);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-spill-bench-'));
  try {
    await prepare(dir, keys, shards);
    const runs = ['carried', 'spilled', 'spilled-8p'].map((mode) => run(dir, mode));
    const same = runs.every((r) => JSON.stringify(r.results) === JSON.stringify(runs[0]!.results));
    console.log(`${keys} distinct keys in ${shards} shards; merged results identical: ${same}`);
    for (const r of runs) {
      console.log(
        `${r.mode.padEnd(12)} ${r.seconds.toFixed(2)} s  peak heap ${r.peakHeapMB.toFixed(0)} MB (live after a full collection ${r.peakLiveMB.toFixed(0)} MB)  peak RSS ${r.maxRssMB.toFixed(0)} MB`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
