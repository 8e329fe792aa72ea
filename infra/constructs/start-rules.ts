import { Duration } from 'aws-cdk-lib';
import { EventField, Match, Rule, type RuleProps, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Contract } from '../../lambdas/shared/contract.js';

/** What a rule reacts to: an upload, a file of a partner's batch, or a dataset's schedule. */
export type StartTrigger = 's3-upload' | 'partner-drop' | 'schedule';

export interface StartRulesProps {
  /**
   * The dataset contracts. Each gets a rule for every trigger in `triggers` it has; the landing
   * prefixes of all of them are checked for overlap.
   */
  readonly contracts: ReadonlyMap<string, Contract>;
  /** The triggers these rules are made for. */
  readonly triggers: readonly StartTrigger[];
  /** The bucket uploads and partner files land in. It must send its events to EventBridge. */
  readonly landingBucket: IBucket;
  /** The state machine every rule starts. */
  readonly stateMachine: IStateMachine;
  /** Where events that cannot start an execution go. */
  readonly deadLetterQueue: IQueue;
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
}

/**
 * The EventBridge rules that start the pipeline for a dataset, each with the trigger its
 * execution input carries: `Object Created` on the landing bucket for s3-upload datasets
 * (`<dataset>-upload`) and partner drops (`<dataset>-drop`), and a schedule rule
 * (`<dataset>-schedule`). Every target retries, then sends the event to one dead-letter queue.
 *
 * A landing key claimed by two datasets would start two runs for one object, so overlapping
 * prefixes are refused at synth.
 */
export class StartRules extends Construct {
  /** Upload rules by dataset name. */
  public readonly uploadRules: ReadonlyMap<string, Rule>;
  /** Partner-drop rules by dataset name. */
  public readonly partnerRules: ReadonlyMap<string, Rule>;
  /** Schedule rules by dataset name. */
  public readonly scheduleRules: ReadonlyMap<string, Rule>;

  private readonly props: StartRulesProps;

  constructor(scope: Construct, id: string, props: StartRulesProps) {
    super(scope, id);
    this.props = props;
    const contracts = [...props.contracts.values()];
    assertNoOverlappingLandingClaims(contracts);

    const uploadRules = new Map<string, Rule>();
    const partnerRules = new Map<string, Rule>();
    const scheduleRules = new Map<string, Rule>();
    const wanted = new Set(props.triggers);
    for (const contract of contracts) {
      const { name, source } = contract;
      if (wanted.has('s3-upload') && source.type === 's3-upload') {
        uploadRules.set(name, this.uploadRule(name, source));
      }
      if (wanted.has('partner-drop') && source.type === 'partner-drop') {
        partnerRules.set(name, this.partnerRule(name, source));
      }
      if (wanted.has('schedule') && contract.schedule) {
        scheduleRules.set(name, this.scheduleRule(name, contract.schedule));
      }
    }
    this.uploadRules = uploadRules;
    this.partnerRules = partnerRules;
    this.scheduleRules = scheduleRules;
  }

  private uploadRule(dataset: string, source: { prefix: string; suffix?: string | undefined }): Rule {
    const key = source.suffix
      ? Match.wildcard(`${escapeWildcard(source.prefix)}*${escapeWildcard(source.suffix)}`)
      : Match.prefix(source.prefix);
    return this.rule(
      `${dataset}-upload`,
      `Sluice: starts the pipeline for dataset ${dataset} when an object lands under ${source.prefix}${source.suffix ? `*${source.suffix}` : ''}`,
      { eventPattern: this.objectCreated(key) },
      {
        dataset,
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
      },
    );
  }

  private partnerRule(dataset: string, source: { prefix: string }): Rule {
    return this.rule(
      `${dataset}-drop`,
      `Sluice: a file in a batch folder under ${source.prefix} starts the pipeline for partner dataset ${dataset}`,
      { eventPattern: this.objectCreated(Match.prefix(source.prefix)) },
      {
        dataset,
        trigger: {
          type: 'partner-drop',
          bucket: EventField.fromPath('$.detail.bucket.name'),
          key: EventField.fromPath('$.detail.object.key'),
          time: EventField.time,
        },
      },
    );
  }

  private scheduleRule(dataset: string, schedule: string): Rule {
    return this.rule(
      `${dataset}-schedule`,
      `Sluice: starts the pipeline for dataset ${dataset} on ${schedule}`,
      { schedule: Schedule.expression(schedule) },
      { dataset, trigger: { type: 'schedule', time: EventField.time } },
    );
  }

  private objectCreated(key: string[]) {
    return {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [this.props.landingBucket.bucketName] }, object: { key } },
    };
  }

  /** A rule whose one target starts the state machine with `input`. */
  private rule(
    id: string,
    description: string,
    when: Pick<RuleProps, 'eventPattern' | 'schedule'>,
    input: Record<string, unknown>,
  ): Rule {
    const rule = new Rule(this, id, { description, ...when });
    rule.addTarget(
      new SfnStateMachine(this.props.stateMachine, {
        input: RuleTargetInput.fromObject(input),
        deadLetterQueue: this.props.deadLetterQueue,
        retryAttempts: this.props.retryAttempts ?? 8,
        maxEventAge: this.props.maxEventAge ?? Duration.hours(2),
      }),
    );
    return rule;
  }
}

/**
 * Refuses two datasets that claim the same landing keys: their prefixes nest and their suffixes
 * (an upload's `suffix`; a partner drop takes every name) do not tell the keys apart.
 */
export function assertNoOverlappingLandingClaims(contracts: readonly Contract[]): void {
  const claims = contracts.flatMap((c) =>
    c.source.type === 's3-upload' || c.source.type === 'partner-drop'
      ? [
          {
            name: c.name,
            type: c.source.type,
            prefix: c.source.prefix,
            suffix: c.source.type === 's3-upload' ? (c.source.suffix ?? '') : '',
          },
        ]
      : [],
  );
  const conflicts: Array<{ uploads: boolean; message: string }> = [];
  for (const a of claims) {
    for (const b of claims) {
      if (a.name >= b.name) continue;
      const nested = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
      const suffixesOverlap = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
      if (!nested || !suffixesOverlap) continue;
      const under = a.prefix.length > b.prefix.length ? a.prefix : b.prefix;
      const uploads = a.type === 's3-upload' && b.type === 's3-upload';
      conflicts.push({
        uploads,
        message: uploads
          ? `datasets '${a.name}' and '${b.name}' both claim uploads under '${under}'${a.suffix || b.suffix ? ` ending '${a.suffix.length > b.suffix.length ? a.suffix : b.suffix}'` : ''}; give them prefixes that do not nest, or suffixes that differ`
          : `datasets '${a.name}' (${a.type}) and '${b.name}' (${b.type}) both claim landing keys under '${under}'; give them prefixes that do not nest`,
      });
    }
  }
  // Two uploads first: their message can also offer suffixes as the fix.
  const conflict = conflicts.find((c) => c.uploads) ?? conflicts[0];
  if (conflict) throw new Error(conflict.message);
}

/** EventBridge wildcard patterns treat `*` as a wildcard and `\` as its escape. */
function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}
