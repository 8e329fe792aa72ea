import type { Contract } from '../shared/contract.js';
import { lineagePrefix } from '../shared/keys.js';
import {
  dataQualityFacets,
  type LineageDataset,
  lakeDataset,
  QUARANTINE_RECORD_SCHEMA,
  type RecordSchema,
  type RunEventType,
  runEvent,
  schemaFacet,
  type ValidationReport,
  versionFacet,
} from '../shared/lineage.js';
import { emitRunEvent, type LineageSettings, type Undelivered } from '../shared/lineage-transport.js';
import type { ObjectStore } from '../shared/object-store.js';
import { readBatchKeys } from '../shared/raw-manifest.js';

/** What the lineage of a run is built from: the execution state, as the run's steps left it. */
export interface RunLineageFacts {
  dataset: string;
  runId: string;
  executionId?: string;
  /** When the execution started: it names the attempt's events in the reports zone. */
  startedAt: string;
  ingest?: { manifestKey?: string; size?: number; empty?: boolean };
  validation?: { rows: { read: number; quarantined: number }; reportKey: string };
  promotion?: { curatedKey: string };
  version?: { md5?: string; tag?: string; commit?: string };
  error?: { name: string; message: string };
}

export interface RunLineagePorts {
  store: ObjectStore;
  /** Without settings, events are written to the reports zone only. */
  lineage?: LineageSettings;
  contracts?: ReadonlyMap<string, Contract>;
  clock: () => Date;
  warn?: (message: string, details: Record<string, unknown>) => void;
}

/** What the run record keeps of a run's lineage: where its events are, and any a transport did not take. */
export interface RunLineageRecord {
  prefix: string;
  undelivered?: Undelivered[];
  /** Why the event that ends the run could not be emitted (the run is recorded all the same). */
  error?: string;
}

/** Emits the START event of a run whose batch is in raw: its inputs are the raw objects. */
export async function emitRunStart(facts: RunLineageFacts, ports: RunLineagePorts): Promise<Undelivered[]> {
  return emitStart(facts, ports, ports.clock());
}

/**
 * Emits the event that ends a run (COMPLETE, FAIL or ABORT) with its inputs' data-quality facets
 * and its outputs. A run that ended before its START was emitted (its ingest failed, or a pull
 * found nothing new) gets its START first, dated when the execution started, so that every run
 * has both.
 */
export async function emitRunEnd(
  eventType: Exclude<RunEventType, 'START'>,
  facts: RunLineageFacts,
  ports: RunLineagePorts,
): Promise<RunLineageRecord> {
  const prefix = lineagePrefix(facts.dataset, facts.runId, facts.startedAt);
  let undelivered: Undelivered[];
  if (await ports.store.head('reports', `${prefix}START.json`)) {
    const previous = await ports.store.head('reports', `${prefix}START.undelivered.json`);
    undelivered = previous
      ? (JSON.parse(
          await ports.store.readText('reports', `${prefix}START.undelivered.json`),
        ) as Undelivered[])
      : [];
  } else {
    undelivered = await emitStart(facts, ports, new Date(facts.startedAt));
  }
  const inputs = await inputsOf(facts, ports.store);
  const first = inputs[0];
  if (first && facts.validation) {
    const report = JSON.parse(
      await ports.store.readText('reports', facts.validation.reportKey),
    ) as ValidationReport;
    first.inputFacets = dataQualityFacets(report, {
      rowCount: facts.validation.rows.read,
      bytes: facts.ingest?.size ?? 0,
      fileCount: inputs.length,
    });
  }
  const event = runEvent({
    eventType,
    eventTime: ports.clock(),
    namespace: namespaceOf(ports),
    dataset: facts.dataset,
    runId: facts.runId,
    ...(facts.executionId ? { executionArn: facts.executionId } : {}),
    inputs,
    outputs: outputsOf(facts, ports),
    ...(facts.error ? { error: facts.error } : {}),
  });
  undelivered.push(...(await emitRunEvent(event, `${prefix}${eventType}.json`, transportPorts(ports))));
  return { prefix, ...(undelivered.length > 0 ? { undelivered } : {}) };
}

async function emitStart(
  facts: RunLineageFacts,
  ports: RunLineagePorts,
  eventTime: Date,
): Promise<Undelivered[]> {
  const prefix = lineagePrefix(facts.dataset, facts.runId, facts.startedAt);
  const event = runEvent({
    eventType: 'START',
    eventTime,
    namespace: namespaceOf(ports),
    dataset: facts.dataset,
    runId: facts.runId,
    ...(facts.executionId ? { executionArn: facts.executionId } : {}),
    inputs: await inputsOf(facts, ports.store),
  });
  const undelivered = await emitRunEvent(event, `${prefix}START.json`, transportPorts(ports));
  // Kept for the event that ends the run, which records every event a transport did not take.
  if (undelivered.length > 0) {
    await ports.store.put(
      'reports',
      `${prefix}START.undelivered.json`,
      JSON.stringify(undelivered, null, 2),
      {
        contentType: 'application/json',
      },
    );
  }
  return undelivered;
}

function namespaceOf(ports: RunLineagePorts): string {
  return ports.lineage?.namespace ?? 'sluice';
}

function transportPorts(ports: RunLineagePorts) {
  return {
    store: ports.store,
    transports: ports.lineage?.transports ?? [],
    ...(ports.warn ? { warn: ports.warn } : {}),
  };
}

/** The raw objects of the batch, as its manifest lists them; none before a batch landed. */
async function inputsOf(facts: RunLineageFacts, store: ObjectStore): Promise<LineageDataset[]> {
  const manifestKey = facts.ingest?.manifestKey;
  if (!manifestKey || facts.ingest?.empty) return [];
  const keys = await readBatchKeys(store, manifestKey);
  return keys.map((key) => lakeDataset(store, 'raw', key));
}

/**
 * The datasets a run wrote: the curated snapshot of the dataset (versioned by DVC when the
 * contract asks; otherwise its version is the run that last added to it) and the dataset's
 * quarantine, when rows went there.
 */
function outputsOf(facts: RunLineageFacts, ports: RunLineagePorts): LineageDataset[] {
  const outputs: LineageDataset[] = [];
  const schema = ports.contracts?.get(facts.dataset)?.schema as RecordSchema | undefined;
  if (facts.promotion) {
    const { md5, tag, commit } = facts.version ?? {};
    outputs.push({
      ...lakeDataset(ports.store, 'curated', `${facts.dataset}/`),
      facets: {
        ...(schema ? { schema: schemaFacet(schema) } : {}),
        version: md5
          ? versionFacet(md5, { ...(tag ? { tag } : {}), ...(commit ? { commit } : {}) })
          : versionFacet(facts.runId),
      },
    });
  }
  if (facts.validation && facts.validation.rows.quarantined > 0) {
    outputs.push({
      ...lakeDataset(ports.store, 'quarantine', `${facts.dataset}/`),
      facets: { schema: schemaFacet(QUARANTINE_RECORD_SCHEMA), version: versionFacet(facts.runId) },
    });
  }
  return outputs;
}
