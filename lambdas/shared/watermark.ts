import { watermarkKey } from './keys.js';
import type { ObjectStore } from './object-store.js';
import type { Interval } from './schedule.js';

/**
 * How far a pulled source has been read, kept in the reports zone at `<dataset>/watermark.json`.
 * Only ever replaced by compare-and-swap (`ObjectStore.putIfMatch`): a run reads it with its ETag,
 * extracts, lands the bytes in raw, then moves it with `If-Match: <etag>`. Of two runs that read
 * the same watermark, one moves it and the other finds it changed and starts again from the new
 * one, so no row is extracted into two committed runs.
 */
export interface WatermarkState {
  dataset: string;
  /** The source type that keeps it (postgres, http). */
  source: string;
  /** Column or field the high-water mark is taken over. */
  column?: string;
  /** How `value` compares: as a number, a timestamp, or text. */
  kind?: 'number' | 'timestamp' | 'text';
  /** The high-water mark: everything up to and including it has been extracted. */
  value?: string;
  /** Where paging continues next run (an HTTP cursor or next-page URL), when a run stopped at its page limit. */
  cursor?: string;
  updatedAt: string;
  /** The latest moves, oldest first: the run that made each and its ingest result. */
  history: WatermarkCommit[];
}

export interface WatermarkCommit {
  runId: string;
  interval: Interval;
  from?: string;
  to?: string;
  at: string;
  executionId?: string;
  /** The ingest result of that run, so that a retry of the same interval returns it unchanged. */
  output: unknown;
}

/** How many moves the watermark remembers; older ones are in the run records and interval index. */
export const WATERMARK_HISTORY = 200;

export interface VersionedWatermark {
  state?: WatermarkState;
  /** ETag of what was read; undefined when there is no watermark yet. */
  etag?: string;
}

export async function readWatermark(store: ObjectStore, dataset: string): Promise<VersionedWatermark> {
  const current = await store.readVersioned('reports', watermarkKey(dataset));
  if (!current) return {};
  return { state: JSON.parse(current.text) as WatermarkState, etag: current.etag };
}

/** Moves the watermark if nobody moved it since it was read with `etag`; false when somebody did. */
export async function commitWatermark(
  store: ObjectStore,
  next: WatermarkState,
  etag: string | undefined,
): Promise<boolean> {
  const body = JSON.stringify({ ...next, history: next.history.slice(-WATERMARK_HISTORY) }, null, 2);
  return store.putIfMatch('reports', watermarkKey(next.dataset), body, etag, {
    contentType: 'application/json',
  });
}
