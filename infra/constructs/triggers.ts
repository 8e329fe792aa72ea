import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Rule } from 'aws-cdk-lib/aws-events';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';
import { acknowledgeRule } from '../nag.js';
import { StartRules } from './start-rules.js';

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
 * for every s3-upload dataset, and a schedule rule for every dataset with a schedule (both made by
 * `StartRules`). Events that cannot start an execution land in one dead-letter queue, which is alarmed.
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

    // The id `Default` leaves this level out of the rules' logical ids: they stay `Triggers<dataset>…`.
    const rules = new StartRules(this, 'Default', {
      contracts: props.contracts,
      triggers: ['s3-upload', 'schedule'],
      landingBucket: props.landingBucket,
      stateMachine: props.stateMachine,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
    });
    this.uploadRules = rules.uploadRules;
    this.scheduleRules = rules.scheduleRules;
  }
}
