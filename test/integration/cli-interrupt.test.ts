import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { RunRecord } from '../../lambdas/shared/run-record.js';

// Ctrl-C during a versioned `sluice run`, and what an interrupted run leaves for the next one.

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'sluice.mjs');
const versioned = join(root, 'test', 'fixtures', 'datasets-versioned');
const sluice = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

function ordersCsv(dir: string, name: string, rows: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `order_id,amount,status\n${rows.join('\n')}\n`);
  return file;
}

/** A pid that no process has: a process that has exited. */
function deadPid(): number {
  const gone = spawnSync(process.execPath, ['-e', '']);
  return gone.pid;
}

/**
 * Starts `sluice run`, sends SIGINT once its stderr says it entered VersionWithDvc and the
 * versioning lock is held, and resolves with what it printed and its exit code.
 */
function interruptDuringVersion(
  lake: string,
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string; lockWasHeld: boolean }> {
  const lock = join(lake, 'datasets.git.sluice-lock');
  mkdirSync(lake, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, '--lake', lake, '--datasets', versioned, 'run', 'orders', '--input', input],
      { cwd: root },
    );
    let stdout = '';
    let stderr = '';
    let sent = false;
    let lockWasHeld = false;
    const watcher = watch(lake, () => maybeInterrupt());
    function maybeInterrupt() {
      if (sent || !stderr.includes('▸ VersionWithDvc') || !existsSync(lock)) return;
      sent = true;
      lockWasHeld = true;
      child.kill('SIGINT');
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      maybeInterrupt();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      watcher.close();
      resolve({ code, stdout, stderr, lockWasHeld });
    });
  });
}

describe('sluice run interrupted during the Version step', () => {
  it('releases the versioning lock, records the run as ABORTED, exits 130, and the next run versions', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-interrupt-'));
    const lake = join(dir, 'lake-dir');
    const first = ordersCsv(dir, 'a.csv', ['A1,1,paid', 'A2,2,paid']);
    // Act
    const interrupted = await interruptDuringVersion(lake, first);
    const runs = sluice(['--lake', lake, 'runs', 'orders', '--json']);
    const next = sluice(['--lake', lake, '--datasets', versioned, 'run', 'orders', '--input', first]);
    // Assess
    expect(interrupted.lockWasHeld).toBe(true);
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toContain('sluice: SIGINT: stopping the run');
    expect(interrupted.stdout).toMatch(/Execution orders-\S+: ABORTED/);
    expect(existsSync(join(lake, 'datasets.git.sluice-lock'))).toBe(false);
    const records = JSON.parse(runs.stdout) as RunRecord[];
    expect(records).toEqual([
      expect.objectContaining({
        status: 'ABORTED',
        error: expect.objectContaining({ name: 'RunInterrupted' }),
      }),
    ]);
    expect(next.stderr).not.toContain('waiting for the lock');
    expect(next.status).toBe(0);
    expect(next.stdout).toMatch(/version\s+orders@\S+/);
    const after = JSON.parse(sluice(['--lake', lake, 'runs', 'orders', '--json']).stdout) as RunRecord[];
    expect(after.map((r) => r.status)).toEqual(['SUCCEEDED']);
  });
});

describe('what an interrupted run leaves behind', () => {
  it('takes over a versioning lock whose holder process is gone, and says whose it was', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sluice-stale-lock-'));
    const lake = join(dir, 'lake-dir');
    const pid = deadPid();
    const lock = join(lake, 'datasets.git.sluice-lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(
      join(lock, 'owner.json'),
      JSON.stringify({
        pid,
        host: hostname(),
        processStartedAt: '2026-11-25T10:00:00.000Z',
        lockedAt: '2026-11-25T10:00:05.000Z',
        purpose: 'versioning orders run r0',
        token: 'gone',
      }),
    );
    // Act
    const result = sluice([
      '--lake',
      lake,
      '--datasets',
      versioned,
      'run',
      'orders',
      '--input',
      ordersCsv(dir, 'a.csv', ['A1,1,paid']),
    ]);
    // Assess
    expect(result.stderr).toContain(
      `took over the lock ${lock}: its holder, process ${pid} on ${hostname()}`,
    );
    expect(result.stderr).toContain('is gone');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/version\s+orders@\S+/);
    expect(existsSync(lock)).toBe(false);
  });

  it('removes temporary files that a run which is gone left in the lake, and keeps the lake usable', () => {
    // Prepare: what a run killed while writing validated and quarantined rows leaves
    const lake = mkdtempSync(join(tmpdir(), 'sluice-stale-tmp-'));
    const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const pid = deadPid();
    const leftovers = [
      join(
        lake,
        'lake',
        'validated',
        'orders',
        'dt=2026-11-25',
        'run=r0',
        `.sluice-tmp-${host}-${pid}-0a1b2c`,
      ),
      join(
        lake,
        'lake',
        'quarantine',
        'orders',
        'dt=2026-11-25',
        'run=r0',
        `.sluice-tmp-${host}-${pid}-3d4e5f`,
      ),
    ];
    for (const file of leftovers) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, 'x'.repeat(1000));
    }
    // Act
    const result = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(
      'removed 2 temporary files (0.0 MB) left in the lake by an interrupted run',
    );
    for (const file of leftovers) expect(existsSync(file)).toBe(false);
    expect(
      readdirSync(join(lake, 'lake', 'validated', 'orders'), { recursive: true }).join('\n'),
    ).not.toContain('.sluice-tmp-');
  });
});
