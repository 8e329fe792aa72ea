import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { LocalVersioning } from '../../../src/local/version-step.js';
import { listVersions } from '../../../src/local/versions.js';

/** A dataset repository whose commits and tags all carry the same second, as two quick builds make. */
function repositoryWithSameSecondTags(tags: string[]): LocalVersioning {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-versions-order-'));
  const gitRemote = join(dir, 'datasets.git');
  const work = join(dir, 'work');
  const env = {
    ...process.env,
    GIT_AUTHOR_DATE: '2026-11-25T12:00:00Z',
    GIT_COMMITTER_DATE: '2026-11-25T12:00:00Z',
    GIT_AUTHOR_NAME: 'sluice',
    GIT_AUTHOR_EMAIL: 'sluice@example.com',
    GIT_COMMITTER_NAME: 'sluice',
    GIT_COMMITTER_EMAIL: 'sluice@example.com',
  };
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, stdio: 'pipe' });
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', gitRemote);
  git(dir, 'clone', '--quiet', gitRemote, work);
  tags.forEach((tag, index) => {
    writeFileSync(join(work, 'orders.dvc'), `version ${index}\n`);
    git(work, 'add', 'orders.dvc');
    git(work, 'commit', '--quiet', '-m', `version ${index}`);
    git(work, 'tag', '-a', tag, '-m', JSON.stringify({ rows: index + 1 }));
  });
  git(work, 'push', '--quiet', '--atomic', 'origin', 'main', '--tags');
  return { gitRemote, dvcRemote: '', curatedRoot: '', toolsBin: '' };
}

describe('listVersions', () => {
  it('orders versions made in the same second by commit order, newest first, whatever their tag names', () => {
    // Prepare: the later version's tag sorts last by name, and both have the same date
    const versioning = repositoryWithSameSecondTags(['orders@2026-11-25-0000', 'orders@2026-11-25-ffff']);
    // Act
    const versions = listVersions(versioning, 'orders');
    // Assess
    expect(versions.map((v) => [v.tag, v.rows])).toEqual([
      ['orders@2026-11-25-ffff', 2],
      ['orders@2026-11-25-0000', 1],
    ]);
    expect(versions[0]!.date).toBe(versions[1]!.date);
  });

  it('keeps the commit order over many versions of one second', () => {
    // Prepare
    const tags = ['orders@c', 'orders@a', 'orders@d', 'orders@b'];
    const versioning = repositoryWithSameSecondTags(tags);
    // Act
    const versions = listVersions(versioning, 'orders');
    // Assess
    expect(versions.map((v) => v.tag)).toEqual([...tags].reverse());
  });
});
