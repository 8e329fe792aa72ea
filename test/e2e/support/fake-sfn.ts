import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SfnCall {
  /** The API action, e.g. StartExecution. */
  action: string;
  input: Record<string, unknown>;
}

export interface FakeSfn {
  /** The environment that points the AWS SDK of a `sluice` process at this server. */
  env: NodeJS.ProcessEnv;
  stateMachineArn: string;
  calls: SfnCall[];
  close(): Promise<void>;
}

/**
 * A Step Functions API on 127.0.0.1 (a port of the system's choosing) that answers what the
 * deployed commands ask: StartExecution starts an execution unless one of that name exists
 * (`exists`), every execution has succeeded, and its history is two events. It records each call.
 */
export async function fakeStepFunctions(exists: (name: string) => boolean = () => false): Promise<FakeSfn> {
  const stateMachineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Sluice';
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const calls: SfnCall[] = [];
  const at = Date.UTC(2026, 10, 25, 10) / 1000;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const input = JSON.parse(body || '{}') as Record<string, string>;
      calls.push({ action, input });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(payload));
      };
      if (action === 'StartExecution') {
        if (exists(input.name!))
          return reply(400, {
            __type: 'ExecutionAlreadyExists',
            message: `Execution Already Exists: '${input.name}'`,
          });
        return reply(200, { executionArn: executionArn(input.name!), startDate: at });
      }
      if (action === 'DescribeExecution') {
        const name = input.executionArn!.split(':').at(-1)!;
        return reply(200, {
          executionArn: input.executionArn,
          stateMachineArn,
          name,
          status: 'SUCCEEDED',
          startDate: at,
          stopDate: at + 4,
          input: JSON.stringify({ dataset: name.replace(/-\d{8}T\d{6}Z$/, '') }),
        });
      }
      if (action === 'GetExecutionHistory') {
        return reply(200, {
          events: [
            { id: 1, type: 'ExecutionStarted', timestamp: at, executionStartedEventDetails: { input: '{}' } },
            {
              id: 2,
              type: 'ExecutionSucceeded',
              timestamp: at + 4,
              executionSucceededEventDetails: { output: '{}' },
            },
          ],
        });
      }
      if (action === 'ListExecutions') return reply(200, { executions: [] });
      return reply(400, { __type: 'UnknownOperationException', message: action });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_ENDPOINT_URL_SFN: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      AWS_MAX_ATTEMPTS: '1',
      SLUICE_STATE_MACHINE_ARN: stateMachineArn,
    },
    stateMachineArn,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
