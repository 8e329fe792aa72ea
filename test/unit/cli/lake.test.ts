import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../../../lambdas/shared/errors.js';
import { openLake } from '../../../src/cli/lake.js';

describe('openLake: the local lake', () => {
  const dirs: string[] = [];
  const saved = process.env.SLUICE_DVC_CACHE;
  afterEach(() => {
    if (saved === undefined) delete process.env.SLUICE_DVC_CACHE;
    else process.env.SLUICE_DVC_CACHE = saved;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function lakeDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lake-'));
    dirs.push(dir);
    return dir;
  }

  it('keeps one DVC cache and the Version step clone beside the dataset repository, for every build of the lake', async () => {
    // Prepare
    delete process.env.SLUICE_DVC_CACHE;
    const dir = lakeDir();
    // Act
    const { versioning } = await openLake({ lake: dir });
    // Assess
    expect([versioning.gitRemote, versioning.dvcCache, versioning.workspace]).toEqual([
      join(dir, 'datasets.git'),
      join(dir, 'dvc-cache'),
      join(dir, 'version-workspace'),
    ]);
  });

  it('puts the DVC cache where SLUICE_DVC_CACHE says', async () => {
    // Prepare
    const dir = lakeDir();
    process.env.SLUICE_DVC_CACHE = join(dir, 'elsewhere');
    // Act
    const { versioning } = await openLake({ lake: dir });
    // Assess
    expect(versioning.dvcCache).toBe(join(dir, 'elsewhere'));
  });

  it('refuses a lake path that is a file, as a configuration error naming it', async () => {
    // Prepare
    const file = join(lakeDir(), 'a-file');
    writeFileSync(file, 'x');
    // Act
    const opening = openLake({ lake: file });
    // Assess
    await expect(opening).rejects.toThrow(ConfigurationError);
    await expect(openLake({ lake: file })).rejects.toThrow(`--lake ${file} is not a directory`);
  });

  it('describes a prefix of the local lake as its directory', async () => {
    // Prepare
    const dir = lakeDir();
    const { store } = await openLake({ lake: dir });
    // Act
    const where = store.describe('reports', 'orders/runs/');
    // Assess
    expect(where).toBe(`${join(dir, 'lake', 'reports', 'orders', 'runs')}/`);
  });
});
