/**
 * Which batches the state machine validates in shards. Kept apart from the sharded steps so that
 * Ingest, which decides it, bundles only this and the contract's shard size.
 */
import { type Contract, isJsonDocuments } from '../shared/contract.js';
import { shardTargetBytes } from './shard-plan.js';

/**
 * One raw object (not JSON documents, which are parsed whole) larger than the contract's
 * `format.shard_mb`; any other batch keeps the one ValidateBatch pass.
 */
export function validatesInShards(contract: Contract, batch: { size: number; files: number }): boolean {
  return (
    batch.files === 1 && !isJsonDocuments(contract.format) && batch.size > shardTargetBytes(contract.format)
  );
}
