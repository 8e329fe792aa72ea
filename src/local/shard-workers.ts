/**
 * A local file too large for one pass, validated in shards on every core: the file is planned into
 * byte ranges that start at records (lambdas/validate/shard-plan.ts, with positioned reads), each
 * range is validated by validateShard in a worker thread, and the shards' outcomes are merged into
 * the outcome one pass over the whole file gives (shard-merge.ts). The plan and the merge are the
 * ones a deployed Distributed Map runs; only the transport differs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Contract } from '../../lambdas/shared/contract.js';
import type { ShardOutcome } from '../../lambdas/validate/engine.js';
import { mergeShardOutcomes } from '../../lambdas/validate/shard-merge.js';
import { planShards, type ShardPlan } from '../../lambdas/validate/shard-plan.js';
import { type CrossShardDuplicate, type KeysPlan, resolveSpill } from '../../lambdas/validate/shard-spill.js';
import { DirectorySpill, spillPartitions } from '../../lambdas/validate/spill.js';
import type { ValidationOutcome } from '../../lambdas/validate/validation-outcome.js';
import { threadBundle } from './thread-bundle.js';

/** One shard as a worker thread validates it: a byte range of the file and how it continues the file. */
export interface ShardTask {
  /** The shard's place in the plan, from 0. */
  shard: number;
  file: string;
  start: number;
  end: number;
  /** The CSV header's text, for every CSV shard but the first (which reads the header itself). */
  csvHeader?: string;
  continues: boolean;
  /** Where the shard writes its uniqueness keys and median/quantile values (a DirectorySpill), and into how many key partitions. */
  spill: { directory: string; partitions: number };
}

export type ShardRequest =
  | { type: 'shard'; id: number; task: ShardTask }
  /** One partition of the spilled keys checked across shards (checkPartition), read from `directory`. */
  | { type: 'check'; id: number; directory: string; plan: KeysPlan; partition: number };

/** What a worker thread measured of itself: its V8 heap (per thread) and the process's peak RSS (shared). */
export interface ThreadMemory {
  threadId: number;
  /** Largest V8 heap of this thread seen (total_heap_size + external_memory), in bytes. */
  peakHeapBytes: number;
  /** process.resourceUsage().maxRSS at the end of the shard, in bytes: the whole process, all threads. */
  processMaxRssBytes: number;
}

export type ShardReply =
  | { type: 'progress'; id: number; bytes: number }
  | { type: 'done'; id: number; outcome: ShardOutcome; memory: ThreadMemory; elapsedMs: number }
  | { type: 'checked'; id: number; duplicates: CrossShardDuplicate[]; memory: ThreadMemory }
  | { type: 'error'; id: number; error: { name: string; message: string; stack?: string } };

/** A file's plan with what the shards need besides their ranges. */
export interface FilePlan extends ShardPlan {
  size: number;
  /** The CSV header line's text (no byte order mark, no line break), for shards after the first. */
  csvHeader?: string;
  /** Bytes a record takes, estimated from the first records: how many keys a shard may spill. */
  recordBytes: number;
}

/** Bytes read from the first records to estimate a record's size. */
const SAMPLE_BYTES = 1 << 20;

/** Plans `file` into shards of about `targetBytes`, reading only around each cut. */
export async function planFile(file: string, contract: Contract, targetBytes: number): Promise<FilePlan> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const read = async (start: number, end: number) => {
      const bytes = new Uint8Array(end - start);
      let at = 0;
      while (at < bytes.length) {
        const { bytesRead } = await handle.read(bytes, at, bytes.length - at, start + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return bytes.subarray(0, at);
    };
    const plan = await planShards(read, size, contract.format, targetBytes);
    const from = plan.header?.end ?? 0;
    const sample = await read(from, Math.min(size, from + SAMPLE_BYTES));
    let breaks = 0;
    for (const byte of sample) if (byte === 0x0a) breaks++;
    // Line breaks undercount records only where a quoted field holds one: the estimate errs high.
    const recordBytes = Math.max(1, sample.length / Math.max(1, breaks));
    if (plan.header === undefined) return { ...plan, size, recordBytes };
    const text = Buffer.from(await read(0, plan.header.end)).toString('utf8');
    // The header line as the reader sees it: after a byte order mark and empty lines, before its line break.
    const csvHeader = text
      .replace(/^\uFEFF/, '')
      .replace(/^(?:\r\n|\n|\r)+/, '')
      .replace(/\r?\n$/, '');
    return { ...plan, size, csvHeader, recordBytes };
  } finally {
    await handle.close();
  }
}

export interface ShardedProgress {
  shardsDone: number;
  shards: number;
  bytesRead: number;
  totalBytes: number;
}

export interface ShardedValidationOptions {
  /** Shards validated at once, each in a worker thread of its own. */
  workers: number;
  /** Names the file in the result and in messages. */
  source?: string;
  now?: () => Date;
  onProgress?: (progress: ShardedProgress) => void;
  /**
   * The module whose `validateShard` the threads run (path or file URL): the engine's by default.
   * Tests name another to make a shard fail.
   */
  engine?: string;
  /**
   * Start the threads from the TypeScript sources through tsx, not from the engine bundled once
   * with esbuild (thread-bundle.ts): slower to start, for comparing the two.
   */
  fromSource?: boolean;
  /**
   * Where the spill's temporary directory is made (default: the system's temporary directory). It
   * is removed when the validation ends, fails or is interrupted (SIGINT, SIGTERM).
   */
  spillParent?: string;
}

export interface ShardedValidation {
  outcome: ValidationOutcome;
  /** Each thread's peak memory, in the order the threads started. */
  threads: ThreadMemory[];
  /** Each shard's bytes and the time its thread took to validate them, in plan order. */
  shards: Array<{ bytes: number; elapsedMs: number }>;
  /** The time the merge took: the partition checks and selections over the spill, then the merge of the outcomes. */
  mergeMs: number;
  /** Of mergeMs, the partition checks and selections over the spill. */
  spillMs: number;
}

/** A shard's error, with where in the file it happened; its name stays the original's. */
function shardError(
  reply: { name: string; message: string; stack?: string },
  task: ShardTask,
  shards: number,
) {
  const error = new Error(
    `${reply.message} (shard ${task.shard + 1} of ${shards}: bytes ${task.start}–${task.end} of ${task.file}, its lines counted from the shard's start)`,
  );
  error.name = reply.name;
  if (reply.stack)
    error.stack = `${error.name}: ${error.message}\n${reply.stack.split('\n').slice(1).join('\n')}`;
  return error;
}

// The thread is started from code, not from a file: it loads TypeScript through tsx, whether the
// main thread runs under tsx (the CLI) or under a test runner's own transform.
const THREAD_BOOT = `
const { workerData } = require('node:worker_threads');
require(workerData.tsx).register();
import(workerData.entry);
`;

const threadSource = fileURLToPath(new URL('./shard-worker-thread.ts', import.meta.url));
const engineSource = fileURLToPath(new URL('../../lambdas/validate/engine.ts', import.meta.url));

/**
 * Validates the shards of `plan` in at most `workers` threads, one shard per thread at a time, and
 * merges their outcomes. Each shard writes its uniqueness keys and median/quantile values to a
 * spill in a temporary directory; the same threads then check the key partitions across shards,
 * so no thread holds more than a shard's keys or a partition's. The first shard that fails fails
 * the whole: the other threads are stopped and its error is thrown as it was named (nothing is
 * retried).
 */
export async function validateFileInShards(
  file: string,
  contract: Contract,
  plan: FilePlan,
  options: ShardedValidationOptions,
): Promise<ShardedValidation> {
  // An interrupted run leaves no spill behind: the threads are stopped (so that none writes to the
  // spill after it is removed), the directory is removed, then the signal is raised again so the
  // process ends as it would have. A second signal meanwhile ends it at once.
  const threads: Worker[] = [];
  let directory: string | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    void Promise.allSettled(threads.map((worker) => worker.terminate())).then(() => {
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
      process.kill(process.pid, signal);
    });
  };
  // The handler is there before the directory: until a process listens, a signal ends it at once.
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  try {
    // Made synchronously: a signal is handled on a later turn, when `directory` is set.
    directory = mkdtempSync(join(options.spillParent ?? tmpdir(), 'sluice-spill-'));
    return await validateWithSpill(file, contract, plan, options, directory, threads);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  }
}

async function validateWithSpill(
  file: string,
  contract: Contract,
  plan: FilePlan,
  options: ShardedValidationOptions,
  directory: string,
  /** Filled with the threads as they start, for whoever must stop them. */
  threads: Worker[],
): Promise<ShardedValidation> {
  const largest = plan.shards.reduce((most, shard) => Math.max(most, shard.end - shard.start), 0);
  const workers = Math.max(1, Math.min(options.workers, plan.shards.length));
  // At least a partition a thread, so that every thread has keys to check after the shards.
  const partitions = Math.max(
    workers,
    spillPartitions(plan.shards.length, Math.ceil(largest / plan.recordBytes)),
  );
  const tasks: ShardTask[] = plan.shards.map((shard, k) => ({
    shard: k,
    file,
    // The first CSV shard reads the header from the file's start, as one pass does.
    start: k === 0 ? 0 : shard.start,
    end: shard.end,
    ...(k > 0 && plan.csvHeader !== undefined ? { csvHeader: plan.csvHeader } : {}),
    continues: k > 0,
    spill: { directory, partitions },
  }));
  // Threads start from the bundle unless another engine is named (a test's) or none can be built.
  const bundle =
    options.engine === undefined && options.fromSource !== true
      ? await threadBundle({ thread: threadSource, engine: engineSource })
      : undefined;
  const engine =
    bundle?.engine ??
    (options.engine
      ? isAbsolute(options.engine)
        ? pathToFileURL(options.engine).href
        : options.engine
      : pathToFileURL(engineSource).href);
  const memory = new Map<number, ThreadMemory>();
  const outcomes: ShardOutcome[] = new Array(tasks.length);
  const timings: ShardedValidation['shards'] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  let bytesRead = 0;
  let requests = tasks.length;
  const report = () =>
    options.onProgress?.({ shardsDone: done, shards: tasks.length, bytesRead, totalBytes: plan.size });
  const remember = (seen: ThreadMemory) => {
    const before = memory.get(seen.threadId);
    memory.set(seen.threadId, {
      threadId: seen.threadId,
      peakHeapBytes: Math.max(before?.peakHeapBytes ?? 0, seen.peakHeapBytes),
      processMaxRssBytes: Math.max(before?.processMaxRssBytes ?? 0, seen.processMaxRssBytes),
    });
  };

  /** Sends `request` to `worker` and resolves with its final reply (progress replies are counted on the way). */
  const ask = (
    worker: Worker,
    request: ShardRequest,
    failed: (error: ShardReply & { type: 'error' }) => Error,
  ) =>
    new Promise<ShardReply>((resolve, reject) => {
      const onMessage = (reply: ShardReply) => {
        if (reply.id !== request.id) return;
        if (reply.type === 'progress') {
          bytesRead += reply.bytes;
          report();
          return;
        }
        cleanup();
        if (reply.type === 'error') reject(failed(reply));
        else resolve(reply);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) =>
        onError(new Error(`a worker thread of the validation stopped (exit code ${code})`));
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });

  const runIn = async (worker: Worker, task: ShardTask) => {
    const reply = await ask(worker, { type: 'shard', id: task.shard, task }, (failure) =>
      shardError(failure.error, task, tasks.length),
    );
    if (reply.type !== 'done') throw new Error(`a worker thread replied ${reply.type} to a shard`);
    outcomes[task.shard] = reply.outcome;
    timings[task.shard] = { bytes: task.end - task.start, elapsedMs: reply.elapsedMs };
    remember(reply.memory);
    done++;
    report();
  };

  const lane = async () => {
    const data = { engine, contract, source: options.source ?? file };
    const worker = bundle
      ? // No loader of the parent's (tsx's --import) is needed: the bundle is plain JavaScript.
        new Worker(new URL(bundle.thread!), { workerData: data, execArgv: [] })
      : new Worker(THREAD_BOOT, {
          eval: true,
          workerData: {
            ...data,
            tsx: createRequire(import.meta.url).resolve('tsx/esm/api'),
            entry: pathToFileURL(threadSource).href,
          },
        });
    threads.push(worker);
    for (let task = tasks[next++]; task !== undefined; task = tasks[next++]) {
      await runIn(worker, task);
    }
  };

  // The partition checks run on the threads that validated the shards, one partition a thread at a time.
  const idle: Worker[] = [];
  const check = async (keys: KeysPlan, partition: number): Promise<CrossShardDuplicate[]> => {
    const worker = idle.pop()!;
    try {
      const reply = await ask(
        worker,
        { type: 'check', id: requests++, directory, plan: keys, partition },
        (failure) => {
          const error = new Error(
            `${failure.error.message} (checking key partition ${partition + 1} of ${keys.partitions})`,
          );
          error.name = failure.error.name;
          return error;
        },
      );
      if (reply.type !== 'checked')
        throw new Error(`a worker thread replied ${reply.type} to a partition check`);
      remember(reply.memory);
      return reply.duplicates;
    } finally {
      idle.push(worker);
    }
  };

  let mergeMs: number;
  let spillMs: number;
  let outcome: ValidationOutcome;
  try {
    report();
    await Promise.all(Array.from({ length: workers }, lane));
    const merging = performance.now();
    idle.push(...threads);
    const spilled = await resolveSpill(contract, outcomes, new DirectorySpill(directory), {
      concurrency: threads.length,
      check,
    });
    spillMs = performance.now() - merging;
    outcome = mergeShardOutcomes(contract, outcomes, {
      source: options.source ?? file,
      now: options.now,
      spilled,
    });
    mergeMs = performance.now() - merging;
  } catch (error) {
    // Stop taking shards, and stop the threads still validating one.
    next = tasks.length;
    throw error;
  } finally {
    await Promise.all(threads.map((worker) => worker.terminate()));
  }
  return { outcome, threads: [...memory.values()], shards: timings, mergeMs, spillMs };
}
