import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

// `sluice run` and `sluice check` of a pulled dataset as a user runs them: intervals that have not
// ended or are off the schedule's grid are refused before anything is pulled, unless forced, and a
// schedule EventBridge would refuse is refused by `check`.

const root = join(import.meta.dirname, '..', '..');
let server: Server;
let requests = 0;
let datasets: string;

/** Runs the CLI without blocking this process, whose HTTP server the run may call. */
function sluice(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'sluice.mjs'), '--datasets', datasets, ...args],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function rawFiles(lake: string): string[] {
  const raw = join(lake, 'lake', 'raw');
  return existsSync(raw) ? readdirSync(raw, { recursive: true }).map(String) : [];
}

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"id":1}\n{"id":2}\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  datasets = mkdtempSync(join(tmpdir(), 'sluice-interval-contracts-'));
  writeFileSync(
    join(datasets, 'api-pages.yaml'),
    [
      'name: api-pages',
      'source:',
      '  type: http',
      `  url: http://127.0.0.1:${port}/orders?from={interval.start}&to={interval.end}`,
      '  paging: { type: none }',
      'format: { type: jsonl }',
      'schedule: rate(1 hour)',
      'schema: { type: object, required: [id], properties: { id: { type: integer } } }',
    ].join('\n'),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('sluice run of a pulled dataset', () => {
  it('refuses an interval that has not ended, naming the latest closed interval, and pulls nothing', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const before = requests;
    // Act
    const result = await sluice([
      '--lake',
      lake,
      'run',
      'api-pages',
      '--interval-start',
      '2030-01-01T00:00:00Z',
      '--interval-end',
      '2030-01-01T01:00:00Z',
    ]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /IntervalNotClosed: interval 2030-01-01T00:00:00.000Z – 2030-01-01T01:00:00.000Z of dataset 'api-pages' has not ended/,
    );
    expect(result.stderr).toMatch(/the latest closed interval of rate\(1 hour\) is \S+ – \S+/);
    expect(result.stderr).toMatch(/--force/);
    expect(requests).toBe(before);
    expect(rawFiles(lake)).toEqual([]);
  });

  it('refuses an interval off the schedule grid, naming the nearest intervals', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const before = requests;
    // Act
    const result = await sluice([
      '--lake',
      lake,
      'run',
      'api-pages',
      '--interval-start',
      '2026-11-25T22:00:00Z',
      '--interval-end',
      '2026-11-25T22:17:00Z',
    ]);
    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /IntervalNotAllowed: .* is not an interval of its schedule rate\(1 hour\); the nearest are 2026-11-25T21:00:00.000Z – 2026-11-25T22:00:00.000Z and 2026-11-25T22:00:00.000Z – 2026-11-25T23:00:00.000Z/,
    );
    expect(requests).toBe(before);
    expect(rawFiles(lake)).toEqual([]);
  });

  it('takes the interval off the grid with --force', async () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    // Act
    const result = await sluice([
      '--lake',
      lake,
      'run',
      'api-pages',
      '--interval-start',
      '2026-11-25T22:00:00Z',
      '--interval-end',
      '2026-11-25T22:17:00Z',
      '--force',
    ]);
    // Assess
    expect(result.stderr).not.toMatch(/Interval/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/rows read\s+2/);
  });

  it('documents --force in its help', async () => {
    // Act
    const result = await sluice(['run', '--help']);
    // Assess
    expect(result.stdout).toMatch(
      /--force\s+pulled sources: take an interval that is off the\s+schedule's grid or has not ended/,
    );
  });
});

describe('sluice check of schedules', () => {
  it('refuses a schedule EventBridge would refuse, naming the file, the line and the expected form', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-schedule-contracts-'));
    writeFileSync(
      join(dir, 'hourly.yaml'),
      [
        'name: hourly',
        'source: { type: http, url: "http://127.0.0.1/x" }',
        'format: { type: jsonl }',
        'schedule: rate(5 hour)',
        'schema: { type: object, properties: { id: { type: integer } } }',
      ].join('\n'),
    );
    // Act
    const result = await new Promise<{ status: number; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(root, 'bin', 'sluice.mjs'), '--datasets', dir, 'check'],
        { cwd: root, encoding: 'utf8', timeout: 60_000 },
        (error, _stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stderr }),
      ),
    );
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `${join(dir, 'hourly.yaml')}:4 at /schedule: schedule 'rate(5 hour)': EventBridge wants the unit 'hours' with the value 5, as in rate(5 hours)`,
    );
  });
});

describe('sluice run of a stream dataset twice in one interval', () => {
  it('says which hour the interval took, and when the next closed hour is taken', async () => {
    // Prepare: two closed hours delivered (hours ended long enough ago to be closed whenever this runs)
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stream-contracts-'));
    writeFileSync(
      join(dir, 'clicks.yaml'),
      [
        'name: clicks',
        'source: { type: stream, time_field: event_time, close_after_minutes: 20 }',
        'format: { type: jsonl }',
        'schedule: rate(15 minutes)',
        'schema: { type: object, required: [id], properties: { id: { type: integer } } }',
      ].join('\n'),
    );
    const lake = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    const hourAgo = (n: number) => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - n * 3_600_000);
    const partitionOf = (date: Date) =>
      `dt=${date.toISOString().slice(0, 10)}/hour=${date.toISOString().slice(11, 13)}`;
    const [older, newer] = [hourAgo(6), hourAgo(5)];
    for (const hour of [older, newer]) {
      const folder = join(lake, 'lake', 'raw', 'clicks', ...partitionOf(hour).split('/'));
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'clicks-stream-1'), '{"id":1}\n');
    }
    const interval = ['--interval-start', '2026-11-25T12:00:00Z', '--interval-end', '2026-11-25T12:15:00Z'];
    const run = () =>
      new Promise<{ status: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [join(root, 'bin', 'sluice.mjs'), '--datasets', dir, '--lake', lake, 'run', 'clicks', ...interval],
          { cwd: root, encoding: 'utf8', timeout: 60_000 },
          (error, stdout) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout }),
        ),
      );
    // Act
    const first = await run();
    const again = await run();
    // Assess
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`hour\\s+${partitionOf(older)}`));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(
      `Already processed: interval 2026-11-25T12:00:00.000Z – 2026-11-25T12:15:00.000Z took hour ${partitionOf(older)}`,
    );
    expect(again.stdout).toContain(
      `Waiting: closed hour ${partitionOf(newer)} holds objects not validated yet; the run of the next interval, ` +
        '2026-11-25T12:15:00.000Z – 2026-11-25T12:30:00.000Z, takes it from 2026-11-25T12:30:00.000Z',
    );
  });
});
