/**
 * Between the shards and the merge, when the shards wrote their keys and values to a spill
 * (validateShard's `spill` option): the partition checks of the uniqueness keys (the second
 * fan-out) and the selection of the median's and quantiles' values. What comes out is small (the
 * keys held by more than one shard, a few values an expectation) and is what mergeShardOutcomes
 * takes as its `spilled` option in place of the keys and values themselves.
 */
import type { Contract } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import { wantedRanks } from './column-aggregate-expectations.js';
import type { ShardOutcome } from './shard-state.js';
import {
  type CrossShardDuplicate,
  checkPartition,
  type KeysPlan,
  type RepeatEvent,
  repeatEvents,
  type SpilledKeys,
} from './shard-uniqueness.js';
import type { Spill } from './spill.js';
import { SELECT_LIMIT, type SpilledValues, selectRanks } from './spill-select.js';

export type { CrossShardDuplicate, KeysPlan } from './shard-uniqueness.js';
export { checkPartition } from './shard-uniqueness.js';

/** What the merge takes from the spill: by evaluator position, repeat events by shard (uniqueness) or [rank, value] pairs (median, quantiles). */
export interface SpillResults {
  evaluators: Record<number, Record<number, RepeatEvent[]> | Array<[number, number]>>;
}

export interface ResolveOptions {
  /** The contract's expectations of this scope were validated (as mergeShardOutcomes' `scope`). */
  scope?: 'batch' | 'snapshot';
  /**
   * Checks one partition (by default checkPartition on this process): deployed, one iteration
   * of a Map over `keysPlan(outcomes).partitions`; locally, a worker.
   */
  check?: (plan: KeysPlan, partition: number) => Promise<CrossShardDuplicate[]>;
  /** Partitions checked at once (default 1: memory holds one partition). */
  concurrency?: number;
  /** Values a selection sorts in memory at most (default SELECT_LIMIT). */
  selectLimit?: number;
}

/**
 * What the partition checks need: the partition count, where each shard's records start in the
 * whole input, and which evaluators spilled keys. Small (two numbers a shard): it can travel as
 * the Map's items.
 */
export function keysPlan(outcomes: readonly ShardOutcome[]): KeysPlan {
  const shards: KeysPlan['shards'] = [];
  let index = 0;
  let lines = 0;
  let partitions: number | undefined;
  for (const [position, outcome] of outcomes.entries()) {
    if (outcome.spill === undefined || outcome.spill.shard !== position) {
      throw new MalformedInput(
        `shard outcome ${position} was ${outcome.spill ? `spilled as shard ${outcome.spill.shard}` : 'not spilled'}; ` +
          'every shard must spill under its position in the input',
      );
    }
    partitions ??= outcome.spill.partitions;
    if (outcome.spill.partitions !== partitions) {
      throw new MalformedInput(
        `shard ${position} spilled its keys into ${outcome.spill.partitions} partitions, shard 0 into ${partitions}: every shard must use the same number`,
      );
    }
    shards.push({ index, line: lines - outcome.headerLines });
    index += outcome.rows.read;
    lines += outcome.lines;
  }
  const first = outcomes[0];
  const evaluators = (first?.evaluators ?? []).flatMap((state, e) =>
    isSpilledKeys((state as { keys?: unknown } | null)?.keys) ? [e] : [],
  );
  return { partitions: partitions ?? 1, shards, evaluators };
}

/**
 * Reads the spill once for the merge: every partition's cross-shard duplicates, and each median's
 * and quantile's values at the ranks it reads. Memory: one partition's keys (times `concurrency`),
 * the duplicates found, and SELECT_LIMIT values.
 */
export async function resolveSpill(
  contract: Contract,
  outcomes: readonly ShardOutcome[],
  spill: Spill,
  options: ResolveOptions = {},
): Promise<SpillResults> {
  const plan = keysPlan(outcomes);
  const check = options.check ?? ((p: KeysPlan, partition: number) => checkPartition(spill, p, partition));
  const duplicates: CrossShardDuplicate[] = [];
  let next = 0;
  const workers = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, async () => {
    for (let partition = next++; partition < plan.partitions; partition = next++) {
      duplicates.push(...(await check(plan, partition)));
    }
  });
  await Promise.all(workers);
  const results: SpillResults = { evaluators: {} };
  for (const e of plan.evaluators) {
    results.evaluators[e] = repeatEvents(duplicates.filter((d) => d.evaluator === e));
  }
  const snapshot = options.scope === 'snapshot';
  const configs = contract.expectations.filter((x) => (x.scope === 'snapshot') === snapshot);
  for (const [e, config] of configs.entries()) {
    const states = outcomes.map((o) => o.evaluators[e] as { values?: unknown; problem?: string } | null);
    if (!isSpilledValues(states[0]?.values)) continue;
    // One pass stops taking values at the first problem; the finding is then not evaluated at all.
    if (states.some((s) => s?.problem !== undefined)) {
      results.evaluators[e] = [];
      continue;
    }
    const shards = states.map((s) => (s!.values as SpilledValues).spilled);
    const n = shards.reduce((sum, s) => sum + s.n, 0);
    results.evaluators[e] = await selectRanks(
      spill,
      e,
      shards,
      wantedRanks(config, n),
      options.selectLimit ?? SELECT_LIMIT,
    );
  }
  return results;
}

function isSpilledKeys(keys: unknown): keys is SpilledKeys {
  return typeof keys === 'object' && keys !== null && 'spilled' in keys;
}

function isSpilledValues(values: unknown): values is SpilledValues {
  return typeof values === 'object' && values !== null && !Array.isArray(values) && 'spilled' in values;
}
