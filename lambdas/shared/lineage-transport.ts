import { appendFile } from 'node:fs/promises';
import { ConfigurationError } from './errors.js';
import type { RunEvent } from './lineage.js';
import type { ObjectStore } from './object-store.js';

/** Where events go besides the reports zone: a lineage server over HTTP, the console, or a file. */
export interface LineageTransport {
  /** For messages and the run record: the URL, `console` or the file. */
  readonly target: string;
  send(event: RunEvent): Promise<void>;
}

/** What a run does with its events: the reports zone always, then each transport. */
export interface LineageSettings {
  /** The namespace of Sluice's jobs on the lineage server. */
  namespace: string;
  transports: readonly LineageTransport[];
}

/** An event a transport did not take: kept in the run record and logged, never a failed run. */
export interface Undelivered {
  eventType: string;
  target: string;
  error: string;
}

/** How long an HTTP transport waits for the lineage server, unless `SLUICE_OPENLINEAGE_TIMEOUT_MS` says. */
export const DEFAULT_LINEAGE_TIMEOUT_MS = 5_000;

export const DEFAULT_LINEAGE_NAMESPACE = 'sluice';

/**
 * POSTs each event as JSON to an OpenLineage HTTP endpoint (Marquez: `/api/v1/lineage`), with
 * `Authorization: Bearer <key>` when an API key is given, as OpenLineage's own clients send it.
 */
export function httpTransport(options: {
  url: string;
  apiKey?: () => Promise<string | undefined>;
  timeoutMs?: number;
}): LineageTransport {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LINEAGE_TIMEOUT_MS;
  return {
    target: options.url,
    async send(event) {
      const key = await options.apiKey?.();
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        const body = (await response.text()).slice(0, 300);
        throw new Error(`HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`);
      }
    },
  };
}

/** Writes each event as one JSON line (in a Lambda, to its log). */
export function consoleTransport(
  write: (line: string) => void = (line) => console.log(line),
): LineageTransport {
  return {
    target: 'console',
    async send(event) {
      write(JSON.stringify(event));
    },
  };
}

/** Appends each event as one JSON line to a file, as OpenLineage's file transport does. */
export function fileTransport(path: string): LineageTransport {
  return {
    target: `file:${path}`,
    async send(event) {
      await appendFile(path, `${JSON.stringify(event)}\n`);
    },
  };
}

/**
 * The lineage settings of the environment, read once: `SLUICE_OPENLINEAGE_URL` is an http(s) URL,
 * `console` or `file:<path>` (unset: events go to the reports zone only);
 * `SLUICE_OPENLINEAGE_API_KEY` (or, deployed, the key from the Secrets Manager secret
 * `SLUICE_OPENLINEAGE_API_KEY_SECRET`, through `secret`); `SLUICE_OPENLINEAGE_TIMEOUT_MS`;
 * `SLUICE_OPENLINEAGE_NAMESPACE` (default `sluice`).
 */
export function lineageFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  ports: {
    /** Reads a Secrets Manager secret's value. */
    secret?: (secretId: string) => Promise<string>;
    /** Where the console transport writes; standard output by default. */
    write?: (line: string) => void;
  } = {},
): LineageSettings {
  const { secret } = ports;
  const namespace = env.SLUICE_OPENLINEAGE_NAMESPACE || DEFAULT_LINEAGE_NAMESPACE;
  const target = env.SLUICE_OPENLINEAGE_URL?.trim();
  if (!target) return { namespace, transports: [] };
  if (target === 'console') return { namespace, transports: [consoleTransport(ports.write)] };
  if (target.startsWith('file:')) {
    const path = target.startsWith('file://') ? new URL(target).pathname : target.slice('file:'.length);
    if (!path) throw new ConfigurationError(`SLUICE_OPENLINEAGE_URL '${target}': expected file:<path>`);
    return { namespace, transports: [fileTransport(path)] };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(
      `SLUICE_OPENLINEAGE_URL '${target}': expected an http(s) URL (Marquez: http://host:5000/api/v1/lineage), 'console' or 'file:<path>'`,
    );
  }
  const timeoutMs = timeoutOf(env.SLUICE_OPENLINEAGE_TIMEOUT_MS);
  const secretId = env.SLUICE_OPENLINEAGE_API_KEY_SECRET;
  const apiKey = env.SLUICE_OPENLINEAGE_API_KEY
    ? async () => env.SLUICE_OPENLINEAGE_API_KEY
    : secretId && secret
      ? cached(() => secret(secretId))
      : undefined;
  return {
    namespace,
    transports: [httpTransport({ url: url.href, timeoutMs, ...(apiKey ? { apiKey } : {}) })],
  };
}

function timeoutOf(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LINEAGE_TIMEOUT_MS;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) {
    throw new ConfigurationError(
      `SLUICE_OPENLINEAGE_TIMEOUT_MS '${value}': expected a whole number of milliseconds`,
    );
  }
  return ms;
}

/** One read of the secret per container; a failed read is tried again at the next event. */
function cached(read: () => Promise<string>): () => Promise<string> {
  let value: Promise<string> | undefined;
  return () => {
    value ??= read().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

/**
 * Emits one event: writes it to the reports zone under `key` (where it always is, whatever the
 * transports do), then hands it to each transport. A transport that fails (server down, timeout,
 * an error status) does not fail the run: what it did not take is returned, for the run record,
 * and told to `warn`. A failure to write the reports zone is the lake's failure and is thrown.
 */
export async function emitRunEvent(
  event: RunEvent,
  key: string,
  ports: {
    store: ObjectStore;
    transports: readonly LineageTransport[];
    warn?: (message: string, details: Record<string, unknown>) => void;
  },
): Promise<Undelivered[]> {
  await ports.store.put('reports', key, JSON.stringify(event, null, 2), { contentType: 'application/json' });
  const undelivered: Undelivered[] = [];
  for (const transport of ports.transports) {
    try {
      await transport.send(event);
    } catch (error) {
      // Duck-typed: an error made in another realm (fetch's, in a test VM) is no instanceof Error here.
      const message =
        typeof (error as Error | undefined)?.message === 'string'
          ? describeFailure(error as Error)
          : String(error);
      undelivered.push({ eventType: event.eventType, target: transport.target, error: message });
      ports.warn?.(`OpenLineage ${event.eventType} event not delivered to ${transport.target}: ${message}`, {
        key,
        target: transport.target,
      });
    }
  }
  return undelivered;
}

/**
 * fetch reports a refused connection or a DNS failure as a TypeError "fetch failed" whose cause
 * holds the reason; a timeout as a TimeoutError.
 */
function describeFailure(error: Error): string {
  const reason = (error.cause as { message?: unknown } | undefined)?.message;
  const cause = typeof reason === 'string' ? `: ${reason}` : '';
  return `${error.name === 'Error' || error.name === 'TypeError' ? '' : `${error.name}: `}${error.message}${cause}`;
}
