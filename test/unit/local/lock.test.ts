import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, RunInterrupted } from '../../../lambdas/shared/errors.js';
import { type LockOwner, withLock } from '../../../src/local/lock.js';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'sluice-lock-')), 'datasets.git.sluice-lock');

function holdAs(lock: string, owner: Partial<LockOwner>): void {
  mkdirSync(lock);
  writeFileSync(
    join(lock, 'owner.json'),
    JSON.stringify({
      pid: process.pid,
      host: hostname(),
      processStartedAt: '2026-11-25T10:00:00.000Z',
      lockedAt: '2026-11-25T10:00:05.000Z',
      token: 'other',
      ...owner,
    }),
  );
}

describe('withLock', () => {
  it('names its holder in the lock while the work runs, and removes the lock after', async () => {
    // Prepare
    const lock = lockPath();
    // Act
    const seen = await withLock(
      lock,
      async () => JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8')),
      {
        purpose: 'versioning orders run r1',
      },
    );
    // Assess
    expect(seen).toMatchObject({ pid: process.pid, host: hostname(), purpose: 'versioning orders run r1' });
    expect(seen.processStartedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(existsSync(lock)).toBe(false);
  });

  it('removes the lock when the work fails', async () => {
    // Prepare
    const lock = lockPath();
    // Act
    const failing = withLock(lock, async () => {
      throw new TypeError('broken');
    });
    // Assess
    await expect(failing).rejects.toThrow(TypeError);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose holder process is gone, and says whose it was', async () => {
    // Prepare
    const lock = lockPath();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    holdAs(lock, { pid: gone, purpose: 'versioning orders run r0' });
    const messages: string[] = [];
    // Act
    const result = await withLock(lock, async () => 'done', { onWait: (m) => messages.push(m) });
    // Assess
    expect(result).toBe('done');
    expect(messages).toEqual([
      `took over the lock ${lock}: its holder, process ${gone} on ${hostname()} (started 2026-11-25T10:00:00.000Z, versioning orders run r0), is gone`,
    ]);
  });

  it('waits for a live holder, says for whom, and gives up after its timeout', async () => {
    // Prepare: this very process holds it, under another token
    const lock = lockPath();
    holdAs(lock, { purpose: 'versioning refunds run r9' });
    const messages: string[] = [];
    // Act
    const waiting = withLock(lock, async () => 'never', {
      timeoutMs: 0,
      pollMs: 1,
      onWait: (m) => messages.push(m),
    });
    // Assess
    await expect(waiting).rejects.toThrow(ConfigurationError);
    expect(messages).toEqual([
      `waiting for the lock ${lock}, held by process ${process.pid} on ${hostname()} since 2026-11-25T10:00:05.000Z (versioning refunds run r9)`,
    ]);
    expect(existsSync(join(lock, 'owner.json'))).toBe(true);
  });

  it('never takes over a lock held from another host', async () => {
    // Prepare
    const lock = lockPath();
    holdAs(lock, { host: 'another-host', pid: spawnSync(process.execPath, ['-e', '']).pid });
    // Act
    const waiting = withLock(lock, async () => 'never', { timeoutMs: 0, pollMs: 1 });
    // Assess
    await expect(waiting).rejects.toThrow(/held by process \d+ on another-host/);
  });

  it('stops waiting with RunInterrupted when the run is interrupted', async () => {
    // Prepare
    const lock = lockPath();
    holdAs(lock, {});
    const controller = new AbortController();
    // Act
    const waiting = withLock(lock, async () => 'never', {
      signal: controller.signal,
      onWait: () => controller.abort('SIGINT'),
    });
    // Assess
    await expect(waiting).rejects.toThrow(RunInterrupted);
  });
});
