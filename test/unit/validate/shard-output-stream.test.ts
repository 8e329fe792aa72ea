import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { type ShardOutcome, validateShard } from '../../../lambdas/validate/engine.js';
import { globalShardOutputs, shardPlacements } from '../../../lambdas/validate/shard-merge.js';
import { writeGlobalShardOutputs } from '../../../lambdas/validate/shard-output-stream.js';
import { random } from '../../support/random.js';
import {
  generatedRows,
  MIXED,
  mergeContract,
  NOW,
  randomCuts,
  recordStarts,
  render,
} from './merge-support.js';

function collector() {
  const parts: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 64,
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      setImmediate(callback);
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

/** Each shard's outputs as validateShard writes them, with the shards' placements. */
async function shardsOf(seed: number, format: 'csv' | 'jsonl', shards: number) {
  const contract = mergeContract(format, MIXED);
  const text = render(format, generatedRows(seed, 3_000));
  const bytes = Buffer.from(text);
  const header = format === 'csv' ? text.slice(0, text.indexOf('\n')) : undefined;
  const bounds = [0, ...randomCuts(random(seed), recordStarts(text, format), shards), bytes.length];
  const outcomes: ShardOutcome[] = [];
  const outputs: Array<{ valid: string; quarantine: string }> = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const valid = collector();
    const quarantine = collector();
    outcomes.push(
      await validateShard(
        Readable.from([bytes.subarray(bounds[k]!, bounds[k + 1]!)]),
        contract,
        { valid: valid.stream, quarantine: quarantine.stream },
        k === 0 ? { now: NOW } : { now: NOW, csvHeader: header, continues: true },
      ),
    );
    outputs.push({ valid: valid.text(), quarantine: quarantine.text() });
  }
  return { outputs, placements: shardPlacements(contract, outcomes, { now: NOW }) };
}

describe('writeGlobalShardOutputs', () => {
  for (const [seed, format] of [
    [3, 'csv'],
    [8, 'jsonl'],
    [21, 'csv'],
  ] as const) {
    it(`streams what globalShardOutputs gives, duplicates across shards moved to the quarantine in record order (${format}, seed ${seed})`, async () => {
      // Prepare
      const { outputs, placements } = await shardsOf(seed, format, 5);
      for (const [k, output] of outputs.entries()) {
        const valid = collector();
        const quarantine = collector();
        // Act
        const counts = await writeGlobalShardOutputs(
          { valid: Readable.from([output.valid]), quarantine: Readable.from([output.quarantine]) },
          placements[k]!,
          { valid: valid.stream, quarantine: quarantine.stream },
        );
        // Assess
        const whole = globalShardOutputs(output, placements[k]!);
        expect(valid.text()).toBe(whole.valid);
        expect(quarantine.text()).toBe(whole.quarantine);
        expect(counts.quarantined).toBe(whole.quarantine.split('\n').length - 1);
      }
      expect(placements.some((p) => p.failures.length > 0)).toBe(true);
    });
  }
});
