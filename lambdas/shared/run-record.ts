import { createHash } from 'node:crypto';
import { InternalError } from './errors.js';
import { runRecordKey, triggerRunKey } from './keys.js';
import type { ObjectStore } from './object-store.js';

/** ABORTED: a local run stopped by Ctrl-C or SIGTERM before it finished. */
export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** What the reports zone keeps about one run, success or failure. */
export interface RunRecord {
  dataset: string;
  runId: string;
  dt: string;
  status: RunStatus;
  executionId?: string;
  startedAt?: string;
  finishedAt?: string;
  trigger?: unknown;
  source?: { zone: 'landing'; key: string; sha256: string; size: number };
  /** The batch's first raw object, its manifest (which lists every object) and how many objects it has. */
  raw?: { key: string; manifestKey: string; files?: number };
  /** A run of a pulled source: its data interval, the watermark it moved, what it extracted. */
  pulled?: {
    type: string;
    interval: { start: string; end: string };
    watermark?: { column?: string; from?: string; to?: string };
    files: number;
    records?: number;
    sha256: string;
    size: number;
  };
  validation?: {
    success: boolean;
    promote: boolean;
    summary: string;
    rows: { read: number; valid: number; quarantined: number };
    statistics: unknown;
    reportKey: string;
    validatedKey: string;
    quarantineKey: string;
  };
  promotion?: { curatedKey: string; size: number; tag?: string };
  /** The DVC version of the curated snapshot: its git tag, commit and DVC md5. */
  version?: { buildId: string; tag?: string; commit?: string; md5?: string; changed: boolean };
  error?: { name: string; message: string };
  /**
   * The OpenLineage events of the attempt the record shows: where they are in the reports zone,
   * and the events a transport (SLUICE_OPENLINEAGE_URL) did not take.
   */
  lineage?: {
    prefix: string;
    undelivered?: Array<{ eventType: string; target: string; error: string }>;
    error?: string;
  };
  /**
   * Other attempts of the same run, oldest first, whose outcome the record does not show: a
   * failure that a later attempt replaced, or an attempt that ended after the run had succeeded.
   * Absent in records written before attempts were kept, and while a run has had one attempt.
   */
  attempts?: RunAttempt[];
}

/** One execution's attempt at a run, as the run's record keeps it. */
export interface RunAttempt {
  status: Exclude<RunStatus, 'RUNNING'>;
  executionId?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: { name: string; message: string };
}

/** How many attempts a record lists; each attempt recorded by the state machine also has its own object. */
export const RUN_ATTEMPTS_KEPT = 100;

export async function readRunRecord(
  store: ObjectStore,
  dataset: string,
  runId: string,
): Promise<RunRecord | undefined> {
  const key = runRecordKey(dataset, runId);
  if (!(await store.head('reports', key))) return undefined;
  return JSON.parse(await store.readText('reports', key)) as RunRecord;
}

/**
 * The record of a run once `next` has been written over `current`. A SUCCEEDED record is final for
 * its run id: an attempt of the same run that ends later (the loser of two executions of the same
 * bytes, failing at a later step or succeeding again) is listed under `attempts` and changes
 * nothing else, and a later RUNNING claim is ignored. Any other record is replaced, and the
 * outcome it showed is kept under `attempts`, so that a re-run after a failure turns FAILED into
 * SUCCEEDED without losing the failure.
 */
export function settleRunRecord(current: RunRecord | undefined, next: RunRecord): RunRecord {
  const kept = current?.attempts ?? [];
  if (current?.status === 'SUCCEEDED') {
    const ignored = attemptOf(next);
    if (!ignored || sameAttempt(ignored, current)) return current;
    return { ...current, attempts: withAttempt(kept, ignored) };
  }
  const replaced = current && attemptOf(current);
  const attempts = replaced && !sameAttempt(replaced, next) ? withAttempt(kept, replaced) : kept;
  const { attempts: _, ...fields } = next;
  return attempts.length > 0 ? { ...fields, attempts } : fields;
}

function attemptOf(record: RunRecord): RunAttempt | undefined {
  if (record.status === 'RUNNING') return undefined;
  return {
    status: record.status,
    executionId: record.executionId,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    ...(record.error ? { error: record.error } : {}),
  };
}

/** The same execution's attempt written again (a retried record step), not a second attempt. */
function sameAttempt(a: Pick<RunAttempt, 'executionId' | 'startedAt'>, b: typeof a): boolean {
  if (a.executionId === undefined && a.startedAt === undefined) return false;
  return a.executionId === b.executionId && a.startedAt === b.startedAt;
}

function withAttempt(attempts: RunAttempt[], attempt: RunAttempt): RunAttempt[] {
  return [...attempts.filter((kept) => !sameAttempt(kept, attempt)), attempt].slice(-RUN_ATTEMPTS_KEPT);
}

/** Conditional writes of one record before the store is taken to be broken; see updateRunRecord. */
const MAX_RECORD_WRITES = 50;

/**
 * Writes a run's record by compare-and-swap: reads it with its ETag, builds the next record from
 * it, settles the two (`settleRunRecord`) and replaces it only if nobody wrote it meanwhile (S3
 * `If-Match`); otherwise reads it again and builds again, so that of two writers neither loses
 * the other's update. Returns the record as written (or as found, when there was nothing to change).
 */
export async function updateRunRecord(
  store: ObjectStore,
  dataset: string,
  runId: string,
  build: (current: RunRecord | undefined) => RunRecord,
): Promise<{ key: string; record: RunRecord }> {
  const key = runRecordKey(dataset, runId);
  // Each lost race means another writer's update landed, and a run id has a handful of writers
  // (its executions' ingest claim and record step), so this ends; the bound is for a broken store.
  for (let attempt = 0; attempt < MAX_RECORD_WRITES; attempt += 1) {
    const read = await store.readVersioned('reports', key);
    const current = read && (JSON.parse(read.text) as RunRecord);
    const record = settleRunRecord(current, build(current));
    if (read && record === current) return { key, record };
    const body = JSON.stringify(record, null, 2);
    if (await store.putIfMatch('reports', key, body, read?.etag, { contentType: 'application/json' })) {
      return { key, record };
    }
  }
  throw new InternalError(
    `${store.describe('reports', key)} was changed by another writer on each of ${MAX_RECORD_WRITES} compare-and-swap writes; ` +
      'expected a run record to have a few writers at most: the store does not honour conditional writes as S3 does.',
  );
}

/** Writes a run's record over the one there (see `updateRunRecord`), where readRunRecord finds it. */
export async function writeRunRecord(store: ObjectStore, record: RunRecord): Promise<string> {
  return (await updateRunRecord(store, record.dataset, record.runId, () => record)).key;
}

/** The id of a run that failed before its bytes were hashed: derived from its trigger. */
export function triggerRunId(trigger: unknown): string {
  return `trigger-${createHash('sha256')
    .update(JSON.stringify(trigger ?? {}))
    .digest('hex')
    .slice(0, 16)}`;
}

/** Notes that a trigger became the run `runId`, for a failure path that knows only the trigger. */
export async function writeTriggerRun(
  store: ObjectStore,
  dataset: string,
  trigger: unknown,
  runId: string,
): Promise<void> {
  await store.put('reports', triggerRunKey(dataset, triggerRunId(trigger)), JSON.stringify({ runId }), {
    contentType: 'application/json',
  });
}

/** The run a trigger became, when the ingest noted it; else the id derived from the trigger. */
export async function runIdOfTrigger(store: ObjectStore, dataset: string, trigger: unknown): Promise<string> {
  const key = triggerRunKey(dataset, triggerRunId(trigger));
  if (!(await store.head('reports', key))) return triggerRunId(trigger);
  return (JSON.parse(await store.readText('reports', key)) as { runId: string }).runId;
}
