/**
 * The sharded branch of validation, as the state machine runs it for a batch larger than its
 * contract's `format.shard_mb`: PlanShards writes the shard list, the Distributed Map
 * ValidateShards runs validateShardOf once per shard, PlanKeyPartitions lists the partitions of
 * the uniqueness keys the shards spilled, the Distributed Map CheckKeyPartitions runs
 * checkKeyPartitionOf once per partition (skipped when no keys were spilled), and MergeResults
 * merges the shards' outcomes and the partitions' checks into the one result, quarantine and
 * validated parts a single pass gives.
 *
 * What passes between the steps is in the reports zone, under the run's `shards/` folder (a state
 * stops at 256 KiB, and a shard list or an outcome grows with the batch): the shard list (JSON
 * Lines, the Map's ItemReader), each shard's outcome, and the map run's results (its ResultWriter).
 * Each shard writes its valid records to its own part of the run's validated prefix; its
 * quarantined rows wait in a staging object until the merge knows their place in the batch.
 */
import { Readable } from 'node:stream';
import { type Contract, contractNamed } from '../shared/contract.js';
import { MalformedInput, ObjectNotFound } from '../shared/errors.js';
import { quarantineKey, type RunLocation, runPrefix, validationReportKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { readBatchKeys } from '../shared/raw-manifest.js';
import { concludeValidation, intoZones, type ValidateOutput } from './core.js';
import { type ShardOutcome, validateShard } from './engine.js';
import { refuseUnshardable } from './profile-kl.js';
import { checkHeader, describeBatch, lineText, objectName } from './raw-batch.js';
import { globalShardOutputs, mergeShardOutcomes, type ShardFile, shardPlacements } from './shard-merge.js';
import { type BatchObject, planBatch, shardTargetBytes } from './shard-plan.js';
import {
  type CrossShardDuplicate,
  checkPartition,
  type KeysPlan,
  keysPlan,
  resolveSpill,
} from './shard-spill.js';
import { inRuns } from './shard-state.js';
import { lakeSpillPrefix, ObjectStoreSpill, recordBytesOf, spillPartitions } from './spill.js';

/** Partitions' checks (CheckKeyPartitions' results) the merge reads at once. */
const MERGE_CONCURRENCY = 2;

/** How many shards run at once when the deployment does not say (the Map's MaxConcurrencyPath). */
export const DEFAULT_SHARD_CONCURRENCY = 100;

/** One line of the shard list: a byte range of a raw object, and the CSV header's bytes when it is cut. */
export interface ShardItem {
  index: number;
  rawKey: string;
  start: number;
  end: number;
  /** Bytes [0, end) of the object hold the CSV header line (a cut CSV object). */
  headerEnd?: number;
  /** Partitions of the uniqueness keys the shards spill (the same for every shard of the batch). */
  partitions: number;
  /**
   * The header line of the batch's first object, on the first shard of each later CSV object of a
   * batch of several: the object's own header must be the same (as a joined pass requires).
   */
  batchHeader?: string;
}

export interface ShardRunInput {
  dataset: string;
  runId: string;
  dt: string;
}

export interface PlanShardsInput extends ShardRunInput {
  rawKey: string;
  manifestKey?: string;
}

export interface PlanShardsOutput {
  /** The shard list in the reports zone, one ShardItem a line. */
  key: string;
  count: number;
  /** Where the map run writes its results (ResultWriter Prefix). */
  resultsPrefix: string;
  maxConcurrency: number;
}

export interface ValidateShardInput extends ShardRunInput {
  shard: ShardItem;
}

export interface ValidateShardOutput {
  index: number;
  outcomeKey: string;
}

export interface MergeShardsInput extends ShardRunInput {
  rawKey: string;
  manifestKey?: string;
  shardsKey: string;
  /** The map run's ResultWriter manifest. */
  resultsKey: string;
}

export interface PlanKeyPartitionsInput extends ShardRunInput {
  shardsKey: string;
  /** ValidateShards' ResultWriter manifest. */
  resultsKey: string;
}

export interface PlanKeyPartitionsOutput {
  /** Some shard spilled uniqueness keys: CheckKeyPartitions runs; otherwise it is skipped. */
  spilled: boolean;
  /** Partitions to check: 0 when no shard spilled keys (no uniqueness expectation). */
  count: number;
  /** The partition list in the reports zone, one `{"partition": p}` a line (CheckKeyPartitions' ItemReader). */
  key: string;
  /** The keys plan (KeysPlan JSON) every partition check reads. */
  planKey: string;
  /** Where CheckKeyPartitions' ResultWriter writes. */
  resultsPrefix: string;
  maxConcurrency: number;
}

export interface CheckKeyPartitionInput extends ShardRunInput {
  planKey: string;
  partition: number;
}

export interface CheckKeyPartitionOutput {
  partition: number;
  /** Keys of this partition held by more than one shard. */
  duplicates: number;
}

export interface ShardedPorts {
  store: ObjectStore;
  contracts: ReadonlyMap<string, Contract>;
  /** The most shards validated at once (the deployment's setting); DEFAULT_SHARD_CONCURRENCY by default. */
  maxConcurrency?: number;
}

/** The reports folder of a run's shards. */
export function shardsPrefix(run: ShardRunInput): string {
  return `${run.dataset}/runs/${run.runId}/shards/`;
}

const pad = (index: number) => String(index).padStart(5, '0');

/**
 * The first bytes of the object PlanShards reads to size its records (recordBytesOf), and so the
 * uniqueness keys each shard may spill: too many partitions cost a request per shard each.
 */
const RECORD_SAMPLE_BYTES = 64 * 1024;

/**
 * Where the shards of a run spill what is too large for their outcome (uniqueness keys, median and
 * quantile values), and where the merge reads it back: the run's prefix in reports.
 */
function runSpill(store: ObjectStore, run: RunLocation): ObjectStoreSpill {
  return new ObjectStoreSpill(store, lakeSpillPrefix(runPrefix(run)));
}

/** The validated part of shard `index`: one part per shard, in shard order. */
export function validatedPartKey(run: RunLocation, index: number): string {
  return `${runPrefix(run)}part-${pad(index)}.jsonl`;
}

/** Where a shard's quarantined rows wait, numbered within the shard, until the merge. */
function stagedQuarantineKey(run: RunLocation, index: number): string {
  return `${runPrefix(run)}shards/rejected-rows-${pad(index)}.jsonl`;
}

function outcomeKey(run: ShardRunInput, index: number): string {
  return `${shardsPrefix(run)}outcome-${pad(index)}.json`;
}

/** The spill blob of a partition's check: its cross-shard duplicates, which MergeResults reads. */
function checkedPartitionBlob(partition: number): string {
  return `checked/partition-${pad(partition)}.json`;
}

/**
 * Plans the batch's raw objects into shards and writes the shard list. One object is cut into
 * byte ranges at record starts. A batch of several objects (a partner drop, the pages of an HTTP
 * pull, a stream hour) is sharded by object, in batch order: an object no larger than the shard
 * size is one shard, a larger one is cut as one object is, each of its shards reading the
 * object's own CSV header. An empty object other than the first adds no record and no shard.
 */
export async function planShardsOf(input: PlanShardsInput, ports: ShardedPorts): Promise<PlanShardsOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  refuseUnshardable(contract);
  const { store } = ports;
  const rawKeys = input.manifestKey ? await readBatchKeys(store, input.manifestKey) : [input.rawKey];
  const objects = (await objectSizes(store, rawKeys)).filter((object, k) => k === 0 || object.size > 0);
  const open = (key: string) => async (start: number, end: number) => readBytes(store, key, start, end);
  const plans = [];
  for await (const plan of planBatch(objects, open, contract.format, shardTargetBytes(contract.format))) {
    plans.push(plan);
  }
  const first = objects[0]!;
  // A loop, not Math.max(...): a batch can have more shards than a call takes arguments.
  let largest = 0;
  for (const { plan } of plans) {
    for (const shard of plan.shards) largest = Math.max(largest, shard.end - shard.start);
  }
  const sample = await open(first.key)(0, Math.min(first.size, RECORD_SAMPLE_BYTES));
  const recordBytes = recordBytesOf(sample);
  const shardCount = plans.reduce((count, { plan }) => count + plan.shards.length, 0);
  const partitions = spillPartitions(shardCount, Math.ceil(largest / recordBytes));
  const batchHeader =
    contract.format.type === 'csv' && objects.length > 1
      ? await firstLine(open(first.key), first.size, contract.format.max_record_bytes)
      : undefined;
  const items: ShardItem[] = [];
  for (const [k, { key: rawKey, plan }] of plans.entries()) {
    const headerEnd = plan.header?.end;
    for (const shard of plan.shards) {
      items.push({
        index: items.length,
        rawKey,
        // An object's first shard reads it from its start, header included, as a whole object is read.
        start: shard.index === 0 ? 0 : shard.start,
        end: shard.end,
        ...(headerEnd !== undefined && shard.index > 0 ? { headerEnd } : {}),
        partitions,
        ...(batchHeader !== undefined && k > 0 && shard.index === 0 ? { batchHeader } : {}),
      });
    }
  }
  const key = `${shardsPrefix(input)}shards.jsonl`;
  await store.put('reports', key, items.map((item) => `${JSON.stringify(item)}\n`).join(''), {
    contentType: 'application/x-ndjson',
  });
  return {
    key,
    count: items.length,
    resultsPrefix: `${shardsPrefix(input)}results`,
    maxConcurrency: ports.maxConcurrency ?? DEFAULT_SHARD_CONCURRENCY,
  };
}

/** Objects whose size PlanShards asks for at once. */
const HEAD_CONCURRENCY = 16;

/** Each raw object of the batch with its size, in batch order. */
async function objectSizes(store: ObjectStore, keys: readonly string[]): Promise<BatchObject[]> {
  const objects: BatchObject[] = new Array(keys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const k = next++;
      const key = keys[k]!;
      const size = (await store.head('raw', key))?.size;
      if (size === undefined) throw new ObjectNotFound(`${store.describe('raw', key)} does not exist`);
      objects[k] = { key, size };
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, keys.length) }, worker));
  return objects;
}

/**
 * An object's first line, without its line break (a CSV object's header line, as a joined pass
 * compares it): read in growing pieces up to `maxBytes`.
 */
async function firstLine(
  read: (start: number, end: number) => Promise<Uint8Array>,
  size: number,
  maxBytes: number,
): Promise<string> {
  let bytes = Buffer.alloc(0);
  for (let step = 4096; bytes.length < size; step *= 2) {
    const more = await read(bytes.length, Math.min(size, bytes.length + step, maxBytes + 1));
    if (more.length === 0) break;
    bytes = Buffer.concat([bytes, more]);
    if (bytes.includes(0x0a) || bytes.length > maxBytes) break;
  }
  const end = bytes.indexOf(0x0a);
  return lineText(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Validates one shard: its valid records to its validated part, its quarantined rows to staging,
 * and its mergeable outcome to the reports zone.
 */
export async function validateShardOf(
  input: ValidateShardInput,
  ports: Pick<ShardedPorts, 'store' | 'contracts'>,
): Promise<ValidateShardOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const { store } = ports;
  const { shard } = input;
  const run: RunLocation = { dataset: contract.name, dt: input.dt, runId: input.runId };
  if (shard.batchHeader !== undefined) {
    const own = await firstLine(
      async (start, end) => readBytes(store, shard.rawKey, start, end),
      shard.end,
      contract.format.max_record_bytes,
    );
    checkHeader(store, shard.rawKey, shard.batchHeader, Buffer.from(own));
  }
  const csvHeader =
    shard.headerEnd === undefined
      ? undefined
      : headerLine(await readBytes(store, shard.rawKey, 0, shard.headerEnd));
  const keys = {
    validated: validatedPartKey(run, shard.index),
    quarantine: stagedQuarantineKey(run, shard.index),
  };
  const outcome = await intoZones(store, keys, async (outputs) =>
    validateShard(
      await store.read('raw', shard.rawKey, { start: shard.start, end: shard.end }),
      contract,
      outputs,
      {
        source: store.describe('raw', shard.rawKey),
        sizeBytes: shard.end - shard.start,
        ...(csvHeader !== undefined ? { csvHeader } : {}),
        ...(shard.index > 0 ? { continues: true } : {}),
        spill: { spill: runSpill(store, run), shard: shard.index, partitions: shard.partitions },
      },
    ),
  );
  const key = outcomeKey(input, shard.index);
  await store.put('reports', key, JSON.stringify(outcome), { contentType: 'application/json' });
  return { index: shard.index, outcomeKey: key };
}

/**
 * Merges the shards into the batch's result: the same report, data docs and quarantine as one
 * ValidateBatch pass, and the validated records as one part per shard under the run's prefix
 * (which is the `validatedKey` returned, for PromoteToCurated).
 */
export async function mergeShardsOf(input: MergeShardsInput, ports: ShardedPorts): Promise<ValidateOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const { store } = ports;
  const run: RunLocation = { dataset: contract.name, dt: input.dt, runId: input.runId };
  const rawKeys = input.manifestKey ? await readBatchKeys(store, input.manifestKey) : [input.rawKey];
  const source = describeBatch(store, rawKeys);
  const outcomes = await shardOutcomes(store, input);
  // A batch of several objects numbers rows within their object, as a joined pass does.
  const items = await shardItems(store, input.shardsKey);
  const files: ShardFile[] | undefined =
    rawKeys.length > 1
      ? items.map((item) => ({
          file: objectName(item.rawKey),
          source: store.describe('raw', item.rawKey),
          first: startsObject(item),
        }))
      : undefined;
  // The spilled keys' partitions were checked by CheckKeyPartitions, each into a blob of the spill;
  // the median's and quantiles' values are selected here.
  const spill = runSpill(store, run);
  const spilled = await resolveSpill(contract, outcomes, spill, {
    concurrency: MERGE_CONCURRENCY,
    firsts: items.map(startsObject),
    check: async (plan, partition) =>
      plan.evaluators.length === 0
        ? []
        : (JSON.parse(
            Buffer.from(await spill.get(checkedPartitionBlob(partition))).toString('utf8'),
          ) as CrossShardDuplicate[]),
  });
  const batch = { source, spilled, ...(files !== undefined ? { files } : {}) };
  const outcome = mergeShardOutcomes(contract, outcomes, batch);
  const placements = shardPlacements(contract, outcomes, batch);
  const keys = {
    validated: runPrefix(run),
    quarantine: quarantineKey(run),
    report: validationReportKey(run),
  };

  // One shard at a time: its quarantine lines moved to the batch's rows and indexes, and its part
  // rewritten where the merge quarantined a record the shard kept (a duplicate of an earlier
  // shard's row, an order broken where two shards meet). Memory holds one shard's outputs.
  async function* batchQuarantine(): AsyncGenerator<Buffer> {
    for (const [index, placement] of placements.entries()) {
      const staged = await store.readText('quarantine', stagedQuarantineKey(run, index));
      const moves = placement.failures.some((f) => !inRuns(placement.quarantinedRuns, f.index));
      const valid = moves ? await shardValidRecords(store, run, index) : '';
      const global = globalShardOutputs(
        { valid, quarantine: staged },
        moves ? placement : { ...placement, read: 0 },
      );
      if (moves) {
        await store.put('validated', validatedPartKey(run, index), global.valid, {
          contentType: 'application/x-ndjson',
        });
      }
      yield Buffer.from(global.quarantine);
    }
  }
  await store.put('quarantine', keys.quarantine, Readable.from(batchQuarantine()), {
    contentType: 'application/x-ndjson',
  });

  const parts = placements.map((_, index) => validatedPartKey(run, index));
  return concludeValidation(store, contract, run, outcome, { source, keys, parts });
}

/**
 * Lists the partitions of the uniqueness keys the shards spilled, for CheckKeyPartitions: the keys
 * plan (where each shard's records start in the batch, which evaluators spilled keys) once in the
 * spill, and the partitions one a line. None when no shard spilled keys.
 */
export async function planKeyPartitionsOf(
  input: PlanKeyPartitionsInput,
  ports: ShardedPorts,
): Promise<PlanKeyPartitionsOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const { store } = ports;
  const run: RunLocation = { dataset: contract.name, dt: input.dt, runId: input.runId };
  const items = await shardItems(store, input.shardsKey);
  const plan = keysPlan(await shardOutcomes(store, input), items.map(startsObject));
  const count = plan.evaluators.length === 0 ? 0 : plan.partitions;
  const key = `${shardsPrefix(input)}key-partitions.jsonl`;
  const planKey = `${lakeSpillPrefix(runPrefix(run))}${KEYS_PLAN_BLOB}`;
  if (count > 0) {
    await runSpill(store, run).put(KEYS_PLAN_BLOB, Buffer.from(JSON.stringify(plan)));
    const lines = Array.from({ length: count }, (_, partition) => `${JSON.stringify({ partition })}\n`);
    await store.put('reports', key, lines.join(''), { contentType: 'application/x-ndjson' });
  }
  return {
    spilled: count > 0,
    count,
    key,
    planKey,
    resultsPrefix: `${shardsPrefix(input)}key-results`,
    maxConcurrency: ports.maxConcurrency ?? DEFAULT_SHARD_CONCURRENCY,
  };
}

/** The keys plan's blob in the run's spill. */
const KEYS_PLAN_BLOB = 'keys-plan.json';

/**
 * Checks one partition of the spilled keys across every shard (checkPartition, every evaluator
 * that spilled keys) and writes the keys held by more than one shard to the spill, for MergeResults.
 * Memory holds one partition of one evaluator's keys.
 */
export async function checkKeyPartitionOf(
  input: CheckKeyPartitionInput,
  ports: Pick<ShardedPorts, 'store' | 'contracts'>,
): Promise<CheckKeyPartitionOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const run: RunLocation = { dataset: contract.name, dt: input.dt, runId: input.runId };
  const spill = runSpill(ports.store, run);
  const plan = JSON.parse(await ports.store.readText('reports', input.planKey)) as KeysPlan;
  if (!Number.isInteger(input.partition) || input.partition < 0 || input.partition >= plan.partitions) {
    throw new MalformedInput(
      `dataset '${contract.name}' run ${input.runId}: CheckKeyPartition was given partition ${input.partition}; ${ports.store.describe('reports', input.planKey)} has partitions 0 to ${plan.partitions - 1}`,
    );
  }
  const duplicates = await checkPartition(spill, plan, input.partition);
  await spill.put(checkedPartitionBlob(input.partition), Buffer.from(JSON.stringify(duplicates)));
  return { partition: input.partition, duplicates: duplicates.length };
}

/** Every shard's outcome, in shard order, from the shard list and ValidateShards' results. */
async function shardOutcomes(
  store: ObjectStore,
  input: { shardsKey: string; resultsKey: string },
): Promise<ShardOutcome[]> {
  const count = (await shardItems(store, input.shardsKey)).length;
  const results = await shardResults(store, input.resultsKey, count);
  return Promise.all(
    results.map(
      async (result) => JSON.parse(await store.readText('reports', result.outcomeKey)) as ShardOutcome,
    ),
  );
}

/** Whether a shard is its object's first (each object of a batch starts its own lines). */
function startsObject(item: ShardItem): boolean {
  return item.start === 0;
}

/** The shard list PlanShards wrote. */
async function shardItems(store: ObjectStore, key: string): Promise<ShardItem[]> {
  return (await store.readText('reports', key))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ShardItem);
}

/**
 * Each shard's result from the map run's ResultWriter output (its manifest, then the files of
 * succeeded children), in shard order; every shard must have one.
 */
async function shardResults(
  store: ObjectStore,
  manifestKey: string,
  count: number,
): Promise<ValidateShardOutput[]> {
  const manifest = JSON.parse(await store.readText('reports', manifestKey)) as {
    ResultFiles?: { SUCCEEDED?: Array<{ Key: string }> };
  };
  const results: ValidateShardOutput[] = [];
  for (const file of manifest.ResultFiles?.SUCCEEDED ?? []) {
    const records = JSON.parse(await store.readText('reports', file.Key)) as Array<{ Output?: string }>;
    for (const record of records) results.push(JSON.parse(record.Output ?? 'null') as ValidateShardOutput);
  }
  results.sort((a, b) => a.index - b.index);
  if (results.length !== count || results.some((result, index) => result.index !== index)) {
    throw new MalformedInput(
      `${store.describe('reports', manifestKey)}: the map run has results of ${results.length} shards, expected one for each of the ${count} shards`,
    );
  }
  return results;
}

/**
 * The valid records a shard wrote, kept aside the first time the merge rewrites its part, so that
 * a retried MergeResults starts again from what the shard wrote and not from its own rewrite.
 */
async function shardValidRecords(store: ObjectStore, run: RunLocation, index: number): Promise<string> {
  const kept = `${runPrefix(run)}shards/part-${pad(index)}.jsonl`;
  if (await store.head('validated', kept)) return store.readText('validated', kept);
  const text = await store.readText('validated', validatedPartKey(run, index));
  await store.put('validated', kept, text, { contentType: 'application/x-ndjson' });
  return text;
}

/** Bytes [start, end) of a raw object. */
async function readBytes(store: ObjectStore, key: string, start: number, end: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read('raw', key, { start, end })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The header line of a CSV object from its first bytes: after a byte order mark and any empty lines, without its line break. */
function headerLine(bytes: Uint8Array): string {
  const lines = Buffer.from(bytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((line) => line !== '');
  return lines[0] ?? '';
}
