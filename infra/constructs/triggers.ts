import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Match, Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { acknowledgeRule } from '../nag.js';

export interface TriggersProps {
  /** The dataset contracts; each s3-upload source and each schedule gets a rule. */
  readonly contracts: ReadonlyMap<string, Contract>;
  /** The bucket uploads land in. It must send its events to EventBridge. */
  readonly landingBucket: IBucket;
  /** The state machine every rule starts. */
  readonly stateMachine: IStateMachine;
  /**
   * How many times EventBridge retries starting an execution before the event goes to the DLQ.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event before it goes to the DLQ.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
  /**
   * Where the dead-letter alarm sends notifications.
   * @default - the alarm changes state without notifying anyone
   */
  readonly alarmTopic?: ITopic;
}

/**
 * The EventBridge rules that start the pipeline: an `Object Created` rule on the landing bucket
 * for every s3-upload dataset, and a schedule rule for every dataset with a schedule. Events
 * that cannot start an execution land in one dead-letter queue, which is alarmed.
 */
export class Triggers extends Construct {
  /** Events EventBridge could not deliver to the state machine. */
  public readonly deadLetterQueue: Queue;
  /** In alarm while the dead-letter queue holds a message. */
  public readonly deadLetterAlarm: Alarm;
  /** Upload rules by dataset name. */
  public readonly uploadRules: ReadonlyMap<string, Rule>;
  /** Schedule rules by dataset name. */
  public readonly scheduleRules: ReadonlyMap<string, Rule>;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    const contracts = [...props.contracts.values()];
    assertNoOverlappingUploads(contracts);

    // SQS-managed encryption: EventBridge can send to it without a grant on a KMS key.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeRule(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the EventBridge rule targets; nothing consumes it automatically, so a further DLQ behind it would never receive anything.',
    );
    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'Sluice: an upload or schedule event could not start the pipeline; the event is in the trigger dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.deadLetterAlarm.addAlarmAction(new SnsAction(props.alarmTopic));

    const target = (input: RuleTargetInput) =>
      new SfnStateMachine(props.stateMachine, {
        input,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(2),
      });

    const uploadRules = new Map<string, Rule>();
    const scheduleRules = new Map<string, Rule>();
    for (const contract of contracts) {
      const { source } = contract;
      if (source.type === 's3-upload') {
        const key = source.suffix
          ? Match.wildcard(`${escapeWildcard(source.prefix)}*${escapeWildcard(source.suffix)}`)
          : Match.prefix(source.prefix);
        const rule = new Rule(this, `${contract.name}-upload`, {
          description: `Sluice: starts the pipeline for dataset ${contract.name} when an object lands under ${source.prefix}${source.suffix ? `*${source.suffix}` : ''}`,
          eventPattern: {
            source: ['aws.s3'],
            detailType: ['Object Created'],
            detail: { bucket: { name: [props.landingBucket.bucketName] }, object: { key } },
          },
        });
        rule.addTarget(
          target(
            RuleTargetInput.fromObject({
              dataset: contract.name,
              trigger: {
                type: 's3-upload',
                bucket: EventField.fromPath('$.detail.bucket.name'),
                key: EventField.fromPath('$.detail.object.key'),
                size: EventField.fromPath('$.detail.object.size'),
                etag: EventField.fromPath('$.detail.object.etag'),
                versionId: EventField.fromPath('$.detail.object.version-id'),
                sequencer: EventField.fromPath('$.detail.object.sequencer'),
                time: EventField.time,
              },
            }),
          ),
        );
        uploadRules.set(contract.name, rule);
      }
      if (contract.schedule) {
        const rule = new Rule(this, `${contract.name}-schedule`, {
          description: `Sluice: starts the pipeline for dataset ${contract.name} on ${contract.schedule}`,
          schedule: Schedule.expression(contract.schedule),
        });
        rule.addTarget(
          target(
            RuleTargetInput.fromObject({
              dataset: contract.name,
              trigger: { type: 'schedule', time: EventField.time },
            }),
          ),
        );
        scheduleRules.set(contract.name, rule);
      }
    }
    this.uploadRules = uploadRules;
    this.scheduleRules = scheduleRules;
  }
}

/** One upload starting two runs of different datasets is a contract mistake; refuse it at synth. */
function assertNoOverlappingUploads(contracts: Contract[]): void {
  const uploads = contracts.flatMap((c) =>
    c.source.type === 's3-upload'
      ? [{ name: c.name, prefix: c.source.prefix, suffix: c.source.suffix ?? '' }]
      : [],
  );
  for (const a of uploads) {
    for (const b of uploads) {
      if (a.name >= b.name) continue;
      const nested = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
      const suffixesOverlap = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
      if (nested && suffixesOverlap) {
        throw new Error(
          `datasets '${a.name}' and '${b.name}' both claim uploads under '${a.prefix.length > b.prefix.length ? a.prefix : b.prefix}'${a.suffix || b.suffix ? ` ending '${a.suffix.length > b.suffix.length ? a.suffix : b.suffix}'` : ''}; give them prefixes that do not nest, or suffixes that differ`,
        );
      }
    }
  }
}

/** EventBridge wildcard patterns treat `*` as a wildcard and `\` as its escape. */
function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}
