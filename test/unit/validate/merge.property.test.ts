import { describe, expect, it } from '@jest/globals';
import { random } from '../../support/random.js';
import {
  generatedRows,
  MIXED,
  mergeContract,
  randomCuts,
  recordStarts,
  render,
  wholeAndSharded,
} from './merge-support.js';

/**
 * Property: however a file is cut at records (any number of shards, of any sizes, empty ones
 * included), merging the shards gives one pass's outcome, quarantine and valid records.
 */
describe('merging shards cut at random', () => {
  it('equals one pass for every seed tried', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      // Prepare
      const next = random(seed * 7919);
      const format = next() < 0.5 ? 'csv' : 'jsonl';
      const text = render(format, generatedRows(seed, Math.floor(next() * 150)), next() < 0.3);
      const shards = 1 + Math.floor(next() * 12);
      const cuts = randomCuts(next, recordStarts(text, format), shards);
      // Act
      const run = await wholeAndSharded(text, mergeContract(format, MIXED), cuts);
      // Assess
      expect({ seed, format, cuts, outcome: run.merged }).toEqual({
        seed,
        format,
        cuts,
        outcome: run.whole.outcome,
      });
      expect({ seed, quarantine: run.quarantine, valid: run.valid }).toEqual({
        seed,
        quarantine: run.whole.quarantineText,
        valid: run.whole.validText,
      });
    }
  });
});
