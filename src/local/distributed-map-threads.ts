/**
 * Child executions of a Distributed Map in worker threads, so that CPU-bound children (validating a
 * shard) use every core. A thread cannot receive the task functions themselves (closures over a
 * store, clients, contracts), so each thread builds its own from a module the caller names, once,
 * and then runs children of the ItemProcessor one at a time, as the main thread asks.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { ExecutionReport, LocalFunction, TaskContext } from './asl-runner.js';
import type { ChildRunner } from './distributed-map.js';
import type { MapRunStorage } from './distributed-map-items.js';

/** Where a worker thread gets its task implementations. */
export interface ThreadedChildren {
  /**
   * A module (absolute path or file URL, TypeScript or JavaScript) that exports
   * `localTasks(data): Promise<LocalTasks>`.
   */
  module: string;
  /** Passed to `localTasks` (structured clone): what the thread needs to build its ports, e.g. the lake's root. */
  data?: unknown;
}

/** What `localTasks` returns in a worker thread: as `RunOptions` names them. */
export interface LocalTasks {
  functions: ReadonlyMap<string, LocalFunction>;
  tasks?: Readonly<Record<string, (input: unknown, context: TaskContext) => Promise<unknown>>>;
  storage?: MapRunStorage;
}

export type ThreadRequest =
  | {
      type: 'run';
      id: number;
      definition: StateMachineDefinition;
      stateMachineName: string;
      retryIntervalMs?: number;
      input: unknown;
      name: string;
    }
  | { type: 'abort'; id: number };

export type ThreadReply =
  | { type: 'done'; id: number; report: ExecutionReport }
  | { type: 'error'; id: number; error: { name: string; message: string; stack?: string } };

// The thread is started from code, not from a file: it loads TypeScript through tsx, whether the
// main thread runs under tsx (the CLI) or under a test runner's own transform.
const THREAD_BOOT = `
const { workerData } = require('node:worker_threads');
require(workerData.tsx).register();
import(workerData.entry);
`;

const threadEntry = pathToFileURL(
  fileURLToPath(new URL('./distributed-map-thread.ts', import.meta.url)),
).href;

/** A pool of at most `size` worker threads, started when first needed, each running one child at a time. */
export class ChildThreadPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: Array<(worker: Worker) => void> = [];
  private readonly stopped = new Set<Worker>();
  private nextId = 1;

  constructor(
    private readonly size: number,
    private readonly spec: ThreadedChildren,
  ) {}

  /** Runs children of `definition` in the pool's threads. */
  runner(
    definition: StateMachineDefinition,
    options: { stateMachineName: string; retryIntervalMs?: number },
  ): ChildRunner {
    return async ({ input, name, signal }) => {
      const worker = await this.acquire();
      const id = this.nextId++;
      try {
        return await new Promise<ExecutionReport>((resolve, reject) => {
          const onMessage = (reply: ThreadReply) => {
            if (reply.id !== id) return;
            cleanup();
            if (reply.type === 'done') resolve(reply.report);
            else reject(Object.assign(new Error(reply.error.message), reply.error));
          };
          const onError = (error: Error) => {
            cleanup();
            reject(error);
          };
          const onExit = (code: number) =>
            onError(new Error(`the worker thread stopped (exit code ${code})`));
          const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ThreadRequest);
          const cleanup = () => {
            worker.off('message', onMessage);
            worker.off('error', onError);
            worker.off('exit', onExit);
            signal?.removeEventListener('abort', onAbort);
          };
          worker.on('message', onMessage);
          worker.on('error', onError);
          worker.on('exit', onExit);
          signal?.addEventListener('abort', onAbort, { once: true });
          worker.postMessage({
            type: 'run',
            id,
            definition,
            ...options,
            input,
            name,
          } satisfies ThreadRequest);
        });
      } finally {
        this.release(worker);
      }
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((worker) => worker.terminate()));
  }

  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    if (this.all.length < this.size) {
      const started = new Worker(THREAD_BOOT, {
        eval: true,
        workerData: {
          tsx: createRequire(import.meta.url).resolve('tsx/esm/api'),
          entry: threadEntry,
          module: this.spec.module,
          data: this.spec.data,
        },
      });
      // An uncaught error stops the thread too; it is known stopped before its 'exit' arrives.
      started.once('error', () => this.stopped.add(started));
      started.once('exit', () => this.stopped.add(started));
      this.all.push(started);
      return Promise.resolve(started);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    // A thread that stopped is replaced, so that no child waits on it for ever.
    if (this.stopped.has(worker)) {
      this.all.splice(this.all.indexOf(worker), 1);
      const next = this.waiting.shift();
      if (next) void this.acquire().then(next);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }
}
