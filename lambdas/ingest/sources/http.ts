import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FormatConfig, type HttpSourceConfig, isJsonDocuments } from '../../shared/contract.js';
import { MalformedInput, SourceRefused, SourceUnavailable } from '../../shared/errors.js';
import { FUNCTION_MEMORY_MB } from '../../shared/function-sizes.js';
import { valueAt } from '../../shared/json-path.js';
import type { Interval } from '../../shared/schedule.js';
import type { ExtractContext, ExtractedFile, Extraction, PulledSource } from '../pulled.js';
import type { IngestPorts } from '../types.js';
import { credential } from './credentials.js';

/**
 * Scheduled pulls of a paged HTTP API (JSON pages, JSON Lines or CSV). Each page is landed in raw as
 * received (`page-00001.json`, …); paging follows a cursor in the body, a page number, or the Link
 * header, up to `max_pages` pages per run. With a `watermark`, the largest value of a record field
 * is kept in the reports zone (compare-and-swap, as for postgres) and sent back as a query
 * parameter on the next run; a run that stops at the page limit keeps where it stopped, and the
 * next run continues from there. Requests that fail with 429, 5xx or a network error are retried
 * with exponential backoff, honouring Retry-After, then the run fails with `SourceUnavailable`,
 * which the state machine retries. A page is read as a stream and abandoned as soon as it passes
 * `max_page_bytes` (counted after any Content-Encoding is decoded), so that neither an oversized
 * page nor a compressed answer that expands without end can take the function's memory.
 */
export function httpSource(
  config: HttpSourceConfig,
  format: FormatConfig,
  ports: Pick<IngestPorts, 'secrets' | 'env' | 'fetch'> & { sleep?: (ms: number) => Promise<unknown> },
): PulledSource {
  const wait = ports.sleep ?? sleep;
  const request = ports.fetch ?? fetch;
  const extension = format.type === 'csv' ? 'csv' : isJsonDocuments(format) ? 'json' : 'jsonl';
  const contentType = { csv: 'text/csv', jsonl: 'application/x-ndjson', json: 'application/json' }[extension];
  const secretParam = config.auth?.type === 'query' ? config.auth.param : undefined;
  const shown = (url: URL) => redact(url, secretParam);
  return {
    type: 'http',
    incremental: config.watermark !== undefined,
    describe: () => ({ type: 'http', url: config.url, paging: config.paging.type }),
    async extract(context: ExtractContext): Promise<Extraction> {
      const token = config.auth
        ? await credential(
            `http source ${config.url}`,
            { variable: config.auth.env, secret: config.auth.secret },
            ports,
          )
        : undefined;
      const headers = requestHeaders(config, extension, token);
      const state = context.watermark;
      let url = state?.cursor
        ? new URL(state.cursor)
        : firstUrl(config, context.interval, state?.value ?? config.watermark?.initial);
      if (secretParam && token !== undefined) url.searchParams.set(secretParam, token);
      const startedAt = shown(url);

      const files: ExtractedFile[] = [];
      let high = state?.value;
      let records = 0;
      let retries = 0;
      let next: URL | undefined;
      for (let number = 1; ; number++) {
        const response = await fetchWithRetry(url, headers, config, wait, shown, request);
        retries += response.retries;
        const page = readPage(response.body, format, `${shown(url)} (page ${number})`);
        next = nextUrl(config, url, response, page, number);
        if (page.records.length > 0 || (extension === 'csv' && page.count > 0)) {
          const name = `page-${String(files.length + 1).padStart(5, '0')}.${extension}`;
          files.push(await writePage(join(context.dir, name), name, response.body, page.count, contentType));
          records += page.count;
          if (config.watermark) high = highest(high, page.records, config.watermark.field);
        }
        if (!next) break;
        if (number >= config.max_pages) {
          if (!config.watermark) {
            throw new SourceRefused(
              `${startedAt} has more than max_pages (${config.max_pages}) pages; raise max_pages, or give the source a watermark so that a run continues where the last one stopped`,
            );
          }
          break;
        }
        url = next;
      }
      return {
        files,
        records,
        watermark: config.watermark && {
          column: config.watermark.field,
          kind: 'text',
          value: high,
          // Where the next run continues, when this one stopped at the page limit; cleared otherwise.
          // Never with a credential in it: that is added again when the request is made.
          cursor: next && withoutParam(next, secretParam),
        },
        details: { url: startedAt, pages: files.length, retries, stoppedAtPageLimit: next !== undefined },
      };
    },
  };
}

/** The request headers: what the format accepts, the source's own, and the credential where `auth` puts it. */
function requestHeaders(
  config: HttpSourceConfig,
  extension: string,
  token: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { accept: acceptOf(extension), ...config.headers };
  if (config.auth && token !== undefined) {
    if (config.auth.type === 'bearer') headers.authorization = `Bearer ${token}`;
    if (config.auth.type === 'basic')
      headers.authorization = `Basic ${Buffer.from(token).toString('base64')}`;
    if (config.auth.type === 'header') headers[config.auth.header!.toLowerCase()] = token;
  }
  return headers;
}

/** A page with records, as received, in the extraction's directory. */
async function writePage(
  path: string,
  name: string,
  body: Buffer,
  records: number,
  contentType: string | undefined,
): Promise<ExtractedFile> {
  await writeFile(path, body);
  return {
    name,
    path,
    size: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
    records,
    contentType,
  };
}

function acceptOf(extension: string): string {
  if (extension === 'csv') return 'text/csv';
  if (extension === 'jsonl') return 'application/x-ndjson, application/json';
  return 'application/json';
}

/** The first request of a run: `{watermark}`, `{interval.start}` and `{interval.end}` filled in. */
export function firstUrl(config: HttpSourceConfig, interval: Interval, watermark: string | undefined): URL {
  const fill = (template: string) =>
    template
      .replaceAll('{interval.start}', interval.start)
      .replaceAll('{interval.end}', interval.end)
      .replaceAll('{watermark}', watermark ?? '');
  const url = new URL(fill(config.url));
  for (const [name, template] of Object.entries(config.params)) {
    // A parameter that carries the watermark is left out until there is one.
    if (template.includes('{watermark}') && watermark === undefined) continue;
    url.searchParams.set(name, fill(template));
  }
  if (config.watermark?.param && watermark !== undefined)
    url.searchParams.set(config.watermark.param, watermark);
  if (config.paging.type === 'page') {
    url.searchParams.set(config.paging.page_param, String(config.paging.start));
    if (config.paging.size_param && config.paging.size) {
      url.searchParams.set(config.paging.size_param, String(config.paging.size));
    }
  }
  return url;
}

interface Page {
  /** Parsed records (JSON, JSON Lines); empty for CSV, which is not parsed here. */
  records: unknown[];
  /** Records on the page (CSV: lines after the header). */
  count: number;
  body?: unknown;
}

function readPage(body: Buffer, format: FormatConfig, where: string): Page {
  const text = body.toString('utf8');
  if (format.type === 'csv') {
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    return { records: [], count: Math.max(0, lines.length - 1) };
  }
  if (!isJsonDocuments(format)) {
    const records = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => parseJson(line, `${where}, line ${i + 1}`));
    return { records, count: records.length };
  }
  const parsed = parseJson(text, where);
  const path = format.documents.records_path;
  const records = valueAt(parsed, path);
  if (!Array.isArray(records)) {
    throw new MalformedInput(
      `${where}: expected an array of records at ${path ? `'${path}'` : 'the top level'}, found ${records === undefined ? 'nothing' : typeof records}`,
    );
  }
  return { records, count: records.length, body: parsed };
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedInput(`${where}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function nextUrl(
  config: HttpSourceConfig,
  url: URL,
  response: Fetched,
  page: Page,
  number: number,
): URL | undefined {
  const paging = config.paging;
  switch (paging.type) {
    case 'none':
      return undefined;
    case 'cursor': {
      const cursor = valueAt(page.body, paging.cursor_path);
      if (cursor === undefined || cursor === null || cursor === '' || page.count === 0) return undefined;
      const next = new URL(url);
      next.searchParams.set(paging.cursor_param, String(cursor));
      return next;
    }
    case 'page': {
      if (page.count === 0 || (paging.size !== undefined && page.count < paging.size)) return undefined;
      const next = new URL(url);
      next.searchParams.set(paging.page_param, String(paging.start + number));
      return next;
    }
    case 'link': {
      const link = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(response.headers.get('link') ?? '');
      return link ? new URL(link[1]!, url) : undefined;
    }
  }
}

/** The larger of the watermark so far and the field's values on a page. */
function highest(current: string | undefined, records: unknown[], field: string): string | undefined {
  let high = current;
  for (const record of records) {
    const value = valueAt(record, field);
    if (value === undefined || value === null) continue;
    const text = String(value);
    if (high === undefined || compareWatermarks(text, high) > 0) high = text;
  }
  return high;
}

/** Numbers compare as numbers, timestamps as times, anything else as text. */
export function compareWatermarks(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
  retries: number;
}

const RETRIED = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * One GET with retries: network errors, timeouts, 408, 425, 429 and 5xx are retried `retries`
 * times with exponential backoff and full jitter, or after Retry-After when the server sends it
 * (seconds or an HTTP date), as long as that is within `retry_max_seconds`. Then
 * `SourceUnavailable`. Other 4xx fail at once with `SourceRefused`, and so does a 2xx page past
 * `max_page_bytes` (it would be as large on a retry). Any other error (a bug, here or in a
 * caller's `fetch`) is not a network error: it is thrown as it is, at the first attempt.
 */
export async function fetchWithRetry(
  url: URL,
  headers: Record<string, string>,
  config: Pick<
    HttpSourceConfig,
    'retries' | 'retry_base_ms' | 'retry_max_seconds' | 'timeout_seconds' | 'max_page_bytes'
  >,
  wait: (ms: number) => Promise<unknown>,
  shown: (url: URL) => string,
  request: typeof fetch = fetch,
): Promise<Fetched> {
  let last = '';
  for (let attempt = 0; attempt <= config.retries; attempt++) {
    let delay = Math.random() * config.retry_base_ms * 2 ** attempt;
    let answer: { response: Response; read: Read };
    try {
      const response = await request(url, {
        headers,
        redirect: 'follow',
        signal: AbortSignal.timeout(config.timeout_seconds * 1000),
      });
      // Of an error answer only the start is shown, so only the start is read.
      answer = {
        response,
        read: await readAtMost(response.body, response.ok ? config.max_page_bytes : ERROR_SNIPPET_BYTES),
      };
    } catch (error) {
      last = networkFailure(error, config.timeout_seconds);
      if (attempt < config.retries) await wait(Math.min(delay, config.retry_max_seconds * 1000));
      continue;
    }
    const { response, read } = answer;
    if (response.ok) {
      if (read.abandoned) throw pageTooLarge(shown(url), response, read.bytesRead, config.max_page_bytes);
      return { status: response.status, headers: response.headers, body: bodyOf(read), retries: attempt };
    }
    const snippet = bodyOf(read).toString('utf8', 0, 200).replace(/\s+/g, ' ').trim();
    last = `HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`;
    if (!RETRIED.has(response.status)) {
      throw new SourceRefused(
        `GET ${shown(url)} answered ${last}; expected 2xx (${response.status === 401 || response.status === 403 ? 'check the credentials' : 'check the URL and parameters'})`,
      );
    }
    const after = retryAfterMs(response.headers.get('retry-after'));
    if (after !== undefined) {
      if (after > config.retry_max_seconds * 1000) {
        throw new SourceUnavailable(
          `GET ${shown(url)} answered ${last} and asked to retry after ${Math.round(after / 1000)} s, longer than retry_max_seconds (${config.retry_max_seconds}); the run is retried later`,
        );
      }
      delay = after;
    }
    if (attempt < config.retries) await wait(Math.min(delay, config.retry_max_seconds * 1000));
  }
  throw new SourceUnavailable(
    `GET ${shown(url)} failed ${config.retries + 1} times, last with ${last}; expected 2xx. The run is retried later.`,
  );
}

interface Read {
  /** The body as received, or its first `limit` bytes when it was abandoned; joined by `bodyOf`. */
  chunks: Uint8Array[];
  /** Bytes in `chunks`. */
  bytesKept: number;
  /** Bytes received before the body ended or was abandoned. */
  bytesRead: number;
  /** Whether the body went on past the limit and was cancelled there. */
  abandoned: boolean;
}

/** Bytes read of an error answer: enough for the 200 characters its message shows. */
const ERROR_SNIPPET_BYTES = 1024;

/**
 * A body read as a stream up to `limit` bytes, as `fetch` decodes them (gzip, br, deflate). A
 * body that goes on past the limit is cancelled there: `abandoned`, with the bytes read so far
 * and the first `limit` kept. Memory stays within the limit whatever the server sends, however
 * little it sent on the wire. The chunks are not joined here, so that a page that is refused is
 * never copied.
 */
export async function readAtMost(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Read> {
  const chunks: Uint8Array[] = [];
  if (!stream) return { chunks, bytesKept: 0, bytesRead: 0, abandoned: false };
  const reader = stream.getReader();
  let bytesKept = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { chunks, bytesKept, bytesRead: bytesKept, abandoned: false };
    if (bytesKept + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - bytesKept));
      // The rest of the answer is not wanted; a failure to close it changes nothing here.
      await reader.cancel().catch(() => undefined);
      return { chunks, bytesKept: limit, bytesRead: bytesKept + value.byteLength, abandoned: true };
    }
    chunks.push(value);
    bytesKept += value.byteLength;
  }
}

/** The bytes a read kept, as one buffer. */
export function bodyOf(read: Read): Buffer {
  return Buffer.concat(read.chunks, read.bytesKept);
}

/** A page past `max_page_bytes`: the source must send smaller pages, or the contract allow larger ones. */
function pageTooLarge(where: string, response: Response, bytesRead: number, limit: number): SourceRefused {
  const encoding = response.headers.get('content-encoding');
  return new SourceRefused(
    `GET ${where} answered a page larger than max_page_bytes (${limit} bytes): ` +
      `${bytesRead} bytes were read${encoding ? ` (decoded from Content-Encoding ${encoding})` : ''} before the page was abandoned. ` +
      `Ask the API for smaller pages (a page size parameter), or raise source.max_page_bytes in the contract; ` +
      `a page is held in memory whole, a few times over, and the ingest function has ${FUNCTION_MEMORY_MB.ingest} MB.`,
  );
}

/**
 * What a failed request says, when it failed on the network: a timeout or abort, or fetch's
 * `TypeError` that carries the socket or DNS error as its `cause` ("fetch failed", "terminated").
 * Anything else is rethrown: a TypeError without a cause is a bug, not the network.
 */
function networkFailure(error: unknown, timeoutSeconds: number): string {
  const { name, message, cause } = (error ?? {}) as Error & { cause?: { code?: string; message?: string } };
  if (name === 'TimeoutError') return `no answer within ${timeoutSeconds} s`;
  if (name === 'AbortError') return `the request was aborted: ${message}`;
  if (error instanceof TypeError && cause !== undefined) {
    const detail = cause.code ?? cause.message;
    return `${message}${detail ? ` (${detail})` : ''}`;
  }
  throw error;
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function redact(url: URL, secretParam: string | undefined): string {
  if (!secretParam || !url.searchParams.has(secretParam)) return url.toString();
  const copy = new URL(url);
  copy.searchParams.set(secretParam, '***');
  return copy.toString();
}

function withoutParam(url: URL, param: string | undefined): string {
  if (!param) return url.toString();
  const copy = new URL(url);
  copy.searchParams.delete(param);
  return copy.toString();
}
