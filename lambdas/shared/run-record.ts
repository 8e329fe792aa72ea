import { createHash } from 'node:crypto';
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
}

export async function readRunRecord(
  store: ObjectStore,
  dataset: string,
  runId: string,
): Promise<RunRecord | undefined> {
  const key = runRecordKey(dataset, runId);
  if (!(await store.head('reports', key))) return undefined;
  return JSON.parse(await store.readText('reports', key)) as RunRecord;
}

/** Writes the latest record of a run, where readRunRecord finds it by dataset and run id. */
export async function writeRunRecord(store: ObjectStore, record: RunRecord): Promise<string> {
  const key = runRecordKey(record.dataset, record.runId);
  await store.put('reports', key, JSON.stringify(record, null, 2), { contentType: 'application/json' });
  return key;
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
