import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { RunInterrupted } from '../../../lambdas/shared/errors.js';
import { withLock } from '../../../src/local/lock.js';
import { type LocalVersioning, localVersionTask } from '../../../src/local/version-step.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('localVersionTask', () => {
  it('creates the dataset repository only once it holds the lock, not while another build holds it', async () => {
    // Prepare: a lake with no dataset repository yet, its lock held as another build's would be.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-version-step-'));
    const versioning: LocalVersioning = {
      gitRemote: join(dir, 'datasets.git'),
      dvcRemote: join(dir, 'curated', '_dvc'),
      curatedRoot: join(dir, 'curated'),
      toolsBin: join(root, '.venv', 'bin'),
    };
    const controller = new AbortController();
    let waiting!: () => void;
    const told = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const task = localVersionTask(versioning, { signal: controller.signal, onWait: () => waiting() });
    // Act: the build starts while the lock is held, and is stopped once it says it waits.
    const seen = await withLock(`${versioning.gitRemote}.sluice-lock`, async () => {
      const build = task({ ProjectName: 'sluice-version' }, { emit: () => undefined });
      await told;
      const repositoryWhileWaiting = existsSync(versioning.gitRemote);
      controller.abort();
      return { repositoryWhileWaiting, outcome: await build.catch((error: unknown) => error) };
    });
    // Assess
    expect(seen.repositoryWhileWaiting).toBe(false);
    expect(seen.outcome).toBeInstanceOf(RunInterrupted);
  });
});
