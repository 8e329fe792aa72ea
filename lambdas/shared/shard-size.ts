/**
 * Which batches are validated in shards, and of what size: a contract's `format.shard_mb`. Ingest
 * decides the branch (its result's `shard`), the shard planner cuts at this size.
 */
import { type Contract, DEFAULT_SHARD_MB, type FormatConfig, isJsonDocuments } from './contract.js';

/** The target shard size in whole bytes: format.shard_mb MiB (a fraction allowed), 256 MiB when the contract does not say. */
export function shardTargetBytes(format: FormatConfig): number {
  return Math.floor((format.shard_mb ?? DEFAULT_SHARD_MB) * 1024 * 1024);
}

/**
 * Whether a batch is validated in shards: its raw objects (not JSON documents, which are parsed
 * whole) hold more than the contract's `format.shard_mb` in all. A batch of several objects is
 * sharded by object (a large one also by range); its rows name their file either way. Any other
 * batch keeps the one ValidateBatch pass.
 */
export function validatesInShards(contract: Contract, batch: { size: number; files: number }): boolean {
  return !isJsonDocuments(contract.format) && batch.size > shardTargetBytes(contract.format);
}
