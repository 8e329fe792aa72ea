/**
 * The worker thread side of ChildThreadPool: builds the task implementations once from the module
 * the main thread named, then runs each child execution it is sent and replies with its report.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { ExecutionReport, ExecutionRun } from './asl-runner.js';
import { prepareExecution } from './asl-runner.js';
import type { LocalTasks, ThreadReply, ThreadRequest } from './distributed-map-threads.js';

const { module, data } = workerData as { module: string; data: unknown };
const url = isAbsolute(module) ? pathToFileURL(module).href : module;
const { localTasks } = (await import(url)) as { localTasks: (data: unknown) => Promise<LocalTasks> };
const tasks = await localTasks(data);

const prepared = new Map<string, (run: ExecutionRun) => Promise<ExecutionReport>>();
const running = new Map<number, AbortController>();
const port = parentPort!;

port.on('message', async (request: ThreadRequest) => {
  if (request.type === 'abort') {
    running.get(request.id)?.abort();
    return;
  }
  const abort = new AbortController();
  running.set(request.id, abort);
  try {
    const key = `${request.stateMachineName}\n${JSON.stringify(request.definition)}`;
    let execute = prepared.get(key);
    if (!execute) {
      execute = prepareExecution({
        definition: request.definition,
        stateMachineName: request.stateMachineName,
        retryIntervalMs: request.retryIntervalMs,
        // A Distributed Map inside a child runs in this thread, one child at a time.
        workers: 1,
        ...tasks,
      });
      prepared.set(key, execute);
    }
    const report = await execute({ input: request.input, name: request.name, signal: abort.signal });
    port.postMessage({ type: 'done', id: request.id, report } satisfies ThreadReply);
  } catch (error) {
    const { name, message, stack } = error as Error;
    port.postMessage({
      type: 'error',
      id: request.id,
      error: { name, message, stack },
    } satisfies ThreadReply);
  } finally {
    running.delete(request.id);
  }
});
