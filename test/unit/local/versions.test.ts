import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { listVersions } from '../../../src/local/versions.js';

describe('listVersions', () => {
  it('lists versions tagged in the same second newest first, by the order of their commits', () => {
    // Prepare: two versions with one date; the older one's name sorts first, where a tie on the date leaves it.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-versions-'));
    const remote = join(dir, 'datasets.git');
    const work = join(dir, 'work');
    const date = '2026-12-07T10:00:00Z';
    const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=u', '-c', 'user.email=u@example.com', ...args], { cwd, env });
    execFileSync('git', ['init', '--quiet', '--bare', remote]);
    execFileSync('git', ['init', '--quiet', work]);
    for (const [tag, rows] of [
      ['orders@a', 1],
      ['orders@b', 2],
    ] as const) {
      writeFileSync(join(work, 'orders.dvc'), `rows ${rows}\n`);
      git(work, 'add', '.');
      git(work, 'commit', '--quiet', '-m', tag);
      git(work, 'tag', '-a', tag, '-m', JSON.stringify({ rows }));
    }
    git(work, 'push', '--quiet', '--tags', remote, 'HEAD:refs/heads/main');
    // Act
    const versions = listVersions(
      { gitRemote: remote, dvcRemote: '', curatedRoot: '', toolsBin: '' },
      'orders',
    );
    // Assess
    expect(versions.map((v) => [v.tag, v.rows])).toEqual([
      ['orders@b', 2],
      ['orders@a', 1],
    ]);
  });
});
