import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// The README's promise as a user keeps it: `sluice run` a versioned dataset, then with plain git
// and dvc, in a clone of the lake's dataset repository, `git checkout <tag> && dvc pull`.

const root = join(import.meta.dirname, '..', '..');
const dvcBin = join(root, '.venv', 'bin', 'dvc');
const { SLUICE_DVC_CACHE: _kept, ...userEnv } = process.env;
const env = { ...userEnv, DVC_NO_ANALYTICS: '1', GIT_TERMINAL_PROMPT: '0' };

const sluice = (args: string[]) =>
  spawnSync(process.execPath, [join(root, 'bin', 'sluice.mjs'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'advice.detachedHead=false', ...args], { cwd, env, encoding: 'utf8' });

/** sha256 of every data file under a directory, keyed by its path relative to it. */
function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.startsWith('_'))
      .map((e) => join(e.parentPath, e.name))
      .map((file) => [relative(dir, file), createHash('sha256').update(readFileSync(file)).digest('hex')]),
  );
}

/** `git clone` of the lake's dataset repository, `git checkout <tag>` and `dvc pull`, as a user types them. */
function checkoutAndPull(lake: string, into: string) {
  git(lake, 'clone', '--quiet', join(lake, 'datasets.git'), into);
  const [tag] = git(into, 'tag', '--list').split('\n').filter(Boolean);
  git(into, 'checkout', '--quiet', tag!);
  const pull = spawnSync(dvcBin, ['pull'], { cwd: into, env, encoding: 'utf8', timeout: 60_000 });
  return { tag, pull };
}

describe('git checkout <tag> && dvc pull after sluice run', () => {
  it('exits 0 and restores the bytes of the curated snapshot the tag names', () => {
    // Prepare
    const lake = mkdtempSync(join(tmpdir(), 'sluice-pull-'));
    const run = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    expect(run.status).toBe(0);
    // Act
    const { tag, pull } = checkoutAndPull(lake, join(lake, 'clone'));
    // Assess
    expect(tag).toMatch(/^orders@/);
    expect(pull.stderr).not.toMatch(/ERROR/);
    expect(pull.status).toBe(0);
    expect(hashes(join(lake, 'clone', 'data', 'orders'))).toEqual(
      hashes(join(lake, 'lake', 'curated', 'orders')),
    );
  });

  it('exits 0 in a repository whose dvc.lock names the prepare stage output no build pushed', () => {
    // Prepare: a repository as earlier builds and a user's `dvc repro` left it, the stage's output
    // declared cached and locked, its bytes in no remote.
    const lake = mkdtempSync(join(tmpdir(), 'sluice-pull-'));
    const seed = join(lake, 'seed');
    mkdirSync(join(seed, 'scripts'), { recursive: true });
    writeFileSync(
      join(seed, 'dvc.yaml'),
      [
        'stages:',
        '  prepare-orders:',
        '    cmd: python3 scripts/prepare.py data/orders prepared/orders.jsonl',
        '    deps:',
        '    - data/orders',
        '    - scripts/prepare.py',
        '    outs:',
        '    - prepared/orders.jsonl',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(seed, 'dvc.lock'),
      [
        "schema: '2.0'",
        'stages:',
        '  prepare-orders:',
        '    cmd: python3 scripts/prepare.py data/orders prepared/orders.jsonl',
        '    outs:',
        '    - path: prepared/orders.jsonl',
        '      hash: md5',
        '      md5: 3be47aca27b8075871ec9f3335710f42',
        '      size: 53503',
        '',
      ].join('\n'),
    );
    writeFileSync(join(seed, 'scripts', 'prepare.py'), 'print("prepared")\n');
    git(lake, 'init', '--quiet', '--bare', '--initial-branch=main', join(lake, 'datasets.git'));
    git(seed, 'init', '--quiet', '--initial-branch=main');
    git(seed, 'add', '.');
    git(seed, '-c', 'user.name=u', '-c', 'user.email=u@example.com', 'commit', '--quiet', '-m', 'repro');
    git(seed, 'push', '--quiet', join(lake, 'datasets.git'), 'main');
    const run = sluice(['--lake', lake, 'run', 'orders', '--input', 'examples/orders.csv']);
    expect(run.status).toBe(0);
    // Act
    const { pull } = checkoutAndPull(lake, join(lake, 'clone'));
    // Assess
    expect(pull.stderr).not.toMatch(/ERROR/);
    expect(pull.status).toBe(0);
    expect(readFileSync(join(lake, 'clone', 'dvc.yaml'), 'utf8')).toMatch(
      /- prepared\/orders\.jsonl:\n\s+cache: false/,
    );
    expect(hashes(join(lake, 'clone', 'data', 'orders'))).toEqual(
      hashes(join(lake, 'lake', 'curated', 'orders')),
    );
  });
});
