import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { type CuratedColumn, curatedColumns, curatedFormatOf } from '../../lambdas/shared/curated-columns.js';
import { acknowledgeLakeReaderPolicy } from '../nag.js';
import type { Lake } from './lake.js';

export interface CatalogProps {
  readonly lake: Lake;
  /** The dataset contracts: one curated, one quarantine and one runs table each. */
  readonly contracts: ReadonlyMap<string, Contract>;
  /**
   * The first `dt` partition Athena projects (YYYY-MM-DD). A query without a `dt` condition lists
   * every day from here to today, so start at the oldest day the lake holds.
   * @default '2020-01-01'
   */
  readonly firstPartitionDate?: string;
  /**
   * How long Athena's query results stay under the reports bucket's results prefix.
   * @default Duration.days(30)
   */
  readonly queryResultsExpiration?: Duration;
}

/** Where Athena writes query results in the reports bucket: no dataset name starts with '_'. */
export const QUERY_RESULTS_PREFIX = '_athena-results/';

/** The Glue/Athena name of a dataset's tables: lower case, '-' as '_' (Athena refuses '-' unquoted). */
export function tableNameOf(dataset: string): string {
  return dataset.replaceAll('-', '_');
}

/**
 * The lake in the Glue Data Catalog, queryable with Athena as soon as it deploys: a database,
 * and per dataset a table over its curated rows (`<dataset>`), its quarantined rows
 * (`<dataset>_quarantine`) and its run records (`<dataset>_runs`). The partitioned tables use
 * partition projection on `dt`, so a new day's data is queryable without a crawler or
 * `MSCK REPAIR TABLE`; runs are not a partition key but sub-folders of a day, which Athena reads
 * with the day (it reads everything under a partition's location), and `"$path"` names the run.
 * An Athena workgroup writes results, encrypted with the lake key, under the reports bucket; two
 * named queries per dataset show how to read them; a managed policy gives a reader all of that.
 */
export class Catalog extends Construct {
  public readonly database: CfnDatabase;
  public readonly databaseName: string;
  public readonly workGroup: CfnWorkGroup;
  /** The tables, by name. */
  public readonly tables: ReadonlyMap<string, CfnTable>;
  /** The named queries, two per dataset: its recent curated rows, and why rows were quarantined. */
  public readonly namedQueries: readonly CfnNamedQuery[];
  /**
   * Reading the lake through the catalog: the tables, the workgroup and its results, the curated,
   * quarantine and run-record objects of the datasets, and decrypting with the lake key.
   */
  public readonly readerPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { lake } = props;
    const firstDate = props.firstPartitionDate ?? '2020-01-01';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(firstDate)) {
      throw new Error(
        `catalog firstPartitionDate (context catalogFirstDate): expected YYYY-MM-DD, got '${firstDate}'`,
      );
    }
    // Code-point order, so that names and logical ids do not depend on the machine's locale.
    const datasets = [...props.contracts.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    refuseTableNameClashes(datasets.map((c) => c.name));

    this.databaseName = `${stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_lake`;
    this.database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: `Sluice lake of ${stack.stackName}: curated rows, quarantined rows and run records of each dataset`,
      },
    });
    this.tables = this.addTables(datasets, lake, firstDate);
    this.workGroup = this.addWorkGroup(lake, props.queryResultsExpiration ?? Duration.days(30));
    this.namedQueries = datasets.flatMap((contract) => this.addNamedQueries(contract.name));

    const names = datasets.map((c) => c.name);
    this.readerPolicy = new ManagedPolicy(this, 'ReaderPolicy', {
      // IAM names are global to the account: the region keeps stacks of one name in two regions apart.
      managedPolicyName: `${stack.stackName}-lake-reader-${stack.region}`,
      description: `Query the Sluice lake of ${stack.stackName} with Athena (workgroup ${stack.stackName}-lake), or read its curated, quarantine and run-record objects`,
      statements: this.readerStatements(lake, names),
    });
    acknowledgeLakeReaderPolicy(this.readerPolicy, {
      lake,
      datasets: names,
      resultsPrefix: QUERY_RESULTS_PREFIX,
    });
  }

  /** The three tables of each dataset: curated rows, quarantined rows, run records. */
  private addTables(datasets: readonly Contract[], lake: Lake, firstDate: string): Map<string, CfnTable> {
    const tables = new Map<string, CfnTable>();
    const add = (name: string, input: CfnTable.TableInputProperty) => {
      const table = new CfnTable(this, `Table${pascal(name)}`, {
        catalogId: Stack.of(this).account,
        databaseName: this.databaseName,
        tableInput: { name, tableType: 'EXTERNAL_TABLE', ...input },
      });
      table.node.addDependency(this.database);
      tables.set(name, table);
    };
    for (const contract of datasets) {
      const name = tableNameOf(contract.name);
      add(name, curatedTable(contract, lake.curatedBucket, firstDate));
      add(`${name}_quarantine`, quarantineTable(contract.name, lake.quarantineBucket, firstDate));
      add(`${name}_runs`, runsTable(contract.name, lake.reportsBucket));
    }
    return tables;
  }

  /** The workgroup, its results under the reports bucket encrypted with the lake key, and their expiry. */
  private addWorkGroup(lake: Lake, resultsExpiration: Duration): CfnWorkGroup {
    const stack = Stack.of(this);
    lake.reportsBucket.addLifecycleRule({
      id: 'expire-athena-results',
      prefix: QUERY_RESULTS_PREFIX,
      expiration: resultsExpiration,
    });
    return new CfnWorkGroup(this, 'WorkGroup', {
      name: `${stack.stackName}-lake`,
      description: `Queries of the Sluice lake of ${stack.stackName}; results encrypted with the lake key`,
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup's query history with it (the results stay in
      // the reports bucket); otherwise any query ever run would block the deletion.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot send results elsewhere or unencrypted: the workgroup's settings win.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${lake.reportsBucket.bucketName}/${QUERY_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: lake.key.keyArn },
          expectedBucketOwner: stack.account,
        },
      },
    });
  }

  /**
   * Two example queries of a dataset in the workgroup: its curated rows of the last 7 days with
   * the run of each, and why rows were quarantined over those days.
   */
  private addNamedQueries(dataset: string): CfnNamedQuery[] {
    const table = tableNameOf(dataset);
    const lastWeek = `dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')`;
    const queries: [string, string, string, string[]][] = [
      [
        table,
        `${dataset}: rows of the last 7 days`,
        `The curated rows of ${dataset} promoted in the last 7 days, with the run of each; the dt condition keeps the scan to those days`,
        [
          `-- ${dataset}: the curated rows of the last 7 days, newest first, with the run each came from.`,
          `SELECT dt, regexp_extract("$path", 'run=([^/]+)/', 1) AS run, *`,
          `FROM "${this.databaseName}"."${table}"`,
          `WHERE ${lastWeek}`,
          'ORDER BY dt DESC',
          'LIMIT 100;',
        ],
      ],
      [
        `${table}_quarantine`,
        `${dataset}: quarantined rows by expectation`,
        `Why rows of ${dataset} were quarantined in the last 7 days: rows per failed expectation and column`,
        [
          `-- ${dataset}: quarantined rows of the last 7 days per failed expectation and column.`,
          `-- The "$path" condition keeps each run's rejected-rows.jsonl: a batch validated in shards also keeps each shard's part under shards/.`,
          `SELECT f.expectation, f."column", count(*) AS rows`,
          `FROM "${this.databaseName}"."${table}_quarantine"`,
          'CROSS JOIN UNNEST(failures) AS t(f)',
          `WHERE ${lastWeek}`,
          `  AND "$path" LIKE '%/rejected-rows.jsonl'`,
          'GROUP BY 1, 2',
          'ORDER BY rows DESC;',
        ],
      ],
    ];
    return queries.map(([over, name, description, lines]) => {
      const query = new CfnNamedQuery(this, `Query${pascal(over)}`, {
        name,
        description,
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        queryString: lines.join('\n'),
      });
      query.node.addDependency(this.workGroup, this.tables.get(over)!);
      return query;
    });
  }

  /**
   * What a lake reader may do, each on named resources: read the catalog's database and tables,
   * run queries in the workgroup, read the datasets' objects the tables lie over, write query
   * results under the results prefix, and use the lake key for both.
   */
  private readerStatements(lake: Lake, datasets: readonly string[]): PolicyStatement[] {
    const stack = Stack.of(this);
    const glue = (resource: string) =>
      stack.formatArn({ service: 'glue', resource, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const prefixes = datasets.map((name) => `${name}/`);
    const reads = (bucket: Bucket, under: readonly string[]) => [
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: under.map((prefix) => bucket.arnForObjects(`${prefix}*`)),
      }),
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': under.map((prefix) => `${prefix}*`) } },
      }),
    ];
    return [
      new PolicyStatement({
        actions: [
          'glue:GetDatabase',
          'glue:GetDatabases',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:GetTable',
          'glue:GetTables',
        ],
        resources: [
          glue('catalog'),
          glue(`database/${this.databaseName}`),
          ...[...this.tables.keys()].sort().map((name) => glue(`table/${this.databaseName}/${name}`)),
        ],
      }),
      new PolicyStatement({
        actions: [
          'athena:BatchGetNamedQuery',
          'athena:GetNamedQuery',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:GetQueryRuntimeStatistics',
          'athena:GetWorkGroup',
          'athena:ListNamedQueries',
          'athena:ListQueryExecutions',
          'athena:StartQueryExecution',
          'athena:StopQueryExecution',
        ],
        resources: [
          stack.formatArn({
            service: 'athena',
            resource: 'workgroup',
            resourceName: this.workGroup.ref,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
      }),
      ...(datasets.length === 0 ? [] : reads(lake.curatedBucket, prefixes)),
      ...(datasets.length === 0 ? [] : reads(lake.quarantineBucket, prefixes)),
      ...reads(lake.reportsBucket, [...datasets.map((name) => `${name}/runs/`), QUERY_RESULTS_PREFIX]),
      new PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:PutObject'],
        resources: [lake.reportsBucket.arnForObjects(`${QUERY_RESULTS_PREFIX}*`)],
      }),
      new PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [lake.reportsBucket.bucketArn] }),
      new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [lake.key.keyArn] }),
    ];
  }
}

/** Dataset names that differ only by '-' and '_' would be one Glue table. */
function refuseTableNameClashes(datasets: readonly string[]): void {
  const byTable = new Map<string, string>();
  for (const name of datasets) {
    const clash = byTable.get(tableNameOf(name));
    if (clash) {
      throw new Error(
        `datasets '${clash}' and '${name}' would both be the Glue table '${tableNameOf(name)}'; rename one`,
      );
    }
    byTable.set(tableNameOf(name), name);
  }
}

function pascal(name: string): string {
  return name
    .split(/[_-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Partition projection on `dt`: every day from `firstDate` to today, at `<location>dt=<day>/`. */
function projectedByDay(location: string, firstDate: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${firstDate},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${location}dt=\${dt}/`,
  };
}

const DT = { name: 'dt', type: 'string', comment: 'The day of the batch (YYYY-MM-DD), the dt= of its keys' };

const PARQUET_STORAGE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};

const TEXT_FORMATS = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
};

/**
 * Curated JSON Lines rows, typed by the contract: the Hive JSON SerDe, which Athena recommends
 * over the OpenX one (whose results "can be non-deterministic"), reading ISO 8601 timestamps.
 */
const CURATED_JSON_LINES_STORAGE = {
  ...TEXT_FORMATS,
  serdeInfo: {
    serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe',
    parameters: { 'timestamp.formats': "yyyy-MM-dd'T'HH:mm:ss.SSSZZ,yyyy-MM-dd'T'HH:mm:ssZZ" },
  },
};

/**
 * Quarantined rows hold arbitrary JSON (the record as read, a failing value): the OpenX JSON
 * SerDe reads an object or a number into a string column as its JSON text, the Hive one does not.
 */
const QUARANTINE_JSON_LINES_STORAGE = {
  ...TEXT_FORMATS,
  serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
};

function glueColumns(columns: readonly CuratedColumn[]): CfnTable.ColumnProperty[] {
  return columns.map((c) => ({
    name: c.name.toLowerCase(),
    type: c.type,
    ...(c.comment === undefined ? {} : { comment: c.comment.slice(0, 255) }),
  }));
}

/** The curated rows of a dataset: the contract's columns, Parquet or JSON Lines as the contract says. */
function curatedTable(contract: Contract, bucket: Bucket, firstDate: string): CfnTable.TableInputProperty {
  const location = `s3://${bucket.bucketName}/${contract.name}/`;
  const format = curatedFormatOf(contract);
  return {
    description: `${contract.description ?? contract.name}: the curated rows (${format}), one dt partition per day`,
    partitionKeys: [DT],
    parameters: {
      classification: format === 'parquet' ? 'parquet' : 'json',
      ...projectedByDay(location, firstDate),
    },
    storageDescriptor: {
      columns: glueColumns(curatedColumns(contract)),
      location,
      ...(format === 'parquet' ? PARQUET_STORAGE : CURATED_JSON_LINES_STORAGE),
    },
  };
}

/** The quarantined rows of a dataset: `rejected-rows.jsonl` of each run (lambdas/validate/engine-types.ts). */
function quarantineTable(dataset: string, bucket: Bucket, firstDate: string): CfnTable.TableInputProperty {
  const location = `s3://${bucket.bucketName}/${dataset}/`;
  return {
    description: `${dataset}: the rows that failed the contract, with the row, the failed expectations and why`,
    partitionKeys: [DT],
    parameters: { classification: 'json', ...projectedByDay(location, firstDate) },
    storageDescriptor: {
      columns: [
        { name: 'file', type: 'string', comment: 'In a batch of several files, the file the row is in' },
        {
          name: 'row',
          type: 'bigint',
          comment: 'The 1-based line the record starts on (the CSV header is line 1)',
        },
        { name: 'index', type: 'bigint', comment: 'The 0-based index of the record' },
        {
          name: 'failures',
          type: 'array<struct<column:string,expectation:string,reason:string,value:string>>',
          comment: 'Each failed expectation: the column, the expectation, why, and the value',
        },
        { name: 'record', type: 'string', comment: 'The record as read, as JSON text' },
      ],
      location,
      ...QUARANTINE_JSON_LINES_STORAGE,
    },
  };
}

/**
 * The run records of a dataset (`reports/<dataset>/runs/<run>.json`, lambdas/shared/run-record.ts).
 * They are indented JSON, one document per file, which the JSON SerDe cannot read (it wants one
 * record per line); the Amazon Ion SerDe reads any JSON, indented or not.
 */
function runsTable(dataset: string, bucket: Bucket): CfnTable.TableInputProperty {
  return {
    description: `${dataset}: one record per run (success, failure or abort), as \`sluice runs\` lists them`,
    parameters: { classification: 'ion' },
    storageDescriptor: {
      columns: [
        { name: 'dataset', type: 'string' },
        { name: 'runid', type: 'string' },
        { name: 'dt', type: 'string' },
        { name: 'status', type: 'string', comment: 'RUNNING, SUCCEEDED, FAILED or ABORTED' },
        { name: 'executionid', type: 'string' },
        { name: 'startedat', type: 'string' },
        { name: 'finishedat', type: 'string' },
        {
          name: 'validation',
          type: 'struct<success:boolean,promote:boolean,summary:string,rows:struct<read:bigint,valid:bigint,quarantined:bigint>,reportkey:string,validatedkey:string,quarantinekey:string>',
        },
        { name: 'promotion', type: 'struct<curatedkey:string,size:bigint,tag:string>' },
        {
          name: 'version',
          type: 'struct<buildid:string,tag:string,commit:string,md5:string,changed:boolean>',
        },
        { name: 'error', type: 'struct<name:string,message:string>' },
      ],
      location: `s3://${bucket.bucketName}/${dataset}/runs/`,
      inputFormat: 'com.amazon.ionhiveserde.formats.IonInputFormat',
      outputFormat: 'com.amazon.ionhiveserde.formats.IonOutputFormat',
      serdeInfo: {
        serializationLibrary: 'com.amazon.ionhiveserde.IonHiveSerDe',
        // Records spell fields in camelCase (runId); Glue columns are lower case.
        parameters: { 'ion.path_extractor.case_sensitive': 'false' },
      },
    },
  };
}
