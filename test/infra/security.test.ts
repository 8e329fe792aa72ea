import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../infra/app.js';
import type { PipelineStack } from '../../infra/stacks/pipeline-stack.js';
import {
  type CfnResource,
  grantLines,
  type PolicyStatement,
  readable,
  readableId,
  roleStatements,
} from '../support/template-policy.js';

// The security of the deployed stack, asserted on the template CloudFormation receives. The stack
// is built from fixtures/every-source: one contract per source type (s3-upload, partner-drop,
// http with a token secret, postgres, postgres inside a VPC, stream), and the upload contract asks
// for every optional grant (DVC versioning, `same_source: replace`, a snapshot expectation).
// One synthesis for the whole file, written to a temporary cdk.out that cfn-lint reads too.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVERY_SOURCE = fileURLToPath(new URL('./fixtures/every-source', import.meta.url));
const CFN_LINT = join(ROOT, '.venv', 'bin', 'cfn-lint');

/**
 * Actions that do not support resource-level permissions, so a statement granting them must name
 * Resource "*"; nothing else may. Each with the reason it is in the stack.
 */
const RESOURCE_STAR_EXCEPTIONS: Readonly<Record<string, string>> = {
  'xray:PutTraceSegments': 'X-Ray tracing of the functions and the state machine',
  'xray:PutTelemetryRecords': 'X-Ray tracing of the functions and the state machine',
  'xray:GetSamplingRules': "X-Ray sampling of the state machine's traces",
  'xray:GetSamplingTargets': "X-Ray sampling of the state machine's traces",
  'ec2:CreateNetworkInterface':
    'a function in a VPC: Lambda checks it on every resource before the interface exists',
  'ec2:DescribeNetworkInterfaces': 'a function in a VPC: a describe action has no resource-level permissions',
  'ec2:DescribeSubnets': 'a function in a VPC: a describe action has no resource-level permissions',
  'logs:CreateLogDelivery': 'Step Functions execution logging (vended logs delivery)',
  'logs:GetLogDelivery': 'Step Functions execution logging (vended logs delivery)',
  'logs:UpdateLogDelivery': 'Step Functions execution logging (vended logs delivery)',
  'logs:DeleteLogDelivery': 'Step Functions execution logging (vended logs delivery)',
  'logs:ListLogDeliveries': 'Step Functions execution logging (vended logs delivery)',
  'logs:PutResourcePolicy': 'Step Functions execution logging (vended logs delivery)',
  'logs:DescribeResourcePolicies': 'Step Functions execution logging (vended logs delivery)',
  'logs:DescribeLogGroups': 'Step Functions execution logging (vended logs delivery)',
};

/**
 * Allow statements of resource policies that are exempt from the wildcard rules, with the reason.
 * In a key policy, Resource "*" is the key the policy belongs to.
 */
const KEY_POLICY_EXCEPTIONS = {
  'kms:* to the account root':
    "The KMS default key policy: it lets the account's IAM policies grant use of the key; without it the key cannot be managed.",
};

let app: ReturnType<typeof buildApp>['app'];
let stack: PipelineStack;
let outdir: string;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  // The context the CLI passes from cdk.json, so the template under test is the one that deploys.
  const { context } = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  outdir = mkdtempSync(join(tmpdir(), 'sluice-security-cdk.out-'));
  ({ app, stack } = buildApp({
    datasetsDir: EVERY_SOURCE,
    appProps: {
      outdir,
      context: { ...context, stackName: 'SluiceSecurity', datasetsRepository: 'codecommit' },
    },
    nagChecks: false,
  }));
  app.synth();
  resources = (
    JSON.parse(readFileSync(join(outdir, 'SluiceSecurity.template.json'), 'utf8')) as {
      Resources: Record<string, CfnResource>;
    }
  ).Resources;
}, 120_000);

const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
/** A statement's principal as a string: "*", or the service or account it names. */
const principalOf = (s: PolicyStatement) =>
  typeof s.Principal === 'string' ? s.Principal : readable(Object.values(s.Principal ?? {}).flat());
const policyStatements = (document: unknown) => (document as { Statement: PolicyStatement[] }).Statement;

/** Every policy document of the template with where it is: identity, trust and resource policies. */
function policyDocuments(): { where: string; type: string; statements: PolicyStatement[] }[] {
  const found: { where: string; type: string; statements: PolicyStatement[] }[] = [];
  const walk = (value: unknown, where: string, type: string) => {
    if (value === null || typeof value !== 'object') return;
    const statements = (value as { Statement?: unknown }).Statement;
    if (Array.isArray(statements)) {
      found.push({ where, type, statements: statements as PolicyStatement[] });
      return;
    }
    for (const [key, child] of Object.entries(value)) walk(child, `${where}/${key}`, type);
  };
  for (const [id, resource] of Object.entries(resources))
    walk(resource.Properties, readableId(id), resource.Type);
  return found;
}

/** The S3 grants of a role, one `<action> on <resource>` line each, sorted. */
const s3Grants = (role: { node: { defaultChild?: unknown } }) =>
  roleStatements(resources, idOf(role))
    .filter((s) => s.Effect === 'Allow')
    .flatMap(grantLines)
    .filter((line) => line.startsWith('s3:'))
    .sort();

/** The datasets of fixtures/every-source; shop-orders is read inside its database's VPC. */
const DATASETS = ['acme-shipments', 'clicks', 'crm-contacts', 'orders', 'shop-api', 'shop-orders'];
const NOT_IN_VPC = DATASETS.filter((name) => name !== 'shop-orders');
/** The datasets whose contract asks for snapshot expectations and `same_source: replace`. */
const ORDERS = ['orders'];
const prefixesOf = (datasets: readonly string[]) => datasets.map((name) => `${name}/`);

/**
 * What reading the keys under `prefixes` of a zone bucket allows: s3:GetObject under each, and
 * s3:ListBucket of those prefixes only.
 */
const readsUnder = (zone: string, prefixes: readonly string[]) => [
  ...prefixes.map((prefix) => `s3:GetObject on <Lake${zone}Bucket.Arn>/${prefix}*`),
  `s3:ListBucket on <Lake${zone}Bucket.Arn> when StringLike s3:prefix ${prefixes.map((p) => `${p}*`).join(',')}`,
];
/** What writing under `prefixes` of a zone bucket allows: putting objects (and aborting its own multipart uploads). */
const putsUnder = (zone: string, prefixes: readonly string[]) =>
  prefixes.flatMap((prefix) => [
    `s3:AbortMultipartUpload on <Lake${zone}Bucket.Arn>/${prefix}*`,
    `s3:PutObject on <Lake${zone}Bucket.Arn>/${prefix}*`,
  ]);
/** Tagging the spills of the datasets' sharded runs in reports, and nothing else there. */
const spillTagging = (datasets: readonly string[]) =>
  datasets.map((name) => `s3:PutObjectTagging on <LakeReportsBucket.Arn>/${name}/dt=*/run=*/spill/*`);

describe('IAM wildcards', () => {
  it('allows no action "*" and no whole service ("s3:*"), outside the documented key policy exception', () => {
    // Act
    const whole = policyDocuments().flatMap(({ where, statements }) =>
      statements
        .filter((s) => s.Effect === 'Allow')
        .flatMap((s) =>
          [s.Action ?? [], s.NotAction ?? []]
            .flat()
            .filter((action) => action === '*' || /^[\w-]+:\*$/.test(action))
            .map((action) => ({ where, action, principal: principalOf(s) })),
        ),
    );
    // Assess
    expect(whole).toEqual([
      {
        where: `${readableId(idOf(stack.lake.key))}/KeyPolicy`,
        action: 'kms:*',
        principal: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root',
      },
    ]);
    expect(Object.keys(KEY_POLICY_EXCEPTIONS)).toEqual(['kms:* to the account root']);
  });

  it('allows Resource "*" only to the actions that support no narrower resource, each listed with its reason', () => {
    // Act
    const starred = policyDocuments()
      .filter(({ type }) => type !== 'AWS::KMS::Key')
      .flatMap(({ statements }) =>
        statements
          .filter((s) => s.Effect === 'Allow' && [s.Resource].flat().includes('*'))
          .flatMap((s) => [s.Action ?? []].flat()),
      );
    // Assess
    expect(starred.length).toBeGreaterThan(0);
    expect([...new Set(starred)].filter((action) => !(action in RESOURCE_STAR_EXCEPTIONS))).toEqual([]);
  });

  it('allows no NotAction and no NotResource, whose meaning is "everything else"', () => {
    // Act
    const negated = policyDocuments().flatMap(({ where, statements }) =>
      statements.filter((s) => s.Effect === 'Allow' && (s.NotAction || s.NotResource)).map(() => where),
    );
    // Assess
    expect(negated).toEqual([]);
  });

  it('grants nothing to the anonymous principal "*" in any resource policy', () => {
    // Act
    const open = policyDocuments().flatMap(({ where, statements }) =>
      statements
        .filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Principal ?? '').match(/"\*"/))
        .map(() => where),
    );
    // Assess
    expect(open).toEqual([]);
  });
});

describe('S3 access of each role, exactly', () => {
  it("Ingest reads landing under the sources' landing prefixes, and reads and writes raw and reports under its datasets' prefixes", () => {
    expect(s3Grants(stack.functions.ingest.role!)).toEqual(
      [
        ...readsUnder('Landing', ['landing/orders/', 'landing/partners/acme/']),
        ...readsUnder('Raw', prefixesOf(NOT_IN_VPC)),
        ...readsUnder('Reports', prefixesOf(NOT_IN_VPC)),
        ...putsUnder('Raw', prefixesOf(NOT_IN_VPC)),
        ...putsUnder('Reports', prefixesOf(NOT_IN_VPC)),
      ].sort(),
    );
  });

  it("the Ingest function of a database VPC reads and writes raw and reports only under that database's datasets", () => {
    // Prepare
    const [network] = stack.functions.networkIngests;
    // Act
    const grants = s3Grants(network!.fn.role!);
    // Assess
    expect(network!.datasets).toEqual(['shop-orders']);
    expect(grants).toEqual(
      [
        ...readsUnder('Raw', ['shop-orders/']),
        ...readsUnder('Reports', ['shop-orders/']),
        ...putsUnder('Raw', ['shop-orders/']),
        ...putsUnder('Reports', ['shop-orders/']),
      ].sort(),
    );
  });

  it("Validate reads raw and reports, curated for snapshot expectations, reads back and writes validated, quarantine and reports, under dataset prefixes, and tags only their runs' spills", () => {
    expect(s3Grants(stack.functions.validate.role!)).toEqual(
      [
        ...readsUnder('Raw', prefixesOf(DATASETS)),
        ...readsUnder('Reports', prefixesOf(DATASETS)),
        ...readsUnder('Curated', prefixesOf(ORDERS)),
        ...readsUnder('Validated', prefixesOf(DATASETS)),
        ...readsUnder('Quarantine', prefixesOf(DATASETS)),
        ...putsUnder('Validated', prefixesOf(DATASETS)),
        ...putsUnder('Quarantine', prefixesOf(DATASETS)),
        ...putsUnder('Reports', prefixesOf(DATASETS)),
        ...spillTagging(DATASETS),
      ].sort(),
    );
  });

  it("Promote reads validated, writes curated, and reads curated and raw and deletes curated only under a replacing dataset's prefix", () => {
    expect(s3Grants(stack.functions.promote.role!)).toEqual(
      [
        ...readsUnder('Validated', prefixesOf(DATASETS)),
        ...readsUnder('Curated', prefixesOf(ORDERS)),
        ...readsUnder('Raw', prefixesOf(ORDERS)),
        ...putsUnder('Curated', prefixesOf(DATASETS)),
        's3:DeleteObject on <LakeCuratedBucket.Arn>/orders/*',
      ].sort(),
    );
  });

  it("RecordRun reads and writes reports under the datasets' prefixes and reads their raw manifests, nothing else", () => {
    expect(s3Grants(stack.functions.recordRun.role!)).toEqual(
      [
        ...readsUnder('Reports', prefixesOf(DATASETS)),
        ...putsUnder('Reports', prefixesOf(DATASETS)),
        ...prefixesOf(DATASETS).map(
          (prefix) => `s3:GetObject on <LakeRawBucket.Arn>/${prefix}*/_manifest.json`,
        ),
      ].sort(),
    );
  });

  it('each function uses the lake key only to decrypt what it reads and to make data keys for what it writes', () => {
    // Prepare
    const key = `<${readableId(idOf(stack.lake.key))}.Arn>`;
    for (const fn of stack.functions.all) {
      // Act
      const kms = roleStatements(resources, idOf(fn.role!))
        .filter((s) => s.Effect === 'Allow')
        .flatMap(grantLines)
        .filter((line) => line.startsWith('kms:'))
        .sort();
      // Assess
      expect({ fn: fn.node.path, kms }).toEqual({
        fn: fn.node.path,
        kms: [`kms:Decrypt on ${key}`, `kms:GenerateDataKey on ${key}`],
      });
    }
  });

  it("the Version build lists and reads the versioned datasets' prefixes and _dvc/ of curated, and writes only _dvc/", () => {
    expect(s3Grants(stack.versioning.project.role!)).toEqual(
      [
        's3:AbortMultipartUpload on <LakeCuratedBucket.Arn>/_dvc/*',
        's3:GetObject on <LakeCuratedBucket.Arn>/_dvc/*',
        's3:GetObject on <LakeCuratedBucket.Arn>/orders/*',
        's3:ListBucket on <LakeCuratedBucket.Arn> when StringLike s3:prefix orders,orders/*,_dvc,_dvc/*',
        's3:PutObject on <LakeCuratedBucket.Arn>/_dvc/*',
      ].sort(),
    );
  });

  it("the state machine reads only the datasets' shard and key partition lists and writes only their map runs' results, in reports", () => {
    expect(s3Grants(stack.pipeline.stateMachine.role)).toEqual(
      DATASETS.flatMap((dataset) => [
        `s3:GetObject on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/shards.jsonl`,
        `s3:GetObject on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/key-partitions.jsonl`,
        ...['results', 'key-results'].flatMap((results) => [
          `s3:AbortMultipartUpload on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/${results}/*`,
          `s3:GetObject on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/${results}/*`,
          `s3:ListMultipartUploadParts on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/${results}/*`,
          `s3:PutObject on <LakeReportsBucket.Arn>/${dataset}/runs/*/shards/${results}/*`,
        ]),
      ]).sort(),
    );
  });

  it("the Firehose delivery role writes raw only under its stream dataset's prefix", () => {
    // Prepare
    const stream = stack.sources.streams.get('clicks');
    // Act
    const grants = s3Grants(stream!.deliveryRole);
    // Assess
    expect(grants).toEqual(
      [
        's3:GetBucketLocation on <LakeRawBucket.Arn>',
        's3:ListBucket on <LakeRawBucket.Arn>',
        's3:ListBucketMultipartUploads on <LakeRawBucket.Arn>',
        's3:AbortMultipartUpload on <LakeRawBucket.Arn>/clicks/*',
        's3:GetObject on <LakeRawBucket.Arn>/clicks/*',
        's3:PutObject on <LakeRawBucket.Arn>/clicks/*',
      ].sort(),
    );
  });

  it('no other role has any S3 access', () => {
    // Prepare
    const known = new Set(
      [
        ...stack.functions.all.map((fn) => fn.role!),
        stack.versioning.project.role!,
        stack.pipeline.stateMachine.role,
        ...[...stack.sources.streams.values()].map((s) => s.deliveryRole),
      ].map(idOf),
    );
    // Act
    const others = ofType('AWS::IAM::Role')
      .map(([id]) => id)
      .filter((id) => !known.has(id))
      .filter((id) =>
        roleStatements(resources, id)
          .flatMap(grantLines)
          .some((l) => l.startsWith('s3:')),
      );
    // Assess
    expect(others).toEqual([]);
  });
});

describe('buckets', () => {
  const bucketPolicy = (bucketId: string) =>
    policyStatements(
      ofType('AWS::S3::BucketPolicy').find(
        ([, p]) => readable(p.Properties.Bucket) === `<${readableId(bucketId)}>`,
      )![1].Properties.PolicyDocument,
    );

  it('blocks public access on every bucket', () => {
    for (const [, bucket] of ofType('AWS::S3::Bucket')) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('refuses every request without TLS on every bucket, to every principal', () => {
    // Act
    const buckets = ofType('AWS::S3::Bucket').map(([id]) => id);
    // Assess
    expect(buckets).toHaveLength(7);
    for (const id of buckets) {
      const arn = `<${readableId(id)}.Arn>`;
      const tls = bucketPolicy(id).filter(
        (s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'],
      );
      expect(tls.map((s) => [principalOf(s), grantLines(s)])).toEqual([
        [
          '*',
          [
            `s3:* on ${arn} when Bool aws:SecureTransport false`,
            `s3:* on ${arn}/* when Bool aws:SecureTransport false`,
          ],
        ],
      ]);
    }
  });

  it('logs access to every zone bucket into the access-logs bucket', () => {
    // Prepare
    const logs = `<${readableId(idOf(stack.lake.accessLogsBucket))}>`;
    // Act
    const logged = Object.entries(stack.lake.buckets).map(([zone, bucket]) => {
      const config = resources[idOf(bucket)]!.Properties.LoggingConfiguration as Record<string, unknown>;
      return [zone, readable(config.DestinationBucketName), config.LogFilePrefix];
    });
    // Assess
    expect(logged).toEqual(Object.keys(stack.lake.buckets).map((zone) => [zone, logs, `${zone}/`]));
  });

  it('encrypts every zone bucket with the lake key, which rotates', () => {
    // Prepare
    const key = resources[idOf(stack.lake.key)]!;
    // Act
    const keys = Object.values(stack.lake.buckets).map((bucket) => {
      const encryption = resources[idOf(bucket)]!.Properties.BucketEncryption as {
        ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { KMSMasterKeyID: unknown } }[];
      };
      return readable(
        encryption.ServerSideEncryptionConfiguration[0]!.ServerSideEncryptionByDefault.KMSMasterKeyID,
      );
    });
    // Assess
    expect(new Set(keys)).toEqual(new Set([`<${readableId(idOf(stack.lake.key))}.Arn>`]));
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('raw denies deleting any object or version to every principal, without exception', () => {
    // Act
    const deletes = bucketPolicy(idOf(stack.lake.rawBucket)).filter(
      (s) => s.Effect === 'Deny' && [s.Action].flat().some((a) => a?.startsWith('s3:Delete')),
    );
    // Assess
    expect(deletes.map((s) => [principalOf(s), grantLines(s)])).toEqual([
      ['*', ['s3:DeleteObject on <LakeRawBucket.Arn>/*', 's3:DeleteObjectVersion on <LakeRawBucket.Arn>/*']],
    ]);
  });

  it('raw denies overwriting to every principal but the stream delivery roles, which may write only under their prefix', () => {
    // Prepare
    const stream = stack.sources.streams.get('clicks');
    const deliveryRole = `<${readableId(idOf(stream!.deliveryRole))}.Arn>`;
    // Act
    const writes = bucketPolicy(idOf(stack.lake.rawBucket)).filter(
      (s) => s.Effect === 'Deny' && [s.Action].flat().includes('s3:PutObject'),
    );
    // Assess
    expect(
      writes.map((s) => ({
        principal: principalOf(s),
        lines: grantLines(s),
        notResource: s.NotResource === undefined ? undefined : readable(s.NotResource),
      })),
    ).toEqual([
      {
        principal: '*',
        lines: [
          `s3:PutObject on <LakeRawBucket.Arn>/* when ArnNotEquals aws:PrincipalArn ${deliveryRole} and Bool s3:ObjectCreationOperation true and Null s3:if-none-match true`,
        ],
        notResource: undefined,
      },
      {
        principal: '*',
        lines: [],
        notResource: '<LakeRawBucket.Arn>/clicks/*',
      },
    ]);
    expect(writes[1]!.Condition).toEqual({
      ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [idOf(stream!.deliveryRole), 'Arn'] } },
    });
  });
});

describe('secrets in the template', () => {
  /** Literal settings a function may carry; everything else must be a reference to a resource. */
  const LITERAL_SETTINGS = {
    POWERTOOLS_SERVICE_NAME: 'sluice',
    POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    NODE_OPTIONS: '--enable-source-maps',
  };

  it('gives no function an environment variable with a secret: only the known settings and bucket names', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      // Act
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const literal = Object.fromEntries(Object.entries(variables).filter(([, v]) => typeof v === 'string'));
      const referenced = Object.entries(variables)
        .filter(([, v]) => typeof v !== 'string')
        .map(([name, v]) => [name, readable(v)]);
      // Assess
      expect({ id, literal }).toEqual({ id, literal: LITERAL_SETTINGS });
      for (const [name, value] of referenced) {
        expect({ id, name, value }).toEqual({
          id,
          name: expect.stringMatching(/^SLUICE_BUCKET_[A-Z]+$/),
          value: expect.stringMatching(/^<Lake[A-Za-z]+Bucket>$/),
        });
      }
    }
  });

  it("names the pulled sources' secrets only by their Secrets Manager ARN, in IAM, never by value", () => {
    // Act
    const secretResources = ofType('AWS::IAM::Policy')
      .flatMap(([, p]) => policyStatements(p.Properties.PolicyDocument))
      .flatMap(grantLines)
      .filter((line) => line.startsWith('secretsmanager:GetSecretValue'));
    // Assess
    expect(secretResources.sort()).toEqual(
      ['crm/db', 'shop/api-token', 'shop/orders-db']
        .map(
          (name) =>
            `secretsmanager:GetSecretValue on arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${name}-??????`,
        )
        .sort(),
    );
  });
});

describe('cdk-nag', () => {
  const acknowledgements = () =>
    stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

  it('leaves no finding unacknowledged, error or warning, on the stack with every source type', () => {
    // Act
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations).toEqual([]);
  });

  it('acknowledges each finding by its exact id, and each IAM5 wildcard one by one', () => {
    // Act
    const ids = acknowledgements().map(([id]) => id);
    // Assess
    expect(ids.length).toBeGreaterThan(0);
    // CDK keeps an acknowledged annotation as `Annotation::<finding id>`.
    for (const id of ids) {
      expect(id).toMatch(/^Annotation::AwsSolutions-(IAM5\[(Action|Resource)::.+\]|(?!IAM5)[A-Z]+\d+)$/);
    }
  });

  it('gives each acknowledgement a reason in one plain sentence of 12 words or more, ending with a full stop', () => {
    for (const [id, reason] of acknowledgements()) {
      // A sentence may open with an IAM action it explains ("s3:GetObject on …").
      expect({ id, reason }).toEqual({
        id,
        reason: expect.stringMatching(/^([A-Z]|[a-z0-9-]+:[A-Za-z])[^\n]*\.$/),
      });
      expect({ id, enoughWords: reason.split(/\s+/).length >= 12 }).toEqual({ id, enoughWords: true });
    }
  });
});

describe('cfn-lint', () => {
  it('finds no error in the synthesized templates (warnings allowed: W3005 comes from CDK)', () => {
    // Prepare
    const templates = readdirSync(outdir)
      .filter((name) => name.endsWith('.template.json'))
      .map((name) => join(outdir, name));
    // Act
    const lint = spawnSync(CFN_LINT, ['--format', 'json', '--', ...templates], { encoding: 'utf8' });
    // Assess
    expect(lint.error).toBeUndefined();
    expect(templates).toHaveLength(1);
    const findings = JSON.parse(lint.stdout) as { Level: string; Rule: { Id: string }; Message: string }[];
    expect(findings.filter((f) => f.Level === 'Error')).toEqual([]);
    expect([...new Set(findings.map((f) => f.Rule.Id))]).toEqual(findings.length ? ['W3005'] : []);
  });
});
