import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigurationError, IntervalNotAllowed } from '../../../lambdas/shared/errors.js';
import { executionName, stateMachineArnFrom } from '../../../src/cli/deployed.js';
import { startCommand } from '../../../src/cli/start.js';
import { datasetsDir, lines, STATE_MACHINE_ARN } from './support.js';

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'eu-west-1' });
const datasets = datasetsDir();
const options = { datasets, stateMachineArn: STATE_MACHINE_ARN };

beforeEach(() => {
  sfn.reset();
});

describe('sluice start', () => {
  it('starts the last whole interval of the schedule under a name derived from its start', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const { out, text } = lines();
    // Act
    const code = await startCommand('shop-orders', options, {
      sfn: client,
      now: new Date('2026-11-25T13:05:00Z'),
      out,
    });
    // Assess
    expect(code).toBe(0);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: 'shop-orders-20261125T120000Z' });
    expect(JSON.parse(call.input!)).toEqual({
      dataset: 'shop-orders',
      trigger: {
        type: 'schedule',
        time: '2026-11-25T13:00:00.000Z',
        interval: { start: '2026-11-25T12:00:00.000Z', end: '2026-11-25T13:00:00.000Z' },
      },
    });
    expect(text()).toMatch(/started shop-orders-20261125T120000Z/);
  });

  it('treats ExecutionAlreadyExists as already started and reports that execution', async () => {
    // Prepare
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }))
      .on(DescribeExecutionCommand)
      .resolves({ status: 'SUCCEEDED', name: 'shop-orders-20261125T100000Z' });
    const { out, text } = lines();
    // Act
    const code = await startCommand(
      'shop-orders',
      { ...options, intervalStart: '2026-11-25T10:00:00Z', intervalEnd: '2026-11-25T11:00:00Z' },
      { sfn: client, out },
    );
    // Assess
    expect(code).toBe(0);
    expect(text()).toMatch(/already started: shop-orders-20261125T100000Z \(SUCCEEDED\)/);
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]!.args[0].input.executionArn).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:SluicePipeline:shop-orders-20261125T100000Z',
    );
  });

  it('needs an interval for a dataset without a schedule', async () => {
    await expect(startCommand('uploads', options, { sfn: client, out: () => undefined })).rejects.toThrow(
      /no schedule.*--interval-start/,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('finds the state machine in the option, the environment or cdk outputs, and says where to look otherwise', () => {
    expect(stateMachineArnFrom({}, { SLUICE_STATE_MACHINE_ARN: STATE_MACHINE_ARN })).toBe(STATE_MACHINE_ARN);
    expect(() => stateMachineArnFrom({ outputsFile: undefined }, {})).toThrow(ConfigurationError);
    expect(() => stateMachineArnFrom({}, {})).toThrow(/StateMachineArn/);
    expect(() => stateMachineArnFrom({ stateMachineArn: 'SluicePipeline' }, {})).toThrow(
      /not a state machine ARN/,
    );
  });

  it('keeps execution names within the 80 characters Step Functions allows', () => {
    const name = executionName('a'.repeat(63), {
      start: '2026-11-25T10:00:00Z',
      end: '2026-11-25T11:00:00Z',
    });
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('refuses an interval off the schedule grid before starting anything, naming the nearest', async () => {
    // Prepare
    const { out } = lines();
    // Act
    const failure = await startCommand(
      'shop-orders',
      { ...options, intervalStart: '2026-11-25T22:00:00Z', intervalEnd: '2026-11-25T22:17:00Z' },
      { sfn: client, now: new Date('2026-11-26T00:00:00Z'), out },
    ).catch((error: unknown) => error);
    // Assess
    expect(failure).toBeInstanceOf(IntervalNotAllowed);
    expect((failure as Error).message).toMatch(
      /nearest are 2026-11-25T21:00:00.000Z – 2026-11-25T22:00:00.000Z/,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('with --force starts the interval and tells ingest it was forced', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
    const { out } = lines();
    // Act
    await startCommand(
      'shop-orders',
      { ...options, intervalStart: '2030-01-01T00:00:00Z', intervalEnd: '2030-01-01T01:00:00Z', force: true },
      { sfn: client, now: new Date('2026-11-26T00:00:00Z'), out },
    );
    // Assess
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(JSON.parse(call.input!).trigger).toEqual({
      type: 'schedule',
      time: '2030-01-01T01:00:00.000Z',
      interval: { start: '2030-01-01T00:00:00.000Z', end: '2030-01-01T01:00:00.000Z' },
      force: true,
    });
  });
});
