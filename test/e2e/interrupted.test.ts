import { describe, expect, it } from '@jest/globals';
import { freshProject, sluice, sluiceJob } from './support/cli.js';
import { COVERED, documented, words } from './support/documented.js';

// A user presses Ctrl-C during `sluice run`, then runs the same command again.

describe('an interrupted run', () => {
  it('is finished by running the same command again', async () => {
    // Prepare
    const project = freshProject();
    const run = documented(COVERED.runUpload).find((c) => !c.text.includes('--events'))!;
    // Act: SIGINT to the run's process group, as Ctrl-C sends it, once the Version step started
    // (the longest step: dvc add and push)
    const interrupted = await sluiceJob(project, words(run), (stderr, job) => {
      if (/▸ VersionWithDvc/.test(stderr)) job.interrupt();
    });
    // A versioned run takes about 15 s here; the bound only ends a re-run that waits forever.
    const again = sluice(project, words(run), { timeout: 60_000 });
    // Assess
    expect(interrupted.stderr).toMatch(/▸ VersionWithDvc/);
    expect(interrupted.stdout).not.toMatch(/SUCCEEDED/);
    expect(interrupted.signal ?? interrupted.status).not.toBe(0);
    expect([again.signal, again.status]).toEqual([null, 0]);
    expect(again.stdout).toMatch(/Execution orders-\S+: SUCCEEDED/);
    expect(again.stdout).toMatch(/^version\s+orders@\d{4}-\d\d-\d\d-[0-9a-f]{16}\s/m);
  });
});
