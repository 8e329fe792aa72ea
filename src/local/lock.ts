import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigurationError, RunInterrupted } from '../../lambdas/shared/errors.js';

/** Who holds a lock: written into the lock directory by its holder. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the holding process started, ISO 8601. */
  processStartedAt: string;
  /** When it took the lock, ISO 8601. */
  lockedAt: string;
  /** What it holds the lock for, e.g. the run being versioned. */
  purpose?: string;
  /** Tells this holding apart from a later one by the same process. */
  token: string;
}

export interface LockOptions {
  /** Why the lock is taken, shown to whoever waits for it. */
  purpose?: string;
  /** Told once when the lock is held by someone else, and when a stale lock is taken over. */
  onWait?: (message: string) => void;
  /** Stops waiting for the lock (the run was interrupted). */
  signal?: AbortSignal;
  /** How long to wait for a live holder. @default 15 minutes */
  timeoutMs?: number;
  /** How often to look again. @default 250 ms */
  pollMs?: number;
}

const OWNER_FILE = 'owner.json';
/**
 * A lock directory without an owner file is being created (mkdir, then the owner is written), or
 * was left by a holder that died in between, or by a Sluice that wrote no owner: after this long
 * it is taken as stale.
 */
const UNOWNED_STALE_MS = 10_000;

/** Locks this process holds, released on exit even when it exits without unwinding (process.exit). */
const held = new Map<string, LockOwner>();
process.on('exit', () => {
  for (const [lock, owner] of held) release(lock, owner);
});

/**
 * Runs `work` holding a lock directory (mkdir is atomic, so there is one holder at a time). The
 * holder writes who it is (pid, host, process start time) into the lock; a waiter that finds the
 * holder's process gone on this host takes the lock over, and says so. The lock is released when
 * `work` settles, and when the process exits.
 */
export async function withLock<T>(
  lock: string,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const owner = await acquire(lock, options);
  held.set(lock, owner);
  try {
    return await work();
  } finally {
    held.delete(lock);
    release(lock, owner);
  }
}

async function acquire(lock: string, options: LockOptions): Promise<LockOwner> {
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw new RunInterrupted(`stopped while waiting for the lock ${lock}`);
    const owner = tryCreate(lock, options.purpose);
    if (owner) return owner;
    const holder = readOwner(lock);
    if (isStale(lock, holder)) {
      if (takeOver(lock, holder)) {
        options.onWait?.(
          holder
            ? `took over the lock ${lock}: its holder, process ${holder.pid} on ${holder.host} (started ${holder.processStartedAt}${holder.purpose ? `, ${holder.purpose}` : ''}), is gone`
            : `took over the lock ${lock}: it names no holder and is older than ${UNOWNED_STALE_MS / 1000} s`,
        );
      }
      continue;
    }
    if (!told) {
      told = true;
      options.onWait?.(
        `waiting for the lock ${lock}, held by ${holder ? `process ${holder.pid} on ${holder.host} since ${holder.lockedAt}${holder.purpose ? ` (${holder.purpose})` : ''}` : 'a process that has not named itself yet'}`,
      );
    }
    if (Date.now() > deadline) {
      throw new ConfigurationError(
        `waited too long for the lock ${lock}, held by ${holder ? `process ${holder.pid} on ${holder.host} since ${holder.lockedAt}` : 'an unnamed holder'}; ` +
          'if no such process runs, delete the directory',
      );
    }
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

function tryCreate(lock: string, purpose: string | undefined): LockOwner | undefined {
  try {
    mkdirSync(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    processStartedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    lockedAt: new Date().toISOString(),
    ...(purpose ? { purpose } : {}),
    token: randomBytes(8).toString('hex'),
  };
  writeFileSync(join(lock, OWNER_FILE), JSON.stringify(owner, null, 2));
  return owner;
}

function readOwner(lock: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(join(lock, OWNER_FILE), 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** Whether a process of this host with this pid is running (signal 0 checks without sending one). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists and belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock is stale when its holder was a process of this host that is gone. A holder on another
 * host cannot be checked from here, so its lock is never taken over.
 */
function isStale(lock: string, holder: LockOwner | undefined): boolean {
  if (!holder) {
    try {
      return Date.now() - statSync(lock).mtimeMs > UNOWNED_STALE_MS;
    } catch {
      return false; // released meanwhile
    }
  }
  return holder.host === hostname() && !isProcessAlive(holder.pid);
}

/**
 * Moves the stale lock aside, then checks that what was moved is the stale holding and not a new
 * one that another waiter created meanwhile; a new one is put back.
 */
function takeOver(lock: string, stale: LockOwner | undefined): boolean {
  const aside = `${lock}.stale-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(lock, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readOwner(aside);
  if (moved?.token !== stale?.token) {
    try {
      renameSync(aside, lock);
    } catch {
      // The new holder's lock is gone either way; it will find out when it releases.
    }
    return false;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

function release(lock: string, owner: LockOwner): void {
  if (readOwner(lock)?.token !== owner.token) return; // taken over meanwhile: not ours to remove
  rmSync(lock, { recursive: true, force: true });
}
