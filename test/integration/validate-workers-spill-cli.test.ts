import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { random } from '../support/random.js';

// `sluice validate --workers N` spills each shard's uniqueness keys and median/quantile values to a
// temporary directory: the result stays the one pass's, and the directory is gone afterwards.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, ...env },
  });

const MIB = 1024 * 1024;

function contractIn(dir: string, shardMb?: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'readings.yaml');
  writeFileSync(
    path,
    `name: readings
source: { type: s3-upload, prefix: landing/readings/ }
format: { type: csv${shardMb === undefined ? '' : `, shard_mb: ${shardMb}`} }
schema:
  type: object
  required: [id]
  properties:
    id: { type: integer }
    site: { type: string }
    day: { type: string }
    value: { type: number }
expectations:
  - type: expect_column_values_to_be_unique
    kwargs: { column: id, result_format: COMPLETE }
  - type: expect_compound_columns_to_be_unique
    kwargs: { column_list: [site, day], result_format: COMPLETE }
  - type: expect_column_median_to_be_between
    kwargs: { column: value, min_value: 0, max_value: 1000 }
  - type: expect_column_quantile_values_to_be_between
    kwargs:
      column: value
      quantile_ranges:
        quantiles: [0.01, 0.25, 0.5, 0.75, 0.99]
        value_ranges: [[0, 50], [100, 400], [300, 700], [600, 900], [950, 1000]]
`,
  );
  return path;
}

/**
 * About `bytes` of readings: ids that repeat ids of much earlier rows (other shards), site/day
 * pairs that repeat across the file (fewer distinct ones than result-format's MAX_COUNTED_VALUES,
 * so that partial_unexpected_counts counts them all), and values spread over [0, 1000).
 */
function readingsCsv(bytes: number, seed: number): string {
  const next = random(seed);
  const lines = ['id,site,day,value'];
  let length = lines[0]!.length + 1;
  for (let i = 1; length < bytes; i++) {
    const id = next() < 0.001 && i > 5000 ? Math.floor(next() * 1000) + 1 : i;
    const site = `s${Math.floor(next() * 5000)}`;
    const day = `2026-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
    const line = `${id},${site},${day},${(next() * 1000).toFixed(3)}`;
    lines.push(line);
    length += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

function reportWithoutTime(path: string): {
  results: Array<{ expectation_config: { type: string }; result: Record<string, unknown> }>;
} {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  delete report.meta.validation_time;
  return report;
}

/** The spill directories under `parent` (the TypeScript loader keeps its own cache there too). */
const spillsIn = (parent: string) => readdirSync(parent).filter((name) => name.startsWith('sluice-spill-'));

describe('sluice validate --workers with the spill', () => {
  it('gives one pass’s uniqueness, median and quantiles when duplicates span shards, and leaves no spill behind', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-spill-cli-'));
    const spillParent = mkdtempSync(join(tmpdir(), 'sluice-spill-tmp-'));
    const file = join(dir, 'readings.csv');
    writeFileSync(file, readingsCsv(4 * MIB, 5));
    const whole = contractIn(join(dir, 'whole'));
    const sharded = contractIn(join(dir, 'sharded'), 1);
    // Act
    const json = join(dir, 'report.json');
    const one = sluice(['validate', whole, file, '--json', json]);
    const onePassReport = reportWithoutTime(json);
    const two = sluice(['validate', sharded, file, '--workers', '2', '--json', json], {
      TMPDIR: spillParent,
    });
    // Assess
    expect(two.stderr).toMatch(/shards (\d+)\/\1 /);
    expect(two.stderr).not.toContain('shards 1/1');
    expect(two.status).toBe(one.status);
    expect(two.stdout).toBe(one.stdout);
    const report = reportWithoutTime(json);
    expect(report).toEqual(onePassReport);
    const unique = report.results.find(
      (r) => r.expectation_config.type === 'expect_column_values_to_be_unique',
    );
    const indexes = (unique?.result.unexpected_index_list as number[] | undefined) ?? [];
    // Repeats of ids from the first thousand rows, found a shard or more later.
    expect(indexes.length).toBeGreaterThan(10);
    expect(Math.max(...indexes) - Math.min(...indexes)).toBeGreaterThan(40_000);
    const quantiles = report.results.find(
      (r) => r.expectation_config.type === 'expect_column_quantile_values_to_be_between',
    );
    expect((quantiles?.result.observed_value as { values?: number[] } | undefined)?.values).toHaveLength(5);
    expect(spillsIn(spillParent)).toEqual([]);
  });

  it('removes the spill directory when a shard fails', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-spill-cli-'));
    const spillParent = mkdtempSync(join(tmpdir(), 'sluice-spill-tmp-'));
    const file = join(dir, 'readings.csv');
    const text = Buffer.from(readingsCsv(3 * MIB, 9));
    // Bytes that are not UTF-8, in the last shard.
    text[text.lastIndexOf('\n', text.length - 2) + 2] = 0xff;
    writeFileSync(file, text);
    const sharded = contractIn(join(dir, 'sharded'), 1);
    // Act
    const result = sluice(['validate', sharded, file, '--workers', '2'], { TMPDIR: spillParent });
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/sluice: MalformedInput: .*\(shard \d of \d: /);
    expect(spillsIn(spillParent)).toEqual([]);
  });

  it('removes the spill directory when interrupted with SIGINT', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-spill-cli-'));
    const spillParent = mkdtempSync(join(tmpdir(), 'sluice-spill-tmp-'));
    const file = join(dir, 'readings.csv');
    writeFileSync(file, readingsCsv(4 * MIB, 13));
    const sharded = contractIn(join(dir, 'sharded'), 1);
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'sluice.mjs'), 'validate', sharded, file, '--workers', '2'],
      {
        cwd: root,
        env: { ...process.env, TMPDIR: spillParent },
        stdio: 'ignore',
      },
    );
    const exited = once(child, 'exit');
    // The run has begun once its spill directory is there.
    const watcher = watch(spillParent);
    const begun = new Promise<void>((resolve) => {
      const look = () => {
        if (spillsIn(spillParent).length > 0) resolve();
      };
      watcher.on('change', look);
      look();
    });
    await Promise.race([begun, exited]);
    watcher.close();
    // Act
    const interrupted = child.kill('SIGINT');
    const [code, signal] = await exited;
    // Assess
    expect(interrupted).toBe(true);
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
    expect(spillsIn(spillParent)).toEqual([]);
  });
});
