/**
 * The sources a contract can name (docs/sources.md), and the rules between their options (and
 * the record format) that the contract's JSON Schema does not express readably.
 */

/** A PostgreSQL table or query extracted incrementally by a watermark column (docs/sources.md). */
export interface PostgresSourceConfig {
  type: 'postgres';
  /** Environment variable holding a postgres:// connection string. */
  connection?: string;
  /** Secrets Manager secret holding a connection string or RDS-style JSON. */
  connection_secret?: string;
  table?: string;
  query?: string;
  watermark_column: string;
  batch_size: number;
  horizon_wait_seconds: number;
  lag_seconds: number;
  /** Deployed only: the VPC the database is reachable in; its dataset gets an ingest function there. */
  network?: DatabaseNetworkConfig;
}

/**
 * Where a database is reachable from, by the ids of its VPC, private subnets and security groups
 * (docs/sources.md, "In the database's VPC"). Local runs ignore it.
 */
export interface DatabaseNetworkConfig {
  vpc_id: string;
  /** Private subnets of the VPC from which the database is reachable; the function's ENIs go there. */
  subnet_ids: string[];
  /** The database's security groups: each lets the function's security group in on `port`. */
  security_group_ids: string[];
  port: number;
  /** When given, the stack creates the S3 gateway endpoint (on these route tables) and the Secrets Manager interface endpoint. */
  endpoints?: { route_table_ids: string[] };
}

/** A paged HTTP API pulled on a schedule (docs/sources.md). */
export interface HttpSourceConfig {
  type: 'http';
  url: string;
  params: Record<string, string>;
  headers: Record<string, string>;
  auth?: {
    type: 'bearer' | 'header' | 'basic' | 'query';
    header?: string;
    param?: string;
    secret?: string;
    env?: string;
  };
  paging:
    | { type: 'none' }
    | { type: 'cursor'; cursor_path: string; cursor_param: string }
    | { type: 'page'; page_param: string; start: number; size_param?: string; size?: number }
    | { type: 'link' };
  watermark?: { field: string; param?: string; initial?: string };
  max_pages: number;
  /** The largest page read, in bytes after any Content-Encoding is decoded (SourceRefused past it). */
  max_page_bytes: number;
  retries: number;
  retry_base_ms: number;
  retry_max_seconds: number;
  timeout_seconds: number;
}

/** Batches of files a partner drops into a folder per batch under its prefix (docs/sources.md). */
export interface PartnerDropSourceConfig {
  type: 'partner-drop';
  prefix: string;
  /** What completes a batch: a marker file, or a manifest listing each file's sha256. */
  complete_when: { marker?: string; manifest?: string };
  deadline_minutes: number;
  suffix?: string;
}

export type SourceConfig =
  | { type: 's3-upload'; prefix: string; suffix?: string }
  | PostgresSourceConfig
  | HttpSourceConfig
  | PartnerDropSourceConfig
  | StreamSourceConfig;

/** Records put on a Kinesis data stream, delivered by Firehose into raw by the hour of `time_field`. */
export interface StreamSourceConfig {
  type: 'stream';
  /** Record field (ISO 8601 text) whose date and hour partition the record in raw. */
  time_field: string;
  /** A partition is closed, and validated, this long after its hour ends. */
  close_after_minutes: number;
  /** How many days back a run looks for partitions holding objects not validated yet. */
  lookback_days: number;
  /** Kinesis shards; on-demand capacity when absent. */
  shards?: number;
  retention_hours: number;
  buffer_seconds: number;
  buffer_mb: number;
}

/** The record format of the raw objects, as the source rules need it. */
export interface RecordFormat {
  type: 'csv' | 'jsonl';
  /** JSON documents holding arrays of records (`format: { type: json }`), read as JSON Lines. */
  jsonDocuments: boolean;
}

/** One problem of a source: a JSON path inside the contract, and what was expected. */
export interface SourceProblem {
  path: string;
  message: string;
}

/** Source options that depend on each other, which the JSON Schema does not express readably. */
export function sourceProblems(
  source: SourceConfig,
  format: RecordFormat,
  schedule: string | null,
): SourceProblem[] {
  const problems: SourceProblem[] = [];
  if (source.type === 'postgres') {
    if ((source.table === undefined) === (source.query === undefined)) {
      problems.push({
        path: '/source',
        message: `a postgres source needs exactly one of 'table' and 'query'${source.table ? ', not both' : ''}`,
      });
    }
    if (source.connection === undefined && source.connection_secret === undefined) {
      problems.push({
        path: '/source',
        message: `a postgres source needs 'connection' (an environment variable name) or 'connection_secret' (a Secrets Manager secret)`,
      });
    }
    if (format.type !== 'jsonl') {
      problems.push({
        path: '/format/type',
        message: `a postgres source is extracted as JSON Lines; expected format { type: jsonl }, not '${format.type}'`,
      });
    }
  }
  if (source.type === 'http') problems.push(...httpSourceProblems(source, format));
  if (source.type === 'stream' && format.type !== 'jsonl') {
    problems.push({
      path: '/format/type',
      message: `a stream is delivered as JSON Lines (one record per line); expected format { type: jsonl }, not '${format.type}'`,
    });
  }
  if (source.type === 'stream' && !schedule) {
    problems.push({
      path: '/schedule',
      message: `a stream is validated in scheduled micro-batches; give a schedule, e.g. rate(15 minutes)`,
    });
  }
  if (source.type === 'partner-drop') {
    const { marker, manifest } = source.complete_when;
    if ((marker === undefined) === (manifest === undefined)) {
      problems.push({
        path: '/source/complete_when',
        message: `give exactly one of 'marker' (e.g. _SUCCESS) and 'manifest' (e.g. manifest.json, listing each file's sha256)`,
      });
    }
  }
  if (format.jsonDocuments && (source.type === 'postgres' || source.type === 'stream')) {
    problems.push({
      path: '/format/type',
      message: `format json (documents holding arrays of records) is read from uploads, partner drops and http sources; a ${source.type} source is jsonl`,
    });
  }
  return problems;
}

function httpSourceProblems(source: HttpSourceConfig, format: RecordFormat): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const { paging, auth } = source;
  if (paging.type === 'cursor' && (!paging.cursor_path || !paging.cursor_param)) {
    problems.push({ path: '/source/paging', message: `cursor paging needs cursor_path and cursor_param` });
  }
  if (paging.type === 'cursor' && !format.jsonDocuments) {
    problems.push({
      path: '/source/paging/type',
      message: `cursor paging reads the cursor from a JSON page; expected format { type: json }, not '${format.type}'`,
    });
  }
  if (paging.type === 'page' && !paging.page_param) {
    problems.push({ path: '/source/paging', message: `page paging needs page_param` });
  }
  if (source.watermark && format.type === 'csv') {
    problems.push({
      path: '/source/watermark',
      message: `a watermark is read from JSON or JSON Lines records; CSV pages are landed without being parsed`,
    });
  }
  if (auth) {
    if (!auth.secret && !auth.env) {
      problems.push({
        path: '/source/auth',
        message: `auth needs 'secret' (Secrets Manager) or 'env' (an environment variable)`,
      });
    }
    if (auth.type === 'header' && !auth.header) {
      problems.push({ path: '/source/auth', message: `auth type header needs 'header', the header's name` });
    }
    if (auth.type === 'query' && !auth.param) {
      problems.push({
        path: '/source/auth',
        message: `auth type query needs 'param', the query parameter's name`,
      });
    }
  }
  return problems;
}
