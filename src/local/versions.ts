import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ConfigurationError, VersioningFailed } from '../../lambdas/shared/errors.js';
import type { LocalVersioning } from './version-step.js';

export interface DatasetVersion {
  tag: string;
  date: string;
  run?: string;
  md5?: string;
  rows?: number;
  size?: number;
  validation?: string;
}

function git(args: string[], cwd?: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The versions of a dataset: its tags in the dataset repository, newest first, with what each tag records. */
export function listVersions(versioning: LocalVersioning, dataset: string): DatasetVersion[] {
  if (!existsSync(join(versioning.gitRemote, 'HEAD'))) return [];
  const out = git(
    [
      'for-each-ref',
      '--sort=-creatordate',
      '--format=%(refname:strip=2)%09%(creatordate:iso-strict)%09%(*objectname)%09%(contents:subject)',
      `refs/tags/${dataset}@*`,
    ],
    versioning.gitRemote,
  );
  // Dates have whole seconds, and builds can tag twice in one: each version's commit is a child of
  // the one before, so the commits' order (newest first) settles what the date cannot.
  const position = new Map(
    git(['rev-list', '--topo-order', '--all'], versioning.gitRemote)
      .split('\n')
      .map((commit, index) => [commit, index]),
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t'))
    .sort(
      ([, a = '', x = ''], [, b = '', y = '']) =>
        Date.parse(b) - Date.parse(a) ||
        (position.get(x) ?? Number.MAX_SAFE_INTEGER) - (position.get(y) ?? Number.MAX_SAFE_INTEGER),
    )
    .map(([tag = '', date = '', , subject = '']) => {
      let meta: Partial<DatasetVersion> & { run?: string } = {};
      try {
        meta = JSON.parse(subject) as typeof meta;
      } catch {
        // a tag made by hand
      }
      return {
        tag,
        date,
        run: meta.run,
        md5: meta.md5,
        rows: meta.rows,
        size: meta.size,
        validation: meta.validation,
      };
    });
}

export interface CheckoutResult {
  dir: string;
  files: number;
  md5: string;
}

/**
 * Restores a version: clones the dataset repository into `dir`, checks out the tag, `dvc pull`s
 * the data and checks every file against the md5 that DVC recorded for it.
 */
export function checkoutVersion(versioning: LocalVersioning, tag: string, dir: string): CheckoutResult {
  const dataset = tag.split('@')[0] ?? '';
  if (!dataset || !tag.includes('@')) {
    throw new ConfigurationError(
      `'${tag}' is not a version tag; expected <dataset>@<version>, as 'sluice versions' lists`,
    );
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new ConfigurationError(`${dir} is not empty; checkout restores into a new or empty directory`);
  }
  if (!listVersions(versioning, dataset).some((v) => v.tag === tag)) {
    throw new ConfigurationError(
      `no version '${tag}' in ${versioning.gitRemote}; 'sluice versions ${dataset}' lists them`,
    );
  }
  git(['clone', '--quiet', versioning.gitRemote, dir]);
  git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', tag], dir);
  const env = {
    ...process.env,
    PATH: `${versioning.toolsBin}:${process.env.PATH ?? ''}`,
    DVC_NO_ANALYTICS: '1',
    ...(versioning.s3Endpoint ? { AWS_ENDPOINT_URL_S3: versioning.s3Endpoint } : {}),
  };
  const dvc = (args: string[]) =>
    execFileSync(join(versioning.toolsBin, 'dvc'), args, {
      cwd: dir,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  if (versioning.s3Endpoint)
    dvc(['remote', 'modify', '--local', 'lake', 'endpointurl', versioning.s3Endpoint]);
  try {
    dvc(['pull', '--quiet', `data/${dataset}.dvc`]);
  } catch (error) {
    throw new VersioningFailed(
      `dvc pull of ${tag} failed: ${(error as { stderr?: string }).stderr ?? error}`,
    );
  }
  return { dir, ...verifyAgainstDvc(dir, dataset) };
}

/** Compares every file of data/<dataset>/ with the directory manifest DVC keeps for it. */
export function verifyAgainstDvc(dir: string, dataset: string): { files: number; md5: string } {
  const dvcFile = readFileSync(join(dir, 'data', `${dataset}.dvc`), 'utf8');
  const md5 = /md5:\s*([0-9a-f]{32}\.dir)/.exec(dvcFile)?.[1];
  if (!md5) throw new VersioningFailed(`data/${dataset}.dvc has no directory md5`);
  const manifestPath = join(dir, '.dvc', 'cache', 'files', 'md5', md5.slice(0, 2), md5.slice(2));
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Array<{ md5: string; relpath: string }>;
  const root = join(dir, 'data', dataset);
  const present = listFiles(root);
  const expected = manifest.map((entry) => entry.relpath).sort();
  if (present.join('\n') !== expected.join('\n')) {
    throw new VersioningFailed(
      `data/${dataset} holds ${present.length} files where version ${md5} has ${expected.length}`,
    );
  }
  for (const entry of manifest) {
    const actual = createHash('md5')
      .update(readFileSync(join(root, entry.relpath)))
      .digest('hex');
    if (actual !== entry.md5) {
      throw new VersioningFailed(`data/${dataset}/${entry.relpath}: md5 ${actual}, expected ${entry.md5}`);
    }
  }
  return { files: manifest.length, md5 };
}

function listFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}
