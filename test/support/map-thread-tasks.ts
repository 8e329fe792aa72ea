// Task implementations a Distributed Map's worker threads build for the runner's thread tests.
import { threadId } from 'node:worker_threads';
import { type LocalTasks, localFunctionArn } from '../../src/local/asl-runner.js';

/** `work` answers with the item, the thread it ran in, and `data.tag`; an item `{ fail: true }` throws ItemBroken. */
export async function localTasks(data: unknown): Promise<LocalTasks> {
  const { tag } = data as { tag: string };
  return {
    functions: new Map([
      [
        localFunctionArn('work'),
        async (payload: unknown) => {
          if ((payload as { fail?: boolean }).fail) {
            const error = new Error('broken in a thread');
            error.name = 'ItemBroken';
            throw error;
          }
          return { payload, threadId, tag };
        },
      ],
    ]),
  };
}
