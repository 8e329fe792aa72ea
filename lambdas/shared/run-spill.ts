/**
 * Where a sharded run's spill lives in the lake, and its removal. The spill (the shards'
 * uniqueness keys, median values, counts past their caps, the partition checks) is only the way
 * from the shards to the merge. The merge keeps it (a retried MergeResults reads it again); the
 * run's record (lambdas/record-run), written when the run has ended whichever way, removes it.
 */
import { type RunLocation, runPrefix } from './keys.js';
import type { ObjectStore } from './object-store.js';

/** A run's spill in the reports zone: `<dataset>/dt=…/run=<id>/spill/` (runPrefix + `spill/`). */
export function lakeSpillPrefix(runPrefixText: string): string {
  return `${runPrefixText}spill/`;
}

/** Deletes issued at once when removing a spill. */
const DELETES_AT_ONCE = 16;

/** Removes every object of the run's spill (none is fine); returns how many there were. */
export async function deleteRunSpill(store: ObjectStore, run: RunLocation): Promise<number> {
  const keys = await store.list('reports', lakeSpillPrefix(runPrefix(run)));
  let next = 0;
  const deleters = Array.from({ length: Math.min(DELETES_AT_ONCE, keys.length) }, async () => {
    for (let k = next++; k < keys.length; k = next++) await store.delete('reports', keys[k]!);
  });
  await Promise.all(deleters);
  return keys.length;
}
