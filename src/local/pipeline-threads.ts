/**
 * The pipeline's functions in a worker thread of a local Distributed Map (ValidateShards,
 * CheckKeyPartitions): the thread cannot be handed the main thread's store and contracts, so it
 * opens the same lake from a description of it and takes a copy of the contracts, once, when it
 * starts.
 */
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import type { Contract } from '../../lambdas/shared/contract.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import type { ObjectStore, Zone } from '../../lambdas/shared/object-store.js';
import { S3ObjectStore } from '../../lambdas/shared/s3-object-store.js';
import { type LocalTasks, localFunctionArn, type ThreadedChildren } from './asl-runner.js';
import { coreFunctions, PIPELINE_FUNCTIONS } from './pipeline.js';

/** A lake as a thread can open it again: a directory, or zone buckets on an S3 API. */
export type LakeSpec =
  | { type: 'directory'; root: string }
  | { type: 's3'; endpoint: string; region: string; buckets: Readonly<Record<Zone, string>> };

interface ThreadData {
  lake: LakeSpec;
  contracts: ReadonlyMap<string, Contract>;
}

/** Runs the shards of a local run in worker threads that open `lake` and use `contracts`. */
export function pipelineThreads(lake: LakeSpec, contracts: ReadonlyMap<string, Contract>): ThreadedChildren {
  return {
    module: fileURLToPath(import.meta.url),
    data: { lake, contracts: new Map(contracts) } satisfies ThreadData,
  };
}

/** Called in each worker thread (distributed-map-thread.ts): the pipeline's functions over the described lake. */
export async function localTasks(data: unknown): Promise<LocalTasks> {
  const { lake, contracts } = data as ThreadData;
  const functions = coreFunctions({ store: openStore(lake), contracts });
  return {
    functions: new Map(
      Object.values(PIPELINE_FUNCTIONS).map((id) => [localFunctionArn(id), functions[id]] as const),
    ),
  };
}

function openStore(lake: LakeSpec): ObjectStore {
  if (lake.type === 'directory') return new FsObjectStore(lake.root);
  const s3 = new S3Client({
    endpoint: lake.endpoint,
    forcePathStyle: true,
    region: lake.region,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'sluice-local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'sluice-local',
    },
  });
  return new S3ObjectStore(s3, lake.buckets);
}
