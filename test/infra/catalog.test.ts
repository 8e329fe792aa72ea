import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, refuseIncompatibleChanges } from '../../infra/app.js';
import { Catalog } from '../../infra/constructs/catalog.js';
import { Lake } from '../../infra/constructs/lake.js';
import { type Contract, parseContract } from '../../lambdas/shared/contract.js';
import { SchemaChangeIncompatible } from '../../lambdas/shared/errors.js';
import { type CfnResource, grantLines, type PolicyStatement, readable } from '../support/template-policy.js';

// The catalog construct on a lake of its own (no functions to bundle): the Glue database and
// tables, the Athena workgroup and named queries, and the lake reader policy, as the template says.

/** A contract as a file in datasets/ would give it; `curated` is set after parsing. */
function contract(name: string, schema: Record<string, unknown>, curated?: 'jsonl'): Contract {
  const parsed = parseContract(
    JSON.stringify({
      name,
      source: { type: 's3-upload', prefix: `${name}/` },
      format: { type: 'csv', header: true },
      schema,
    }),
    `datasets/${name}.json`,
  );
  return curated ? ({ ...parsed, curated: { format: curated } } as Contract) : parsed;
}

const ORDERS = contract('orders', {
  type: 'object',
  required: ['order_id', 'amount', 'placed_at'],
  properties: {
    order_id: { type: 'string', description: 'The shop order id' },
    amount: { type: 'number' },
    quantity: { type: 'integer' },
    paid: { type: 'boolean' },
    order_date: { type: 'string', format: 'date' },
    placed_at: { type: 'string', format: 'date-time' },
    tags: { type: 'array', items: { type: 'string' } },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'integer' } } },
  },
});
const SHOP_EVENTS = contract(
  'shop-events',
  { type: 'object', properties: { kind: { type: 'string' } } },
  'jsonl',
);

let stack: Stack;
let catalog: Catalog;
let lake: Lake;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  const app = new App();
  stack = new Stack(app, 'Shop');
  lake = new Lake(stack, 'Lake');
  catalog = new Catalog(stack, 'Catalog', {
    lake,
    contracts: new Map([
      ['orders', ORDERS],
      ['shop-events', SHOP_EVENTS],
    ]),
  });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, CfnResource>;
});

const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);
/** The TableInput of the Glue table with this name. */
const tableInput = (name: string) => {
  const found = ofType('AWS::Glue::Table').find(
    (r) => (r.Properties.TableInput as { Name: string }).Name === name,
  );
  expect(found).toBeDefined();
  return found!.Properties.TableInput as {
    Name: string;
    PartitionKeys?: { Name: string; Type: string }[];
    Parameters: Record<string, unknown>;
    StorageDescriptor: {
      Columns: { Name: string; Type: string; Comment?: string }[];
      Location: unknown;
      InputFormat: string;
      SerdeInfo: { SerializationLibrary: string; Parameters?: Record<string, string> };
    };
  };
};

describe('Glue database and tables', () => {
  it('creates one database for the lake, named after the stack', () => {
    // Act
    const databases = ofType('AWS::Glue::Database');
    // Assess
    expect(databases.map((d) => (d.Properties.DatabaseInput as { Name: string }).Name)).toEqual([
      'shop_lake',
    ]);
    expect(catalog.databaseName).toBe('shop_lake');
  });

  it('creates a curated, a quarantine and a runs table per dataset, with "-" in a dataset name as "_"', () => {
    // Act
    const names = ofType('AWS::Glue::Table').map((t) => (t.Properties.TableInput as { Name: string }).Name);
    // Assess
    expect(names.sort()).toEqual([
      'orders',
      'orders_quarantine',
      'orders_runs',
      'shop_events',
      'shop_events_quarantine',
      'shop_events_runs',
    ]);
    for (const table of ofType('AWS::Glue::Table')) expect(table.Properties.DatabaseName).toBe('shop_lake');
  });

  it("types the curated table's columns from the contract's JSON Schema", () => {
    // Act
    const columns = tableInput('orders').StorageDescriptor.Columns;
    // Assess
    expect(columns).toEqual([
      { Name: 'order_id', Type: 'string', Comment: 'The shop order id' },
      { Name: 'amount', Type: 'double' },
      { Name: 'quantity', Type: 'bigint' },
      { Name: 'paid', Type: 'boolean' },
      { Name: 'order_date', Type: 'date' },
      { Name: 'placed_at', Type: 'timestamp' },
      { Name: 'tags', Type: 'array<string>' },
      { Name: 'address', Type: 'struct<city:string,zip:bigint>' },
    ]);
  });

  it('reads curated Parquet with the Parquet SerDe, and a contract that keeps JSON Lines with the Hive JSON SerDe and ISO 8601 timestamps', () => {
    // Act
    const parquet = tableInput('orders');
    const jsonl = tableInput('shop_events');
    // Assess
    expect(parquet.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    );
    expect(parquet.StorageDescriptor.InputFormat).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    );
    expect(parquet.Parameters.classification).toBe('parquet');
    expect(jsonl.StorageDescriptor.SerdeInfo).toEqual({
      SerializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe',
      Parameters: { 'timestamp.formats': "yyyy-MM-dd'T'HH:mm:ss.SSSZZ,yyyy-MM-dd'T'HH:mm:ssZZ" },
    });
    expect(jsonl.Parameters.classification).toBe('json');
  });

  it("lies over each dataset's prefix, projecting a dt partition per day so new days need no crawler", () => {
    for (const [name, dataset, zone] of [
      ['orders', 'orders', 'Curated'],
      ['orders_quarantine', 'orders', 'Quarantine'],
      ['shop_events', 'shop-events', 'Curated'],
    ] as const) {
      // Act
      const input = tableInput(name);
      // Assess
      expect(readable(input.StorageDescriptor.Location)).toBe(`s3://<Lake${zone}Bucket>/${dataset}/`);
      expect(input.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string', Comment: expect.any(String) }]);
      expect({
        ...input.Parameters,
        'storage.location.template': readable(input.Parameters['storage.location.template']),
      }).toMatchObject({
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2020-01-01,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'storage.location.template': `s3://<Lake${zone}Bucket>/${dataset}/dt=\${dt}/`,
      });
    }
  });

  it('reads quarantined rows as JSON Lines with their row, failures and record', () => {
    // Act
    const input = tableInput('orders_quarantine');
    // Assess
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual([
      'file',
      'row',
      'index',
      'failures',
      'record',
    ]);
  });

  it('reads the indented run records with the Ion SerDe, field names matched without case, under <dataset>/runs/', () => {
    // Act
    const input = tableInput('orders_runs');
    // Assess
    expect(readable(input.StorageDescriptor.Location)).toBe('s3://<LakeReportsBucket>/orders/runs/');
    expect(input.PartitionKeys).toBeUndefined();
    expect(input.StorageDescriptor.SerdeInfo).toEqual({
      SerializationLibrary: 'com.amazon.ionhiveserde.IonHiveSerDe',
      Parameters: { 'ion.path_extractor.case_sensitive': 'false' },
    });
    expect(input.StorageDescriptor.Columns.map((c) => c.Name)).toEqual(
      expect.arrayContaining(['runid', 'status', 'validation', 'version', 'error']),
    );
  });

  it('projects partitions from the first date given, and refuses one that is not YYYY-MM-DD', () => {
    // Prepare
    const build = (firstPartitionDate: string) => {
      const other = new Stack(new App(), 'FirstDate');
      new Catalog(other, 'Catalog', {
        lake: new Lake(other, 'Lake'),
        contracts: new Map([['orders', ORDERS]]),
        firstPartitionDate,
      });
      return Template.fromStack(other);
    };
    // Act
    const template = build('2015-06-01');
    // Assess
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Name: 'orders', Parameters: { 'projection.dt.range': '2015-06-01,NOW' } },
    });
    expect(() => build('1 June 2015')).toThrow(
      "catalog firstPartitionDate (context catalogFirstDate): expected YYYY-MM-DD, got '1 June 2015'",
    );
  });

  it('refuses two datasets that would be the same table', () => {
    // Prepare
    const app = new App();
    const other = new Stack(app, 'Clash');
    const clashing = new Map([
      ['shop-events', SHOP_EVENTS],
      ['shop_events', contract('shop_events', { type: 'object', properties: { kind: { type: 'string' } } })],
    ]);
    // Act
    const build = () => new Catalog(other, 'Catalog', { lake: new Lake(other, 'Lake'), contracts: clashing });
    // Assess
    expect(build).toThrow(
      "datasets 'shop-events' and 'shop_events' would both be the Glue table 'shop_events'",
    );
  });
});

describe('Athena', () => {
  it('has a workgroup that enforces results under the reports bucket, encrypted with the lake key', () => {
    // Act
    const [workGroup] = ofType('AWS::Athena::WorkGroup');
    const config = workGroup!.Properties.WorkGroupConfiguration as {
      EnforceWorkGroupConfiguration: boolean;
      ResultConfiguration: {
        OutputLocation: unknown;
        EncryptionConfiguration: { EncryptionOption: string; KmsKey: unknown };
      };
    };
    // Assess
    expect(workGroup!.Properties.Name).toBe('Shop-lake');
    expect(config.EnforceWorkGroupConfiguration).toBe(true);
    expect(workGroup!.Properties.RecursiveDeleteOption).toBe(true);
    expect(readable(config.ResultConfiguration.OutputLocation)).toBe(
      's3://<LakeReportsBucket>/_athena-results/',
    );
    expect(config.ResultConfiguration.EncryptionConfiguration.EncryptionOption).toBe('SSE_KMS');
    expect(readable(config.ResultConfiguration.EncryptionConfiguration.KmsKey)).toBe('<LakeKey.Arn>');
  });

  it('expires query results in the reports bucket after 30 days', () => {
    // Act
    const reports = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::S3::Bucket' &&
        JSON.stringify(r.Properties.LoggingConfiguration ?? {}).includes('reports/'),
    );
    const rules = (
      reports!.Properties.LifecycleConfiguration as {
        Rules: { Id: string; Prefix?: string; ExpirationInDays?: number }[];
      }
    ).Rules;
    // Assess
    expect(rules.find((r) => r.Id === 'expire-athena-results')).toMatchObject({
      Prefix: '_athena-results/',
      ExpirationInDays: 30,
    });
  });

  it('has two named queries per dataset in the workgroup: recent curated rows, and quarantined rows by expectation', () => {
    // Act
    const queries = ofType('AWS::Athena::NamedQuery');
    // Assess
    expect(
      queries.map((q) => [q.Properties.Name, q.Properties.Database, readable(q.Properties.WorkGroup)]),
    ).toEqual([
      ['orders: rows of the last 7 days', 'shop_lake', '<CatalogWorkGroup>'],
      ['orders: quarantined rows by expectation', 'shop_lake', '<CatalogWorkGroup>'],
      ['shop-events: rows of the last 7 days', 'shop_lake', '<CatalogWorkGroup>'],
      ['shop-events: quarantined rows by expectation', 'shop_lake', '<CatalogWorkGroup>'],
    ]);
    expect(queries[0]!.Properties.QueryString).toContain('FROM "shop_lake"."orders"\nWHERE dt >= ');
    expect(queries[1]!.Properties.QueryString).toContain(
      'FROM "shop_lake"."orders_quarantine"\nCROSS JOIN UNNEST(failures)',
    );
    expect(queries[1]!.Properties.QueryString).toContain(`AND "$path" LIKE '%/rejected-rows.jsonl'`);
  });
});

describe('lake reader policy', () => {
  const statements = () => {
    const [policy] = ofType('AWS::IAM::ManagedPolicy');
    expect(readable(policy!.Properties.ManagedPolicyName)).toBe('Shop-lake-reader-<AWS::Region>');
    return (policy!.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement;
  };

  it('grants reading the catalog tables, queries in the workgroup, the datasets objects, the results and the key, on named resources only', () => {
    // Act
    const lines = statements().flatMap(grantLines);
    // Assess
    const glue = (resource: string) => `arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:${resource}`;
    const tables = [
      'orders',
      'orders_quarantine',
      'orders_runs',
      'shop_events',
      'shop_events_quarantine',
      'shop_events_runs',
    ];
    expect(lines.filter((l) => l.startsWith('glue:GetTable '))).toEqual([
      `glue:GetTable on ${glue('catalog')}`,
      `glue:GetTable on ${glue('database/shop_lake')}`,
      ...tables.map((t) => `glue:GetTable on ${glue(`table/shop_lake/${t}`)}`),
    ]);
    expect(lines.filter((l) => l.startsWith('athena:StartQueryExecution'))).toEqual([
      'athena:StartQueryExecution on arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/<CatalogWorkGroup>',
    ]);
    expect(lines.filter((l) => l.startsWith('s3:')).sort()).toEqual(
      [
        's3:GetObject on <LakeCuratedBucket.Arn>/orders/*',
        's3:GetObject on <LakeCuratedBucket.Arn>/shop-events/*',
        's3:ListBucket on <LakeCuratedBucket.Arn> when StringLike s3:prefix orders/*,shop-events/*',
        's3:GetObject on <LakeQuarantineBucket.Arn>/orders/*',
        's3:GetObject on <LakeQuarantineBucket.Arn>/shop-events/*',
        's3:ListBucket on <LakeQuarantineBucket.Arn> when StringLike s3:prefix orders/*,shop-events/*',
        's3:GetObject on <LakeReportsBucket.Arn>/orders/runs/*',
        's3:GetObject on <LakeReportsBucket.Arn>/shop-events/runs/*',
        's3:GetObject on <LakeReportsBucket.Arn>/_athena-results/*',
        's3:ListBucket on <LakeReportsBucket.Arn> when StringLike s3:prefix orders/runs/*,shop-events/runs/*,_athena-results/*',
        's3:AbortMultipartUpload on <LakeReportsBucket.Arn>/_athena-results/*',
        's3:PutObject on <LakeReportsBucket.Arn>/_athena-results/*',
        's3:GetBucketLocation on <LakeReportsBucket.Arn>',
      ].sort(),
    );
    expect(lines.filter((l) => l.startsWith('kms:')).sort()).toEqual([
      'kms:Decrypt on <LakeKey.Arn>',
      'kms:GenerateDataKey on <LakeKey.Arn>',
    ]);
    expect(statements().every((s) => s.Effect === 'Allow')).toBe(true);
    expect(lines.filter((l) => / on \*( |$)/.test(l) || /^[a-z0-9]+:\*/.test(l))).toEqual([]);
  });

  it('leaves no cdk-nag finding unacknowledged', () => {
    // Act
    const report = new AwsSolutionsChecks(stack.node.root, { verbose: true }).validateScope(stack);
    // Assess
    expect(report.violations).toEqual([]);
  });
});

describe('contractBaseline at synth', () => {
  /** A directory holding one `orders` contract with these properties. */
  const baselineDir = (properties: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-baseline-'));
    writeFileSync(
      join(dir, 'orders.json'),
      JSON.stringify({
        name: 'orders',
        source: { type: 's3-upload', prefix: 'orders/' },
        format: { type: 'csv', header: true },
        schema: { type: 'object', properties },
      }),
    );
    return dir;
  };

  it('refuses a contract that removed a column and narrowed another since the baseline, naming each and why', () => {
    // Prepare
    const baseline = baselineDir({
      order_id: { type: 'string' },
      amount: { type: 'number' },
      note: { type: 'string' },
    });
    const now = new Map([
      [
        'orders',
        contract('orders', {
          type: 'object',
          properties: { order_id: { type: 'string' }, amount: { type: 'integer' } },
        }),
      ],
    ]);
    // Act
    const refuse = () => refuseIncompatibleChanges(now, baseline, '.');
    // Assess
    expect(refuse).toThrow(SchemaChangeIncompatible);
    expect(refuse).toThrow(
      /2 contract changes .*\n {2}orders.amount narrowed \(double -> bigint\): .*\n {2}orders.note removed \(string\): queries/,
    );
  });

  it('accepts a contract that only added a nullable column since the baseline', () => {
    // Prepare
    const baseline = baselineDir({ order_id: { type: 'string' } });
    const now = new Map([
      [
        'orders',
        contract('orders', {
          type: 'object',
          properties: { order_id: { type: 'string' }, note: { type: 'string' } },
        }),
      ],
    ]);
    // Act
    const accept = () => refuseIncompatibleChanges(now, baseline, '.');
    // Assess
    expect(accept).not.toThrow();
  });

  it('compares a single baseline contract file with its own dataset only, and refuses a dataset gone from a baseline directory', () => {
    // Prepare
    const dir = baselineDir({ order_id: { type: 'string' } });
    const clicks = contract('clicks', { type: 'object', properties: { url: { type: 'string' } } });
    const orders = contract('orders', { type: 'object', properties: { order_id: { type: 'string' } } });
    writeFileSync(
      join(dir, 'clicks.json'),
      JSON.stringify({
        name: 'clicks',
        source: { type: 's3-upload', prefix: 'clicks/' },
        format: { type: 'csv', header: true },
        schema: { type: 'object', properties: { url: { type: 'string' } } },
      }),
    );
    // Act
    const againstFile = () =>
      refuseIncompatibleChanges(
        new Map([
          ['orders', orders],
          ['clicks', clicks],
        ]),
        join(dir, 'orders.json'),
        '.',
      );
    const againstDirectory = () => refuseIncompatibleChanges(new Map([['orders', orders]]), dir, '.');
    // Assess
    expect(againstFile).not.toThrow();
    expect(againstDirectory).toThrow(/\n {2}clicks removed: the contract is gone/);
  });

  it('stops synth before building the stack when the context names a baseline the contracts break', () => {
    // Prepare
    const datasets = baselineDir({ order_id: { type: 'string' } });
    const baseline = baselineDir({ order_id: { type: 'string' }, amount: { type: 'number' } });
    // Act
    const synth = () =>
      buildApp({
        datasetsDir: datasets,
        appProps: { context: { datasetsRepository: 'codecommit', contractBaseline: baseline } },
        nagChecks: false,
      });
    // Assess
    expect(synth).toThrow(/context contractBaseline=.*\n {2}orders.amount removed \(double\)/);
  });
});
