/**
 * Where a sharded run's spill lives in the lake, and how it goes. The spill (the shards'
 * uniqueness keys, median values, counts past their caps, the partition checks) is only the way
 * from the shards to the merge, which reads it within the run (and again when MergeResults is
 * retried). No pipeline function deletes from the lake: each spill object is written with
 * SPILL_TAG, and the reports bucket's lifecycle rule for that tag (infra/constructs/lake.ts)
 * expires it, and then its noncurrent version, a day later.
 */

/** A run's spill in the reports zone: `<dataset>/dt=…/run=<id>/spill/` (runPrefix + `spill/`). */
export function lakeSpillPrefix(runPrefixText: string): string {
  return `${runPrefixText}spill/`;
}

/** The object tag every spill object carries, and the reports lifecycle rule matches. */
export const SPILL_TAG = { key: 'sluice-spill', value: '1' } as const;
