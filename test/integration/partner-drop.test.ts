import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';

// `sluice run <partner-drop dataset> --input <folder>`: the real CLI, the real ASL, the local lake.

const root = join(import.meta.dirname, '..', '..');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
let datasets: string;

/** Each test runs on its own lake. */
const sluice = (args: string[], lakeDir: string) =>
  spawnSync(
    process.execPath,
    [join(root, 'bin', 'sluice.mjs'), '--datasets', datasets, '--lake', lakeDir, ...args],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 100_000,
    },
  );

function folder(name: string, files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'sluice-drop-')), name);
  mkdirSync(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const part1 = 'shipment_id,weight_kg\nS1,10.5\nS2,3\n';
const part2 = 'shipment_id,weight_kg\nS3,-1\nS4,7\n';
const freshLake = () => mkdtempSync(join(tmpdir(), 'sluice-drop-lake-'));

beforeAll(() => {
  datasets = mkdtempSync(join(tmpdir(), 'sluice-drop-contracts-'));
  writeFileSync(
    join(datasets, 'acme-shipments.yaml'),
    [
      'name: acme-shipments',
      'source:',
      '  type: partner-drop',
      '  prefix: landing/partners/acme/',
      '  complete_when: { manifest: manifest.json }',
      '  suffix: .csv',
      'format: { type: csv }',
      'schema:',
      '  type: object',
      '  required: [shipment_id, weight_kg]',
      '  properties:',
      '    shipment_id: { type: string }',
      '    weight_kg: { type: number, minimum: 0 }',
    ].join('\n'),
  );
  writeFileSync(
    join(datasets, 'acme-marker.yaml'),
    [
      'name: acme-marker',
      'source:',
      '  type: partner-drop',
      '  prefix: landing/partners/acme-marker/',
      '  complete_when: { marker: _SUCCESS }',
      '  deadline_minutes: 60',
      'format: { type: csv }',
      'schema:',
      '  type: object',
      '  required: [shipment_id, weight_kg]',
      '  properties:',
      '    shipment_id: { type: string }',
      '    weight_kg: { type: number }',
    ].join('\n'),
  );
});

/** Dates every file of a batch folder in the local lake's landing zone `minutes` back, as if delivered then. */
function deliveredAgo(lakeDir: string, batch: string, minutes: number): void {
  const dir = join(lakeDir, 'lake', 'landing', 'landing', 'partners', 'acme-marker', batch);
  const then = new Date(Date.now() - minutes * 60_000);
  for (const file of readdirSync(dir)) utimesSync(join(dir, file), then, then);
}

const rawFiles = (lakeDir: string) =>
  (readdirSync(join(lakeDir, 'lake', 'raw', 'acme-marker'), { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.csv'),
  );

describe('sluice run of a partner drop', () => {
  it('lands a batch completed by its manifest, verifies it and validates its files as one batch', () => {
    // Prepare
    const manifest = JSON.stringify({
      files: [
        { name: 'part-1.csv', sha256: sha(part1) },
        { name: 'part-2.csv', sha256: sha(part2) },
      ],
    });
    const batch = folder('2026-11-25', {
      'part-1.csv': part1,
      'part-2.csv': part2,
      'manifest.json': manifest,
    });
    const lake = freshLake();
    // Act
    const result = sluice(['run', 'acme-shipments', '--input', batch], lake);
    // Assess
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/raw\s+\S+\/part-1\.csv and 1 more/);
    expect(result.stdout).toMatch(/rows read\s+4/);
    expect(result.stdout).toMatch(/quarantined\s+1/);
    const runs = readdirSync(join(lake, 'lake', 'raw', 'acme-shipments'), { recursive: true }) as string[];
    expect(runs.filter((f) => f.endsWith('.csv'))).toHaveLength(2);
  });

  it("reports a bad row of the batch's second file with that file's name and its own line", () => {
    // Prepare: S3 is on line 2 of part-2.csv, the third record of the batch
    const manifest = JSON.stringify({
      files: [
        { name: 'part-1.csv', sha256: sha(part1) },
        { name: 'part-2.csv', sha256: sha(part2) },
      ],
    });
    const batch = folder('2026-11-28', {
      'part-1.csv': part1,
      'part-2.csv': part2,
      'manifest.json': manifest,
    });
    const ownLake = freshLake();
    // Act
    const result = sluice(['run', 'acme-shipments', '--input', batch], ownLake);
    // Assess
    expect(result.status).toBe(0);
    const only = (zone: string, file: string) => {
      const dir = join(ownLake, 'lake', zone, 'acme-shipments');
      const found = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(file));
      expect(found).toHaveLength(1);
      return readFileSync(join(dir, found[0]!), 'utf8');
    };
    const rejected = only('quarantine', 'rejected-rows.jsonl')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rejected).toEqual([
      expect.objectContaining({
        file: 'part-2.csv',
        row: 2,
        index: 2,
        record: { shipment_id: 'S3', weight_kg: -1 },
      }),
    ]);
    const report = JSON.parse(only('reports', 'validation.json')) as {
      results: Array<{ result: { partial_unexpected_index_list?: number[] } }>;
    };
    expect(report.results[0]!.result.partial_unexpected_index_list).toEqual([2]);
  });

  it('fails with ChecksumMismatch when a file differs from the manifest, and promotes nothing', () => {
    // Prepare
    const manifest = JSON.stringify({ files: [{ name: 'part-1.csv', sha256: sha(part1) }] });
    const batch = folder('2026-11-26', { 'part-1.csv': `${part1}S9,1\n`, 'manifest.json': manifest });
    // Act
    const result = sluice(['run', 'acme-shipments', '--input', batch], freshLake());
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/Run failed: ChecksumMismatch/);
    expect(result.stdout).toMatch(/part-1\.csv \(expected [0-9a-f]{64}, found [0-9a-f]{64}\)/);
    expect(result.stdout).not.toMatch(/PromoteToCurated/);
  });

  it('waits for a batch without its manifest', () => {
    // Prepare
    const batch = folder('2026-11-27', { 'part-1.csv': part1 });
    // Act
    const result = sluice(['run', 'acme-shipments', '--input', batch], freshLake());
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/BatchNotComplete\s+Succeed\s+Succeeded/);
    expect(result.stdout).toMatch(/Waiting: the partner batch is not complete yet/);
  });

  it('ingests exactly the folder given, not files an earlier folder of the same name left', () => {
    // Prepare: drops/marker has two files; other/marker, later, one file of one row
    const ownLake = mkdtempSync(join(tmpdir(), 'sluice-drop-lake-'));
    const first = folder('marker', { 'part-1.csv': part1, 'part-2.csv': part2, _SUCCESS: '' });
    const second = folder('marker', { 'part-1.csv': 'shipment_id,weight_kg\nS9,1\n', _SUCCESS: '' });
    expect(sluice(['run', 'acme-marker', '--input', first], ownLake).status).toBe(0);
    // Act
    const result = sluice(['run', 'acme-marker', '--input', second], ownLake);
    // Assess
    expect(result.stderr).not.toMatch(/Error:/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+1\n/);
    expect(result.stdout).toMatch(/raw\s+\S+\/part-1\.csv\s+\(1 file, 27 bytes\)/);
    expect(rawFiles(ownLake)).toHaveLength(3);
  });

  it('fails a batch with IncompleteBatch when run again with its folder past the deadline', () => {
    // Prepare: the batch's one file was delivered 2 hours ago; the deadline is 60 minutes
    const ownLake = mkdtempSync(join(tmpdir(), 'sluice-drop-lake-'));
    const batch = folder('late', { 'part-1.csv': part1 });
    const waiting = sluice(['run', 'acme-marker', '--input', batch], ownLake);
    deliveredAgo(ownLake, 'late', 120);
    // Act
    const result = sluice(['run', 'acme-marker', '--input', batch], ownLake);
    // Assess
    expect(waiting.status).toBe(0);
    expect(waiting.stdout).toMatch(
      /Waiting: the partner batch is not complete yet; missing _SUCCESS \(1 file arrived\)/,
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/Run failed: IncompleteBatch/);
    expect(result.stdout).toMatch(
      /incomplete 120 min after its first file arrived \(deadline_minutes 60\): missing _SUCCESS/,
    );
  });

  it('checks the deadlines without --input, as the schedule does, and reports an overdue batch once', () => {
    // Prepare
    const ownLake = mkdtempSync(join(tmpdir(), 'sluice-drop-lake-'));
    sluice(['run', 'acme-marker', '--input', folder('stalled', { 'part-1.csv': part1 })], ownLake);
    deliveredAgo(ownLake, 'stalled', 90);
    // Act
    const overdue = sluice(['run', 'acme-marker'], ownLake);
    const again = sluice(['run', 'acme-marker'], ownLake);
    // Assess
    expect(overdue.status).toBe(1);
    expect(overdue.stdout).toMatch(/Run failed: IncompleteBatch/);
    expect(overdue.stdout).toMatch(/stalled\/ is incomplete 90 min after its first file arrived/);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Deadlines checked: 1 incomplete batch, 1 reported overdue before/);
  });

  it('takes a sha256sum manifest made with `find .`, whose names start with ./', () => {
    // Prepare
    const manifest = `${sha(part1)}  ./part-1.csv\n${sha(part2)}  ./part-2.csv\n`;
    const batch = folder('2026-11-29', {
      'part-1.csv': part1,
      'part-2.csv': part2,
      'manifest.json': manifest,
    });
    // Act
    const result = sluice(
      ['run', 'acme-shipments', '--input', batch],
      mkdtempSync(join(tmpdir(), 'sluice-drop-lake-')),
    );
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+4/);
  });
});
