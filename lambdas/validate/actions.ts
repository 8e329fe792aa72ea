/**
 * What the state machine asks of the validate function: ValidateBatch (no `action`), or a step of
 * the sharded branch (PlanShards, a ValidateShards child, PlanKeyPartitions, a CheckKeyPartitions
 * child, MergeResults). One function serves them all: the sharded steps need no bucket access beyond what validating a batch has.
 */
import { InternalError } from '../shared/errors.js';
import { type ValidateInput, type ValidateOutput, type ValidatePorts, validateBatch } from './core.js';
import {
  type CheckKeyPartitionInput,
  type CheckKeyPartitionOutput,
  checkKeyPartitionOf,
  type MergeShardsInput,
  mergeShardsOf,
  type PlanKeyPartitionsInput,
  type PlanKeyPartitionsOutput,
  type PlanShardsInput,
  type PlanShardsOutput,
  planKeyPartitionsOf,
  planShardsOf,
  type ShardedPorts,
  type ValidateShardInput,
  type ValidateShardOutput,
  validateShardOf,
} from './sharded-core.js';

export type ValidateEvent =
  | (ValidateInput & { action?: undefined })
  | (PlanShardsInput & { action: 'plan-shards' })
  | (ValidateShardInput & { action: 'validate-shard' })
  | (PlanKeyPartitionsInput & { action: 'plan-key-partitions' })
  | (CheckKeyPartitionInput & { action: 'check-key-partition' })
  | (MergeShardsInput & { action: 'merge-shards' });

export type ValidateActionPorts = ValidatePorts & Pick<ShardedPorts, 'maxConcurrency'>;

/** Runs the step the event names; a batch result (ValidateBatch, MergeResults) is a ValidateOutput. */
export async function validateAction(
  event: ValidateEvent,
  ports: ValidateActionPorts,
): Promise<
  ValidateOutput | PlanShardsOutput | ValidateShardOutput | PlanKeyPartitionsOutput | CheckKeyPartitionOutput
> {
  switch (event.action) {
    case 'plan-shards':
      return planShardsOf(event, ports);
    case 'validate-shard':
      return validateShardOf(event, ports);
    case 'plan-key-partitions':
      return planKeyPartitionsOf(event, ports);
    case 'check-key-partition':
      return checkKeyPartitionOf(event, ports);
    case 'merge-shards':
      return mergeShardsOf(event, ports);
    case undefined:
      return validateBatch(event, ports);
    default:
      throw new InternalError(
        `the validate function was asked for action '${(event as { action: unknown }).action}'; expected plan-shards, validate-shard, plan-key-partitions, check-key-partition, merge-shards or none (ValidateBatch)`,
      );
  }
}

/** Whether a result is a whole batch's (ValidateBatch's or MergeResults'), which carries rows and a summary. */
export function isBatchResult(event: ValidateEvent, result: unknown): result is ValidateOutput {
  return event.action === undefined || event.action === 'merge-shards';
}
