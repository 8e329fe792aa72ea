import {
  type Contract,
  contractNamed,
  type HttpSourceConfig,
  type PostgresSourceConfig,
  type SourceConfig,
} from '../shared/contract.js';
import { InternalError, isProgrammingError, UnsupportedSource } from '../shared/errors.js';
import { validatesInShards } from '../shared/shard-size.js';
import { ingestPartnerDrop, sweepPartnerDrops } from './partner-drop.js';
import { ingestPulled, type PulledSource } from './pulled.js';
import { ingestS3Upload } from './s3-upload.js';
import { httpSource } from './sources/http.js';
import { postgresSource } from './sources/postgres.js';
import { ingestStream } from './stream.js';
import type { IngestInput, IngestOutput, IngestPorts } from './types.js';

/** What starts a run of each source type, for the message that refuses any other trigger. */
const STARTED_BY: Record<SourceConfig['type'], string> = {
  's3-upload': "an Object Created event ('s3-upload')",
  'partner-drop': "an Object Created event ('partner-drop' or 's3-upload') or a schedule",
  postgres: "a schedule ('schedule')",
  http: "a schedule ('schedule')",
  stream: "a schedule ('schedule')",
};

/**
 * Ingests one run of a dataset: the path of its source type (s3-upload.ts, partner-drop.ts,
 * pulled.ts with sources/, stream.ts) lands the data in raw and records the run. A programming
 * error on any path fails as `InternalError`, which the state machine does not retry.
 */
export async function ingest(input: IngestInput, ports: IngestPorts): Promise<IngestOutput> {
  try {
    const output = await dispatch(input, ports);
    const contract = contractNamed(ports.contracts, input.dataset);
    return { ...output, shard: validatesInShards(contract, output) };
  } catch (error) {
    // A bug must not pass for a failure of the source: named, and not retried by the state machine.
    if (isProgrammingError(error)) {
      throw InternalError.wrapping(error, `ingesting dataset '${input.dataset}' (${input.trigger.type})`);
    }
    throw error;
  }
}

/** The ingest path of the dataset's source type, for a trigger that type is started by. */
async function dispatch(input: IngestInput, ports: IngestPorts): Promise<IngestOutput> {
  const contract = contractNamed(ports.contracts, input.dataset);
  const { trigger } = input;
  const { source } = contract;
  const { store } = ports;
  const now = (ports.clock ?? (() => new Date()))();
  switch (source.type) {
    case 's3-upload':
      if (trigger.type === 's3-upload') {
        return ingestS3Upload({ input, trigger, contract, source, store, now });
      }
      break;
    case 'partner-drop':
      if (trigger.type === 'schedule') {
        return sweepPartnerDrops({ input, trigger, contract, source, store, now });
      }
      return ingestPartnerDrop({ input, trigger, contract, source, store, now });
    case 'stream':
      if (trigger.type === 'schedule') return ingestStream({ input, trigger, contract, source, store, now });
      break;
    case 'postgres':
    case 'http':
      if (trigger.type === 'schedule') {
        const pulled = pulledSource(source, contract, ports);
        return ingestPulled({ input, trigger, contract, source: pulled, store, now });
      }
      break;
  }
  throw new UnsupportedSource(
    `dataset '${contract.name}' has source type '${source.type}' and was triggered by '${trigger.type}'; ` +
      `a '${source.type}' source is started by ${STARTED_BY[source.type]}`,
  );
}

/** The source a schedule pulls from. */
function pulledSource(
  source: PostgresSourceConfig | HttpSourceConfig,
  contract: Contract,
  ports: IngestPorts,
): PulledSource {
  return source.type === 'postgres'
    ? postgresSource(source, ports)
    : httpSource(source, contract.format, ports);
}
