import type { Contract } from '../shared/contract.js';
import { isProgrammingError } from '../shared/errors.js';
import { dateOf, lineagePrefix, runAttemptKey, runRecordKey } from '../shared/keys.js';
import type { LineageSettings } from '../shared/lineage-transport.js';
import type { ObjectStore } from '../shared/object-store.js';
import { type RunRecord, runIdOfTrigger, updateRunRecord } from '../shared/run-record.js';
import { emitRunEnd, emitRunStart, type RunLineageFacts, type RunLineageRecord } from './lineage.js';

/** The execution state as the state machine holds it when the run ends. */
export interface PipelineState {
  dataset: string;
  trigger?: { time?: string; [field: string]: unknown };
  ingest?: {
    runId: string;
    dt: string;
    rawKey: string;
    manifestKey: string;
    sha256: string;
    size: number;
    empty?: boolean;
  };
  validation?: NonNullable<RunRecord['validation']>;
  promotion?: { curatedKey: string; size: number; tag?: string };
  /** The Version step's build: its id and the variables the buildspec exports. */
  version?: { buildId: string; exported?: Array<{ Name: string; Value: string }> };
  error?: { Error: string; Cause?: unknown };
}

export interface RecordRunInput {
  /** RUNNING: the run's batch is in raw and its validation begins (RecordRunStarted); the others end it. */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  state: PipelineState;
  executionId?: string;
  startedAt?: string;
}

export interface RecordRunPorts {
  store: ObjectStore;
  clock?: () => Date;
  /** Where OpenLineage events go besides the reports zone; without it, the reports zone only. */
  lineage?: LineageSettings;
  /** The contracts, for the schema of the curated output in lineage events. */
  contracts?: ReadonlyMap<string, Contract>;
  warn?: (message: string, details: Record<string, unknown>) => void;
}

/** The OpenLineage event that ends a run of each status. */
const END_EVENTS = { SUCCEEDED: 'COMPLETE', FAILED: 'FAIL', ABORTED: 'ABORT' } as const;

/**
 * Writes the record of a finished run to the reports zone: the latest record by run id, and one
 * record per attempt. A run whose ingest failed has no run id in the state: it is recorded on the
 * run the ingest recorded before it failed (a partner batch whose checksums do not match), else
 * under an id derived from its trigger. The latest record is written by compare-and-swap and never
 * turns a SUCCEEDED run into anything else: an attempt that ends after its run succeeded is listed
 * among the record's `attempts` (see `settleRunRecord`).
 */
export async function recordRun(
  input: RecordRunInput,
  ports: RecordRunPorts,
): Promise<{ recordKey: string; lineage: RunLineageRecord }> {
  const { state } = input;
  const clock = ports.clock ?? (() => new Date());
  const now = clock();
  const runId = state.ingest?.runId ?? (await runIdOfTrigger(ports.store, state.dataset, state.trigger));
  const facts = lineageFacts(input, runId, now);
  const lineagePorts = { ...ports, clock };
  if (input.status === 'RUNNING') {
    // The ingest has claimed the run's record as RUNNING; this step leaves it as it is.
    const undelivered = await emitRunStart(facts, lineagePorts);
    const prefix = lineagePrefix(state.dataset, runId, facts.startedAt);
    return {
      recordKey: runRecordKey(state.dataset, runId),
      lineage: { prefix, ...(undelivered.length > 0 ? { undelivered } : {}) },
    };
  }
  const lineage = await endLineage(END_EVENTS[input.status], facts, lineagePorts);
  let attempt: RunRecord | undefined;
  const { key } = await updateRunRecord(ports.store, state.dataset, runId, (previous) => {
    attempt = { ...attemptRecord(input, runId, now, previous), lineage };
    return attempt;
  });
  // The attempt's own record, as this execution ended, whatever the latest record shows.
  const { attempts: _, ...own } = attempt!;
  await ports.store.put(
    'reports',
    runAttemptKey(state.dataset, runId, own.startedAt ?? now.toISOString()),
    JSON.stringify(own, null, 2),
    {
      contentType: 'application/json',
    },
  );
  return { recordKey: key, lineage };
}

/**
 * The end event of the run's lineage. The run is recorded whatever happens to its lineage: a
 * lineage server that does not answer is noted by the transport, and a lineage event that could
 * not be built from the lake (a report missing, the reports zone refusing a write) is noted in the
 * record; a programming error is not hidden this way.
 */
async function endLineage(
  eventType: (typeof END_EVENTS)[keyof typeof END_EVENTS],
  facts: RunLineageFacts,
  ports: Parameters<typeof emitRunEnd>[2],
): Promise<RunLineageRecord> {
  try {
    return await emitRunEnd(eventType, facts, ports);
  } catch (error) {
    if (isProgrammingError(error)) throw error;
    const message = `${(error as Error).name}: ${(error as Error).message}`;
    ports.warn?.(`OpenLineage ${eventType} event of run ${facts.runId} not emitted: ${message}`, {});
    return { prefix: lineagePrefix(facts.dataset, facts.runId, facts.startedAt), error: message };
  }
}

/** What the lineage of this attempt is built from. */
function lineageFacts(input: RecordRunInput, runId: string, now: Date): RunLineageFacts {
  const { state } = input;
  return {
    dataset: state.dataset,
    runId,
    startedAt: input.startedAt ?? now.toISOString(),
    ...(input.executionId ? { executionId: input.executionId } : {}),
    ...(state.ingest ? { ingest: state.ingest } : {}),
    ...(state.validation ? { validation: state.validation } : {}),
    ...(state.promotion ? { promotion: state.promotion } : {}),
    ...(state.version ? { version: versionOf(state.version) } : {}),
    ...(input.status !== 'SUCCEEDED' && state.error ? { error: describeError(state.error) } : {}),
  };
}

/** The record of this attempt, on top of what the run's record held before it. */
function attemptRecord(
  input: RecordRunInput,
  runId: string,
  now: Date,
  previous: RunRecord | undefined,
): RunRecord {
  const { state } = input;
  const record: RunRecord = {
    ...(previous ?? {}),
    dataset: state.dataset,
    runId,
    dt: state.ingest?.dt ?? previous?.dt ?? dateOf(state.trigger?.time ?? now),
    status: input.status,
    executionId: input.executionId ?? previous?.executionId,
    startedAt: input.startedAt ?? previous?.startedAt,
    finishedAt: now.toISOString(),
    trigger: state.trigger,
    ...(state.validation ? { validation: state.validation } : {}),
    ...(state.promotion ? { promotion: state.promotion } : {}),
    ...(state.version ? { version: versionOf(state.version) } : {}),
  };
  if (input.status !== 'SUCCEEDED' && state.error) record.error = describeError(state.error);
  else delete record.error;
  return record;
}

/**
 * Step Functions hands a Lambda error over as `{ Error, Cause }` where Cause is the JSON of
 * `{ errorType, errorMessage, trace }`; locally and for Pass-state errors it is the message itself.
 */
export function describeError(error: { Error: string; Cause?: unknown }): { name: string; message: string } {
  const cause = error.Cause;
  if (typeof cause === 'string') {
    try {
      const parsed = JSON.parse(cause) as BuildCause & { errorMessage?: string };
      if (parsed && typeof parsed.errorMessage === 'string') {
        return { name: error.Error, message: parsed.errorMessage };
      }
      if (parsed && typeof parsed.BuildStatus === 'string')
        return { name: error.Error, message: describeBuild(parsed) };
    } catch {
      // a plain message
    }
    return { name: error.Error, message: cause };
  }
  return { name: error.Error, message: cause === undefined ? '' : JSON.stringify(cause) };
}

/** What `codebuild:startBuild.sync` gives as the cause of a failed build (the local runner adds the failed command). */
interface BuildCause {
  Id?: string;
  BuildStatus?: string;
  FailedPhase?: string;
  FailedCommand?: string;
  Output?: string;
}

export function describeBuild(build: BuildCause): string {
  const where = build.FailedPhase ? ` in phase ${build.FailedPhase}` : '';
  const command = build.FailedCommand ? `, at: ${build.FailedCommand}` : '';
  const output = build.Output ? `\n${build.Output}` : `; see the build's log for ${build.Id ?? 'the build'}`;
  return `build ${build.BuildStatus?.toLowerCase()}${where}${command}${output}`;
}

function versionOf(build: NonNullable<PipelineState['version']>): NonNullable<RunRecord['version']> {
  const exported = Object.fromEntries((build.exported ?? []).map((v) => [v.Name, v.Value]));
  return {
    buildId: build.buildId,
    tag: exported.SLUICE_VERSION_TAG || undefined,
    commit: exported.SLUICE_VERSION_COMMIT,
    md5: exported.SLUICE_DVC_MD5,
    changed: exported.SLUICE_VERSION_CHANGED === 'true',
  };
}
