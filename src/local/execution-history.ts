/**
 * The history of a local execution, as the Step Functions console shows it: the interpreter's
 * event log named as the console names events, with each function's own events between its
 * state's Entered and Exited lines.
 */
import type { StateMachine } from 'aws-local-stepfunctions';
import { type PayloadQuota, payloadBytes } from './payload-quota.js';

/** One line of execution history, named as the Step Functions console names events. */
export interface HistoryEvent {
  id: number;
  type: string;
  step?: string;
  stateType?: string;
  resource?: string;
  timestamp: number;
  error?: string;
  cause?: string;
  retryAttempt?: number;
  /** More lines to show under the event, e.g. a build command and its output. */
  detail?: string;
  /** Size in bytes of the JSON the event carries in (a state's input, a task's parameters), as Step Functions counts it. */
  inputBytes?: number;
  /** Size in bytes of the JSON the event carries out (a state's output, a task's result). */
  outputBytes?: number;
}

/** A run of the interpreter, and one event of its log. */
export type Execution = ReturnType<StateMachine['run']>;
type EventLog = Execution['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** The execution history, numbered in the order it is written. */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly pending = new Map<string, Array<Omit<HistoryEvent, 'id'>>>();

  constructor(private readonly onEvent?: (event: HistoryEvent) => void) {}

  emit(event: Omit<HistoryEvent, 'id' | 'timestamp'> & { timestamp?: number }): void {
    const full: HistoryEvent = { id: this.events.length + 1, timestamp: Date.now(), ...event };
    this.events.push(full);
    this.onEvent?.(full);
  }

  /**
   * A function's own events are held until the interpreter reports the state's next event, so that
   * they appear between the state's Entered and Exited lines as in the console.
   */
  record(event: Omit<HistoryEvent, 'id' | 'timestamp'>): void {
    const step = event.step ?? '';
    this.pending.set(step, [...(this.pending.get(step) ?? []), { ...event, timestamp: Date.now() }]);
  }

  flush(step: string): void {
    for (const event of this.pending.get(step) ?? []) this.emit(event);
    this.pending.delete(step);
  }
}

/** Writes the interpreter's event log into the history, as it happens. */
export async function recordEventLogs(
  execution: Execution,
  history: HistoryRecorder,
  resources: Readonly<Record<string, string>>,
  quota: PayloadQuota,
  /** The type to show for a state the interpreter runs as another (a Distributed Map run as a Task). */
  stateTypes: Readonly<Record<string, string>> = {},
): Promise<void> {
  for await (const log of execution.eventLogs) {
    if ('state' in log && log.type !== 'StateEntered') history.flush(log.state.name);
    const event = historyEventOf(log, resources, stateTypes);
    if (!event) continue;
    history.emit(event);
    // A state's whole input or output (not only a task's parameters and result) is bounded too;
    // seen here, after the state ran, so the execution is stopped before the next one.
    if (log.type === 'StateEntered' || log.type === 'StateExited') {
      const entered = log.type === 'StateEntered';
      const bytes = (entered ? event.inputBytes : event.outputBytes) ?? 0;
      if (quota.noteOver(`the ${entered ? 'input' : 'output'} of state '${log.state.name}'`, bytes)) {
        execution.abort();
      }
    }
  }
}

/** The history event of one interpreter event, named as the Step Functions console names it. */
function historyEventOf(
  log: EventLog,
  resources: Readonly<Record<string, string>>,
  stateTypes: Readonly<Record<string, string>>,
): (Omit<HistoryEvent, 'id' | 'timestamp'> & { timestamp: number }) | undefined {
  const base = { timestamp: log.timestamp };
  const stateType = 'state' in log ? (stateTypes[log.state.name] ?? log.state.type) : undefined;
  switch (log.type) {
    case 'ExecutionStarted':
      return { ...base, type: 'ExecutionStarted' };
    case 'ExecutionSucceeded':
      return { ...base, type: 'ExecutionSucceeded' };
    case 'ExecutionFailed':
      return { ...base, type: 'ExecutionFailed', error: log.Error, cause: String(log.Cause ?? '') };
    case 'ExecutionAborted':
      return { ...base, type: 'ExecutionAborted' };
    case 'StateEntered':
    case 'StateExited': {
      const entered = log.type === 'StateEntered';
      const bytes = payloadBytes(entered ? log.state.input : log.state.output);
      return {
        ...base,
        type: `${stateType}State${entered ? 'Entered' : 'Exited'}`,
        step: log.state.name,
        stateType,
        resource: resources[log.state.name],
        ...(entered ? { inputBytes: bytes } : { outputBytes: bytes }),
      };
    }
    case 'StateFailed':
      return {
        ...base,
        type: stateType === 'Task' ? 'TaskFailed' : `${stateType}StateFailed`,
        step: log.state.name,
        stateType,
        error: log.Error,
        cause: String(log.Cause ?? ''),
      };
    case 'StateRetried':
      return {
        ...base,
        type: 'TaskStateRetried',
        step: log.state.name,
        stateType,
        retryAttempt: log.retry.attempt,
      };
    case 'StateCaught':
      return { ...base, type: 'TaskStateCaught', step: log.state.name, stateType };
    default:
      return undefined;
  }
}
