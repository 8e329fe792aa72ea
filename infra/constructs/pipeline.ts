import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeMapRunPolicy, acknowledgeStateMachineRole } from '../nag.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PipelineProps {
  /** The functions the definition's Lambda tasks invoke. */
  readonly functions: {
    readonly ingest: IFunction;
    readonly validate: IFunction;
    readonly promote: IFunction;
    readonly recordRun: IFunction;
  };
  /**
   * The reports zone: the sharded branch's Distributed Maps read their item lists there
   * (`<dataset>/runs/<run>/shards/shards.jsonl`, `.../key-partitions.jsonl`) and write their results
   * there (`<dataset>/runs/<run>/shards/results/`, `.../key-results/`). Fills the definition's
   * `${ReportsBucketName}`.
   */
  readonly reportsBucket: IBucket;
  /** The datasets the state machine runs: its map runs read and write only under their prefixes of reports. */
  readonly datasets: readonly string[];
  /**
   * Datasets ingested by another function than `functions.ingest`: a PostgreSQL database that only
   * answers inside its VPC is read by an ingest function attached to that VPC. The definition then
   * starts with a Choice by dataset that names the function its `Ingest` task invokes
   * (`routeIngestByDataset`).
   * @default - every dataset is ingested by `functions.ingest`
   */
  readonly ingestRoutes?: readonly IngestRoute[];
  /**
   * Further `${Placeholder}` values for the definition, e.g. the versioning step's CodeBuild project.
   * Whoever adds one also grants the state machine what that step needs.
   * @default - only the four function ARNs
   */
  readonly additionalSubstitutions?: Readonly<Record<string, string>>;
  /**
   * The Amazon States Language file.
   * @default the repository's `statemachines/pipeline.asl.json`
   */
  readonly definitionFile?: string;
  /**
   * How long execution logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Key that encrypts the execution log group. Its policy must let CloudWatch Logs use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: IKey;
  /**
   * What happens to the execution log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Where the failed- and timed-out-execution alarms send notifications.
   * @default - the alarms change state without notifying anyone
   */
  readonly alarmTopic?: ITopic;
}

/** The function that ingests some datasets, instead of the shared ingest function. */
export interface IngestRoute {
  /** Names the route's Pass state (`UseIngestFunctionIn<name>`) and placeholder: letters, digits, '-'. */
  readonly name: string;
  readonly datasets: readonly string[];
  readonly function: IFunction;
}

/**
 * The Step Functions state machine that runs one dataset batch, defined by the plain ASL file
 * (the same file the local runner executes), with full execution logging, X-Ray tracing and
 * alarms on failed and timed-out executions.
 */
export class Pipeline extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;
  /** In alarm when at least one execution failed in the last five minutes. */
  public readonly failedExecutionsAlarm: Alarm;
  /** In alarm when at least one execution timed out in the last five minutes. */
  public readonly timedOutExecutionsAlarm: Alarm;
  /** What the Distributed Maps ValidateShards and CheckKeyPartitions need: their child executions, item lists and results. */
  public readonly mapRunPolicy: Policy;

  constructor(scope: Construct, id: string, props: PipelineProps) {
    super(scope, id);
    const { functions } = props;
    const definitionFile = props.definitionFile ?? join(REPO_ROOT, 'statemachines', 'pipeline.asl.json');
    const substitutions: Record<string, string> = {
      IngestFunctionArn: functions.ingest.functionArn,
      ValidateFunctionArn: functions.validate.functionArn,
      PromoteFunctionArn: functions.promote.functionArn,
      RecordRunFunctionArn: functions.recordRun.functionArn,
      ReportsBucketName: props.reportsBucket.bucketName,
      ...props.additionalSubstitutions,
    };
    const routes = props.ingestRoutes ?? [];
    for (const route of routes) substitutions[routePlaceholder(route.name)] = route.function.functionArn;
    const text = readFileSync(definitionFile, 'utf8');
    const definition =
      routes.length === 0
        ? text
        : routeIngestByDataset(
            text,
            routes.map((r) => ({
              name: r.name,
              datasets: r.datasets,
              placeholder: routePlaceholder(r.name),
            })),
          );
    assertEverySubstitutionGiven(definition, substitutions, relative(process.cwd(), definitionFile));

    const stackName = Stack.of(this).stackName;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      // The /aws/vendedlogs/ prefix keeps the account's CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${stackName}-pipeline`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    // The definition goes into the template as a string (not DefinitionBody.fromFile, which
    // uploads it as an S3 asset) so that `cdk diff` and the template tests show it;
    // CloudFormation fills in the ${Placeholders} from definitionSubstitutions.
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Sluice: one dataset batch, from its source through validation to the curated zone',
      definitionBody: DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      stateMachineType: StateMachineType.STANDARD,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    const invoked = [
      functions.ingest,
      functions.validate,
      functions.promote,
      functions.recordRun,
      ...routes.map((r) => r.function),
    ];
    for (const fn of invoked) fn.grantInvoke(this.stateMachine);

    acknowledgeStateMachineRole(this.stateMachine.role, invoked);
    this.mapRunPolicy = this.grantMapRuns(props.reportsBucket, props.datasets);

    this.failedExecutionsAlarm = new Alarm(this, 'ExecutionsFailedAlarm', {
      alarmDescription: `Sluice (${stackName}): a pipeline execution failed; its history and the run record in the reports bucket say why.`,
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.timedOutExecutionsAlarm = new Alarm(this, 'ExecutionsTimedOutAlarm', {
      alarmDescription: `Sluice (${stackName}): a pipeline execution timed out.`,
      metric: this.stateMachine.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      this.failedExecutionsAlarm.addAlarmAction(action);
      this.timedOutExecutionsAlarm.addAlarmAction(action);
    }
  }

  /**
   * The state machine's grants for its Distributed Maps (ValidateShards, CheckKeyPartitions), in a
   * policy of their own: the state machine's ARN in its role's default policy would make the role
   * depend on the state machine, which depends on its role. Child executions are started on the
   * state machine itself and are named `execution:<state machine>/<Label>:<id>` (each Map's Label);
   * the item readers get the shard and key partition lists, the result writers put (multipart
   * included) under `results/` and `key-results/`.
   */
  private grantMapRuns(reportsBucket: IBucket, datasets: readonly string[]): Policy {
    const stack = Stack.of(this);
    const children = MAP_RUNS.map(({ label }) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${this.stateMachine.stateMachineName}/${label}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const under = (pattern: string) => datasets.map((dataset) => `${dataset}/${pattern}`);
    const lists = MAP_RUNS.flatMap(({ items }) => under(items));
    const results = MAP_RUNS.flatMap(({ results }) => under(results));
    const statements = [
      new PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.stateMachine.stateMachineArn],
      }),
      new PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: children,
      }),
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: lists.map((pattern) => reportsBucket.arnForObjects(pattern)),
      }),
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'],
        resources: results.map((pattern) => reportsBucket.arnForObjects(pattern)),
      }),
    ];
    const key = reportsBucket.encryptionKey;
    if (key) {
      statements.push(
        new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
      );
    }
    const policy = new Policy(this, 'MapRunPolicy', { statements });
    this.stateMachine.role.attachInlinePolicy(policy);
    acknowledgeMapRunPolicy(policy, {
      children,
      reportsBucket,
      objects: [...lists, ...results],
    });
    return policy;
  }
}

/**
 * The Distributed Maps of the definition, under a dataset's prefix of reports (sharded-core.ts
 * shardsPrefix): each Map's Label (its child executions' ARNs hold it), the list its ItemReader
 * gets and where its ResultWriter writes.
 */
const MAP_RUNS = [
  // PlanShards' shard list and resultsPrefix.
  { label: 'ValidateShards', items: 'runs/*/shards/shards.jsonl', results: 'runs/*/shards/results/*' },
  // PlanKeyPartitions' partition list and resultsPrefix.
  {
    label: 'CheckKeyPartitions',
    items: 'runs/*/shards/key-partitions.jsonl',
    results: 'runs/*/shards/key-results/*',
  },
] as const;

interface AslState {
  Type: string;
  Comment?: string;
  Parameters?: Record<string, unknown>;
  [field: string]: unknown;
}

const INGEST_STATE = 'Ingest';
const CHOOSE_STATE = 'ChooseIngestFunction';
const SHARED_STATE = 'UseSharedIngestFunction';

/**
 * Puts a Choice by dataset in front of the definition's `Ingest` task, for datasets another function
 * ingests. Each route's Pass state, and a default one for every other dataset, writes the function's
 * ARN to `$.ingestFunction`, and `Ingest` invokes `FunctionName.$: $.ingestFunction` instead of
 * `${IngestFunctionArn}`; every state of the file stays as it is, and a deployment without routes
 * runs the file unchanged. The ARNs stay `${Placeholders}`, filled like the others.
 */
export function routeIngestByDataset(
  definitionText: string,
  routes: ReadonlyArray<{ name: string; datasets: readonly string[]; placeholder: string }>,
): string {
  const definition = JSON.parse(definitionText) as { StartAt: string; States: Record<string, AslState> };
  const ingest = definition.States[INGEST_STATE];
  const functionName = ingest?.Parameters?.FunctionName;
  if (definition.StartAt !== INGEST_STATE || ingest?.Type !== 'Task' || typeof functionName !== 'string') {
    throw new Error(
      `routing datasets to their own ingest function needs a definition that starts with a Task state '${INGEST_STATE}' whose Parameters name its FunctionName`,
    );
  }
  const taken = new Set(Object.keys(definition.States));
  const stateOf = (route: { name: string }) => `UseIngestFunctionIn-${route.name}`;
  for (const name of [CHOOSE_STATE, SHARED_STATE, ...routes.map(stateOf)]) {
    if (taken.has(name)) throw new Error(`the definition already has a state named '${name}'`);
  }
  const isDataset = (dataset: string) => ({ Variable: '$.dataset', StringEquals: dataset });
  const pick = (state: string, arn: string, comment: string): [string, AslState] => [
    state,
    { Type: 'Pass', Comment: comment, Result: arn, ResultPath: '$.ingestFunction', Next: INGEST_STATE },
  ];
  const parameters = Object.fromEntries(
    Object.entries(ingest.Parameters ?? {}).filter(([key]) => key !== 'FunctionName'),
  );
  const states: Record<string, AslState> = {
    [CHOOSE_STATE]: {
      Type: 'Choice',
      Comment:
        'Datasets whose database only answers inside its VPC are ingested by the ingest function attached to that VPC; every other dataset by the shared one.',
      Choices: routes.map((route) => ({
        ...(route.datasets.length === 1
          ? isDataset(route.datasets[0]!)
          : { Or: route.datasets.map(isDataset) }),
        Next: stateOf(route),
      })),
      Default: SHARED_STATE,
    },
    ...Object.fromEntries([
      ...routes.map((route) =>
        pick(
          stateOf(route),
          `\${${route.placeholder}}`,
          `The ingest function in ${route.name} reads ${route.datasets.join(', ')}.`,
        ),
      ),
      pick(SHARED_STATE, functionName, 'The shared ingest function.'),
    ]),
  };
  for (const [name, state] of Object.entries(definition.States)) {
    states[name] =
      name === INGEST_STATE
        ? { ...state, Parameters: { 'FunctionName.$': '$.ingestFunction', ...parameters } }
        : state;
  }
  return JSON.stringify({ ...definition, StartAt: CHOOSE_STATE, States: states }, null, 2);
}

/** The placeholder of a route's function ARN: `IngestFunctionArn_<name with '-' as '_'>`. */
function routePlaceholder(name: string): string {
  return `IngestFunctionArn_${name.replaceAll('-', '_')}`;
}

/** A placeholder left in the definition would only fail at deploy time; fail at synth instead. */
function assertEverySubstitutionGiven(
  definition: string,
  substitutions: Record<string, string>,
  where: string,
) {
  const placeholders = new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!));
  const missing = [...placeholders].filter((name) => !(name in substitutions));
  if (missing.length > 0) {
    throw new Error(
      `${where}: no value for ${missing.map((m) => `\${${m}}`).join(', ')}; the Pipeline construct substitutes ${Object.keys(substitutions).join(', ')} (add others with additionalSubstitutions)`,
    );
  }
}
