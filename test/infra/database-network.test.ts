import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../infra/app.js';
import { databaseNetworks } from '../../infra/constructs/database-network.js';
import type { NetworkIngest } from '../../infra/constructs/pipeline-functions.js';
import type { PipelineStack } from '../../infra/stacks/pipeline-stack.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';
import { type LocalFunction, runExecution } from '../../src/local/asl-runner.js';

// Postgres datasets whose database only answers inside a VPC (fixtures/networks): shop-orders and
// shop-refunds share one network, which asks for the VPC endpoints; billing-invoices is in another
// VPC on port 6432 with two database security groups; crm-contacts has no network.
// One stack for the whole file: building it bundles six functions with esbuild.
const FIXTURES = fileURLToPath(new URL('./fixtures/networks', import.meta.url));

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

let app: ReturnType<typeof buildApp>['app'];
let stack: PipelineStack;
let template: Template;

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;
const networkOf = (dataset: string): NetworkIngest =>
  stack.functions.networkIngests.find((n) => n.datasets.includes(dataset))!;
const groupIdOf = (n: NetworkIngest) => ({ 'Fn::GetAtt': [logicalId(n.network.securityGroup), 'GroupId'] });
const rolePolicy = (role: { node: { defaultChild?: unknown } }): Statement[] => {
  const roleId = stack.getLogicalId(role.node.defaultChild as never);
  const policy = Object.values(resourcesOf('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return (policy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const machine = () => Object.values(resourcesOf('AWS::StepFunctions::StateMachine'))[0]!.Properties;

beforeAll(() => {
  ({ app, stack } = buildApp({
    datasetsDir: FIXTURES,
    appProps: { context: { stackName: 'SluiceNetworks', datasetsRepository: 'codecommit' } },
    nagChecks: false,
  }));
  template = Template.fromStack(stack);
}, 120_000);

describe('ingest functions in a database VPC', () => {
  it('builds one function per distinct network: two tables of one database share it', () => {
    // Act
    const networks = stack.functions.networkIngests.map((n) => [n.network.vpc.vpcId, n.datasets]);
    // Assess
    expect(networks).toEqual([
      ['vpc-0c1d2e3f4a5b67890', ['billing-invoices']],
      ['vpc-0a1b2c3d4e5f67890', ['shop-orders', 'shop-refunds']],
    ]);
  });

  it('attaches the function to the subnets of its network, with a security group of its own', () => {
    // Prepare
    const shop = networkOf('shop-orders');
    // Act
    const fn = resourcesOf('AWS::Lambda::Function')[logicalId(shop.fn)]!;
    // Assess
    expect(fn.Properties.VpcConfig).toEqual({
      SubnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0b1c2d3e4f5a67890'],
      SecurityGroupIds: [groupIdOf(shop)],
    });
  });

  it('leaves the shared ingest function and the other steps outside any VPC', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    for (const fn of [stack.functions.ingest, stack.functions.validate, stack.functions.promote]) {
      expect(functions[logicalId(fn)]!.Properties).not.toHaveProperty('VpcConfig');
    }
  });

  it('lets the function out only to the database security groups on the database port, and to HTTPS', () => {
    // Prepare
    const billing = networkOf('billing-invoices');
    const groupId = groupIdOf(billing);
    // Act
    const inline = resourcesOf('AWS::EC2::SecurityGroup')[logicalId(billing.network.securityGroup)]!;
    const separate = Object.values(resourcesOf('AWS::EC2::SecurityGroupEgress'))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(groupId));
    // Assess
    expect(inline.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    expect(separate.map((p) => [p.DestinationSecurityGroupId, p.IpProtocol, p.FromPort, p.ToPort])).toEqual([
      ['sg-0c1d2e3f4a5b67890', 'tcp', 6432, 6432],
      ['sg-0d1e2f3a4b5c67890', 'tcp', 6432, 6432],
    ]);
  });

  it("lets the function's security group, and nothing else, into the database's on its port", () => {
    // Prepare
    const shop = networkOf('shop-orders');
    // Act
    const ingress = Object.values(resourcesOf('AWS::EC2::SecurityGroupIngress'))
      .map((r) => r.Properties)
      .filter((p) => p.GroupId === 'sg-0a1b2c3d4e5f67890');
    // Assess
    expect(ingress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: groupIdOf(shop),
      }),
    ]);
  });

  it('creates the S3 gateway and Secrets Manager interface endpoints only in the VPC whose contract asks', () => {
    // Prepare
    const shop = networkOf('shop-orders');
    // Act
    const endpoints = Object.values(resourcesOf('AWS::EC2::VPCEndpoint')).map((r) => r.Properties);
    // Assess
    expect(endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          VpcId: 'vpc-0a1b2c3d4e5f67890',
          VpcEndpointType: 'Gateway',
          RouteTableIds: ['rtb-0a1b2c3d4e5f67890', 'rtb-0b1c2d3e4f5a67890'],
        }),
        expect.objectContaining({
          VpcId: 'vpc-0a1b2c3d4e5f67890',
          VpcEndpointType: 'Interface',
          SubnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0b1c2d3e4f5a67890'],
          PrivateDnsEnabled: true,
        }),
      ]),
    );
    expect(endpoints).toHaveLength(2);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [logicalId(shop.network.endpoints!.securityGroup), 'GroupId'] },
      SourceSecurityGroupId: groupIdOf(shop),
      FromPort: 443,
      ToPort: 443,
    });
  });

  it('lets the function manage its network interfaces inline, as AWSLambdaVPCAccessExecutionRole would, without an AWS managed policy', () => {
    // Prepare
    const shop = networkOf('shop-orders');
    // Act
    const statements = rolePolicy(shop.fn.role!);
    const role = resourcesOf('AWS::IAM::Role')[logicalId(shop.fn.role!)]!;
    // Assess
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: [
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ec2:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':network-interface/*',
              ],
            ],
          },
        },
      ]),
    );
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
  });

  it('creates the function only once its role may create network interfaces', () => {
    // Prepare
    const shop = networkOf('shop-orders');
    // Act
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(shop.fn)] as {
      DependsOn?: string[];
    };
    // Assess
    const policyId = Object.entries(resourcesOf('AWS::IAM::Policy')).find(([, p]) =>
      JSON.stringify(p.Properties.Roles).includes(logicalId(shop.fn.role!)),
    )![0];
    expect(fn.DependsOn).toContain(policyId);
  });

  it('gives the secrets of a network dataset to its function only, and the others to the shared one', () => {
    // Act
    const shop = JSON.stringify(rolePolicy(networkOf('shop-orders').fn.role!));
    const shared = JSON.stringify(rolePolicy(stack.functions.ingest.role!));
    // Assess
    expect(shop).toContain('secret:shop/orders-db-??????');
    expect(shared).not.toContain('shop/orders-db');
    expect(shared).toContain('secret:crm/db-??????');
  });

  it('gives every function that pulls room in /tmp', () => {
    for (const fn of [stack.functions.ingest, ...stack.functions.networkIngests.map((n) => n.fn)]) {
      expect(resourcesOf('AWS::Lambda::Function')[logicalId(fn)]!.Properties.EphemeralStorage).toEqual({
        Size: 4096,
      });
    }
  });
});

describe('the state machine with ingest functions in VPCs', () => {
  it('chooses the ingest function by dataset before Ingest, which invokes the chosen one', () => {
    // Act
    const definition = JSON.parse(machine().DefinitionString as string) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    // Assess
    expect(definition.StartAt).toBe('ChooseIngestFunction');
    expect(definition.States.ChooseIngestFunction).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.dataset',
          StringEquals: 'billing-invoices',
          Next: `UseIngestFunctionIn-${networkOf('billing-invoices').id}`,
        },
        {
          Or: [
            { Variable: '$.dataset', StringEquals: 'shop-orders' },
            { Variable: '$.dataset', StringEquals: 'shop-refunds' },
          ],
          Next: `UseIngestFunctionIn-${networkOf('shop-orders').id}`,
        },
      ],
      Default: 'UseSharedIngestFunction',
    });
    expect(definition.States.Ingest!.Parameters).toMatchObject({ 'FunctionName.$': '$.ingestFunction' });
    expect(definition.States.Ingest!.Parameters).not.toHaveProperty('FunctionName');
  });

  it('fills each chosen function from the deployed function ARNs', () => {
    // Prepare
    const substitutions = machine().DefinitionSubstitutions as Record<string, unknown>;
    const definition = JSON.parse(machine().DefinitionString as string) as {
      States: Record<string, { Result?: string }>;
    };
    // Act
    const chosen = (dataset: string) => {
      const placeholder = definition.States[`UseIngestFunctionIn-${networkOf(dataset).id}`]!.Result!;
      return substitutions[placeholder.slice(2, -1)];
    };
    // Assess
    expect(chosen('shop-orders')).toEqual({ 'Fn::GetAtt': [logicalId(networkOf('shop-orders').fn), 'Arn'] });
    expect(chosen('billing-invoices')).toEqual({
      'Fn::GetAtt': [logicalId(networkOf('billing-invoices').fn), 'Arn'],
    });
  });

  it('may invoke every ingest function', () => {
    // Act
    const invocable = rolePolicy(stack.pipeline.stateMachine.role)
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
      .flatMap((s) => [s.Resource].flat());
    // Assess
    for (const { fn } of stack.functions.networkIngests) {
      expect(invocable).toContainEqual({ 'Fn::GetAtt': [logicalId(fn), 'Arn'] });
    }
  });

  it.each([
    ['shop-refunds', 'shop'],
    ['billing-invoices', 'billing'],
    ['crm-contacts', 'shared'],
  ])('runs %s through the %s ingest function', async (dataset, expected) => {
    // Prepare: the deployed definition, its placeholders filled with local functions' ARNs
    const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
    const arns: Record<string, string> = {
      IngestFunctionArn: arn('shared'),
      [`IngestFunctionArn_${networkOf('shop-orders').id.replaceAll('-', '_')}`]: arn('shop'),
      [`IngestFunctionArn_${networkOf('billing-invoices').id.replaceAll('-', '_')}`]: arn('billing'),
    };
    const text = (machine().DefinitionString as string).replace(
      /\$\{(\w+)\}/g,
      (_, name: string) => arns[name] ?? arn(name),
    );
    const called: string[] = [];
    const ingest =
      (name: string): LocalFunction =>
      async () => {
        called.push(name);
        return {
          runId: 'r1',
          dt: '2026-11-25',
          rawKey: null,
          files: 0,
          manifestKey: null,
          sha256: null,
          size: 0,
          shard: false,
          empty: false,
          waiting: false,
          waitingFor: '',
          alreadyProcessed: true,
        };
      };
    const otherSteps = ['ValidateFunctionArn', 'PromoteFunctionArn', 'RecordRunFunctionArn'].map(
      (name) => [arn(name), async () => ({ recordKey: 'r' })] as const,
    );
    // Act
    const report = await runExecution({
      definition: JSON.parse(text),
      functions: new Map([
        ...['shared', 'shop', 'billing'].map((name) => [arn(name), ingest(name)] as const),
        ...otherSteps,
      ]),
      tasks: { VersionWithDvc: async () => ({}) },
      input: { dataset, trigger: { type: 'schedule', time: '2026-11-25T13:00:00Z' } },
      name: `${dataset}-routing`,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect(called).toEqual([expected]);
    expect(report.events.find((e) => e.type === 'LambdaFunctionScheduled')?.resource).toBe(arn(expected));
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged error on the stack with functions in VPCs', () => {
    // Act
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations.filter((v) => v.severity === 'error')).toEqual([]);
  });
});

describe('database networks from contracts', () => {
  const postgres = (name: string, network: string[]): Contract =>
    parseContract(
      [
        `name: ${name}`,
        'source:',
        '  type: postgres',
        '  connection_secret: db',
        '  table: t',
        '  watermark_column: id',
        '  network:',
        ...network.map((line) => `    ${line}`),
        'format: { type: jsonl }',
        'schema: { type: object, properties: { id: { type: integer } } }',
      ].join('\n'),
      '<inline>',
    );
  const base = ['vpc_id: vpc-0a1b2c3d', 'subnet_ids: [subnet-0a1b2c3d]', 'security_group_ids: [sg-0a1b2c3d]'];

  it('refuses two contracts that ask for different endpoints in one VPC, naming both', () => {
    // Prepare
    const a = postgres('a', [...base, 'endpoints: { route_table_ids: [rtb-0a1b2c3d] }']);
    const b = postgres('b', [...base, 'port: 6432', 'endpoints: { route_table_ids: [rtb-0a1b2c3d] }']);
    // Act
    const act = () => databaseNetworks(new Map([a, b].map((c) => [c.name, c])));
    // Assess
    expect(act).toThrow(/datasets 'a' and 'b' both ask for VPC endpoints in vpc-0a1b2c3d/);
  });

  it('creates the endpoints of one network once when several of its contracts ask for them', () => {
    // Prepare
    const endpoints = 'endpoints: { route_table_ids: [rtb-0a1b2c3d] }';
    const a = postgres('a', [...base, endpoints]);
    const b = postgres('b', [...base]);
    const c = postgres('c', [...base, endpoints]);
    // Act
    const networks = [...databaseNetworks(new Map([a, b, c].map((x) => [x.name, x]))).values()];
    // Assess
    expect(networks).toEqual([
      {
        network: expect.objectContaining({ endpoints: { route_table_ids: ['rtb-0a1b2c3d'] } }),
        datasets: ['a', 'b', 'c'],
      },
    ]);
  });
});
