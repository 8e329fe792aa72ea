import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Lake } from '../../infra/constructs/lake.js';
import { Sources } from '../../infra/constructs/sources.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';

// The constructs of the pulled, partner and stream sources, in a stack of their own with the real
// lake; the ingest function is a stand-in, so nothing is bundled.

const schema = 'schema: { type: object, properties: { id: { type: integer } } }';
const contract = (lines: string[]): Contract => parseContract([...lines, schema].join('\n'), '<inline>');
const contracts = [
  contract([
    'name: clicks',
    'source: { type: stream, time_field: event_time }',
    'format: { type: jsonl }',
    'schedule: rate(15 minutes)',
  ]),
  contract([
    'name: acme',
    'source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: { manifest: manifest.json } }',
    'format: { type: csv }',
    'schedule: rate(1 hour)',
  ]),
  contract([
    'name: shop',
    'source: { type: postgres, connection_secret: shop/orders-db, table: orders, watermark_column: id }',
    'format: { type: jsonl }',
    'schedule: rate(1 hour)',
  ]),
  contract([
    'name: api',
    'source:',
    '  type: http',
    '  url: https://api.example.com/orders',
    '  auth: { type: bearer, secret: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-token-AbCdEf" }',
    'format: { type: json, records_path: data }',
    'schedule: rate(1 hour)',
  ]),
];

function build(list: Contract[]) {
  const app = new App();
  const stack = new Stack(app, 'SourcesTest', { env: { account: '111122223333', region: 'eu-west-1' } });
  const lake = new Lake(stack, 'Lake');
  const ingest = new LambdaFunction(stack, 'Ingest', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({})'),
  });
  const stateMachine = new StateMachine(stack, 'Machine', {
    definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Start')),
  });
  const sources = new Sources(stack, 'Sources', {
    contracts: new Map(list.map((c) => [c.name, c])),
    lake,
    ingestFunction: ingest,
    stateMachine,
    deadLetterQueue: new Queue(stack, 'Dlq'),
  });
  return { app, stack, lake, ingest, sources, template: Template.fromStack(stack) };
}

let built: ReturnType<typeof build>;
const id = (construct: { node: { defaultChild?: unknown } }) =>
  built.stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  built = build(contracts);
});

describe('stream ingestion', () => {
  it('creates a Kinesis data stream encrypted with the lake key, on-demand', () => {
    built.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [id(built.lake.key), 'Arn'] } },
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
    });
  });

  it('delivers into raw with Firehose, partitioned by the date and hour of the record time, one record per line', () => {
    built.template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [id(built.lake.rawBucket), 'Arn'] },
        Prefix: 'clicks/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/',
        ErrorOutputPrefix: 'clicks/_errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/',
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        EncryptionConfiguration: {
          KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [id(built.lake.key), 'Arn'] } },
        },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'MetadataExtraction',
              Parameters: [
                {
                  ParameterName: 'MetadataExtractionQuery',
                  ParameterValue: '{dt: .event_time[0:10], hour: .event_time[11:13]}',
                },
                { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
              ],
            },
            {
              Type: 'AppendDelimiterToRecord',
              Parameters: [{ ParameterName: 'Delimiter', ParameterValue: '\\n' }],
            },
          ],
        },
      }),
    });
  });

  it('lets only the delivery role write raw without If-None-Match, and only under its dataset prefix', () => {
    // Prepare
    const roleArn = { 'Fn::GetAtt': [id(built.sources.streams.get('clicks')!.deliveryRole), 'Arn'] };
    const policy = Object.values(built.template.findResources('AWS::S3::BucketPolicy')).find(
      (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: id(built.lake.rawBucket) }),
    )!;
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    // Assess
    expect(statements.find((s) => s.Sid === 'DenyWritesWithoutIfNoneMatch')).toMatchObject({
      Effect: 'Deny',
      Condition: { Null: { 's3:if-none-match': 'true' }, ArnNotEquals: { 'aws:PrincipalArn': [roleArn] } },
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:PutObject',
        NotResource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(built.lake.rawBucket), 'Arn'] }, '/clicks/*']] },
        Condition: { ArnEquals: { 'aws:PrincipalArn': roleArn } },
      }),
    );
    expect(statements.find((s) => s.Sid === 'DenyDeletes')).not.toHaveProperty('Condition');
  });
});

describe('partner drops', () => {
  it('starts the pipeline when an object is created under the partner prefix, with a partner-drop trigger', () => {
    built.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: id(built.lake.landingBucket) }] },
          object: { key: [{ prefix: 'landing/partners/acme/' }] },
        },
      },
      Targets: [
        Match.objectLike({
          InputTransformer: Match.objectLike({
            InputTemplate: Match.stringLikeRegexp('"dataset":"acme","trigger":\\{"type":"partner-drop"'),
          }),
          DeadLetterConfig: Match.anyValue(),
        }),
      ],
    });
  });

  it('refuses a partner prefix that nests with an upload prefix', () => {
    const upload = contract([
      'name: orders',
      'source: { type: s3-upload, prefix: landing/partners/ }',
      'format: { type: csv }',
    ]);
    expect(() => build([upload, contracts[1]!])).toThrow(
      /datasets 'acme' \(partner-drop\) and 'orders' \(s3-upload\) both claim landing keys under 'landing\/partners\/acme\/'/,
    );
  });
});

describe('pulled sources', () => {
  it('lets the ingest function read exactly the secrets the contracts name', () => {
    const policies = JSON.stringify(built.template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secret:shop/orders-db-??????');
    expect(policies).toContain('arn:aws:secretsmanager:eu-west-1:111122223333:secret:api-token-AbCdEf');
    expect(policies).toContain('secretsmanager:GetSecretValue');
  });

  it('gives the ingest function room in /tmp for extractions', () => {
    built.template.hasResourceProperties('AWS::Lambda::Function', { EphemeralStorage: { Size: 4096 } });
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged error on the source constructs', () => {
    const report = new AwsSolutionsChecks(built.app, { verbose: true }).validateScope(built.stack);
    const ours = report.violations.filter(
      (v) => v.severity === 'error' && JSON.stringify(v).includes('/Sources/'),
    );
    expect(ours).toEqual([]);
  });
});

describe('the stack with every source type', () => {
  it('wires the sources into the pipeline stack and passes cdk-nag', async () => {
    // Prepare
    const { buildApp } = await import('../../infra/app.js');
    const { app, stack } = buildApp({
      datasetsDir: new URL('./fixtures/sources', import.meta.url).pathname,
      appProps: { context: { stackName: 'SluiceSources', datasetsRepository: 'codecommit' } },
      nagChecks: false,
    });
    // Act
    const template = Template.fromStack(stack);
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations.filter((v) => v.severity === 'error')).toEqual([]);
    template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ object: { key: [{ prefix: 'landing/partners/acme/' }] } }),
      }),
    });
    expect(Object.values(template.findOutputs('*')).map((o) => o.Description)).toContain(
      'Kinesis data stream of dataset clicks: put its records here',
    );
  }, 120_000);
});
