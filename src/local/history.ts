import type { ExecutionReport, HistoryEvent } from './asl-runner.js';

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

/** The steps of an execution as a table: step, type, status, started, duration. */
export function renderSteps(report: Pick<ExecutionReport, 'events'>): string {
  const rows = stepsOf(report.events).map((row) => [
    row.name,
    row.type,
    row.status +
      (row.retries > 0 ? ` (${row.retries} ${row.retries === 1 ? 'retry' : 'retries'})` : '') +
      (row.error && row.status !== 'Succeeded' ? `: ${row.error}` : ''),
    clock(row.startedAt),
    row.durationMs === undefined ? '' : duration(row.durationMs),
  ]);
  return table(['Step', 'Type', 'Status', 'Started', 'Duration'], rows);
}

/** Every event, as the console's Events tab lists them: ID, type, step, resource, started after, time. */
export function renderEvents(report: Pick<ExecutionReport, 'events' | 'startedAt'>): string {
  // As in the console, "started after" counts from the ExecutionStarted event.
  const start = report.events.find((e) => e.type === 'ExecutionStarted')?.timestamp ?? report.startedAt;
  const rows = report.events.map((event) => [
    String(event.id),
    event.type,
    event.step ?? '',
    shortResource(event.resource),
    duration(event.timestamp - start),
    new Date(event.timestamp).toISOString(),
  ]);
  const lines = table(['ID', 'Type', 'Step', 'Resource', 'Started after', 'Timestamp'], rows).split('\n');
  // Details (a build command and its output) go under their event's row, indented.
  const out: string[] = lines.slice(0, 2);
  report.events.forEach((event, i) => {
    out.push(lines[i + 2]!);
    if (event.detail) out.push(...event.detail.split('\n').map((line) => `      │ ${line}`));
  });
  return out.join('\n');
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function clock(timestamp: number): string {
  return new Date(timestamp).toISOString().slice(11, 23);
}

function shortResource(resource: string | undefined): string {
  if (!resource) return '';
  const fn = /:function:(.+)$/.exec(resource);
  return fn ? `Lambda ${fn[1]}` : resource.replace('arn:aws:states:::', '');
}
