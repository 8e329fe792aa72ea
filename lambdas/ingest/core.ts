import { createHash } from 'node:crypto';
import { type Contract, contractNamed } from '../shared/contract.js';
import { InternalError, isProgrammingError, ObjectNotFound, UnsupportedSource } from '../shared/errors.js';
import { dateOf, fileNameOf, manifestKey, type RunLocation, rawKey } from '../shared/keys.js';
import type { ObjectStore } from '../shared/object-store.js';
import { readRunRecord } from '../shared/run-record.js';
import { hashStream, recordLanding, writeRawOnce } from './landing.js';
import { ingestPartnerDrop, sweepPartnerDrops } from './partner-drop.js';
import { ingestPulled, type PulledSource } from './pulled.js';
import { httpSource } from './sources/http.js';
import { postgresSource } from './sources/postgres.js';
import { ingestStream } from './stream.js';
import type { IngestInput, IngestOutput, IngestPorts } from './types.js';

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

/** Objects up to this size are read once into memory; larger ones are read twice (hash, then copy). */
const IN_MEMORY_LIMIT = 64 * 1024 * 1024;

/**
 * Lands an uploaded object in the raw zone, byte for byte, with a conditional write.
 * The run id is derived from dataset, source key and content hash, so the same object arriving
 * twice maps to the same run: a no-op once that run has succeeded. Different bytes under an
 * existing raw key are refused with `RawObjectConflict`; raw is never overwritten.
 * Pulled, stream and partner sources are dispatched to their own paths. A programming error on any
 * path fails as `InternalError`, which the state machine does not retry.
 */
export async function ingest(input: IngestInput, ports: IngestPorts): Promise<IngestOutput> {
  try {
    return await ingestTrigger(input, ports);
  } catch (error) {
    // A bug must not pass for a failure of the source: named, and not retried by the state machine.
    if (isProgrammingError(error)) {
      throw InternalError.wrapping(error, `ingesting dataset '${input.dataset}' (${input.trigger.type})`);
    }
    throw error;
  }
}

async function ingestTrigger(input: IngestInput, ports: IngestPorts): Promise<IngestOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const { trigger } = input;
  const now = (ports.clock ?? (() => new Date()))();
  const pulled = trigger.type === 'schedule' ? pulledSource(contract, ports) : undefined;
  if (pulled && trigger.type === 'schedule') {
    return ingestPulled(input, contract, trigger, ports.store, pulled, now);
  }
  if (contract.source.type === 'stream' && trigger.type === 'schedule') {
    return ingestStream(input, contract, contract.source, trigger, ports.store, now);
  }
  if (contract.source.type === 'partner-drop') {
    if (trigger.type === 'schedule')
      return sweepPartnerDrops(input, contract, contract.source, ports.store, now);
    return ingestPartnerDrop(input, contract, contract.source, trigger, ports.store, now);
  }
  if (contract.source.type !== 's3-upload' || trigger.type !== 's3-upload') {
    throw new UnsupportedSource(
      `dataset '${contract.name}' has source type '${contract.source.type}' and was triggered by '${trigger.type}'; ` +
        `this version ingests 's3-upload' sources started by an Object Created event`,
    );
  }
  if (!trigger.key.startsWith(contract.source.prefix)) {
    throw new UnsupportedSource(
      `landing key '${trigger.key}' is not under dataset '${contract.name}' prefix '${contract.source.prefix}'`,
    );
  }
  const { store } = ports;
  const source = store.describe('landing', trigger.key);
  const head = await store.head('landing', trigger.key);
  if (!head) {
    throw new ObjectNotFound(`${source} does not exist: it was deleted or moved before it could be ingested`);
  }

  const { sha256, size, body } = await hashSource(store, trigger.key, head.size);
  const runId = runIdOf(contract.name, trigger.key, sha256);
  const previous = await readRunRecord(store, contract.name, runId);
  const dt =
    previous?.dt ?? dateOf(trigger.time ?? head.lastModified ?? (ports.clock ?? (() => new Date()))());
  const run: RunLocation = { dataset: contract.name, dt, runId };
  const rawObjectKey = rawKey(run, fileNameOf(trigger.key));
  const output = {
    runId,
    dt,
    rawKey: rawObjectKey,
    files: 1,
    manifestKey: manifestKey(run),
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
    from: `the bytes of ${source}`,
    metadata: { 'source-key': trigger.key },
  });

  const manifest: RawManifest = {
    dataset: contract.name,
    runId,
    source: {
      type: 's3-upload',
      key: trigger.key,
      bucket: trigger.bucket,
      etag: trigger.etag,
      versionId: trigger.versionId,
    },
    file: fileNameOf(trigger.key),
    sha256,
    size,
    receivedAt: trigger.time ?? head.lastModified?.toISOString() ?? new Date().toISOString(),
    executionId: input.executionId,
  };
  const landed: IngestOutput = { ...output, duplicate: !created, alreadyProcessed: false };
  await recordLanding(store, {
    dataset: contract.name,
    input,
    output: landed,
    manifest,
    previous,
    record: {
      source: { zone: 'landing', key: trigger.key, sha256, size },
      raw: { key: rawObjectKey, manifestKey: output.manifestKey },
    },
  });
  return landed;
}

/** The source a schedule pulls from, for the source types that are pulled. */
function pulledSource(contract: Contract, ports: IngestPorts): PulledSource | undefined {
  const { source } = contract;
  if (source.type === 'postgres') return postgresSource(source, ports);
  if (source.type === 'http') return httpSource(source, contract.format, ports);
  return undefined;
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
