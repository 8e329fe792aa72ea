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
import { countKey, type UnexpectedState } from './result-format.js';
import { countedValues } from './shard-merge.js';
import { linesBefore, type ShardOutcome, type SpillResults } from './shard-state.js';
import {
  type CrossShardDuplicate,
  checkPartition,
  type KeysPlan,
  repeatEvents,
  type SpilledKeys,
} from './shard-uniqueness.js';
import type { Spill } from './spill.js';
import { SELECT_LIMIT, type SpilledValues, selectRanks } from './spill-select.js';

export type { SpillResults } from './shard-state.js';
export type { CrossShardDuplicate, KeysPlan } from './shard-uniqueness.js';
export { checkPartition } from './shard-uniqueness.js';

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
  /** For a batch of several objects: whether each shard starts an object (as the merge's `files`). */
  firsts?: readonly boolean[];
}

/**
 * What the partition checks need: the partition count, where each shard's records start in the
 * whole input, and which evaluators spilled keys. Small (two numbers a shard): it can travel as
 * the Map's items.
 */
export function keysPlan(outcomes: readonly ShardOutcome[], firsts?: readonly boolean[]): KeysPlan {
  const shards: KeysPlan['shards'] = [];
  const before = linesBefore(outcomes, firsts);
  let index = 0;
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
    shards.push({ index, line: before[position]! - outcome.headerLines });
    index += outcome.rows.read;
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
  const plan = keysPlan(outcomes, options.firsts);
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
  const spilledPastCap = [...unexpectedStates(outcomes)].filter(([, states]) =>
    states.some((s) => s?.pastCap !== undefined && !Array.isArray(s.pastCap)),
  );
  if (spilledPastCap.length > 0) {
    // Which values the whole input counts depends on the merge alone (the record at which each
    // was first found), not on the counts past the caps: a merge without them tells.
    const withoutPastCap: SpillResults['pastCap'] = {};
    for (const [e, states] of spilledPastCap)
      withoutPastCap[e] = Object.fromEntries(states.map((_, k) => [k, []]));
    const counted = countedValues(contract, outcomes, {
      scope: options.scope,
      spilled: { ...results, pastCap: withoutPastCap },
    });
    results.pastCap = {};
    for (const [e, states] of spilledPastCap) {
      results.pastCap[e] = await readPastCap(spill, states, counted.get(e) ?? new Set());
    }
  }
  return results;
}

/** Each evaluator's (and the schema entry's, at -1) unexpected-value states, by shard. */
function unexpectedStates(
  outcomes: readonly ShardOutcome[],
): Map<number, Array<UnexpectedState | undefined>> {
  const byEvaluator = new Map<number, Array<UnexpectedState | undefined>>();
  const unexpectedOf = (state: unknown) => (state as { unexpected?: UnexpectedState } | null)?.unexpected;
  byEvaluator.set(
    -1,
    outcomes.map((o) => unexpectedOf(o.schema)),
  );
  const evaluators = outcomes[0]?.evaluators.length ?? 0;
  for (let e = 0; e < evaluators; e++)
    byEvaluator.set(
      e,
      outcomes.map((o) => unexpectedOf(o.evaluators[e])),
    );
  return byEvaluator;
}

/** Bytes of a spilled past-cap blob read at once. */
const PAST_CAP_READ = 8 << 20;

/**
 * The shards' spilled counts past their caps that the merge needs: those of the values the whole
 * input counts (`counted`, by countKey). Memory: those values' counts, a range of a blob at a time.
 */
async function readPastCap(
  spill: Spill,
  states: ReadonlyArray<UnexpectedState | undefined>,
  counted: ReadonlySet<unknown>,
): Promise<Record<number, Array<[unknown, number]>>> {
  const found: Record<number, Array<[unknown, number]>> = {};
  for (const [shard, state] of states.entries()) {
    const past = state?.pastCap;
    if (past === undefined || Array.isArray(past)) continue;
    const kept: Array<[unknown, number]> = [];
    await readJsonLines(spill, past.spilled, past.bytes, (entry) => {
      const pair = entry as [unknown, number];
      if (counted.has(countKey(pair[0]))) kept.push(pair);
    });
    found[shard] = kept;
  }
  return found;
}

/** Each line of a JSON Lines blob of `bytes` bytes, read a range at a time. */
async function readJsonLines(
  spill: Spill,
  name: string,
  bytes: number,
  each: (value: unknown) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  for (let start = 0; start < bytes; start += PAST_CAP_READ) {
    const chunk = await spill.get(name, { start, end: Math.min(bytes, start + PAST_CAP_READ) });
    const text = rest + decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line !== '') each(JSON.parse(line));
  }
  rest += decoder.decode();
  if (rest !== '') each(JSON.parse(rest));
}

function isSpilledKeys(keys: unknown): keys is SpilledKeys {
  return typeof keys === 'object' && keys !== null && 'spilled' in keys;
}

function isSpilledValues(values: unknown): values is SpilledValues {
  return typeof values === 'object' && values !== null && !Array.isArray(values) && 'spilled' in values;
}
