import { createHash } from 'node:crypto';
import type { SourceConfig } from '../shared/contract.js';
import { ObjectNotFound, UnsupportedSource } from '../shared/errors.js';
import { dateOf, fileNameOf, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { readRunRecord } from '../shared/run-record.js';
import { hashStream, recordLanding, writeRawOnce } from './landing.js';
import type { IngestOutput, S3UploadTrigger, SourceRun } from './types.js';

/** The manifest written beside the raw bytes. */
export interface RawManifest {
  dataset: string;
  runId: string;
  source: { type: 's3-upload'; key: string; bucket?: string; etag?: string; versionId?: string };
  file: string;
  sha256: string;
  size: number;
  receivedAt: string;
  executionId?: string;
}

type S3UploadSourceConfig = Extract<SourceConfig, { type: 's3-upload' }>;

/** Objects up to this size are read once into memory; larger ones are read twice (hash, then copy). */
const IN_MEMORY_LIMIT = 64 * 1024 * 1024;

/**
 * Lands an uploaded object in the raw zone, byte for byte, with a conditional write.
 * The run id is derived from dataset, source key and content hash, so the same object arriving
 * twice maps to the same run: a no-op once that run has succeeded. Different bytes under an
 * existing raw key are refused with `RawObjectConflict`; raw is never overwritten.
 */
export async function ingestS3Upload(
  run: SourceRun<S3UploadSourceConfig, S3UploadTrigger>,
): Promise<IngestOutput> {
  const { input, trigger, contract, source, store, now } = run;
  if (!trigger.key.startsWith(source.prefix)) {
    throw new UnsupportedSource(
      `landing key '${trigger.key}' is not under dataset '${contract.name}' prefix '${source.prefix}'`,
    );
  }
  const described = store.describe('landing', trigger.key);
  const head = await store.head('landing', trigger.key);
  if (!head) {
    throw new ObjectNotFound(
      `${described} does not exist: it was deleted or moved before it could be ingested`,
    );
  }

  const { sha256, size, body } = await hashSource(store, trigger.key, head.size);
  const runId = runIdOf(contract.name, trigger.key, sha256);
  const previous = await readRunRecord(store, contract.name, runId);
  const dt = previous?.dt ?? dateOf(trigger.time ?? head.lastModified ?? now);
  const location: RunLocation = { dataset: contract.name, dt, runId };
  const rawObjectKey = rawKey(location, fileNameOf(trigger.key));
  const output = {
    runId,
    dt,
    rawKey: rawObjectKey,
    files: 1,
    manifestKey: manifestKey(location),
    sha256,
    size,
    empty: false,
    waiting: false,
    waitingFor: '',
  };

  if (previous?.status === 'SUCCEEDED') {
    return { ...output, duplicate: true, alreadyProcessed: true };
  }

  const created = await writeRawOnce(store, {
    key: rawObjectKey,
    body: body ?? { stream: await store.read('landing', trigger.key), length: size },
    sha256,
    from: `the bytes of ${described}`,
    metadata: { 'source-key': trigger.key },
  });
  const landed: IngestOutput = { ...output, duplicate: !created, alreadyProcessed: false };
  await recordLanding(store, {
    dataset: contract.name,
    input,
    output: landed,
    manifest: manifestOf(run, landed, head.lastModified),
    previous,
    record: {
      source: { zone: 'landing', key: trigger.key, sha256, size },
      raw: { key: rawObjectKey, manifestKey: output.manifestKey },
    },
  });
  return landed;
}

function manifestOf(
  { input, trigger, contract }: SourceRun<S3UploadSourceConfig, S3UploadTrigger>,
  output: IngestOutput,
  lastModified: Date | undefined,
): RawManifest {
  return {
    dataset: contract.name,
    runId: output.runId,
    source: {
      type: 's3-upload',
      key: trigger.key,
      bucket: trigger.bucket,
      etag: trigger.etag,
      versionId: trigger.versionId,
    },
    file: fileNameOf(trigger.key),
    sha256: output.sha256,
    size: output.size,
    receivedAt: trigger.time ?? lastModified?.toISOString() ?? new Date().toISOString(),
    executionId: input.executionId,
  };
}

/** Same dataset, source key and bytes give the same run id. */
export function runIdOf(dataset: string, sourceKey: string, sha256: string): string {
  return createHash('sha256').update(`${dataset}\n${sourceKey}\n${sha256}`).digest('hex').slice(0, 16);
}

async function hashSource(
  store: ObjectStore,
  key: string,
  expectedSize: number,
): Promise<{ sha256: string; size: number; body?: Buffer }> {
  const stream = await store.read('landing', key);
  if (expectedSize <= IN_MEMORY_LIMIT) {
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    return { sha256: createHash('sha256').update(body).digest('hex'), size: body.length, body };
  }
  return hashStream(stream);
}
