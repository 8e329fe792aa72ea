import { describe, expect, it } from '@jest/globals';
import { renderEvents, renderSteps } from '../../../src/cli/execution-tables.js';
import type { HistoryEvent } from '../../../src/local/asl-runner.js';
import { stepsOf } from '../../../src/local/history.js';

const at = (ms: number) => 1_800_000_000_000 + ms;
const events: HistoryEvent[] = [
  { id: 1, type: 'ExecutionStarted', timestamp: at(100) },
  { id: 2, type: 'TaskStateEntered', step: 'Ingest', stateType: 'Task', timestamp: at(100) },
  { id: 3, type: 'TaskStateRetried', step: 'Ingest', stateType: 'Task', timestamp: at(150) },
  { id: 4, type: 'TaskStateExited', step: 'Ingest', stateType: 'Task', timestamp: at(300) },
  { id: 5, type: 'TaskStateEntered', step: 'VersionWithDvc', stateType: 'Task', timestamp: at(300) },
  {
    id: 6,
    type: 'BuildCommandFailed',
    step: 'VersionWithDvc',
    detail: '[build] dvc push\nERROR: no remote',
    timestamp: at(900),
  },
  {
    id: 7,
    type: 'TaskFailed',
    step: 'VersionWithDvc',
    stateType: 'Task',
    error: 'States.TaskFailed',
    timestamp: at(1000),
  },
  { id: 8, type: 'FailStateEntered', step: 'RunFailed', stateType: 'Fail', timestamp: at(1010) },
  { id: 9, type: 'ExecutionFailed', error: 'VersioningFailed', timestamp: at(1011) },
];

describe('execution history', () => {
  it('gives each state one row with its status, retries and duration', () => {
    expect(stepsOf(events).map((r) => [r.name, r.status, r.retries, r.durationMs])).toEqual([
      ['Ingest', 'Succeeded', 1, 200],
      ['VersionWithDvc', 'Failed', 0, 700],
      ['RunFailed', 'Failed', 0, 1],
    ]);
  });

  it('shows the step under way when the execution was aborted as Aborted', () => {
    // Prepare
    const aborted: HistoryEvent[] = [
      ...events.slice(0, 5),
      { id: 6, type: 'ExecutionAborted', timestamp: at(800) },
    ];
    // Act
    const rows = stepsOf(aborted);
    // Assess
    expect(rows.map((r) => [r.name, r.status, r.durationMs])).toEqual([
      ['Ingest', 'Succeeded', 200],
      ['VersionWithDvc', 'Aborted', 500],
    ]);
  });

  it('names the error of a failed step in the steps table', () => {
    expect(renderSteps({ events })).toMatch(/VersionWithDvc\s+Task\s+Failed: States\.TaskFailed/);
  });

  it('counts "started after" from ExecutionStarted and shows build output under its event', () => {
    const text = renderEvents({ events, startedAt: at(0) });
    expect(text).toMatch(/^1\s+ExecutionStarted\s+0 ms/m);
    expect(text).toMatch(/^6\s+BuildCommandFailed\s+VersionWithDvc\s+800 ms/m);
    expect(text).toContain('│ ERROR: no remote');
  });
});
