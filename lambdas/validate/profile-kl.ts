/**
 * Partition objects for expect_column_kl_divergence_to_be_less_than from a profile: when the
 * contract gives none, a run is compared with the previous promoted run's distribution of the
 * column. Continuous (bucketize_data, GX's default): the profile's histogram bins and their shares;
 * categorical (bucketize_data: false): its values and their shares, when the profile lists every
 * distinct value (at most 50). Where the partition came from, or why there is none, is written in
 * the expectation's meta (`partition_source`), which the result shows.
 */
import type { Contract, ExpectationConfig } from '../shared/contract.js';
import { SuiteUnsupported } from '../shared/errors.js';
import type { ColumnProfile, Profile } from './profile.js';

export const KL_DIVERGENCE = 'expect_column_kl_divergence_to_be_less_than';

/** Whether an expectation wants its partition from the previous promoted run. */
export function wantsPreviousPartition(expectation: ExpectationConfig): boolean {
  return (
    expectation.type === KL_DIVERGENCE &&
    (expectation.kwargs.partition_object === undefined || expectation.kwargs.partition_object === null)
  );
}

/** A partition object for a column, from its profile, or why there is none. */
export function partitionFromProfile(
  column: ColumnProfile | undefined,
  bucketize: boolean,
): { partition: Record<string, unknown> } | { why: string } {
  if (column === undefined) return { why: 'the previous promoted run has no such column' };
  if (bucketize) {
    const h = column.histogram;
    if (!h || (column.type !== 'integer' && column.type !== 'number')) {
      return { why: `the previous promoted run's column is ${column.type}, not numbers, so it has no bins` };
    }
    const total = h.counts.reduce((a, b) => a + b, 0);
    return { partition: { bins: h.edges, weights: h.counts.map((c) => c / total) } };
  }
  const top = column.top;
  if (!top?.complete) {
    return {
      why: "the previous promoted run's profile lists only the most common values of the column (more than 50 distinct)",
    };
  }
  const total = top.values.reduce((a, v) => a + v.count, 0);
  return {
    partition: { values: top.values.map((v) => v.value), weights: top.values.map((v) => v.count / total) },
  };
}

/**
 * The contract with a partition object filled in on each KL divergence expectation that has none,
 * from `previous` (the latest promoted run's profile); without one, left as it is, with the reason.
 */
export function withPreviousPartitions(
  contract: Contract,
  previous: { runId: string; profile: Profile } | undefined,
): Contract {
  if (!contract.expectations.some(wantsPreviousPartition)) return contract;
  const expectations = contract.expectations.map((e) => {
    if (!wantsPreviousPartition(e)) return e;
    if (!previous) {
      return { ...e, meta: { ...e.meta, partition_source: 'none: no promoted run before this one' } };
    }
    const column = previous.profile.columns.find((c) => c.name === e.kwargs.column);
    const found = partitionFromProfile(column, e.kwargs.bucketize_data !== false);
    if ('why' in found) return { ...e, meta: { ...e.meta, partition_source: `none: ${found.why}` } };
    return {
      ...e,
      kwargs: { ...e.kwargs, partition_object: found.partition },
      meta: { ...e.meta, partition_source: `the profile of run ${previous.runId}` },
    };
  });
  return { ...contract, expectations };
}

/**
 * A KL divergence expectation without a partition object takes it from the previous promoted run
 * when a batch of the lake is validated in one pass; the sharded path (PlanShards and the shards it
 * plans) reads no earlier run, so such an expectation is refused there rather than compared with nothing.
 */
export function refuseUnshardable(contract: Contract): void {
  const unshardable = contract.expectations.flatMap((e, i) => (wantsPreviousPartition(e) ? [i] : []));
  if (unshardable.length === 0) return;
  throw new SuiteUnsupported(
    `contract '${contract.name}': ${unshardable.map((i) => `expectations[${i}]`).join(', ')} ` +
      `(${KL_DIVERGENCE}) take their partition_object from the previous promoted run, which a batch validated ` +
      'in shards does not read; give partition_object in the contract, or raise format.shard_mb above the batch size',
  );
}
