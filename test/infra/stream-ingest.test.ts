import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Lake } from '../../infra/constructs/lake.js';
import { StreamIngest } from '../../infra/constructs/stream-ingest.js';
import { parseContract, type StreamSourceConfig } from '../../lambdas/shared/contract.js';

// The Firehose delivery role of a stream dataset, against AWS's documented policy for an S3
// destination: AbortMultipartUpload, GetBucketLocation, GetObject, ListBucket,
// ListBucketMultipartUploads and PutObject on the bucket and its objects, and kms:Decrypt and
// kms:GenerateDataKey through S3. Here the objects are only those under the dataset's prefix.

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let app: App;
let stack: Stack;
let lake: Lake;
let ingest: StreamIngest;
let template: Template;

const id = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  app = new App();
  stack = new Stack(app, 'StreamTest', { env: { account: '111122223333', region: 'eu-west-1' } });
  lake = new Lake(stack, 'Lake');
  const contract = parseContract(
    [
      'name: clicks',
      'source: { type: stream, time_field: event_time }',
      'format: { type: jsonl }',
      'schedule: rate(15 minutes)',
      'schema: { type: object, properties: { id: { type: integer } } }',
    ].join('\n'),
    '<inline>',
  );
  ingest = new StreamIngest(stack, 'Clicks', {
    dataset: 'clicks',
    source: contract.source as StreamSourceConfig,
    rawBucket: lake.rawBucket,
    encryptionKey: lake.key,
  });
  template = Template.fromStack(stack);
});

function deliveryRoleStatements(): Statement[] {
  const roleId = id(ingest.deliveryRole);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement) => [s.Action].flat();
const rawArn = () => ({ 'Fn::GetAtt': [id(lake.rawBucket), 'Arn'] });
const rawObjectsUnder = (prefix: string) => ({ 'Fn::Join': ['', [rawArn(), `/${prefix}`]] });

describe('the Firehose delivery role', () => {
  it("has the bucket-level actions of AWS's documented S3 destination policy, on the raw bucket", () => {
    // Act
    const statements = deliveryRoleStatements().filter((s) => actionsOf(s).includes('s3:ListBucket'));
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        Resource: rawArn(),
      },
    ]);
  });

  it('reads, writes and aborts uploads of objects only under its dataset prefix', () => {
    // Act
    const statements = deliveryRoleStatements().filter((s) => actionsOf(s).includes('s3:PutObject'));
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: rawObjectsUnder('clicks/*'),
      },
    ]);
  });

  it('gives S3 access to nothing but the raw bucket and the objects under the dataset prefix', () => {
    // Act
    const resources = deliveryRoleStatements()
      .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')))
      .flatMap((s) => [s.Resource].flat());
    // Assess
    expect(resources).toEqual([rawArn(), rawObjectsUnder('clicks/*')]);
  });

  it('uses the lake key for deliveries only through S3, with the two documented actions', () => {
    // Act
    const statements = deliveryRoleStatements().filter((s) => actionsOf(s).includes('kms:GenerateDataKey'));
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [id(lake.key), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
  });

  it('names every action it is granted exactly, without wildcards', () => {
    // Act
    const actions = deliveryRoleStatements().flatMap(actionsOf);
    // Assess
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
  });

  it('leaves cdk-nag no unacknowledged error', () => {
    // Act
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    // Assess
    const ours = report.violations.filter(
      (v) => v.severity === 'error' && JSON.stringify(v).includes('/Clicks/'),
    );
    expect(ours).toEqual([]);
  });
});
