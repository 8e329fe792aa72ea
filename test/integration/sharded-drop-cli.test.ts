import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice run` of a partner drop of several files larger in all than its contract's
// format.shard_mb: the real CLI and ASL, the Distributed Map's items one or more shards per file,
// against the same drop validated in one joined pass (a shard size above its size).

const root = join(import.meta.dirname, '..', '..');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });

/** The partner-drop contract with a shard size, in a datasets folder of its own. */
function datasetsWithShardMb(shardMb: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-drop-contracts-'));
  writeFileSync(
    join(dir, 'acme.yaml'),
    [
      'name: acme',
      'source:',
      '  type: partner-drop',
      '  prefix: landing/partners/acme/',
      '  complete_when: { manifest: manifest.json }',
      '  suffix: .csv',
      `format: { type: csv, shard_mb: ${shardMb} }`,
      // The curated rows of a sharded run are compared byte for byte with one pass's: as JSON Lines.
      'curated: { format: jsonl }',
      'schema:',
      '  type: object',
      '  required: [shipment_id, weight_kg]',
      '  properties:',
      '    shipment_id: { type: string }',
      '    note: { type: string }',
      '    weight_kg: { type: number, minimum: 0 }',
      'expectations:',
      '  - type: expect_column_values_to_be_unique',
      '    kwargs: { column: shipment_id }',
      '  - type: expect_column_mean_to_be_between',
      '    kwargs: { column: weight_kg, min_value: 0, max_value: 100 }',
      'on_failure: quarantine',
      'version: { dvc: false }',
    ].join('\n'),
  );
  return dir;
}

/**
 * Three files: a small one with a quoted line break and a negative weight, one of only its header,
 * and one of about 2.5 KB (cut by range at 1 KB shards) repeating an id of the first file.
 */
function drop(): string {
  const header = 'shipment_id,note,weight_kg';
  const large = [header];
  for (let i = 0; i < 200; i++) {
    large.push(
      `${i === 150 ? 'S-2' : `L-${i}`},${i % 40 === 3 ? '"two\nlines"' : 'ok'},${i % 67 === 9 ? -4 : i % 30}`,
    );
  }
  const files = {
    'part-1.csv': `${header}\nS-1,ok,3\nS-2,"first\nsecond",-1\nS-3,ok,8\n`,
    'part-2.csv': `${header}\n`,
    'part-3.csv': `${large.join('\n')}\n`,
  };
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-drop-')), '2026-11-25');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const manifest = { files: Object.entries(files).map(([name, text]) => ({ name, sha256: sha(text) })) };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** The one run folder of a zone of the lake (`<zone>/acme/dt=…/run=…/`). */
function runDir(lake: string, zone: string): string {
  const dataset = join(lake, 'lake', zone, 'acme');
  const [dt] = readdirSync(dataset).filter((name) => name.startsWith('dt='));
  const [run] = readdirSync(join(dataset, dt!));
  return join(dataset, dt!, run!);
}

const parts = (dir: string) =>
  readdirSync(dir)
    .filter((name) => /^part-\d{5}\.jsonl$/.test(name))
    .sort();
const joined = (dir: string) =>
  parts(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('');

/** The validation report without what names the lake or the moment: comparable between two lakes. */
function reportOf(lake: string): unknown {
  const text = readFileSync(join(runDir(lake, 'reports'), 'validation.json'), 'utf8');
  const report = JSON.parse(text.replaceAll(lake, '<lake>')) as { meta: Record<string, unknown> };
  delete report.meta.validation_time;
  delete report.meta.outputs;
  return report;
}

describe('sluice run on a partner drop larger in all than its shard size', () => {
  it('validates it in shards by file, and a large file by range, with the result of one joined pass', () => {
    // Prepare
    const batch = drop();
    const work = mkdtempSync(join(tmpdir(), 'sluice-sharded-drop-'));
    const sharded = join(work, 'sharded');
    const whole = join(work, 'whole');
    // Act
    const inShards = sluice([
      '--lake',
      sharded,
      '--datasets',
      datasetsWithShardMb(0.001),
      'run',
      'acme',
      '--input',
      batch,
      '--workers',
      '2',
      '--json',
    ]);
    const inOnePass = sluice([
      '--lake',
      whole,
      '--datasets',
      datasetsWithShardMb(256),
      'run',
      'acme',
      '--input',
      batch,
      '--json',
    ]);
    // Assess
    expect(inShards.stderr).not.toMatch(/Error:/);
    expect(inShards.status).toBe(0);
    expect(inOnePass.status).toBe(0);
    const report = JSON.parse(inShards.stdout) as {
      events: Array<{ type: string; step: string }>;
      mapRuns: Array<{ step: string; status: string; itemCounts: { total: number; succeeded: number } }>;
    };
    const steps = report.events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.step);
    expect(steps).toEqual(expect.arrayContaining(['PlanShards', 'MergeResults']));
    expect(steps).not.toContain('ValidateBatch');
    const validateShards = report.mapRuns.find((run) => run.step === 'ValidateShards');
    expect(validateShards).toMatchObject({ status: 'SUCCEEDED' });
    // part-1 and part-2 whole, part-3 (about 2.5 KB) in ranges of about 1 KB
    expect(validateShards!.itemCounts.total).toBeGreaterThan(3);
    expect(parts(runDir(sharded, 'curated'))).toHaveLength(validateShards!.itemCounts.total);
    expect(joined(runDir(sharded, 'curated'))).toBe(joined(runDir(whole, 'curated')));
    const quarantine = (lake: string) =>
      readFileSync(join(runDir(lake, 'quarantine'), 'rejected-rows.jsonl'), 'utf8');
    expect(quarantine(sharded)).toBe(quarantine(whole));
    const repeated = quarantine(sharded)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { file: string; row: number; failures: Array<{ reason: string }> })
      .find((entry) => entry.file === 'part-3.csv' && entry.failures.some((f) => /unique/.test(f.reason)));
    expect(repeated?.failures.map((f) => f.reason)).toContain(
      'must be unique; the same value is on row 3 of part-1.csv',
    );
    expect(reportOf(sharded)).toEqual(reportOf(whole));
  });
});
