import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import type { Lake } from './lake.js';
import { StartRules } from './start-rules.js';
import { StreamIngest } from './stream-ingest.js';

export interface SourcesProps {
  /** The dataset contracts; their sources decide what is created. */
  readonly contracts: ReadonlyMap<string, Contract>;
  readonly lake: Lake;
  /** The ingest function: it reads the sources' secrets and spills pulled extractions to /tmp. */
  readonly ingestFunction: IFunction;
  /**
   * Datasets another ingest function reads (a database in a VPC): that function, not
   * `ingestFunction`, gets their secrets and the room in /tmp.
   * @default - `ingestFunction` ingests every dataset
   */
  readonly ingestFunctionsByDataset?: ReadonlyMap<string, IFunction>;
  /** The state machine a partner's file starts. */
  readonly stateMachine: IStateMachine;
  /** Where events that cannot start an execution go (the triggers' dead-letter queue). */
  readonly deadLetterQueue: IQueue;
  /**
   * Ephemeral storage of the ingest function when a dataset is pulled (postgres, http): an
   * extraction is written to /tmp before it is landed with one conditional PutObject.
   * @default 4096 MiB
   */
  readonly ingestEphemeralStorageMiB?: number;
  /**
   * What happens to streams and their log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What the sources other than s3-upload need besides the pipeline itself:
 * - `partner-drop`: an EventBridge `Object Created` rule on the partner's landing prefix that
 *   starts the pipeline with a `partner-drop` trigger (made by `StartRules`; schedules, for
 *   deadlines, come from `Triggers`);
 * - `postgres`, `http`: read access for the ingest function of the dataset (the shared one, or the
 *   one in its database's VPC) to the Secrets Manager secrets the contracts name, and room in /tmp
 *   for extractions;
 * - `stream`: a Kinesis data stream and a Firehose delivery into raw (`StreamIngest`), which the
 *   raw bucket lets write without If-None-Match under the dataset's prefix only.
 */
export class Sources extends Construct {
  /** Partner-drop rules by dataset name. */
  public readonly partnerRules: ReadonlyMap<string, Rule>;
  /** Stream ingestion by dataset name. */
  public readonly streams: ReadonlyMap<string, StreamIngest>;
  /** The secrets the ingest function may read, by secret name or ARN as the contracts give it. */
  public readonly secrets: ReadonlyMap<string, ISecret>;

  constructor(scope: Construct, id: string, props: SourcesProps) {
    super(scope, id);
    // The id `Default` leaves this level out of the rules' logical ids: they stay `Sources<dataset>…`.
    const rules = new StartRules(this, 'Default', {
      contracts: props.contracts,
      triggers: ['partner-drop'],
      landingBucket: props.lake.landingBucket,
      stateMachine: props.stateMachine,
      deadLetterQueue: props.deadLetterQueue,
    });

    const streams = new Map<string, StreamIngest>();
    const secrets = new Map<string, ISecret>();
    const granted = new Set<string>();
    const pulling = new Set<IFunction>();
    for (const contract of props.contracts.values()) {
      const { source } = contract;
      const ingestFunction = props.ingestFunctionsByDataset?.get(contract.name) ?? props.ingestFunction;
      if (source.type === 'postgres' || source.type === 'http') pulling.add(ingestFunction);
      const secretName =
        source.type === 'postgres'
          ? source.connection_secret
          : source.type === 'http'
            ? source.auth?.secret
            : undefined;
      if (secretName) {
        const secret = secrets.get(secretName) ?? secretOf(this, `Secret${secrets.size}`, secretName);
        secrets.set(secretName, secret);
        const grant = `${secretName}\n${ingestFunction.node.path}`;
        if (!granted.has(grant)) secret.grantRead(ingestFunction);
        granted.add(grant);
      }
      if (source.type === 'stream') {
        const stream = new StreamIngest(this, `${contract.name}-stream`, {
          dataset: contract.name,
          source,
          rawBucket: props.lake.rawBucket,
          encryptionKey: props.lake.key,
          removalPolicy: props.removalPolicy,
        });
        props.lake.allowDelivery(stream.deliveryRole, `${contract.name}/`);
        new CfnOutput(this, `${contract.name}-stream-name`, {
          value: stream.stream.streamName,
          description: `Kinesis data stream of dataset ${contract.name}: put its records here`,
        });
        streams.set(contract.name, stream);
      }
    }
    for (const fn of pulling) {
      (fn.node.defaultChild as CfnFunction).addPropertyOverride('EphemeralStorage', {
        Size: props.ingestEphemeralStorageMiB ?? 4096,
      });
    }
    this.partnerRules = rules.partnerRules;
    this.streams = streams;
    this.secrets = secrets;
  }
}

/** A secret named by a contract: a complete ARN, a partial ARN, or a name. */
function secretOf(scope: Construct, id: string, nameOrArn: string): ISecret {
  if (!nameOrArn.startsWith('arn:')) return Secret.fromSecretNameV2(scope, id, nameOrArn);
  // A complete ARN ends with the 6 characters Secrets Manager appends to the name.
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
