import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { deployedHistoryCommand, historyEventsOf } from '../../../src/cli/deployed-history.js';
import { stepsOf } from '../../../src/local/history.js';
import { STATE_MACHINE_ARN } from './support.js';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'eu-west-1' });
const ingestFn = 'arn:aws:lambda:eu-west-1:123456789012:function:Sluice-Ingest';
const executionArn =
  'arn:aws:states:eu-west-1:123456789012:execution:SluicePipeline:shop-orders-20261125T120000Z';
const t = (seconds: number) => new Date(Date.UTC(2026, 10, 25, 13, 0, seconds));
const lambdaScheduled = (id: number, at: number): HistoryEvent => ({
  id,
  type: 'TaskScheduled',
  timestamp: t(at),
  taskScheduledEventDetails: {
    resourceType: 'lambda',
    resource: 'invoke',
    region: 'eu-west-1',
    parameters: JSON.stringify({ FunctionName: ingestFn, Payload: {} }),
  },
});

// What GetExecutionHistory returns for a run whose Ingest failed once, was retried, then succeeded.
const sfnEvents: HistoryEvent[] = [
  { id: 1, type: 'ExecutionStarted', timestamp: t(0) },
  { id: 2, type: 'TaskStateEntered', timestamp: t(0), stateEnteredEventDetails: { name: 'Ingest' } },
  lambdaScheduled(3, 0),
  { id: 4, type: 'TaskStarted', timestamp: t(0) },
  {
    id: 5,
    type: 'TaskFailed',
    timestamp: t(1),
    taskFailedEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'SourceUnavailable',
      cause: 'HTTP 503',
    },
  },
  lambdaScheduled(6, 3),
  { id: 7, type: 'TaskStarted', timestamp: t(3) },
  { id: 8, type: 'TaskSucceeded', timestamp: t(4) },
  { id: 9, type: 'TaskStateExited', timestamp: t(4), stateExitedEventDetails: { name: 'Ingest' } },
  {
    id: 10,
    type: 'ChoiceStateEntered',
    timestamp: t(4),
    stateEnteredEventDetails: { name: 'IsAlreadyProcessed' },
  },
  {
    id: 11,
    type: 'ChoiceStateExited',
    timestamp: t(4),
    stateExitedEventDetails: { name: 'IsAlreadyProcessed' },
  },
  {
    id: 12,
    type: 'SucceedStateEntered',
    timestamp: t(4),
    stateEnteredEventDetails: { name: 'AlreadyProcessed' },
  },
  {
    id: 13,
    type: 'SucceedStateExited',
    timestamp: t(4),
    stateExitedEventDetails: { name: 'AlreadyProcessed' },
  },
  { id: 14, type: 'ExecutionSucceeded', timestamp: t(4) },
];

beforeEach(() => {
  sfn.reset();
});

describe('sluice history of a deployed execution', () => {
  it('maps Step Functions events onto the local history, task events under the state that ran them', () => {
    // Act
    const events = historyEventsOf(sfnEvents);
    // Assess
    expect(events[2]).toMatchObject({ type: 'TaskScheduled', step: 'Ingest', resource: ingestFn });
    expect(events[4]).toMatchObject({
      type: 'TaskFailed',
      step: 'Ingest',
      error: 'SourceUnavailable',
      cause: 'HTTP 503',
    });
    expect(events[9]).toMatchObject({
      type: 'ChoiceStateEntered',
      step: 'IsAlreadyProcessed',
      stateType: 'Choice',
    });
    expect(events[13]).toMatchObject({ type: 'ExecutionSucceeded' });
    expect(events[13]!.step).toBeUndefined();
  });

  it('shows a task that failed and was retried as one succeeded step with its retry', () => {
    // Act
    const steps = stepsOf(historyEventsOf(sfnEvents));
    // Assess
    expect(steps.map((s) => [s.name, s.type, s.status, s.retries])).toEqual([
      ['Ingest', 'Task', 'Succeeded', 1],
      ['IsAlreadyProcessed', 'Choice', 'Succeeded', 0],
      ['AlreadyProcessed', 'Succeed', 'Succeeded', 0],
    ]);
    expect(steps[0]!.durationMs).toBe(4000);
  });

  it('prints the same step table as a local run, from an execution name', async () => {
    // Prepare
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn,
      name: 'shop-orders-20261125T120000Z',
      status: 'SUCCEEDED',
      startDate: t(0),
      stopDate: t(4),
      input: '{"dataset":"shop-orders"}',
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({ events: sfnEvents.slice(0, 7), nextToken: 'page-2' })
      .resolvesOnce({ events: sfnEvents.slice(7) });
    let printed = '';
    // Act
    const code = await deployedHistoryCommand(
      'shop-orders-20261125T120000Z',
      { stateMachineArn: STATE_MACHINE_ARN },
      { sfn: client, out: (text) => (printed += text) },
    );
    // Assess
    expect(code).toBe(0);
    expect(printed).toMatch(/Execution shop-orders-20261125T120000Z: SUCCEEDED in 4.00 s/);
    expect(printed).toMatch(/Step\s+Type\s+Status\s+Started\s+Duration/);
    expect(printed).toMatch(/Ingest\s+Task\s+Succeeded \(1 retry\)\s+13:00:00.000\s+4.00 s/);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[1]!.args[0].input.nextToken).toBe('page-2');
  });

  it('finds the newest execution of a dataset when given its name', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand, {
        executionArn: executionArn.replace('shop-orders-20261125T120000Z', 'shop-orders'),
      })
      .rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }))
      .on(DescribeExecutionCommand, { executionArn: 'arn:generated' })
      .resolves({
        status: 'FAILED',
        name: 'f3a1',
        startDate: t(0),
        stopDate: t(9),
        input: '{"dataset":"shop-orders"}',
        error: 'SourceUnavailable',
        cause: 'HTTP 503 after 5 attempts',
      })
      .on(ListExecutionsCommand)
      .resolves({
        executions: [
          {
            executionArn: 'arn:generated',
            name: 'f3a1',
            stateMachineArn: STATE_MACHINE_ARN,
            status: 'FAILED',
            startDate: t(0),
          },
        ],
      })
      .on(GetExecutionHistoryCommand)
      .resolves({ events: [{ id: 1, type: 'ExecutionStarted', timestamp: t(0) }] });
    let printed = '';
    // Act
    await deployedHistoryCommand(
      'shop-orders',
      { stateMachineArn: STATE_MACHINE_ARN, events: true },
      { sfn: client, out: (text) => (printed += text) },
    );
    // Assess
    expect(printed).toMatch(/Execution f3a1: FAILED in 9.00 s/);
    expect(printed).toMatch(/ID\s+Type\s+Step\s+Resource/);
    expect(printed).toMatch(/SourceUnavailable: HTTP 503 after 5 attempts/);
  });
});
