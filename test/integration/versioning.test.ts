import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadContracts } from '../../lambdas/shared/contract.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { runRecordKey } from '../../lambdas/shared/keys.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import { coreFunctions, handlerFunctions, runUpload } from '../../src/local/pipeline.js';
import type { LocalVersioning } from '../../src/local/version-step.js';
import { checkoutVersion, listVersions } from '../../src/local/versions.js';
import { motoLake } from '../support/moto-lake.js';

// The Version step with the real dvc CLI and real git: the buildspec's commands, run locally.

const root = join(import.meta.dirname, '..', '..');
const datasetsDir = join(root, 'test', 'fixtures', 'datasets-versioned');
const contracts = loadContracts(datasetsDir);
const toolsBin = join(root, '.venv', 'bin');

function localLake() {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-versions-'));
  const store = new FsObjectStore(join(dir, 'lake'));
  const versioning: LocalVersioning = {
    gitRemote: join(dir, 'datasets.git'),
    dvcRemote: join(dir, 'lake', 'curated', '_dvc'),
    curatedRoot: join(dir, 'lake', 'curated'),
    toolsBin,
  };
  return { dir, store, versioning };
}

/**
 * A local lake whose Version step keeps a DVC cache (and, with `workspace`, its clone) between
 * builds, as `sluice run` does, and `upload`, which runs a CSV of orders through its pipeline.
 */
function keptLake(options: { workspace?: boolean } = {}) {
  const { dir, store, versioning: fresh } = localLake();
  const dvcCache = join(dir, 'dvc-cache');
  const workspace = join(dir, 'workspace');
  const versioning: LocalVersioning = { ...fresh, dvcCache, ...(options.workspace ? { workspace } : {}) };
  const functions = coreFunctions({ store, contracts });
  const upload = (name: string, rows: string[]) =>
    runUpload({
      dataset: 'orders',
      inputFile: csv(dir, name, rows),
      store,
      contracts,
      functions,
      versioning,
    });
  return { dir, versioning, dvcCache, workspace, upload, curated: join(dir, 'lake', 'curated', 'orders') };
}

function csv(dir: string, name: string, rows: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `order_id,amount,status\n${rows.join('\n')}\n`);
  return file;
}

/** sha256 of every file under a directory, keyed by its path relative to it. */
function hashes(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && !e.name.startsWith('.') && !e.name.startsWith('_'))
      .map((e) => join(e.parentPath, e.name))
      .map((file) => [relative(dir, file), createHash('sha256').update(readFileSync(file)).digest('hex')]),
  );
}

function remoteTags(gitRemote: string): string[] {
  return execFileSync('git', ['tag', '--list'], { cwd: gitRemote, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('versioning the curated snapshot with DVC', () => {
  it('tags two runs with different data, and each tag restores its exact bytes through git checkout and dvc pull', async () => {
    // Prepare
    const { dir, store, versioning } = localLake();
    const functions = coreFunctions({ store, contracts });
    const curated = join(dir, 'lake', 'curated', 'orders');
    // Act
    const first = await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'a.csv', ['A1,1,paid', 'A2,2,paid']),
      store,
      contracts,
      functions,
      versioning,
    });
    const snapshotAfterFirst = hashes(curated);
    const second = await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'b.csv', ['B1,3,shipped']),
      store,
      contracts,
      functions,
      versioning,
    });
    const snapshotAfterSecond = hashes(curated);
    // Assess
    expect([first.report.status, second.report.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const versions = listVersions(versioning, 'orders');
    expect(versions.map((v) => v.rows)).toEqual([3, 2]);
    expect(remoteTags(versioning.gitRemote)).toHaveLength(2);
    const older = versions[1]!;
    const newer = versions[0]!;
    const restoredFirst = checkoutVersion(versioning, older.tag, join(dir, 'checkout-1'));
    expect(hashes(join(restoredFirst.dir, 'data', 'orders'))).toEqual(snapshotAfterFirst);
    const restoredSecond = checkoutVersion(versioning, newer.tag, join(dir, 'checkout-2'));
    expect(hashes(join(restoredSecond.dir, 'data', 'orders'))).toEqual(snapshotAfterSecond);
    const record = JSON.parse(
      await store.readText(
        'reports',
        runRecordKey('orders', (second.report.output as { ingest: { runId: string } }).ingest.runId),
      ),
    ) as RunRecord;
    expect(record.version).toMatchObject({ tag: newer.tag, md5: newer.md5, changed: true });
  });

  it('adds no commit and no tag when a repeated run leaves the snapshot unchanged, and says so', async () => {
    // Prepare
    const { dir, store, versioning } = localLake();
    const functions = coreFunctions({ store, contracts });
    const input = csv(dir, 'a.csv', ['A1,1,paid']);
    const first = await runUpload({
      dataset: 'orders',
      inputFile: input,
      store,
      contracts,
      functions,
      versioning,
    });
    const runId = (first.report.output as { ingest: { runId: string } }).ingest.runId;
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: versioning.gitRemote, encoding: 'utf8' });
    // The run is repeated, as after a fix: its record no longer says it succeeded.
    rmSync(join(dir, 'lake', 'reports', 'orders', 'runs', `${runId}.json`));
    // Act
    const again = await runUpload({
      dataset: 'orders',
      inputFile: input,
      store,
      contracts,
      functions,
      versioning,
    });
    // Assess
    expect(again.report.status).toBe('SUCCEEDED');
    expect(remoteTags(versioning.gitRemote)).toHaveLength(1);
    expect(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: versioning.gitRemote, encoding: 'utf8' })).toBe(
      head,
    );
    const record = JSON.parse(await store.readText('reports', runRecordKey('orders', runId))) as RunRecord;
    expect(record.version).toMatchObject({ changed: false, tag: remoteTags(versioning.gitRemote)[0] });
    expect(again.report.events.some((e) => e.detail?.includes('snapshot unchanged'))).toBe(true);
  });

  it('fails the run with VersioningFailed and leaves no tag when the push is rejected', async () => {
    // Prepare
    const { dir, store, versioning } = localLake();
    const functions = coreFunctions({ store, contracts });
    execFileSync('git', ['init', '--quiet', '--bare', versioning.gitRemote]);
    const hook = join(versioning.gitRemote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "pushes are closed for maintenance" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    // Act
    const { report } = await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'a.csv', ['A1,1,paid']),
      store,
      contracts,
      functions,
      versioning,
    });
    // Assess
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('VersioningFailed');
    expect(remoteTags(versioning.gitRemote)).toEqual([]);
    const failed = report.events.find((e) => e.type === 'BuildCommandFailed');
    expect(failed?.detail).toContain('pushes are closed for maintenance');
  });

  it('lets dvc repro re-run the prepare stage only when the dataset version changed', async () => {
    // Prepare
    const { dir, store, versioning } = localLake();
    const functions = coreFunctions({ store, contracts });
    await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'a.csv', ['A1,1,paid']),
      store,
      contracts,
      functions,
      versioning,
    });
    await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'b.csv', ['B1,2,paid']),
      store,
      contracts,
      functions,
      versioning,
    });
    const [newer, older] = listVersions(versioning, 'orders');
    const work = checkoutVersion(versioning, older!.tag, join(dir, 'work')).dir;
    const env = { ...process.env, PATH: `${toolsBin}:${process.env.PATH}`, DVC_NO_ANALYTICS: '1' };
    const dvc = (...args: string[]) =>
      execFileSync(join(toolsBin, 'dvc'), args, { cwd: work, env, encoding: 'utf8' });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'advice.detachedHead=false', ...args], { cwd: work, encoding: 'utf8' });
    // Act
    const firstRepro = dvc('repro');
    const unchanged = dvc('repro');
    git('checkout', '--quiet', newer!.tag);
    dvc('pull', '--quiet');
    const changed = dvc('repro');
    // Assess
    expect(firstRepro).toMatch(/Running stage 'prepare-orders'/);
    expect(unchanged).toMatch(/didn't change, skipping/);
    expect(unchanged).not.toMatch(/Running stage/);
    expect(changed).toMatch(/Running stage 'prepare-orders'/);
    expect(
      readFileSync(join(work, 'prepared', 'orders.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(2);
  });

  it("keeps one prepare stage per dataset in the repository's dvc.yaml, and dvc repro runs each", async () => {
    // Prepare
    const { dir, store, versioning } = localLake();
    const functions = coreFunctions({ store, contracts });
    for (const dataset of ['orders', 'refunds']) {
      await runUpload({
        dataset,
        inputFile: csv(dir, `${dataset}.csv`, [`${dataset}-1,1,paid`]),
        store,
        contracts,
        functions,
        versioning,
      });
    }
    const work = checkoutVersion(
      versioning,
      listVersions(versioning, 'refunds')[0]!.tag,
      join(dir, 'work'),
    ).dir;
    const env = { ...process.env, PATH: `${toolsBin}:${process.env.PATH}`, DVC_NO_ANALYTICS: '1' };
    execFileSync(join(toolsBin, 'dvc'), ['pull', '--quiet', 'data/orders.dvc', 'data/refunds.dvc'], {
      cwd: work,
      env,
    });
    // Act
    const repro = execFileSync(join(toolsBin, 'dvc'), ['repro'], { cwd: work, env, encoding: 'utf8' });
    // Assess
    expect(readFileSync(join(work, 'dvc.yaml'), 'utf8')).toMatch(/prepare-orders:[\s\S]*prepare-refunds:/);
    expect(repro).toMatch(/Running stage 'prepare-orders'/);
    expect(repro).toMatch(/Running stage 'prepare-refunds'/);
  });

  it('keeps a DVC cache between builds when one is named, and each tag still restores its bytes', async () => {
    // Prepare
    const { dir, versioning: kept, dvcCache, upload } = keptLake();
    const objects = () =>
      readdirSync(join(dvcCache, 'files', 'md5'), { recursive: true, withFileTypes: true }).filter((e) =>
        e.isFile(),
      ).length;
    // Act
    await upload('a.csv', ['A1,1,paid']);
    const afterFirst = objects();
    await upload('b.csv', ['B1,2,paid']);
    const afterSecond = objects();
    const restored = listVersions(kept, 'orders').map(
      (version) =>
        checkoutVersion(kept, version.tag, join(dir, `work-${version.tag.replace(/\W/g, '-')}`)).files,
    );
    // Assess: a partition and a .dir manifest per version, the first partition kept once; the newest
    // version restores two verified files, the first one.
    expect([afterFirst, afterSecond]).toEqual([2, 4]);
    expect(restored).toEqual([2, 1]);
  });

  it('keeps its clone between builds when a workspace is named: a build links only the new partition', async () => {
    // Prepare
    const { dir, versioning: kept, upload, curated } = keptLake({ workspace: true });
    await upload('a.csv', ['A1,1,paid']);
    // Act
    const second = await upload('b.csv', ['B1,2,paid']);
    // Assess: one partition was already there, one was linked; each tag restores its bytes.
    const synced = second.report.events.find((e) => e.detail?.includes('synced 2 files'));
    expect(synced?.detail).toContain('(1 already there, 1 hard-linked, 0 copied)');
    const newest = listVersions(kept, 'orders')[0]!;
    const restored = checkoutVersion(kept, newest.tag, join(dir, 'checkout'));
    expect(hashes(join(restored.dir, 'data', 'orders'))).toEqual(hashes(curated));
  });

  it('drops what a failed build committed and tagged in a kept clone, and the next build versions everything', async () => {
    // Prepare: a first version lands, then the remote refuses pushes for one run.
    const { dir, versioning, workspace, upload, curated } = keptLake({ workspace: true });
    await upload('a.csv', ['A1,1,paid']);
    const hook = join(versioning.gitRemote, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "pushes are closed for maintenance" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const refused = await upload('b.csv', ['B1,2,paid']);
    rmSync(hook);
    // Act
    const next = await upload('c.csv', ['C1,3,paid']);
    // Assess: the refused run failed; the next one tagged all three partitions; the clone holds
    // the remote's tags and no other.
    expect([refused.report.status, next.report.status]).toEqual(['FAILED', 'SUCCEEDED']);
    const tags = remoteTags(versioning.gitRemote);
    expect(tags).toHaveLength(2);
    expect(
      execFileSync('git', ['tag', '--list'], { cwd: workspace, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean),
    ).toEqual(tags);
    const newest = listVersions(versioning, 'orders')[0]!;
    const restored = checkoutVersion(versioning, newest.tag, join(dir, 'checkout'));
    expect(Object.keys(hashes(join(restored.dir, 'data', 'orders')))).toHaveLength(3);
    expect(hashes(join(restored.dir, 'data', 'orders'))).toEqual(hashes(curated));
  });

  it('never protects, links through or rewrites a curated file, which the snapshot hard-links', async () => {
    // Prepare
    const { dvcCache, upload, curated } = keptLake();
    const files = (root: string) =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name));
    const state = () =>
      Object.fromEntries(
        files(curated).map((file) => {
          const { mode, ino, mtimeMs } = statSync(file);
          return [
            relative(curated, file),
            { mode, ino, mtimeMs, sha256: hashes(curated)[relative(curated, file)] },
          ];
        }),
      );
    await upload('a.csv', ['A1,1,paid']);
    const before = state();
    // Act: a second version, whose snapshot hard-links the first partition again
    await upload('b.csv', ['B1,2,paid']);
    // Assess: the first partition as it was (writable, same inode, same bytes), and no DVC cache
    // object (read-only, kept between builds) is one of the curated files.
    const after = state();
    expect(Object.keys(after)).toHaveLength(Object.keys(before).length + 1);
    for (const [file, was] of Object.entries(before)) expect(after[file]).toEqual(was);
    for (const { mode } of Object.values(after)) expect(mode & 0o200).toBe(0o200);
    const curatedInodes = new Set(Object.values(after).map((f) => f.ino));
    const cached = files(join(dvcCache, 'files', 'md5')).map((file) => statSync(file));
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.filter((object) => curatedInodes.has(object.ino))).toEqual([]);
  });

  it('versions to an S3 remote (moto) and restores from it with dvc pull', async () => {
    // Prepare
    const lake = await motoLake(datasetsDir);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-versions-s3-'));
    const versioning: LocalVersioning = {
      gitRemote: join(dir, 'datasets.git'),
      dvcRemote: `s3://${lake.buckets.curated}/_dvc`,
      curatedRoot: `s3://${lake.buckets.curated}`,
      s3Endpoint: lake.endpoint,
      toolsBin,
    };
    // Act
    const { report } = await runUpload({
      dataset: 'orders',
      inputFile: csv(dir, 'a.csv', ['A1,1,paid', 'A2,2,shipped']),
      store: lake.store,
      contracts,
      functions: await handlerFunctions(),
      versioning,
    });
    // Assess
    expect(report.status).toBe('SUCCEEDED');
    expect((await lake.store.list('curated', '_dvc/files/md5/')).length).toBeGreaterThan(1);
    const [version] = listVersions(versioning, 'orders');
    const restored = checkoutVersion(versioning, version!.tag, join(dir, 'checkout'));
    const curatedKey = (report.output as { promotion: { curatedKey: string } }).promotion.curatedKey;
    const restoredFile = join(restored.dir, 'data', 'orders', curatedKey.slice('orders/'.length));
    expect(readFileSync(restoredFile, 'utf8')).toBe(await lake.store.readText('curated', curatedKey));
  });
});
