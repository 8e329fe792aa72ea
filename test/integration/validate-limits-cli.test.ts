import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { peakRssMiB, REPORT_PEAK_RSS } from '../support/peak-rss.js';

// `sluice validate` as a user runs it, on inputs that once hung it or ran it out of memory.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, ['--import', REPORT_PEAK_RSS, join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });

function contractIn(dir: string, expectations: string): string {
  const path = join(dir, 'events.yaml');
  writeFileSync(
    path,
    [
      'name: events',
      'source: { type: s3-upload, prefix: landing/events/ }',
      'format: { type: csv }',
      'schema:',
      '  type: object',
      '  properties:',
      '    id: { type: integer }',
      '    name: { type: string }',
      `expectations: ${expectations}`,
    ].join('\n'),
  );
  return path;
}

describe('sluice validate on hostile input', () => {
  it('names a 70 MB line as MalformedInput, within a bounded memory', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-limits-cli-'));
    const contract = contractIn(dir, '[]');
    const file = join(dir, 'events.csv');
    const fd = openSync(file, 'w');
    writeSync(fd, 'id,name\n1,');
    const block = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 70; i++) writeSync(fd, block);
    writeSync(fd, '\n');
    closeSync(fd);
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('MalformedInput');
    expect(result.stderr).toContain('line 2: the record starting on this line is already');
    expect(result.stderr).toContain('over the limit of 8388608 bytes (format.max_record_bytes');
    expect(peakRssMiB(result.stderr)).toBeLessThan(400);
  });

  it('validates a value that a backtracking regex engine would take exponential time on', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-limits-cli-'));
    const contract = contractIn(
      dir,
      '\n  - type: expect_column_values_to_match_regex\n    kwargs: { column: name, regex: "^(a+)+$" }',
    );
    const file = join(dir, 'events.csv');
    writeFileSync(file, `id,name\n1,${'a'.repeat(40)}!\n2,aaa\n`);
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.signal).toBeNull();
    expect(`${result.stdout}${result.stderr}`).toContain('expect_column_values_to_match_regex');
    expect(`${result.stdout}${result.stderr}`).toContain('1 unexpected of 2');
  });
});
