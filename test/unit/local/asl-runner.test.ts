import { describe, expect, it } from '@jest/globals';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  type LocalFunction,
  localFunctionArn,
  PAYLOAD_LIMIT_BYTES,
  runExecution,
} from '../../../src/local/asl-runner.js';

// Step Functions fails a task or state whose payload is over 256 KiB with States.DataLimitExceeded,
// which no Retry or Catch handles; the local runner must do the same, or such a bug only shows deployed.

const arn = localFunctionArn('produce');
const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Recovered' }];
const retryAll = [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }];
const task = (resultPath: string, next: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: arn, 'Payload.$': '$' },
  ResultSelector: { 'value.$': '$.Payload' },
  ResultPath: resultPath,
  Retry: retryAll,
  Catch: catchAll,
  Next: next,
});
const machine = (states: Record<string, unknown>, startAt: string) =>
  ({
    StartAt: startAt,
    States: { ...states, Recovered: { Type: 'Succeed' }, Done: { Type: 'Succeed' } },
  }) as unknown as StateMachineDefinition;

function run(definition: StateMachineDefinition, fn: LocalFunction) {
  let calls = 0;
  const counted: LocalFunction = (payload) => {
    calls++;
    return fn(payload);
  };
  return runExecution({
    definition,
    functions: new Map([[arn, counted]]),
    input: {},
    name: 'limit',
    retryIntervalMs: 0,
  }).then((report) => ({ report, calls: () => calls }));
}

describe('the local runner and the 256 KiB payload quota', () => {
  it('fails the execution with States.DataLimitExceeded when a task returns more, past any Retry or Catch', async () => {
    // Prepare
    const big = 'x'.repeat(PAYLOAD_LIMIT_BYTES);
    // Act
    const { report, calls } = await run(
      machine({ Produce: task('$.produced', 'Done') }, 'Produce'),
      async () => big,
    );
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('States.DataLimitExceeded');
    expect(report.cause).toMatch(/the result of state 'Produce' is [\d,]+ bytes, over the 262,144-byte/);
    expect(calls()).toBe(1);
    expect(report.events.some((e) => e.step === 'Recovered')).toBe(false);
  });

  it("fails when a state's whole output is over the quota though each task result is under it", async () => {
    // Prepare: two results of 150 KiB each, kept side by side in the state
    const half = 'x'.repeat(150 * 1024);
    const definition = machine(
      { First: task('$.first', 'Second'), Second: task('$.second', 'Third'), Third: task('$.third', 'Done') },
      'First',
    );
    // Act
    const { report, calls } = await run(definition, async () => half);
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('States.DataLimitExceeded');
    expect(report.events.some((e) => e.step === 'Recovered')).toBe(false);
    expect(calls()).toBeLessThan(3);
  });

  it('records the size of each state input and output and of each task result in the history', async () => {
    // Act
    const { report } = await run(
      machine({ Produce: task('$.produced', 'Done') }, 'Produce'),
      async () => 'abc',
    );
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    const exited = report.events.find((e) => e.type === 'TaskStateExited' && e.step === 'Produce');
    expect(exited?.outputBytes).toBe(JSON.stringify({ produced: { value: 'abc' } }).length);
    const result = report.events.find((e) => e.type === 'LambdaFunctionSucceeded');
    expect(result?.outputBytes).toBe(
      JSON.stringify({ Payload: 'abc', StatusCode: 200, ExecutedVersion: '$LATEST' }).length,
    );
  });
});
