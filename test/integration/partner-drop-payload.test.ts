import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../lambdas/shared/contract.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { readBatchKeys } from '../../lambdas/shared/raw-manifest.js';
import { PAYLOAD_LIMIT_BYTES } from '../../src/local/asl-runner.js';
import { coreFunctions, runPartnerDrop } from '../../src/local/pipeline.js';

// Step Functions stops every state's input and output at 256 KiB. A partner batch of 10,000 files
// runs through the real state machine on a local lake, and the largest payload in its history is
// measured: it must stay far under the quota and not grow with the number of files.

const contract = parseContract(
  [
    'name: acme-many',
    'source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: { marker: _SUCCESS } }',
    'format: { type: csv }',
    'schema: { type: object, required: [id], properties: { id: { type: integer } } }',
    'expectations:',
    '  - { type: expect_column_values_to_be_unique, kwargs: { column: id } }',
  ].join('\n'),
  '<inline>',
);

/** Runs a batch of `count` one-row files; returns the run's outcome and its largest payload. */
async function runBatchOf(count: number) {
  const root = mkdtempSync(join(tmpdir(), 'sluice-payload-'));
  const folder = join(root, 'drops', `batch-${count}`);
  mkdirSync(folder, { recursive: true });
  for (let i = 0; i < count; i++) {
    writeFileSync(join(folder, `part-${String(i).padStart(5, '0')}.csv`), `id\n${i}\n`);
  }
  writeFileSync(join(folder, '_SUCCESS'), '');
  const store = new FsObjectStore(join(root, 'lake'));
  const contracts = new Map([[contract.name, contract]]);
  const { report } = await runPartnerDrop({
    dataset: contract.name,
    inputDir: folder,
    store,
    contracts,
    functions: coreFunctions({ store, contracts }),
    retryIntervalMs: 0,
  });
  const sizes = report.events.flatMap((e) => [e.inputBytes ?? 0, e.outputBytes ?? 0]);
  const output = report.output as {
    ingest: { manifestKey: string; files: number };
    validation: { rows: { read: number } };
  };
  return { report, store, output, largest: Math.max(...sizes) };
}

describe('the execution state of a large partner batch', () => {
  it('stays far under 256 KiB and does not grow with the number of files', async () => {
    // Act
    const small = await runBatchOf(10);
    const large = await runBatchOf(10_000);
    // Assess
    expect(large.report.error).toBeUndefined();
    expect(large.report.status).toBe('SUCCEEDED');
    expect(large.output.ingest.files).toBe(10_000);
    expect(await readBatchKeys(large.store, large.output.ingest.manifestKey)).toHaveLength(10_000);
    expect(large.output.validation.rows.read).toBe(10_000);
    expect(large.largest).toBeLessThan(PAYLOAD_LIMIT_BYTES / 32);
    // Only the digits of its counts (files, bytes, rows) differ between 10 and 10,000 files.
    expect(large.largest - small.largest).toBeLessThan(64);
  }, 300_000);
});
