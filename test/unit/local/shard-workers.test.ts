import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { validateStream } from '../../../lambdas/validate/engine.js';
import { planFile, validateFileInShards } from '../../../src/local/shard-workers.js';

const CONTRACT = `name: events
source: { type: s3-upload, prefix: landing/events/ }
format: { type: csv, shard_mb: 1 }
schema:
  type: object
  properties:
    id: { type: integer }
    kind: { type: string }
expectations:
  - type: expect_column_values_to_be_unique
    kwargs: { column: id }
  - type: expect_column_values_to_be_in_set
    kwargs: { column: kind, value_set: [a, b] }
`;

const MIB = 1024 * 1024;
const NOW = () => new Date('2026-12-08T00:00:00Z');

/** About `bytes` of events, the header after a byte order mark and an empty line, ids repeating every 5,000 (fewer distinct values than partial_unexpected_counts counts exactly). */
function eventsFile(dir: string, bytes: number): string {
  const file = join(dir, 'events.csv');
  const lines = ['\uFEFF\nid,kind'];
  for (let i = 0, length = 0; length < bytes; i++) {
    const line = `${i % 5_000},${'abc'[i % 3]}`;
    lines.push(line);
    length += line.length + 1;
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('validateFileInShards', () => {
  it('merges shards validated in threads into the outcome of one pass, the header read after a BOM and an empty line', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-shard-workers-'));
    const file = eventsFile(dir, 3 * MIB);
    const contract = parseContract(CONTRACT, 'events.yaml');
    const plan = await planFile(file, contract, MIB);
    // Act
    const sharded = await validateFileInShards(file, contract, plan, { workers: 2, now: NOW });
    // Assess
    const whole = await validateStream(createReadStream(file), contract, {}, { source: file, now: NOW });
    expect(plan.csvHeader).toBe('id,kind');
    expect(plan.shards.length).toBeGreaterThan(2);
    expect(sharded.outcome).toEqual(whole);
    expect(sharded.threads.length).toBe(2);
    expect(sharded.threads.every((t) => t.peakHeapBytes > 0)).toBe(true);
  });

  it('gives the same outcome from threads started from the bundled engine as from its TypeScript sources', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-shard-workers-'));
    const file = eventsFile(dir, 2 * MIB);
    const contract = parseContract(CONTRACT, 'events.yaml');
    const plan = await planFile(file, contract, MIB);
    // Act
    const bundled = await validateFileInShards(file, contract, plan, { workers: 2, now: NOW });
    const fromSource = await validateFileInShards(file, contract, plan, {
      workers: 2,
      now: NOW,
      fromSource: true,
    });
    // Assess
    expect(bundled.outcome).toEqual(fromSource.outcome);
    expect(bundled.outcome.result.results.length).toBeGreaterThan(1);
  });

  it("fails with a shard's programming error as it was named, once, without retrying it", async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-shard-workers-'));
    const file = eventsFile(dir, 3 * MIB);
    const contract = parseContract(CONTRACT, 'events.yaml');
    const plan = await planFile(file, contract, MIB);
    const failing = plan.shards[1]!.start;
    writeFileSync(`${file}.fail`, String(failing));
    const engine = join(import.meta.dirname, '..', '..', 'support', 'broken-shard-engine.ts');
    // Act
    const run = validateFileInShards(file, contract, plan, { workers: 2, engine });
    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'TypeError',
      message: expect.stringContaining(
        `Cannot read properties of undefined (reading 'x') (shard 2 of ${plan.shards.length}: bytes ${failing}–`,
      ),
    });
    const calls = readFileSync(`${file}.calls`, 'utf8').trim().split('\n').map(Number);
    expect(calls.filter((start) => start === failing)).toHaveLength(1);
  });
});
