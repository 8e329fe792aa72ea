import type { Readable } from 'node:stream';
import type {
  Body,
  ByteRange,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  SizedStream,
  Zone,
} from '../../lambdas/shared/object-store.js';

/** The calls of the object-store port, each of which a deployed run makes as one S3 request or more. */
export const STORE_CALLS = [
  'head',
  'read',
  'readText',
  'readVersioned',
  'putIfAbsent',
  'putIfMatch',
  'put',
  'list',
  'delete',
] as const;
export type StoreCall = (typeof STORE_CALLS)[number];

/** Calls made, by zone and by call; a zone or call that was not used is absent. */
export type StoreCallCounts = Partial<Record<Zone, Partial<Record<StoreCall, number>>>>;

/** Adds `n` calls of `call` on `zone` to `counts`. */
export function addCalls(counts: StoreCallCounts, zone: Zone, call: StoreCall, n = 1): void {
  const byCall = counts[zone] ?? {};
  byCall[call] = (byCall[call] ?? 0) + n;
  counts[zone] = byCall;
}

/**
 * An object store that counts the calls made through it and passes each one on unchanged, so that
 * a local run can be compared with what the cost model expects a deployed run to make
 * (`sluice run --count-requests`). Calls are counted when they are made, whether they succeed or not,
 * as S3 bills a request that fails.
 */
export class CountingObjectStore implements ObjectStore {
  private readonly calls: StoreCallCounts = {};

  /** `inner`: the store the calls go to, uncounted (see `uncounted`). */
  constructor(readonly inner: ObjectStore) {}

  /** A copy of the counts so far, zones and calls in a stable order. */
  counts(): StoreCallCounts {
    const copy: StoreCallCounts = {};
    for (const zone of Object.keys(this.calls).sort() as Zone[]) {
      const byCall = this.calls[zone]!;
      copy[zone] = Object.fromEntries(STORE_CALLS.filter((c) => byCall[c]).map((c) => [c, byCall[c]]));
    }
    return copy;
  }

  private count(zone: Zone, call: StoreCall): void {
    addCalls(this.calls, zone, call);
  }

  describe(zone: Zone, key: string): string {
    return this.inner.describe(zone, key);
  }

  head(zone: Zone, key: string): Promise<ObjectInfo | undefined> {
    this.count(zone, 'head');
    return this.inner.head(zone, key);
  }

  read(zone: Zone, key: string, range?: ByteRange): Promise<Readable> {
    this.count(zone, 'read');
    return this.inner.read(zone, key, range);
  }

  readText(zone: Zone, key: string): Promise<string> {
    this.count(zone, 'readText');
    return this.inner.readText(zone, key);
  }

  readVersioned(zone: Zone, key: string): Promise<{ text: string; etag: string } | undefined> {
    this.count(zone, 'readVersioned');
    return this.inner.readVersioned(zone, key);
  }

  putIfAbsent(zone: Zone, key: string, body: Body | SizedStream, options?: PutOptions): Promise<boolean> {
    this.count(zone, 'putIfAbsent');
    return this.inner.putIfAbsent(zone, key, body, options);
  }

  putIfMatch(
    zone: Zone,
    key: string,
    body: Body,
    etag: string | undefined,
    options?: PutOptions,
  ): Promise<boolean> {
    this.count(zone, 'putIfMatch');
    return this.inner.putIfMatch(zone, key, body, etag, options);
  }

  put(zone: Zone, key: string, body: Body | Readable, options?: PutOptions): Promise<void> {
    this.count(zone, 'put');
    return this.inner.put(zone, key, body, options);
  }

  list(zone: Zone, prefix: string): Promise<string[]> {
    this.count(zone, 'list');
    return this.inner.list(zone, prefix);
  }

  delete(zone: Zone, key: string): Promise<void> {
    this.count(zone, 'delete');
    return this.inner.delete(zone, key);
  }
}

/**
 * The store under a counting one (or the store itself): for what only a local run does, which the
 * counts compared with the cost model's leave out (removing a sharded run's spill from a local lake,
 * which deployed is the reports zone's lifecycle expiry and no request).
 */
export function uncounted(store: ObjectStore): ObjectStore {
  return store instanceof CountingObjectStore ? store.inner : store;
}
