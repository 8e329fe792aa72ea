import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { type LocalVersioning, localVersionTask } from '../../src/local/version-step.js';
import { motoLake } from '../support/moto-lake.js';

// The Version step as a deployed build runs it: a fresh clone and no DVC cache for every build.
// A version is the previous version's file list, carried over from the DVC remote, plus the files
// that are new or rewritten in the curated prefix; only those are read and hashed.

const root = join(import.meta.dirname, '..', '..');
const toolsBin = join(root, '.venv', 'bin');
// Read when used: motoLake puts the S3 endpoint and credentials into process.env.
const toolsEnv = () => ({ ...process.env, PATH: `${toolsBin}:${process.env.PATH}`, DVC_NO_ANALYTICS: '1' });

function freshBuilds(versioning: LocalVersioning) {
  const task = localVersionTask(versioning);
  return async (tag: string) => {
    const details: string[] = [];
    await task(
      {
        ProjectName: 'test',
        EnvironmentVariablesOverride: [
          { Name: 'SLUICE_DATASET', Value: 'orders' },
          { Name: 'SLUICE_RUN_ID', Value: tag },
          { Name: 'SLUICE_TAG', Value: `orders@${tag}` },
          { Name: 'SLUICE_VALIDATION', Value: 'passed' },
        ],
      },
      { emit: (event) => details.push(event.detail ?? '') },
    );
    const summary = details.join('\n').match(/^versioned \d+ files in .*$/m)?.[0];
    return { summary };
  };
}

function directoryLake() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-incremental-'));
  const curated = join(dir, 'curated');
  const versioning: LocalVersioning = {
    gitRemote: join(dir, 'datasets.git'),
    dvcRemote: join(curated, '_dvc'),
    curatedRoot: curated,
    toolsBin,
  };
  /** Publishes a curated partition as promote does: a new file renamed into place. */
  const partition = (run: string, lines: string[]) => {
    const file = join(curated, 'orders', 'dt=2026-12-01', `run=${run}`, 'part-00000.jsonl');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, lines.map((line) => `${line}\n`).join(''));
    renameSync(`${file}.tmp`, file);
  };
  return { dir, curated, versioning, partition, build: freshBuilds(versioning) };
}

/** `git clone`, `git checkout <tag>`, `dvc pull`, and the sha256 of every restored file. */
function restore(versioning: LocalVersioning, tag: string, into: string) {
  const env = toolsEnv();
  execFileSync('git', ['clone', '--quiet', versioning.gitRemote, into], { env });
  execFileSync('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', tag], { cwd: into, env });
  execFileSync(join(toolsBin, 'dvc'), ['pull', '--quiet'], { cwd: into, env });
  const status = execFileSync(join(toolsBin, 'dvc'), ['status', 'data/orders.dvc'], {
    cwd: into,
    env,
    encoding: 'utf8',
  });
  return { files: hashes(join(into, 'data', 'orders')), status };
}

function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.startsWith('_'))
      .map((e) => join(e.parentPath, e.name))
      .map((file) => [relative(dir, file), createHash('sha256').update(readFileSync(file)).digest('hex')]),
  );
}

function tagMessage(versioning: LocalVersioning, tag: string): { rows: number; size: number } {
  return JSON.parse(
    execFileSync('git', ['tag', '--list', '--format=%(contents)', tag], {
      cwd: versioning.gitRemote,
      encoding: 'utf8',
    }),
  ) as { rows: number; size: number };
}

describe('a deployed-shape Version build (fresh clone, no DVC cache)', () => {
  it('reads and hashes only the partitions the previous version did not have', async () => {
    // Prepare
    const { partition, build } = directoryLake();
    partition('a', ['{"id":1}', '{"id":2}']);
    partition('b', ['{"id":3}']);
    await build('v1');
    partition('c', ['{"id":4}']);
    // Act
    const { summary } = await build('v2');
    // Assess
    expect(summary).toMatch(
      /^versioned 3 files in [\d.]+ s: 2 carried over from the previous version, 1 read and hashed, 1 copied to /,
    );
  });

  it('gives each tag back its exact bytes through git checkout and dvc pull, as dvc add would have hashed them', async () => {
    // Prepare
    const { dir, curated, versioning, partition, build } = directoryLake();
    partition('a', ['{"id":1}', '{"id":2}']);
    await build('v1');
    const first = hashes(join(curated, 'orders'));
    partition('b', ['{"id":3}']);
    await build('v2');
    const second = hashes(join(curated, 'orders'));
    // Act
    const v1 = restore(versioning, 'orders@v1', join(dir, 'v1'));
    const v2 = restore(versioning, 'orders@v2', join(dir, 'v2'));
    // Assess
    expect(v1.files).toEqual(first);
    expect(v2.files).toEqual(second);
    expect(v2.status).toMatch(/Data and pipelines are up to date/);
    expect(tagMessage(versioning, 'orders@v1').rows).toBe(2);
    expect(tagMessage(versioning, 'orders@v2')).toMatchObject({ rows: 3, size: 27 });
  });

  it('hashes a partition again when it was rewritten, and drops one that was removed', async () => {
    // Prepare
    const { dir, curated, versioning, partition, build } = directoryLake();
    partition('a', ['{"id":1}']);
    partition('b', ['{"id":2}']);
    await build('v1');
    partition('a', ['{"id":10}']);
    rmSync(join(curated, 'orders', 'dt=2026-12-01', 'run=b'), { recursive: true });
    // Act
    const { summary } = await build('v2');
    // Assess
    expect(summary).toMatch(
      /^versioned 1 files in [\d.]+ s: 0 carried over from the previous version, 1 read/,
    );
    expect(restore(versioning, 'orders@v2', join(dir, 'v2')).files).toEqual(hashes(join(curated, 'orders')));
  });

  it('reads every file again when the previous version has no index, and the version is the same', async () => {
    // Prepare
    const { dir, curated, versioning, partition, build } = directoryLake();
    partition('a', ['{"id":1}']);
    await build('v1');
    rmSync(join(curated, '_dvc', 'sluice'), { recursive: true });
    partition('b', ['{"id":2}']);
    // Act
    const { summary } = await build('v2');
    // Assess
    expect(summary).toMatch(/: 0 carried over from the previous version, 2 read and hashed, 1 copied to /);
    expect(restore(versioning, 'orders@v2', join(dir, 'v2')).files).toEqual(hashes(join(curated, 'orders')));
  });

  it('versions on S3 (moto) the same way: the previous files carried over, each tag restored by dvc pull', async () => {
    // Prepare
    const lake = await motoLake(join(root, 'test', 'fixtures', 'datasets-versioned'));
    const dir = mkdtempSync(join(tmpdir(), 'sluice-incremental-s3-'));
    const versioning: LocalVersioning = {
      gitRemote: join(dir, 'datasets.git'),
      dvcRemote: `s3://${lake.buckets.curated}/_dvc`,
      curatedRoot: `s3://${lake.buckets.curated}`,
      s3Endpoint: lake.endpoint,
      toolsBin,
    };
    const build = freshBuilds(versioning);
    const key = (run: string) => `orders/dt=2026-12-01/run=${run}/part-00000.jsonl`;
    await lake.store.put('curated', key('a'), Buffer.from('{"id":1}\n'));
    await build('v1');
    await lake.store.put('curated', key('b'), Buffer.from('{"id":2}\n'));
    // Act
    const { summary } = await build('v2');
    const restored = restore(versioning, 'orders@v2', join(dir, 'v2'));
    // Assess
    expect(summary).toMatch(/: 1 carried over from the previous version, 1 read and hashed, 1 copied to s3:/);
    expect(Object.keys(restored.files).sort()).toEqual([
      'dt=2026-12-01/run=a/part-00000.jsonl',
      'dt=2026-12-01/run=b/part-00000.jsonl',
    ]);
    expect(
      readFileSync(join(dir, 'v2', 'data', 'orders', 'dt=2026-12-01/run=b/part-00000.jsonl'), 'utf8'),
    ).toBe('{"id":2}\n');
  });
});
