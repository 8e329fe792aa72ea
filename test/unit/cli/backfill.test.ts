import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { backfillCommand } from '../../../src/cli/backfill.js';
import { datasetsDir, lines, STATE_MACHINE_ARN } from './support.js';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'eu-west-1' });
const datasets = datasetsDir();
const base = { datasets, stateMachineArn: STATE_MACHINE_ARN, pollSeconds: 0 };
const nameOf = (arn: string) => arn.split(':').at(-1)!;

/** A fake Step Functions: executions finish after `polls` DescribeExecution calls each. */
function fakeStepFunctions(
  options: { existing?: Record<string, string>; polls?: number; fail?: string[] } = {},
) {
  const executions = new Map<string, { describes: number }>();
  let concurrent = 0;
  let maxConcurrent = 0;
  sfn.on(StartExecutionCommand).callsFake(async ({ name, stateMachineArn }) => {
    if (options.existing?.[name]) throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    executions.set(name, { describes: 0 });
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    return {
      executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`,
      startDate: new Date(),
    };
  });
  sfn.on(DescribeExecutionCommand).callsFake(async ({ executionArn }) => {
    const name = nameOf(executionArn);
    const existing = options.existing?.[name];
    if (existing) return { status: existing, name };
    const execution = executions.get(name)!;
    execution.describes += 1;
    if (execution.describes < (options.polls ?? 2)) return { status: 'RUNNING', name };
    if (execution.describes === (options.polls ?? 2)) concurrent -= 1;
    const failed = options.fail?.includes(name);
    return { status: failed ? 'FAILED' : 'SUCCEEDED', name, error: failed ? 'ValidationFailed' : undefined };
  });
  return { maxConcurrent: () => maxConcurrent };
}

beforeEach(() => {
  sfn.reset();
});

describe('sluice backfill', () => {
  it('starts one execution per interval, oldest first, named after each interval start', async () => {
    // Prepare
    fakeStepFunctions();
    const { out, text } = lines();
    // Act
    const code = await backfillCommand(
      'shop-orders',
      { ...base, from: '2026-11-25T00:00:00Z', to: '2026-11-25T06:00:00Z' },
      { sfn: client, out },
    );
    // Assess
    expect(code).toBe(0);
    const started = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(started.map((s) => s.name)).toEqual([
      'shop-orders-20261125T000000Z',
      'shop-orders-20261125T010000Z',
      'shop-orders-20261125T020000Z',
      'shop-orders-20261125T030000Z',
      'shop-orders-20261125T040000Z',
      'shop-orders-20261125T050000Z',
    ]);
    expect(JSON.parse(started[5]!.input!).trigger.interval).toEqual({
      start: '2026-11-25T05:00:00.000Z',
      end: '2026-11-25T06:00:00.000Z',
    });
    expect(text()).toMatch(/\[1\/6\] shop-orders-20261125T000000Z {2}started/);
    expect(text()).toMatch(/done: 6 succeeded, 0 failed; 6 started now, 0 started before/);
  });

  it('keeps at most --max-concurrency executions running at a time', async () => {
    // Prepare
    const fake = fakeStepFunctions({ polls: 3 });
    // Act
    await backfillCommand(
      'shop-orders',
      { ...base, from: '2026-11-25T00:00:00Z', to: '2026-11-25T10:00:00Z', maxConcurrency: '2' },
      { sfn: client, out: () => undefined },
    );
    // Assess
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(10);
    expect(fake.maxConcurrent()).toBe(2);
  });

  it('does not start an interval again when its execution exists, and is repeatable', async () => {
    // Prepare: the first two intervals ran before (one still running, one done)
    fakeStepFunctions({
      existing: { 'shop-orders-20261125T000000Z': 'SUCCEEDED', 'shop-orders-20261125T010000Z': 'FAILED' },
    });
    const { out, text } = lines();
    // Act
    const code = await backfillCommand(
      'shop-orders',
      { ...base, from: '2026-11-25T00:00:00Z', to: '2026-11-25T03:00:00Z' },
      { sfn: client, out },
    );
    // Assess
    expect(code).toBe(1);
    expect(text()).toMatch(/shop-orders-20261125T000000Z {2}already started \(SUCCEEDED\)/);
    expect(text()).toMatch(/done: 2 succeeded, 1 failed; 1 started now, 2 started before/);
  });

  it('exits 1 and names the error of each interval that failed', async () => {
    // Prepare
    fakeStepFunctions({ fail: ['shop-orders-20261125T010000Z'] });
    const { out, text } = lines();
    // Act
    const code = await backfillCommand(
      'shop-orders',
      { ...base, from: '2026-11-25T00:00:00Z', to: '2026-11-25T02:00:00Z' },
      { sfn: client, out },
    );
    // Assess
    expect(code).toBe(1);
    expect(text()).toMatch(/shop-orders-20261125T010000Z {2}FAILED \(ValidationFailed\)/);
  });

  it('refuses a dataset without a schedule and a bad concurrency', async () => {
    const io = { sfn: client, out: () => undefined };
    await expect(
      backfillCommand('uploads', { ...base, from: '2026-11-01', to: '2026-11-02' }, io),
    ).rejects.toThrow(/no schedule/);
    await expect(
      backfillCommand(
        'shop-orders',
        { ...base, from: '2026-11-01', to: '2026-11-02', maxConcurrency: '0' },
        io,
      ),
    ).rejects.toThrow(/--max-concurrency/);
  });

  it('runs only the intervals that have ended when --to lies in the future', async () => {
    // Prepare
    fakeStepFunctions();
    const { out, text } = lines();
    // Act
    const code = await backfillCommand(
      'shop-orders',
      { ...base, from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z' },
      { sfn: client, out, now: new Date('2026-11-25T02:30:00Z') },
    );
    // Assess
    expect(code).toBe(0);
    const started = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name);
    expect(started).toEqual(['shop-orders-20261125T000000Z', 'shop-orders-20261125T010000Z']);
    expect(text()).toMatch(
      /--to 2026-11-26T00:00:00.000Z is in the future: only the intervals that have ended/,
    );
  });
});
