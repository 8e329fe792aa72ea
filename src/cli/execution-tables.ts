/** An execution's history as the console shows it: the steps table and the events table. */
import type { ExecutionReport } from '../local/asl-runner.js';
import { duration, stepsOf } from '../local/history.js';
import { cut, table, terminalWidth } from './table.js';

/** The steps of an execution as a table: step, type, status, started, duration. */
export function renderSteps(report: Pick<ExecutionReport, 'events'>, width = terminalWidth()): string {
  const rows = stepsOf(report.events).map((row) => [
    row.name,
    row.type,
    row.status +
      (row.retries > 0 ? ` (${row.retries} ${row.retries === 1 ? 'retry' : 'retries'})` : '') +
      (row.error && row.status !== 'Succeeded' ? `: ${row.error}` : ''),
    clock(row.startedAt),
    row.durationMs === undefined ? '' : duration(row.durationMs),
  ]);
  return table(['Step', 'Type', 'Status', 'Started', 'Duration'], rows, width);
}

/** Every event, as the console's Events tab lists them: ID, type, step, resource, started after, time. */
export function renderEvents(
  report: Pick<ExecutionReport, 'events' | 'startedAt'>,
  width = terminalWidth(),
): string {
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
  const lines = table(['ID', 'Type', 'Step', 'Resource', 'Started after', 'Timestamp'], rows, width).split(
    '\n',
  );
  // Details (a build command and its output) go under their event's row, indented.
  const out: string[] = lines.slice(0, 2);
  report.events.forEach((event, i) => {
    out.push(lines[i + 2]!);
    if (event.detail) out.push(...event.detail.split('\n').map((line) => cut(`      │ ${line}`, width)));
  });
  return out.join('\n');
}

function clock(timestamp: number): string {
  return new Date(timestamp).toISOString().slice(11, 23);
}

function shortResource(resource: string | undefined): string {
  if (!resource) return '';
  const fn = /:function:(.+)$/.exec(resource);
  return fn ? `Lambda ${fn[1]}` : resource.replace('arn:aws:states:::', '');
}
