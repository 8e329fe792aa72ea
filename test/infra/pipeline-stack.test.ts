import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../infra/app.js';
import type { PipelineStack } from '../../infra/stacks/pipeline-stack.js';

// One stack for the whole file: building it bundles the four functions with esbuild.
const FIXTURES = fileURLToPath(new URL('./fixtures/datasets', import.meta.url));

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Effect: string;
  Action: string | string[];
  Condition?: Record<string, unknown>;
  Sid?: string;
};

let app: ReturnType<typeof buildApp>['app'];
let stack: PipelineStack;
let template: Template;

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const resourcesOf = (type: string) => template.findResources(type) as Record<string, Resource>;
const actionsOf = (statement: Statement) => [statement.Action].flat();
const bucketPolicyOf = (bucketId: string): Statement[] => {
  const policy = Object.values(resourcesOf('AWS::S3::BucketPolicy')).find(
    (p) => JSON.stringify(p.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
  );
  return (policy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const zoneBucketIds = () => Object.values(stack.lake.buckets).map(logicalId);
const functionRolePolicy = (fnId: 'ingest' | 'validate' | 'promote' | 'recordRun'): Statement[] => {
  const roleId = stack.getLogicalId(stack.functions[fnId].role!.node.defaultChild as never);
  const policy = Object.values(resourcesOf('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return (policy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};

beforeAll(() => {
  // The context the CLI passes from cdk.json, so the template under test is the one that deploys.
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  ({ app, stack } = buildApp({
    datasetsDir: FIXTURES,
    appProps: { context: { ...context, stackName: 'SluiceTest' } },
    // The cdk-nag tests below run the checks, so a finding fails one named test rather than synth.
    nagChecks: false,
  }));
  template = Template.fromStack(stack);
});

describe('lake', () => {
  it('encrypts every zone bucket with the customer-managed lake key', () => {
    // Prepare
    const keyId = logicalId(stack.lake.key);
    // Act
    const buckets = resourcesOf('AWS::S3::Bucket');
    // Assess
    for (const id of zoneBucketIds()) {
      expect(buckets[id]!.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
            },
          },
        ],
      });
    }
  });

  it('rotates the lake key', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('blocks public access, versions and keeps every bucket, access-logs bucket included', () => {
    // Act
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    // Assess
    expect(buckets).toHaveLength(7);
    for (const bucket of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
  });

  it('refuses requests without TLS on every bucket', () => {
    // Act
    const policies = Object.values(resourcesOf('AWS::S3::BucketPolicy'));
    // Assess
    expect(policies).toHaveLength(7);
    for (const policy of policies) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  it('logs access to every zone bucket into the access-logs bucket under the zone name', () => {
    // Prepare
    const logsId = logicalId(stack.lake.accessLogsBucket);
    const buckets = resourcesOf('AWS::S3::Bucket');
    // Act
    const logging = Object.entries(stack.lake.buckets).map(([zone, bucket]) => [
      zone,
      buckets[logicalId(bucket)]!.Properties.LoggingConfiguration,
    ]);
    // Assess
    for (const [zone, config] of logging) {
      expect(config).toMatchObject({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: `${zone}/` });
    }
  });

  it('denies unconditional writes to the raw bucket, to every principal', () => {
    // Act
    const statements = bucketPolicyOf(logicalId(stack.lake.rawBucket));
    // Assess
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:PutObject',
        Condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
      }),
    );
  });

  it('denies deleting objects and versions from the raw bucket, to every principal', () => {
    // Act
    const statements = bucketPolicyOf(logicalId(stack.lake.rawBucket));
    // Assess
    const deletes = statements.find(
      (s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:DeleteObjectVersion'),
    );
    expect(deletes).toMatchObject({
      Principal: { AWS: '*' },
      Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
    });
    expect(deletes?.Condition).toBeUndefined();
  });

  it('never expires raw objects', () => {
    // Act
    const raw = resourcesOf('AWS::S3::Bucket')[logicalId(stack.lake.rawBucket)]!;
    // Assess
    const rules = (raw.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    for (const rule of rules) {
      expect(rule).not.toHaveProperty('ExpirationInDays');
      expect(rule).not.toHaveProperty('NoncurrentVersionExpiration');
    }
  });

  it('expires landed uploads after 30 days', () => {
    // Act
    const landing = resourcesOf('AWS::S3::Bucket')[logicalId(stack.lake.landingBucket)]!;
    // Assess
    expect(landing.Properties.LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ ExpirationInDays: 30, Status: 'Enabled' })],
    });
  });

  it('sends landing bucket events to EventBridge without a custom resource', () => {
    // Act
    const landing = resourcesOf('AWS::S3::Bucket')[logicalId(stack.lake.landingBucket)]!;
    // Assess
    expect(landing.Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });
});

describe('functions', () => {
  it('run on Node.js 22, ARM64, with active X-Ray tracing', () => {
    // Act
    const functions = Object.values(resourcesOf('AWS::Lambda::Function'));
    // Assess
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('each log to their own log group kept for one month', () => {
    // Prepare
    const groups = resourcesOf('AWS::Logs::LogGroup');
    // Act
    const functions = Object.values(resourcesOf('AWS::Lambda::Function'));
    // Assess
    const logGroupIds = functions.map(
      (fn) => (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
    );
    expect(new Set(logGroupIds).size).toBe(4);
    for (const id of logGroupIds) expect(groups[id]!.Properties.RetentionInDays).toBe(30);
  });

  it('find every zone bucket through SLUICE_BUCKET_* variables', () => {
    // Act
    const fn = resourcesOf('AWS::Lambda::Function')[logicalId(stack.functions.ingest)]!;
    // Assess
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const [zone, bucket] of Object.entries(stack.lake.buckets)) {
      expect(variables[`SLUICE_BUCKET_${zone.toUpperCase()}`]).toEqual({ Ref: logicalId(bucket) });
    }
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'sluice',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
    });
  });

  it('carry the dataset contracts inside their bundle', () => {
    // Prepare
    const fn = resourcesOf('AWS::Lambda::Function')[logicalId(stack.functions.validate)]!;
    const assetHash = (fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    // Act
    const bundle = readFileSync(join(app.outdir, `asset.${assetHash}`, 'index.mjs'), 'utf8');
    // Assess
    // esbuild may keep the JSON in any quote style, so the quotes may or may not be escaped.
    for (const dataset of ['orders', 'clicks', 'weather']) {
      expect(bundle).toMatch(new RegExp(String.raw`\\?"name\\?":\\?"${dataset}\\?"`));
    }
  });

  it('use roles without AWS managed policies', () => {
    // Act
    const roles = Object.values(resourcesOf('AWS::IAM::Role'));
    // Assess
    for (const role of roles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('cannot delete anything from the lake', () => {
    // Act
    const actions = (['ingest', 'validate', 'promote', 'recordRun'] as const).flatMap((fn) =>
      functionRolePolicy(fn).flatMap(actionsOf),
    );
    // Assess
    expect(actions.filter((action) => /^s3:(\*|Delete)/.test(action))).toEqual([]);
  });

  it('let only ingest write to the raw bucket', () => {
    // Prepare
    const rawObjects = {
      'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack.lake.rawBucket), 'Arn'] }, '/*']],
    };
    const writesRaw = (fn: 'ingest' | 'validate' | 'promote' | 'recordRun') =>
      functionRolePolicy(fn).some(
        (s) =>
          actionsOf(s).includes('s3:PutObject') &&
          JSON.stringify((s as { Resource?: unknown }).Resource).includes(JSON.stringify(rawObjects)),
      );
    // Act
    const writers = (['ingest', 'validate', 'promote', 'recordRun'] as const).filter(writesRaw);
    // Assess
    expect(writers).toEqual(['ingest']);
  });
});

describe('state machine', () => {
  it('is a standard state machine that logs every event and traces with X-Ray', () => {
    // Prepare
    const logGroupId = logicalId(stack.pipeline.logGroup);
    // Act
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    // Assess
    expect(machine!.Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      },
    });
  });

  it('logs to a log group encrypted with the lake key and kept three months', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/SluiceTest-pipeline',
      KmsKeyId: { 'Fn::GetAtt': [logicalId(stack.lake.key), 'Arn'] },
      RetentionInDays: 90,
    });
  });

  it('has a value for every placeholder of the ASL file, each a function of this stack', () => {
    // Prepare
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    const definition = machine!.Properties.DefinitionString as string;
    const substitutions = machine!.Properties.DefinitionSubstitutions as Record<string, unknown>;
    // Act: what CloudFormation does with DefinitionSubstitutions at deploy time
    const substituted = definition.replace(/\$\{(\w+)\}/g, (whole, name: string) =>
      name in substitutions ? `<${name}>` : whole,
    );
    // Assess
    expect(substituted).not.toContain('${');
    expect(substitutions).toEqual({
      IngestFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.ingest), 'Arn'] },
      ValidateFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.validate), 'Arn'] },
      PromoteFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.promote), 'Arn'] },
      RecordRunFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.recordRun), 'Arn'] },
    });
  });

  it('may invoke each of the four functions', () => {
    // Prepare
    const roleId = stack.getLogicalId(stack.pipeline.stateMachine.role.node.defaultChild as never);
    const policy = Object.values(resourcesOf('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    )!;
    // Act
    const invocable = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) =>
      actionsOf(s).includes('lambda:InvokeFunction'),
    ).flatMap((s) => [(s as { Resource?: unknown }).Resource].flat());
    // Assess
    for (const fn of stack.functions.all) {
      expect(invocable).toContainEqual({ 'Fn::GetAtt': [logicalId(fn), 'Arn'] });
    }
  });

  it('alarms on a failed execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
  });

  it('alarms on a timed-out execution', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsTimedOut',
      Namespace: 'AWS/States',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('notifies through a KMS-encrypted, TLS-only alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.lake.key), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('triggers', () => {
  const rules = () => Object.values(resourcesOf('AWS::Events::Rule'));
  const ruleFor = (dataset: string, kind: 'upload' | 'schedule') =>
    rules().find(
      (r) =>
        (r.Properties.Description as string).includes(`dataset ${dataset} `) &&
        kind === (r.Properties.ScheduleExpression ? 'schedule' : 'upload'),
    )!;
  const targetOf = (rule: Resource) => (rule.Properties.Targets as Record<string, unknown>[])[0]!;

  it('starts the pipeline when an object is created under an s3-upload dataset prefix', () => {
    // Act
    const rule = ruleFor('orders', 'upload');
    // Assess
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: logicalId(stack.lake.landingBucket) }] },
        object: { key: [{ prefix: 'landing/orders/' }] },
      },
    });
    expect(targetOf(rule).Arn).toEqual({ Ref: logicalId(stack.pipeline.stateMachine) });
  });

  it('matches the suffix of an s3-upload dataset with a wildcard after its prefix', () => {
    // Act
    const rule = ruleFor('clicks', 'upload');
    // Assess
    expect(rule.Properties.EventPattern).toMatchObject({
      detail: { object: { key: [{ wildcard: 'landing/clicks/*.jsonl' }] } },
    });
  });

  it('passes the dataset and the uploaded object to the execution', () => {
    // Act
    const transformer = targetOf(ruleFor('orders', 'upload')).InputTransformer as {
      InputTemplate: string;
      InputPathsMap: Record<string, string>;
    };
    // Assess
    expect(transformer.InputTemplate).toContain('"dataset":"orders"');
    expect(transformer.InputTemplate).toContain('"type":"s3-upload"');
    expect(Object.values(transformer.InputPathsMap).sort()).toEqual(
      [
        '$.detail.bucket.name',
        '$.detail.object.etag',
        '$.detail.object.key',
        '$.detail.object.sequencer',
        '$.detail.object.size',
        '$.detail.object.version-id',
        '$.time',
      ].sort(),
    );
  });

  it('starts a scheduled dataset on its schedule', () => {
    // Act
    const rule = ruleFor('weather', 'schedule');
    // Assess
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    const transformer = targetOf(rule).InputTransformer as { InputTemplate: string };
    expect(JSON.parse(transformer.InputTemplate.replace('<time>', '"t"'))).toEqual({
      dataset: 'weather',
      trigger: { type: 'schedule', time: 't' },
    });
  });

  it('creates one rule per upload dataset and per schedule, and none for a pulled source without a schedule', () => {
    expect(rules()).toHaveLength(3);
  });

  it('sends events that cannot start an execution to the dead-letter queue after retries', () => {
    // Prepare
    const dlqArn = { 'Fn::GetAtt': [logicalId(stack.triggers.deadLetterQueue), 'Arn'] };
    // Act
    const targets = rules().map(targetOf);
    // Assess
    for (const target of targets) {
      expect(target).toMatchObject({
        DeadLetterConfig: { Arn: dlqArn },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
      });
    }
  });

  it('keeps dead letters 14 days in an encrypted queue that refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms while the dead-letter queue holds a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.triggers.deadLetterQueue), 'QueueName'] },
        },
      ],
    });
  });
});

describe('stack', () => {
  it('outputs the state machine ARN and the zone bucket names for the CLI', () => {
    // Act
    const outputs = Object.keys(template.findOutputs('*'));
    // Assess
    expect(outputs).toEqual(
      expect.arrayContaining([
        'StateMachineArn',
        'LandingBucketName',
        'RawBucketName',
        'ValidatedBucketName',
        'CuratedBucketName',
        'QuarantineBucketName',
        'ReportsBucketName',
      ]),
    );
  });

  // The checks walk the whole tree; run them once for the two tests below.
  let nagReport: ReturnType<AwsSolutionsChecks['validateScope']> | undefined;
  const runNag = () => {
    nagReport ??= new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    return nagReport;
  };

  it('passes the cdk-nag AWS Solutions checks without an unacknowledged error', () => {
    // Act
    const report = runNag();
    // Assess
    expect(report.violations.filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('passes the cdk-nag AWS Solutions checks without an unacknowledged warning', () => {
    // Act
    const report = runNag();
    // Assess
    expect(report.violations.filter((v) => v.severity !== 'error')).toEqual([]);
  });

  it('gives a reason in words for every acknowledged finding', () => {
    // Act
    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    // Assess
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect({ id, words: reason.split(/\s+/).length >= 12 }).toEqual({ id, words: true });
    }
  });

  it('synthesises without CDK warnings or errors', () => {
    // Act
    const annotations = Annotations.fromStack(stack);
    // Assess
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});
