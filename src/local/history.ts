import type { HistoryEvent } from './asl-runner.js';

export interface StepRow {
  name: string;
  type: string;
  status: 'Succeeded' | 'Failed' | 'Caught' | 'Running' | 'Aborted';
  startedAt: number;
  durationMs?: number;
  retries: number;
  error?: string;
}

/** One row per state entered, as the console's graph/table view lists them. */
export function stepsOf(events: readonly HistoryEvent[]): StepRow[] {
  const rows: StepRow[] = [];
  const open = new Map<string, StepRow>();
  for (const event of events) {
    if (!event.step) continue;
    if (event.type.endsWith('StateEntered')) {
      const row: StepRow = {
        name: event.step,
        type: event.stateType ?? event.type.replace('StateEntered', ''),
        status: 'Running',
        startedAt: event.timestamp,
        retries: 0,
      };
      rows.push(row);
      open.set(event.step, row);
      continue;
    }
    const row = open.get(event.step);
    if (!row) continue;
    // A failed attempt stays open: a retry (the local TaskStateRetried, or Step Functions
    // scheduling the task again) reopens it, a Catch exits it, an uncaught failure ends the run.
    if (event.type === 'TaskStateRetried' || (event.type === 'TaskScheduled' && row.status === 'Failed')) {
      row.retries += 1;
      row.status = 'Running';
    } else if (event.type === 'TaskStateCaught') {
      row.status = 'Caught';
      row.durationMs = event.timestamp - row.startedAt;
    } else if (event.type.endsWith('Failed') && !event.type.startsWith('LambdaFunction')) {
      row.status = 'Failed';
      row.error = event.error;
      row.durationMs = event.timestamp - row.startedAt;
    } else if (event.type.endsWith('TimedOut')) {
      row.status = 'Failed';
      row.error = event.error ?? 'States.Timeout';
      row.durationMs = event.timestamp - row.startedAt;
    } else if (event.type === 'LambdaFunctionFailed') {
      row.error = event.error;
    } else if (event.type.endsWith('StateExited')) {
      if (row.status === 'Running') row.status = 'Succeeded';
      if (row.status === 'Failed') row.status = 'Caught';
      close(row, event);
    }
  }
  // Succeed and Fail states end the execution without an Exited event of their own.
  const last = events.at(-1);
  for (const row of open.values()) {
    if (row.status !== 'Running' || !last) continue;
    if (last.type === 'ExecutionAborted') row.status = 'Aborted';
    if (row.type === 'Succeed') row.status = 'Succeeded';
    if (row.type === 'Fail') {
      row.status = 'Failed';
      row.error = last.error;
    }
    row.durationMs = last.timestamp - row.startedAt;
  }
  return rows;

  function close(row: StepRow, event: HistoryEvent) {
    row.durationMs = event.timestamp - row.startedAt;
    open.delete(row.name);
  }
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
