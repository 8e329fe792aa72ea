import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { PostgresSourceConfig } from '../../shared/contract.js';
import {
  ConfigurationError,
  isProgrammingError,
  SluiceError,
  SourceRefused,
  SourceUnavailable,
} from '../../shared/errors.js';
import type { ProgressListener } from '../../shared/progress.js';
import type { ExtractContext, Extraction, PulledSource } from '../pulled.js';
import type { IngestPorts } from '../types.js';
import { credential, type SecretReader } from './credentials.js';

/**
 * Incremental extraction from PostgreSQL by a watermark column, exactly once across runs.
 *
 * The high-water mark V of a run is fixed before the rows are read, and only where no transaction
 * still running could add a row at or below it:
 * - the column is a number from a sequence (an identity or serial id, sequence CACHE 1): V is the
 *   largest value committed when the run starts (t0). Every smaller value was handed out before t0,
 *   to a transaction that had started before t0;
 * - the column is a timestamp written from the database clock (`now()`, `clock_timestamp()`), or
 *   from clocks at most `lag_seconds` behind it: V is t0 minus that lag. A row stamped at or
 *   before V comes from a transaction that started before t0.
 * The run then waits until every transaction of this database that started before t0 has ended
 * (`pg_stat_activity.xact_start`, and prepared transactions), so each row at or below V is
 * committed or will never be. Only then does it open ONE snapshot (REPEATABLE READ, READ ONLY)
 * and stream `watermark > previous AND watermark <= V` through a server-side cursor. A row that
 * commits later lands above V and is read by the next run; none is read twice, because V only
 * moves by compare-and-swap (see `../pulled.ts`).
 *
 * The rows are written as JSON Lines to a temporary file while they are hashed, so memory stays
 * flat in the number of rows; the file is then landed in raw with one conditional PutObject,
 * which needs its length up front.
 */
export function postgresSource(
  config: PostgresSourceConfig,
  ports: Pick<IngestPorts, 'secrets' | 'env' | 'onProgress' | 'sleep'> & {
    /** Tells the time the wait for older transactions took. */
    clock?: () => Date;
  },
): PulledSource {
  const from = config.table
    ? `${quoteQualified(config.table)} AS sluice_source`
    : `(${config.query}) AS sluice_source`;
  const column = `sluice_source.${quoteIdent(config.watermark_column)}`;
  const where = config.table ? `table ${config.table}` : 'the contract query';
  return {
    type: 'postgres',
    incremental: true,
    describe: () => ({
      type: 'postgres',
      ...(config.table ? { table: config.table } : { query: config.query }),
      watermark_column: config.watermark_column,
    }),
    async extract(context: ExtractContext): Promise<Extraction> {
      const connectionString = await connectionOf(config, ports);
      const client = new pg.Client({
        connectionString,
        application_name: APPLICATION_NAME,
        connectionTimeoutMillis: 10_000,
        types: { getTypeParser: typeParser as never },
      });
      try {
        await client.connect();
      } catch (error) {
        throw sourceError(error, `cannot connect to PostgreSQL (${hostOf(connectionString)})`);
      }
      try {
        await client.query(`SET TIME ZONE 'UTC'`);
        const previous = context.watermark?.value;
        const horizon = await highWaterMark(client, from, column, config, where);
        if (horizon.high === undefined || (previous !== undefined && !isAbove(horizon, previous))) {
          return {
            files: [],
            records: 0,
            watermark: { column: config.watermark_column, kind: horizon.kind, value: previous },
            details: { horizon: horizon.t0, waitedMs: 0, note: 'no row above the watermark' },
          };
        }
        const waitedMs = await waitForOlderTransactions(
          client,
          horizon.t0,
          config.horizon_wait_seconds * 1000,
          ports,
        );

        const range = { from, column, previous, high: horizon.high };
        const { snapshot, file } = await readRange(client, range, config, context.dir, ports.onProgress);
        return {
          files: file.records > 0 ? [file] : [],
          records: file.records,
          watermark: { column: config.watermark_column, kind: horizon.kind, value: horizon.high },
          details: {
            snapshot,
            isolation: 'repeatable read, read only',
            horizon: horizon.t0,
            waitedMs,
            range: { above: previous ?? null, upTo: horizon.high },
          },
        };
      } catch (error) {
        // Only what the driver, the database or the network failed with is the source's error;
        // Sluice's own errors and programming errors go on as they are (see sourceError).
        if (error instanceof SluiceError) throw error;
        throw sourceError(error, `reading ${where} by ${config.watermark_column}`);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * The rows above the previous watermark up to the horizon, in one read-only snapshot, into the
 * extraction's file; and the snapshot they were read in.
 */
async function readRange(
  client: pg.Client,
  range: { from: string; column: string; previous?: string; high: string },
  config: PostgresSourceConfig,
  dir: string,
  onProgress: ProgressListener | undefined,
) {
  const { from, column, previous, high } = range;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const snapshot = (
      await client.query<{ snapshot: string }>('SELECT pg_current_snapshot()::text AS snapshot')
    ).rows[0]!.snapshot;
    const bounds = previous === undefined ? [high] : [previous, high];
    const text =
      `SELECT sluice_source.* FROM ${from} ` +
      `WHERE ${previous === undefined ? '' : `${column} > $1 AND `}${column} <= $${bounds.length} ORDER BY ${column}`;
    const file = await streamToFile(client, text, bounds, config.batch_size, dir, onProgress);
    await client.query('COMMIT');
    return { snapshot, file };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * How extraction sessions name themselves. Their transactions are read only, so other runs do not
 * wait for them (a long extraction would otherwise hold up every run that starts meanwhile).
 */
const APPLICATION_NAME = 'sluice-ingest';

interface Horizon {
  /** The high-water mark as text (a number, or an ISO timestamp); undefined when the relation is empty. */
  high?: string;
  kind: 'number' | 'timestamp';
  /** When the horizon was taken, by the database clock. */
  t0: string;
}

/** Whether the horizon lies above the previous watermark (it never moves back, e.g. after deletes). */
function isAbove(horizon: Horizon, previous: string): boolean {
  if (horizon.high === undefined) return false;
  if (horizon.kind === 'timestamp') return Date.parse(horizon.high) > Date.parse(previous);
  if (/^-?\d+$/.test(horizon.high) && /^-?\d+$/.test(previous))
    return BigInt(horizon.high) > BigInt(previous);
  return Number(horizon.high) > Number(previous);
}

async function highWaterMark(
  client: pg.Client,
  from: string,
  column: string,
  config: PostgresSourceConfig,
  where: string,
): Promise<Horizon> {
  // clock_timestamp() is read after the statement's snapshot was taken: every value counted in
  // max() was committed before t0.
  const { rows } = await client.query<{ high: string | null; type: string; t0: string }>(
    `SELECT max(${column})::text AS high, pg_typeof(max(${column}))::text AS type, ` +
      `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t0 FROM ${from}`,
  );
  const row = rows[0]!;
  if (['bigint', 'integer', 'smallint', 'numeric'].includes(row.type)) {
    return { high: row.high ?? undefined, kind: 'number', t0: row.t0 };
  }
  if (row.type === 'timestamp with time zone' || row.type === 'timestamp without time zone') {
    const high = new Date(Date.parse(row.t0) - config.lag_seconds * 1000).toISOString().replace('Z', '000Z');
    return { high, kind: 'timestamp', t0: row.t0 };
  }
  throw new SourceRefused(
    `watermark column '${config.watermark_column}' of ${where} has type ${row.type}; expected a number from a sequence ` +
      `(bigint, integer, numeric) or a timestamp, so that a high-water mark can be fixed safely`,
  );
}

/**
 * Waits until no transaction of this database that started at or before `t0` is still open. Sessions
 * of other roles are visible only with pg_read_all_stats; without it the wait cannot be trusted.
 */
async function waitForOlderTransactions(
  client: pg.Client,
  t0: string,
  limitMs: number,
  ports: { sleep?: (ms: number) => Promise<unknown>; clock?: () => Date },
): Promise<number> {
  const wait = ports.sleep ?? sleep;
  const now = () => (ports.clock ? ports.clock().getTime() : Date.now());
  const started = now();
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{
      pid: number | null;
      state: string | null;
      since: string | null;
      hidden: boolean;
    }>(
      `SELECT pid, state, xact_start::text AS since, state IS NULL AS hidden FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
           AND application_name IS DISTINCT FROM '${APPLICATION_NAME}'
           AND (state IS NULL OR xact_start <= $1::timestamptz)
       UNION ALL
       SELECT NULL, 'prepared', prepared::text, false FROM pg_prepared_xacts
         WHERE database = current_database() AND prepared <= $1::timestamptz`,
      [t0],
    );
    if (rows.some((row) => row.hidden)) {
      throw new ConfigurationError(
        `the PostgreSQL role cannot see the transactions of ${rows.filter((r) => r.hidden).length} session(s) of other roles; ` +
          `grant it pg_read_all_stats (GRANT pg_read_all_stats TO <role>) so that the high-water mark is fixed only when no older transaction can still commit below it`,
      );
    }
    if (rows.length === 0) return now() - started;
    if (now() - started > limitMs) {
      const open = rows
        .slice(0, 5)
        .map((r) =>
          r.pid === null
            ? `a prepared transaction since ${r.since}`
            : `pid ${r.pid} (${r.state}) since ${r.since}`,
        )
        .join(', ');
      throw new SourceUnavailable(
        `${rows.length} transaction(s) open since before ${t0} still running after ${Math.round(limitMs / 1000)} s: ${open}; ` +
          `they may still commit rows below the high-water mark, so none was fixed (horizon_wait_seconds)`,
      );
    }
    await wait(Math.min(250, 10 * 2 ** Math.min(attempt, 5)));
  }
}

/** Streams the query's rows through a server-side cursor into a JSON Lines file, hashing as it goes. */
async function streamToFile(
  client: pg.Client,
  text: string,
  values: string[],
  batchSize: number,
  dir: string,
  onProgress?: ProgressListener,
) {
  const path = join(dir, 'extract.jsonl');
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const hash = createHash('sha256');
  const cursor = client.query(new Cursor(text, values));
  let records = 0;
  let size = 0;
  try {
    for (;;) {
      const rows = await cursor.read(batchSize);
      if (rows.length === 0) break;
      let chunk = '';
      for (const row of rows) chunk += `${JSON.stringify(row)}\n`;
      const bytes = Buffer.from(chunk, 'utf8');
      hash.update(bytes);
      size += bytes.length;
      records += rows.length;
      if (!out.write(bytes)) await once(out, 'drain');
      onProgress?.({ rowsRead: records, bytesRead: size });
    }
  } finally {
    await cursor.close().catch(() => undefined);
    out.end();
    await once(out, 'close');
  }
  return {
    name: 'extract.jsonl',
    path,
    size,
    sha256: hash.digest('hex'),
    records,
    contentType: 'application/x-ndjson',
  };
}

const OID = { int8: 20, numeric: 1700, timestamp: 1114, timestamptz: 1184, bytea: 17 } as const;

/**
 * JSON values for PostgreSQL types: bigint and numeric as numbers when a double holds them
 * exactly (else as strings), timestamps as ISO 8601 text with their microseconds (UTC), bytea as
 * its hex text. Other types as node-postgres reads them.
 */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  switch (oid) {
    case OID.int8:
      return (value) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
    case OID.numeric:
      // Up to 15 significant digits survive a double exactly; 15 characters can hold no more.
      return (value) => (value.length <= 15 && value !== 'NaN' ? Number(value) : exactOrText(value));
    case OID.timestamp:
      return (value) => value.replace(' ', 'T');
    case OID.timestamptz:
      return (value) => value.replace(' ', 'T').replace(/\+00$/, 'Z');
    case OID.bytea:
      return (value) => value;
    default:
      return pg.types.getTypeParser(oid, format as 'text');
  }
}

function exactOrText(value: string): number | string {
  const digits = value.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

async function connectionOf(
  config: PostgresSourceConfig,
  ports: { secrets?: SecretReader; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const value = await credential(
    'postgres source',
    { variable: config.connection, secret: config.connection_secret },
    ports,
  );
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    // An RDS-style secret: { username, password, host, port, dbname }.
    const secret = JSON.parse(trimmed) as Record<string, string | number | undefined>;
    if (!secret.host || !secret.username) {
      throw new ConfigurationError(
        `secret '${config.connection_secret}' is JSON without host and username; expected a connection string or { host, port, username, password, dbname }`,
      );
    }
    const user = encodeURIComponent(String(secret.username));
    const password = secret.password === undefined ? '' : `:${encodeURIComponent(String(secret.password))}`;
    return `postgres://${user}${password}@${secret.host}:${secret.port ?? 5432}/${encodeURIComponent(String(secret.dbname ?? secret.database ?? 'postgres'))}`;
  }
  if (!/^postgres(ql)?:\/\//.test(trimmed)) {
    throw new ConfigurationError(
      `the postgres connection (${config.connection ? `$${config.connection}` : `secret '${config.connection_secret}'`}) is not a postgres:// connection string`,
    );
  }
  return trimmed;
}

/** SQLSTATE classes that will not pass by retrying: syntax and access rules, credentials, data. */
const REFUSED = /^(42|28|22|3D|3F)/;

/**
 * The error a failed connection or query is reported as: a refusal (SQL state classes that do not
 * pass by retrying) or `SourceUnavailable`, which the state machine retries. A programming error
 * (a TypeError in Sluice, in node-postgres or in a callback such as the progress listener) is
 * neither: it is returned as it is, and ingest reports it as an `InternalError`, not retried.
 */
function sourceError(error: unknown, what: string): Error {
  if (isProgrammingError(error)) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = `${what}: ${(error as Error).message}${code ? ` (${code})` : ''}`;
  if (REFUSED.test(code)) return new SourceRefused(message, { cause: error });
  return new SourceUnavailable(message, { cause: error });
}

function hostOf(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || 5432}${url.pathname}`;
  } catch {
    return 'connection string';
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteQualified(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}
