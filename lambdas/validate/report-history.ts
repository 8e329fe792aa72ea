/**
 * A dataset's runs as the reports zone knows them: their reports, their run records (status,
 * times, rows, version tag), and the profile of the latest promoted run, which a new run compares
 * itself with (drift) and takes partitions from (expect_column_kl_divergence_to_be_less_than).
 */
import { runPrefix } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import type { RunRecord } from '../shared/run-record.js';
import type { Profile } from './profile.js';

/** A run's profile, next to its validation.json. */
export function profileKey(run: { dataset: string; dt: string; runId: string }): string {
  return `${runPrefix(run)}profile.json`;
}

/** What profile.json holds: the run, its column profiles, and its drift from the run before (if any). */
export interface StoredProfile {
  dataset: string;
  run_id: string;
  dt: string;
  profile: Profile;
  drift?: unknown;
}

/** One run in a dataset's history: where its report is, and its record when one was read. */
export interface HistoryEntry {
  dt: string;
  runId: string;
  record?: RunRecord;
}

/**
 * The runs that have a validation report under a dataset's reports prefix, from the keys
 * (`<dataset>/dt=<date>/run=<id>/validation.json`), in the order of the keys.
 */
export function reportedRuns(dataset: string, keys: readonly string[]): HistoryEntry[] {
  const pattern = /^dt=([^/]+)\/run=([^/]+)\/validation\.json$/;
  const runs: HistoryEntry[] = [];
  for (const key of keys) {
    if (!key.startsWith(`${dataset}/`)) continue;
    const match = pattern.exec(key.slice(dataset.length + 1));
    if (match) runs.push({ dt: match[1]!, runId: match[2]! });
  }
  return runs;
}

/** The runs under a dataset's reports prefix, from their keys, newest date first (by run id within a date). */
export function runsInKeys(dataset: string, keys: readonly string[]): HistoryEntry[] {
  return reportedRuns(dataset, keys).sort((a, b) =>
    a.dt === b.dt ? b.runId.localeCompare(a.runId) : b.dt.localeCompare(a.dt),
  );
}

/** Reads the run records of `runs` that exist among `keys` (a record being rewritten is skipped). */
export async function withRecords(
  store: ObjectStore,
  dataset: string,
  runs: HistoryEntry[],
  keys: readonly string[],
): Promise<void> {
  const present = new Set(keys);
  await Promise.all(
    runs.map(async (entry) => {
      const key = `${dataset}/runs/${entry.runId}.json`;
      if (!present.has(key)) return;
      try {
        entry.record = JSON.parse(await store.readText('reports', key)) as RunRecord;
      } catch {
        // A record being rewritten or unreadable leaves the run without one; its report still counts.
      }
    }),
  );
}

/** When a run happened, for ordering runs in time: its start, else its end, else its date. */
export function runTime(entry: HistoryEntry): string {
  return entry.record?.startedAt ?? entry.record?.finishedAt ?? entry.dt;
}

/** The latest run other than `runId` whose record says it succeeded with a promotion. */
export function latestPromoted(runs: readonly HistoryEntry[], runId: string): HistoryEntry | undefined {
  let latest: HistoryEntry | undefined;
  for (const entry of runs) {
    const r = entry.record;
    if (entry.runId === runId || r?.status !== 'SUCCEEDED' || !(r.promotion || r.validation?.promote))
      continue;
    if (latest === undefined || runTime(entry) > runTime(latest)) latest = entry;
  }
  return latest;
}

/** Runs whose records are read, newest first; older runs are listed by their keys only. */
export const RUNS_WITH_RECORDS = 50;

/** The dataset's history (records of the newest RUNS_WITH_RECORDS runs) and the keys it was found from. */
export async function readHistory(
  store: ObjectStore,
  dataset: string,
): Promise<{ runs: HistoryEntry[]; keys: string[] }> {
  const keys = await store.list('reports', `${dataset}/`);
  const runs = runsInKeys(dataset, keys);
  await withRecords(store, dataset, runs.slice(0, RUNS_WITH_RECORDS), keys);
  return { runs, keys };
}

/** The profile of the latest promoted run before `runId`, when it has one. */
export async function previousPromotedProfile(
  store: ObjectStore,
  dataset: string,
  runs: readonly HistoryEntry[],
  runId: string,
): Promise<{ run: HistoryEntry; profile: Profile } | undefined> {
  const previous = latestPromoted(runs, runId);
  if (!previous) return undefined;
  const key = profileKey({ dataset, dt: previous.dt, runId: previous.runId });
  if (!(await store.head('reports', key))) return undefined;
  const stored = JSON.parse(await store.readText('reports', key)) as StoredProfile;
  return { run: previous, profile: stored.profile };
}
