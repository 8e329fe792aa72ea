import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { buildApp } from '../../infra/app.js';
import type { PipelineStack } from '../../infra/stacks/pipeline-stack.js';
import { FUNCTION_MEMORY_MB } from '../../lambdas/shared/function-sizes.js';

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
const rolePolicy = (role: { node: { defaultChild?: unknown } }): Statement[] => {
  const roleId = stack.getLogicalId(role.node.defaultChild as never);
  const policy = Object.values(resourcesOf('AWS::IAM::Policy')).find((p) =>
    JSON.stringify(p.Properties.Roles).includes(roleId),
  );
  return (policy!.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const functionRolePolicy = (fnId: 'ingest' | 'validate' | 'promote' | 'recordRun'): Statement[] =>
  rolePolicy(stack.functions[fnId].role!);
const stateMachineRolePolicy = () => rolePolicy(stack.pipeline.stateMachine.role);
/** The state machine's policy for its Distributed Map, a policy of its own attached to its role. */
const mapRunStatements = (): Statement[] => {
  const policy = resourcesOf('AWS::IAM::Policy')[logicalId(stack.pipeline.mapRunPolicy)]!;
  expect(policy.Properties.Roles).toEqual([{ Ref: logicalId(stack.pipeline.stateMachine.role) }]);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const versionRolePolicy = () => rolePolicy(stack.versioning.project.role!);

beforeAll(() => {
  // The context the CLI passes from cdk.json, so the template under test is the one that deploys.
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  ({ app, stack } = buildApp({
    datasetsDir: FIXTURES,
    appProps: { context: { ...context, stackName: 'SluiceTest', datasetsRepository: 'codecommit' } },
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

  it("expires sharded runs' spill in reports by its tag a day after, and then its noncurrent version, a day being longer than any run", () => {
    // Prepare
    const asl = JSON.parse(
      readFileSync(new URL('../../statemachines/pipeline.asl.json', import.meta.url), 'utf8'),
    ) as {
      TimeoutSeconds: number;
    };
    // Act
    const reports = resourcesOf('AWS::S3::Bucket')[logicalId(stack.lake.reportsBucket)]!;
    // Assess
    const rules = (reports.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    const spill = rules.filter((rule) => rule.TagFilters !== undefined);
    expect(spill).toEqual([
      {
        Id: 'expire-run-spill',
        Status: 'Enabled',
        TagFilters: [{ Key: 'sluice-spill', Value: '1' }],
        ExpirationInDays: 1,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      },
    ]);
    // The merge reads the spill within its run, which the state machine's timeout bounds.
    expect(asl.TimeoutSeconds).toBeLessThan(24 * 60 * 60);
    expect(rules).toContainEqual({
      Id: 'remove-expired-delete-markers',
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
    });
    // No object lock on reports could keep the expired versions.
    expect(reports.Properties.ObjectLockEnabled).toBeUndefined();
    expect(reports.Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it('expires by tag in no other zone', () => {
    // Act
    const tagged = Object.entries(stack.lake.buckets)
      .filter(([zone]) => zone !== 'reports')
      .filter(([, bucket]) => {
        const resource = resourcesOf('AWS::S3::Bucket')[logicalId(bucket)]!;
        const rules = (resource.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] })
          .Rules;
        return rules.some((rule) => rule.TagFilters !== undefined);
      });
    // Assess
    expect(tagged).toEqual([]);
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

  it('have the memory sizes sluice cost prices them at', () => {
    // Act
    const memoryOf = (fnId: keyof typeof FUNCTION_MEMORY_MB) =>
      resourcesOf('AWS::Lambda::Function')[logicalId(stack.functions[fnId])]!.Properties.MemorySize;
    // Assess
    expect(
      Object.fromEntries(Object.keys(FUNCTION_MEMORY_MB).map((id) => [id, memoryOf(id as never)])),
    ).toEqual(FUNCTION_MEMORY_MB);
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

  it("let only validate tag objects, and only its datasets' runs' spill in reports", () => {
    // Prepare
    const reports = logicalId(stack.lake.reportsBucket);
    const tagging = (fn: 'ingest' | 'validate' | 'promote' | 'recordRun') =>
      functionRolePolicy(fn).filter((s) =>
        actionsOf(s).some((action) => action.startsWith('s3:PutObjectTagging')),
      );
    // Act
    const byFunction = (['ingest', 'validate', 'promote', 'recordRun'] as const).map(
      (fn) => [fn, tagging(fn)] as const,
    );
    // Assess
    expect(byFunction.filter(([, statements]) => statements.length > 0).map(([fn]) => fn)).toEqual([
      'validate',
    ]);
    const [statement] = byFunction.find(([fn]) => fn === 'validate')![1];
    expect(actionsOf(statement!)).toEqual(['s3:PutObjectTagging']);
    const resources = [(statement as Statement & { Resource: unknown }).Resource].flat();
    expect(resources.length).toBeGreaterThan(0);
    for (const resource of resources) {
      expect(resource).toEqual({
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [reports, 'Arn'] },
            expect.stringMatching(/^\/[a-z0-9-]+\/dt=\*\/run=\*\/spill\/\*$/),
          ],
        ],
      });
    }
  });

  it('let only ingest write to the raw bucket', () => {
    // Prepare
    // Objects of the raw bucket, under any prefix.
    const rawObjects = { 'Fn::GetAtt': [logicalId(stack.lake.rawBucket), 'Arn'] };
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

  it('has a value for every placeholder of the ASL file: the four functions, the reports bucket and the version project', () => {
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
      ReportsBucketName: { Ref: logicalId(stack.lake.reportsBucket) },
      VersionProjectName: { Ref: logicalId(stack.versioning.project) },
    });
  });

  it('runs the version project in its VersionWithDvc state and waits for the build', () => {
    // Prepare
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    // Act
    const { States } = JSON.parse(machine!.Properties.DefinitionString as string) as {
      States: Record<string, { Resource?: string; Parameters?: { ProjectName?: string } }>;
    };
    // Assess
    expect(States.VersionWithDvc).toMatchObject({
      Resource: 'arn:aws:states:::codebuild:startBuild.sync',
      // An ASL placeholder, not a JavaScript template.
      Parameters: { ProjectName: ['$', '{VersionProjectName}'].join('') },
    });
  });

  it('may start, stop and watch builds of the version project and of no other', () => {
    // Act
    const statements = stateMachineRolePolicy().filter((s) =>
      actionsOf(s).some((action) => action.startsWith('codebuild:')),
    );
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.versioning.project), 'Arn'] },
      },
    ]);
  });

  it('may manage only the EventBridge rule through which Step Functions learns that a build ended', () => {
    // Act
    const statements = stateMachineRolePolicy().filter((s) =>
      actionsOf(s).some((action) => action.startsWith('events:')),
    );
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['events:DescribeRule', 'events:PutRule', 'events:PutTargets'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':events:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':rule/StepFunctionsGetEventForCodeBuildStartBuildRule',
            ],
          ],
        },
      },
    ]);
  });

  it('validates a large batch in a Distributed Map of standard child executions over the shard list, failing on any failed shard', () => {
    // Prepare
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    // Act
    const { States } = JSON.parse(machine!.Properties.DefinitionString as string) as {
      States: Record<string, Record<string, unknown>>;
    };
    // Assess
    expect(States.ValidateShards).toMatchObject({
      Type: 'Map',
      Label: 'ValidateShards',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'ValidateShard',
      },
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        // An ASL placeholder, not a JavaScript template.
        Parameters: { Bucket: ['$', '{ReportsBucketName}'].join(''), 'Key.$': '$.shards.key' },
      },
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: ['$', '{ReportsBucketName}'].join(''), 'Prefix.$': '$.shards.resultsPrefix' },
      },
      MaxConcurrencyPath: '$.shards.maxConcurrency',
      ToleratedFailurePercentage: 0,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailedRun' }],
      Next: 'PlanKeyPartitions',
    });
    expect(States.ValidateShards).not.toHaveProperty('ItemBatcher');
  });

  it('checks the spilled key partitions in a second Distributed Map between the shards and the merge, only when keys were spilled', () => {
    // Prepare
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    // Act
    const { States } = JSON.parse(machine!.Properties.DefinitionString as string) as {
      States: Record<string, Record<string, unknown>>;
    };
    // Assess
    expect(States.PlanKeyPartitions).toMatchObject({
      Type: 'Task',
      Parameters: { Payload: { action: 'plan-key-partitions' } },
      ResultPath: '$.keyPartitions',
      Retry: States.PlanShards!.Retry,
      Catch: States.PlanShards!.Catch,
      Next: 'HasSpilledKeys',
    });
    expect(States.HasSpilledKeys).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [{ Variable: '$.keyPartitions.spilled', BooleanEquals: true, Next: 'CheckKeyPartitions' }],
      Default: 'MergeResults',
    });
    const validateShard = (
      States.ValidateShards!.ItemProcessor as { States: Record<string, { Retry: unknown }> }
    ).States.ValidateShard!;
    expect(States.CheckKeyPartitions).toMatchObject({
      Type: 'Map',
      Label: 'CheckKeyPartitions',
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'CheckKeyPartition',
        States: {
          CheckKeyPartition: {
            Type: 'Task',
            Parameters: { Payload: { action: 'check-key-partition', 'partition.$': '$.partition' } },
            Retry: validateShard.Retry,
            End: true,
          },
        },
      },
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSONL' },
        Parameters: { Bucket: ['$', '{ReportsBucketName}'].join(''), 'Key.$': '$.keyPartitions.key' },
      },
      ItemSelector: { 'partition.$': '$$.Map.Item.Value.partition' },
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: {
          Bucket: ['$', '{ReportsBucketName}'].join(''),
          'Prefix.$': '$.keyPartitions.resultsPrefix',
        },
      },
      MaxConcurrencyPath: '$.keyPartitions.maxConcurrency',
      ToleratedFailurePercentage: 0,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailedRun' }],
      Next: 'MergeResults',
    });
  });

  it('keeps a batch within its shard size on the one ValidateBatch invocation', () => {
    // Prepare
    const [machine] = Object.values(resourcesOf('AWS::StepFunctions::StateMachine'));
    // Act
    const { States } = JSON.parse(machine!.Properties.DefinitionString as string) as {
      States: Record<string, Record<string, unknown>>;
    };
    // Assess
    expect(States.IsAlreadyProcessed).toMatchObject({ Default: 'RecordRunStarted' });
    expect(States.RecordRunStarted).toMatchObject({ ResultPath: null, Next: 'IsLargeBatch' });
    expect(States.IsLargeBatch).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [{ Variable: '$.ingest.shard', BooleanEquals: true, Next: 'PlanShards' }],
      Default: 'ValidateBatch',
    });
    expect(States.MergeResults).toMatchObject({
      ResultSelector: States.ValidateBatch!.ResultSelector,
      ResultPath: '$.validation',
      Next: 'Decide',
    });
  });

  it('may start executions of itself, and describe and stop only the child executions of its two Distributed Maps', () => {
    // Prepare
    const machineId = logicalId(stack.pipeline.stateMachine);
    // Act
    const statements = mapRunStatements().filter((s) =>
      actionsOf(s).some((action) => action.startsWith('states:')),
    );
    // Assess
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } },
      {
        Effect: 'Allow',
        Action: ['states:DescribeExecution', 'states:StopExecution'],
        Resource: ['CheckKeyPartitions', 'ValidateShards'].map((label) => ({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':states:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':execution:',
              { 'Fn::GetAtt': [machineId, 'Name'] },
              `/${label}:*`,
            ],
          ],
        })),
      },
    ]);
  });

  it('uses the lake key for the map runs only to decrypt the shard lists and to write the results', () => {
    // Act
    const statements = mapRunStatements().filter((s) =>
      actionsOf(s).some((action) => action.startsWith('kms:')),
    );
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.lake.key), 'Arn'] },
      },
    ]);
  });

  it('may invoke each of the four functions', () => {
    // Act
    const invocable = stateMachineRolePolicy()
      .filter((s) => actionsOf(s).includes('lambda:InvokeFunction'))
      .flatMap((s) => [(s as { Resource?: unknown }).Resource].flat());
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

describe('versioning', () => {
  const BUILDSPEC = new URL('../../buildspec/version.yml', import.meta.url);
  const project = () => resourcesOf('AWS::CodeBuild::Project')[logicalId(stack.versioning.project)]!;
  const variables = () =>
    Object.fromEntries(
      (
        (project().Properties.Environment as { EnvironmentVariables: { Name: string }[] })
          .EnvironmentVariables ?? []
      ).map(({ Name, ...variable }) => [Name, variable]),
    );
  const curatedArn = () => ({ 'Fn::GetAtt': [logicalId(stack.lake.curatedBucket), 'Arn'] });
  const curatedObjects = (prefix: string) => ({ 'Fn::Join': ['', [curatedArn(), `/${prefix}/*`]] });
  const resourcesOfStatement = (s: Statement) => [(s as { Resource?: unknown }).Resource].flat();

  it('runs buildspec/version.yml as it is, with no source of its own', () => {
    // Act
    const source = project().Properties.Source as { Type: string; BuildSpec: string };
    // Assess
    expect(source.Type).toBe('NO_SOURCE');
    expect(parse(source.BuildSpec)).toEqual(parse(readFileSync(BUILDSPEC, 'utf8')));
  });

  it("adds the snapshot and pushes it to the DVC remote in its build phase, through DVC's API", () => {
    // Act
    const buildSpec = parse((project().Properties.Source as { BuildSpec: string }).BuildSpec) as {
      phases: { build: { commands: string[] } };
    };
    // Assess
    expect(buildSpec.phases.build.commands).toContainEqual(
      expect.stringMatching(
        /repo\.add\(\[target\], relink=not linked\)[\s\S]*repo\.push\(\[f"\{target\}\.dvc"\], remote="lake"\)/,
      ),
    );
  });

  it('runs one build at a time', () => {
    expect(project().Properties.ConcurrentBuildLimit).toBe(1);
  });

  it('encrypts its builds with the lake key', () => {
    expect(project().Properties.EncryptionKey).toEqual({
      'Fn::GetAtt': [logicalId(stack.lake.key), 'Arn'],
    });
  });

  it("runs unprivileged on CodeBuild's Amazon Linux ARM image", () => {
    expect(project().Properties.Environment).toMatchObject({
      Type: 'ARM_CONTAINER',
      Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
      ComputeType: 'BUILD_GENERAL1_SMALL',
      PrivilegedMode: false,
    });
  });

  it('logs to its own log group, encrypted with the lake key and kept three months', () => {
    // Prepare
    const logGroupId = logicalId(stack.versioning.logGroup);
    // Act
    const logs = project().Properties.LogsConfig;
    // Assess
    expect(logs).toEqual({ CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: logGroupId } } });
    expect(resourcesOf('AWS::Logs::LogGroup')[logGroupId]!.Properties).toEqual({
      LogGroupName: '/aws/codebuild/SluiceTest-version',
      KmsKeyId: { 'Fn::GetAtt': [logicalId(stack.lake.key), 'Arn'] },
      RetentionInDays: 90,
    });
  });

  it('gives up, queue time included, before the VersionWithDvc state times out', () => {
    // Prepare
    const asl = JSON.parse(
      readFileSync(new URL('../../statemachines/pipeline.asl.json', import.meta.url), 'utf8'),
    ) as { States: { VersionWithDvc: { TimeoutSeconds: number } } };
    // Act
    const { TimeoutInMinutes, QueuedTimeoutInMinutes } = project().Properties as Record<string, number>;
    // Assess
    expect((TimeoutInMinutes! + QueuedTimeoutInMinutes!) * 60).toBeLessThanOrEqual(
      asl.States.VersionWithDvc.TimeoutSeconds,
    );
  });

  it("points DVC's remote at _dvc/ of the curated bucket and the snapshot sync at the bucket", () => {
    // Prepare
    const curated = { Ref: logicalId(stack.lake.curatedBucket) };
    // Act
    const env = variables();
    // Assess
    expect(env.SLUICE_DVC_REMOTE).toEqual({
      Type: 'PLAINTEXT',
      Value: { 'Fn::Join': ['', ['s3://', curated, '/_dvc']] },
    });
    expect(env.SLUICE_CURATED_ROOT).toEqual({
      Type: 'PLAINTEXT',
      Value: { 'Fn::Join': ['', ['s3://', curated]] },
    });
  });

  it('creates a CodeCommit repository for the datasets when chosen, kept when the stack is deleted', () => {
    // Act
    const repository = resourcesOf('AWS::CodeCommit::Repository')[logicalId(stack.versioning.repository!)];
    // Assess
    expect(repository).toMatchObject({
      Properties: { RepositoryName: 'SluiceTest-datasets' },
      DeletionPolicy: 'Retain',
    });
  });

  it('clones that repository over HTTPS with the CodeCommit credential helper', () => {
    // Act
    const env = variables();
    // Assess
    expect(env.SLUICE_GIT_REMOTE).toEqual({
      Type: 'PLAINTEXT',
      Value: { 'Fn::GetAtt': [logicalId(stack.versioning.repository!), 'CloneUrlHttp'] },
    });
    expect(env.SLUICE_GIT_CREDENTIAL_HELPER).toEqual({ Type: 'PLAINTEXT', Value: 'codecommit' });
    expect(env.SLUICE_GIT_TOKEN).toBeUndefined();
  });

  it('may pull from and push to that repository and no other', () => {
    // Act
    const statements = versionRolePolicy().filter((s) =>
      actionsOf(s).some((a) => a.startsWith('codecommit:')),
    );
    // Assess
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['codecommit:GitPull', 'codecommit:GitPush'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.versioning.repository!), 'Arn'] },
      },
    ]);
  });

  it('cannot delete anything from the curated bucket', () => {
    // Act
    const actions = versionRolePolicy().flatMap(actionsOf);
    // Assess
    expect(actions.filter((action) => /^s3:(.*\*|Delete)/.test(action))).toEqual([]);
  });

  it('writes only under _dvc/ of the curated bucket', () => {
    // Act
    const written = versionRolePolicy()
      .filter((s) => actionsOf(s).includes('s3:PutObject'))
      .flatMap(resourcesOfStatement);
    // Assess
    expect(written).toEqual([curatedObjects('_dvc')]);
  });

  it("lists only the versioned datasets' prefixes and _dvc/ of the curated bucket", () => {
    // Act
    const listing = versionRolePolicy().filter((s) => actionsOf(s).includes('s3:ListBucket'));
    // Assess
    expect(listing).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: curatedArn(),
        Condition: { StringLike: { 's3:prefix': ['orders', 'orders/*', '_dvc', '_dvc/*'] } },
      },
    ]);
  });

  it("reads only the versioned datasets' objects and _dvc/ of the curated bucket", () => {
    // Act
    const read = versionRolePolicy()
      .filter((s) => actionsOf(s).includes('s3:GetObject'))
      .flatMap(resourcesOfStatement);
    // Assess
    expect(read).toHaveLength(2);
    expect(read).toEqual(expect.arrayContaining([curatedObjects('orders'), curatedObjects('_dvc')]));
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

  it('outputs the version project and the clone URL of the dataset repository', () => {
    // Act
    const outputs = template.findOutputs('*');
    // Assess
    expect(outputs.VersionProjectName?.Value).toEqual({ Ref: logicalId(stack.versioning.project) });
    expect(outputs.DatasetRepositoryCloneUrl?.Value).toEqual({
      'Fn::GetAtt': [logicalId(stack.versioning.repository!), 'CloneUrlHttp'],
    });
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
