import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  Body,
  ByteRange,
  ObjectStore,
  PutOptions,
  SizedStream,
  Zone,
} from '../../lambdas/shared/object-store.js';

// Fault injection for local runs, on both lake kinds: an ObjectStore that fails chosen calls (the
// lake directory), and an HTTP proxy in front of an S3 API that answers errors for chosen requests
// or drops the connection mid-upload. Plus what a killed `sluice run` and a failing `git push` need.

const root = join(import.meta.dirname, '..', '..');
export const sluiceBin = join(root, 'bin', 'sluice.mjs');

/** An error a fault raises, named so that a run record says which fault it was. */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

type Method =
  | 'head'
  | 'read'
  | 'readText'
  | 'putIfAbsent'
  | 'readVersioned'
  | 'putIfMatch'
  | 'put'
  | 'list'
  | 'delete';

export interface StoreFault {
  method: Method;
  zone?: Zone;
  /** How many matching calls fail; afterwards they pass. */
  times: number;
  /** The error thrown; an InjectedFault naming the call by default. */
  error?: (where: string) => Error;
}

/**
 * An ObjectStore that fails chosen calls of another before they reach it, then passes them on.
 * `injected` counts the failures raised.
 */
export class FaultyStore implements ObjectStore {
  injected = 0;
  private readonly faults: (StoreFault & { left: number })[];

  constructor(
    private readonly inner: ObjectStore,
    faults: StoreFault[],
  ) {
    this.faults = faults.map((fault) => ({ ...fault, left: fault.times }));
  }

  private check(method: Method, zone: Zone, key: string): void {
    const fault = this.faults.find(
      (candidate) =>
        candidate.left > 0 && candidate.method === method && (!candidate.zone || candidate.zone === zone),
    );
    if (!fault) return;
    fault.left -= 1;
    this.injected += 1;
    const where = `${method} ${this.inner.describe(zone, key)}`;
    throw fault.error?.(where) ?? new InjectedFault(`injected failure of ${where}`);
  }

  describe(zone: Zone, key: string): string {
    return this.inner.describe(zone, key);
  }
  async head(zone: Zone, key: string) {
    this.check('head', zone, key);
    return this.inner.head(zone, key);
  }
  async read(zone: Zone, key: string, range?: ByteRange): Promise<Readable> {
    this.check('read', zone, key);
    return this.inner.read(zone, key, range);
  }
  async readText(zone: Zone, key: string): Promise<string> {
    this.check('readText', zone, key);
    return this.inner.readText(zone, key);
  }
  async putIfAbsent(zone: Zone, key: string, body: Body | SizedStream, options?: PutOptions) {
    this.check('putIfAbsent', zone, key);
    return this.inner.putIfAbsent(zone, key, body, options);
  }
  async readVersioned(zone: Zone, key: string) {
    this.check('readVersioned', zone, key);
    return this.inner.readVersioned(zone, key);
  }
  async putIfMatch(zone: Zone, key: string, body: Body, etag: string | undefined, options?: PutOptions) {
    this.check('putIfMatch', zone, key);
    return this.inner.putIfMatch(zone, key, body, etag, options);
  }
  async put(zone: Zone, key: string, body: Body | Readable, options?: PutOptions) {
    this.check('put', zone, key);
    return this.inner.put(zone, key, body, options);
  }
  async list(zone: Zone, prefix: string) {
    this.check('list', zone, prefix);
    return this.inner.list(zone, prefix);
  }
  async delete(zone: Zone, key: string) {
    this.check('delete', zone, key);
    return this.inner.delete(zone, key);
  }
}

/** What the proxy does with one request: an S3 error answer, or dropping the connection mid-body. */
export type S3Fault =
  | { status: 500 | 503; code: 'InternalError' | 'ServiceUnavailable' | 'SlowDown' }
  | 'drop';

export interface S3FaultRule {
  method: string;
  /** Matched against the request path (`/<bucket>/<key>`). */
  path?: RegExp;
  times: number;
  fault: S3Fault;
}

export interface S3FaultProxy {
  endpoint: string;
  /** Faults answered so far, by kind (the S3 error code, or `drop`). */
  injected: Record<string, number>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 (a port the system picks) in front of an S3 API: it answers the
 * chosen requests with an S3 error, or drops the connection once part of the body has arrived,
 * and forwards every other request unchanged.
 */
export async function startS3FaultProxy(target: string, rules: S3FaultRule[]): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const left = rules.map((rule) => ({ ...rule, left: rule.times }));
  const injected: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const rule = left.find(
      (candidate) =>
        candidate.left > 0 &&
        candidate.method === req.method &&
        (!candidate.path || candidate.path.test(req.url ?? '')),
    );
    if (rule) {
      rule.left -= 1;
      const fault = rule.fault;
      const kind = fault === 'drop' ? 'drop' : fault.code;
      injected[kind] = (injected[kind] ?? 0) + 1;
      if (fault === 'drop') {
        dropMidBody(req);
        return;
      }
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml', connection: 'close' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`,
        );
      });
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    injected,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Destroys the connection once the first chunk of the body arrives (at once when it has none). */
function dropMidBody(req: IncomingMessage): void {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length === 0 && !req.headers['transfer-encoding']) {
    req.socket.destroy();
    return;
  }
  req.once('data', () => req.socket.destroy());
  req.once('end', () => req.socket.destroy());
}

/**
 * A directory holding a `git` that fails the first `git push` (exit 1, as a rejected push does)
 * and runs the real git otherwise; put it first on PATH of a child process.
 */
export function gitPushFailsOnce(dir: string): { bin: string; failed: () => boolean } {
  const realGit = execFileSync('bash', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const bin = join(dir, 'git-shim');
  const marker = join(dir, 'git-push-failed');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'git'),
    [
      '#!/usr/bin/env bash',
      `if [ "$1" = push ] && [ ! -e '${marker}' ]; then`,
      `  : > '${marker}'`,
      '  echo "fatal: injected: the remote hung up" >&2',
      '  exit 1',
      'fi',
      `exec '${realGit}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(join(bin, 'git'), 0o755);
  return { bin, failed: () => existsSync(marker) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `sluice` with `args`; with `killAt`, sends SIGKILL as soon as its stderr shows that step
 * entered (`▸ ValidateBatch`).
 */
export function runSluice(
  args: string[],
  options: { killAt?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Exit> {
  const child = spawn(process.execPath, [sluiceBin, ...args], { cwd: root, env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  let killed = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (options.killAt && !killed && stderr.includes(`▸ ${options.killAt}\n`)) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * The sha256 of an object as a re-run must reproduce it. A raw batch's `_manifest.json` says when
 * and by which execution it was received, so those two fields are left out (a half-written
 * manifest still fails, as it does not parse).
 */
export function outputHash(key: string, bytes: Buffer): string {
  if (!key.endsWith('/_manifest.json')) return createHash('sha256').update(bytes).digest('hex');
  const { receivedAt: _at, executionId: _by, ...rest } = JSON.parse(bytes.toString('utf8'));
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** Every file under a directory, relative path → `outputHash`; {} when it does not exist. */
export function filesWithHashes(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const key = relative(dir, path);
    files[key] = key.includes('.sluice-tmp-') ? 'temporary' : outputHash(key, readFileSync(path));
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

/** The zones whose bytes a re-run must reproduce exactly (reports hold timestamps). */
export const OUTPUT_ZONES = ['raw', 'validated', 'curated', 'quarantine'] as const;

/** The output zones' objects of a store, key → sha256, read through the ObjectStore port (either lake kind). */
export async function outputsOf(store: ObjectStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const zone of OUTPUT_ZONES) {
    for (const key of await store.list(zone, '')) {
      const chunks: Buffer[] = [];
      for await (const chunk of await store.read(zone, key)) chunks.push(chunk as Buffer);
      out[`${zone}/${key}`] = outputHash(key, Buffer.concat(chunks));
    }
  }
  return out;
}

/** The version tags of a dataset repository with their messages (which hold the DVC md5). */
export function tagMessages(gitRemote: string): string[] {
  if (!existsSync(gitRemote)) return [];
  return execFileSync('git', ['for-each-ref', 'refs/tags', '--format=%(refname:short) %(contents:subject)'], {
    cwd: gitRemote,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

/** The arrival time the fault runs and their undisturbed twins share, so their partitions match. */
export const FAULT_CLOCK = () => new Date('2026-11-20T10:00:00.000Z');

/**
 * `sluice run orders --input <input>` on a lake with the given contracts, at FAULT_CLOCK's time:
 * the runs compared must date their partitions alike, whatever the clock.
 */
export function faultRunArgs(lakeDir: string, datasets: string, input: string): string[] {
  return [
    '--lake',
    lakeDir,
    '--datasets',
    datasets,
    'run',
    'orders',
    '--input',
    input,
    '--received-at',
    FAULT_CLOCK().toISOString(),
  ];
}
