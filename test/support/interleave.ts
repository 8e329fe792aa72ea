import type { ObjectStore } from '../../lambdas/shared/object-store.js';

/**
 * Makes another writer (`other`) write `key` just before the store's first conditional write of
 * it, so that the first writer's compare-and-swap fails once, as when two executions write the
 * same object at the same moment: deterministic, with no timing involved. `outcomes` lists what
 * each conditional write of `key` returned, in order.
 */
export function interleaveOnce(
  store: ObjectStore,
  key: string,
  other: () => Promise<unknown>,
): { outcomes: boolean[] } {
  const outcomes: boolean[] = [];
  const putIfMatch = store.putIfMatch.bind(store);
  let pending: (() => Promise<unknown>) | undefined = other;
  store.putIfMatch = async (zone, written, body, etag, options) => {
    if (written !== key) return putIfMatch(zone, written, body, etag, options);
    const interleaved = pending;
    pending = undefined;
    await interleaved?.();
    const outcome = await putIfMatch(zone, written, body, etag, options);
    outcomes.push(outcome);
    return outcome;
  };
  return { outcomes };
}
