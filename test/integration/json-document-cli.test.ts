import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { peakRssMiB, REPORT_PEAK_RSS } from '../support/peak-rss.js';

// `sluice validate` on JSON documents (`format: { type: json }`) as a user runs it: a document is
// read as a stream, so memory follows the longest record, not the document.

const root = join(import.meta.dirname, '..', '..');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, ['--import', REPORT_PEAK_RSS, join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-json-document-'));
  dirs.push(dir);
  return dir;
}

function contractIn(dir: string, format: string): string {
  const path = join(dir, 'events.yaml');
  writeFileSync(
    path,
    [
      'name: events',
      'source: { type: s3-upload, prefix: landing/events/ }',
      `format: ${format}`,
      'schema:',
      '  type: object',
      '  required: [id]',
      '  properties:',
      '    id: { type: integer }',
      '    kind: { type: string }',
      '    note: { type: string }',
      'expectations:',
      '  - type: expect_column_values_to_be_in_set',
      '    kwargs: { column: kind, value_set: [click, view] }',
    ].join('\n'),
  );
  return path;
}

describe('sluice validate on a JSON document', () => {
  it('validates a 200 MB JSON array in bounded memory', () => {
    // Prepare: 200 blocks of 1 MiB of indented records, strings holding brackets and escaped quotes
    const dir = workdir();
    const contract = contractIn(dir, '{ type: json }');
    const file = join(dir, 'events.json');
    const record = (i: number) =>
      `  {\n    "id": ${i},\n    "kind": "${i % 2 ? 'view' : 'click'}",\n    "note": "] } \\"quoted\\" [ {"\n  }`;
    let block = '';
    let perBlock = 0;
    while (block.length < 1024 * 1024) block += `${record(perBlock++)},\n`;
    const fd = openSync(file, 'w');
    writeSync(fd, '[\n');
    for (let b = 0; b < 200; b++) writeSync(fd, block);
    writeSync(fd, `${record(0)}\n]\n`);
    closeSync(fd);
    const rows = 200 * perBlock + 1;
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.stderr).not.toContain('Error');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      `rows read ${rows.toLocaleString('en-US')}, valid ${rows.toLocaleString('en-US')}`,
    );
    expect(peakRssMiB(result.stderr)).toBeLessThan(300);
  });

  it('names a 50 MB record as MalformedInput before holding it, in bounded memory', () => {
    // Prepare
    const dir = workdir();
    const contract = contractIn(dir, '{ type: json, records_path: data }');
    const file = join(dir, 'events.json');
    const fd = openSync(file, 'w');
    writeSync(fd, '{"data": [\n{"id": 1},\n{"id": 2, "note": "');
    const block = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 50; i++) writeSync(fd, block);
    writeSync(fd, '"}\n]}\n');
    closeSync(fd);
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `MalformedInput: ${file}: line 3: the record starting on this line is already`,
    );
    expect(result.stderr).toContain('over the limit of 8388608 bytes (format.max_record_bytes');
    expect(peakRssMiB(result.stderr)).toBeLessThan(300);
  });

  it("applies the contract's max_record_bytes to each record of the document", () => {
    // Prepare
    const dir = workdir();
    const contract = contractIn(dir, '{ type: json, max_record_bytes: 1024 }');
    const file = join(dir, 'events.json');
    writeFileSync(file, `[{"id": 1}, {"id": 2, "note": "${'x'.repeat(2000)}"}]`);
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /MalformedInput: .*events\.json: line 1: the record starting on this line is already \d+ bytes long, over the limit of 1024 bytes/,
    );
  });

  it('refuses a document whose top-level value is not an array, saying what it found', () => {
    // Prepare
    const dir = workdir();
    const contract = contractIn(dir, '{ type: json }');
    const file = join(dir, 'events.json');
    writeFileSync(file, '{"data": [{"id": 1}]}\n');
    // Act
    const result = sluice(['validate', contract, file]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(
      `MalformedInput: ${file}: expected an array of records at the top level (format records_path): found an object`,
    );
  });
});
