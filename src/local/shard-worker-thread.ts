/**
 * The worker thread side of validateFileInShards: validates each shard it is sent (a byte range of
 * a file, read as a stream) with validateShard and replies with the shard's outcome and the
 * thread's peak heap. Progress goes back per chunk read, so the main thread can show MB/s. The
 * shard's keys and values go to the task's spill directory; after the shards, the thread checks the
 * key partitions it is sent, reading the same directory.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { Contract } from '../../lambdas/shared/contract.js';
import type { validateShard as ValidateShard } from '../../lambdas/validate/engine.js';
import { checkPartition } from '../../lambdas/validate/shard-spill.js';
import { DirectorySpill } from '../../lambdas/validate/spill.js';
import type { ShardReply, ShardRequest, ShardTask } from './shard-workers.js';

const { engine, contract, source } = workerData as { engine: string; contract: Contract; source: string };
const { validateShard } = (await import(engine)) as { validateShard: typeof ValidateShard };
const port = parentPort!;

let peakHeapBytes = 0;
function sampleHeap(): void {
  const heap = getHeapStatistics();
  peakHeapBytes = Math.max(peakHeapBytes, heap.total_heap_size + heap.external_memory);
}

function rangeStream(task: ShardTask): Readable {
  if (task.end <= task.start) return Readable.from([]);
  return createReadStream(task.file, { start: task.start, end: task.end - 1, highWaterMark: 256 * 1024 });
}

async function validate(id: number, task: ShardTask): Promise<void> {
  let reported = 0;
  const started = performance.now();
  const outcome = await validateShard(
    rangeStream(task),
    contract,
    // `sluice validate` writes no rows: the engine skips producing them.
    {},
    {
      source,
      sizeBytes: task.end - task.start,
      onProgress: ({ bytesRead }) => {
        sampleHeap();
        port.postMessage({ type: 'progress', id, bytes: bytesRead - reported } satisfies ShardReply);
        reported = bytesRead;
      },
      ...(task.csvHeader !== undefined ? { csvHeader: task.csvHeader } : {}),
      continues: task.continues,
      spill: {
        spill: new DirectorySpill(task.spill.directory),
        shard: task.shard,
        partitions: task.spill.partitions,
      },
    },
  );
  sampleHeap();
  port.postMessage({
    type: 'done',
    id,
    outcome,
    memory: memory(),
    elapsedMs: performance.now() - started,
  } satisfies ShardReply);
}

function memory() {
  return { threadId, peakHeapBytes, processMaxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function check(request: ShardRequest & { type: 'check' }): Promise<void> {
  const duplicates = await checkPartition(
    new DirectorySpill(request.directory),
    request.plan,
    request.partition,
  );
  sampleHeap();
  port.postMessage({ type: 'checked', id: request.id, duplicates, memory: memory() } satisfies ShardReply);
}

port.on('message', (request: ShardRequest) => {
  (request.type === 'check' ? check(request) : validate(request.id, request.task)).catch((error: unknown) => {
    const { name, message, stack } =
      error instanceof Error ? error : new Error(`a non-error was thrown: ${String(error)}`);
    port.postMessage({ type: 'error', id: request.id, error: { name, message, stack } } satisfies ShardReply);
  });
});
