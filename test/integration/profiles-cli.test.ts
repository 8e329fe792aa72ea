import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// Column profiles, drift and trends as a user sees them: `sluice run` twice on the local lake,
// then the reports it wrote; and `sluice validate --html` on a file.

const root = join(import.meta.dirname, '..', '..');

const CONTRACT = `name: sales
source: { type: s3-upload, prefix: sales/ }
format: { type: csv }
schema:
  type: object
  required: [id, amount, region]
  properties:
    id: { type: string }
    amount: { type: number, minimum: 0 }
    region: { type: string }
    sold_on: { type: string, format: date }
expectations:
  - type: expect_column_values_to_be_in_set
    kwargs: { column: region, value_set: [north, south, east, west] }
  - type: expect_column_kl_divergence_to_be_less_than
    kwargs: { column: amount, tail_weight_holdout: 0.01, threshold: 0.5 }
    severity: warning
on_failure: quarantine
`;

function sales(rows: number, base: number): string {
  const regions = ['north', 'south', 'east', 'west'];
  const lines = Array.from(
    { length: rows },
    (_, i) =>
      `S${base}-${i},${base + (i % 50)},${i % 25 === 0 ? 'moon' : regions[i % 4]},2026-11-${String(1 + (i % 28)).padStart(2, '0')}`,
  );
  return `id,amount,region,sold_on\n${lines.join('\n')}\n`;
}

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-profiles-cli-'));
  const datasets = join(dir, 'datasets');
  mkdirSync(datasets);
  writeFileSync(join(datasets, 'sales.yaml'), CONTRACT);
  const sluice = (args: string[]) =>
    spawnSync(
      process.execPath,
      [join(root, 'bin', 'sluice.mjs'), '--datasets', datasets, '--lake', join(dir, 'lake'), ...args],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
  return { dir, sluice };
}

function findFiles(dir: string, name: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name === name)
    .map((e) => join(e.parentPath, e.name));
}

describe('profiles, drift and trends through the CLI', () => {
  it('a second sluice run compares itself with the first promoted run and the index charts both runs', () => {
    // Prepare
    const { dir, sluice } = setUp();
    writeFileSync(join(dir, 'first.csv'), sales(200, 10));
    writeFileSync(join(dir, 'second.csv'), sales(200, 40));
    const first = sluice(['run', 'sales', '--input', join(dir, 'first.csv')]);
    // Act
    const second = sluice(['run', 'sales', '--input', join(dir, 'second.csv')]);
    // Assess
    expect([first.status, second.status]).toEqual([0, 0]);
    const profiles = findFiles(dir, 'profile.json').map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(profiles).toHaveLength(2);
    const later = profiles.find((p) => p.drift !== undefined);
    const earlier = profiles.find((p) => p.drift === undefined);
    expect(later.drift.previous.runId).toBe(earlier.run_id);
    const amount = later.drift.columns.find((c: { column: string }) => c.column === 'amount');
    expect(amount.flags.join(' ')).toMatch(/mean moved/);
    const page = readFileSync(
      findFiles(dir, 'validation.html').find((f) => f.includes(later.run_id))!,
      'utf8',
    );
    expect(page).toContain('Drift since the previous promoted run');
    expect(page).toContain('<h3>sold_on</h3>');
    expect(page).not.toMatch(/<script/i);
    const index = readFileSync(findFiles(dir, 'index.html')[0]!, 'utf8');
    expect(index).toContain('Trends over the last 2 runs');
    expect(index.match(/<svg /g)).toHaveLength(4);
  });

  it('sluice validate --html draws the file’s column profiles and its first quarantined rows', () => {
    // Prepare
    const { dir, sluice } = setUp();
    writeFileSync(join(dir, 'sales.csv'), sales(100, 10));
    const html = join(dir, 'report.html');
    // Act
    const result = sluice([
      'validate',
      join(dir, 'datasets', 'sales.yaml'),
      join(dir, 'sales.csv'),
      '--html',
      html,
    ]);
    // Assess
    expect(result.stderr).not.toMatch(/Error/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Column profiles');
    // The profile charts, beside the page's expectations-met meter.
    expect(page.match(/<svg class="sl-chart"/g)).toHaveLength(4);
    expect(page).toContain('4 quarantined rows (the first)');
    expect(page).toMatch(/<tr><td>2<\/td><td>[^<]*moon/);
  });
});
