import { execFile, type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './documented.js';

export interface Project {
  /** The working directory commands run in: `datasets/` (the repository's contracts), `my.csv`, `examples/`. */
  dir: string;
  /** A fresh lake, given to every command as `--lake`. */
  lake: string;
}

/**
 * A directory laid out as the documents assume a user's checkout is: the repository's contracts in
 * `datasets/`, `examples/orders.csv`, and `my.csv` (the README's own file: a copy of the example).
 */
export function freshProject(): Project {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  mkdirSync(join(dir, 'datasets'));
  mkdirSync(join(dir, 'examples'));
  for (const file of ['orders.yaml', 'contract.schema.json'])
    copyFileSync(join(root, 'datasets', file), join(dir, 'datasets', file));
  copyFileSync(join(root, 'examples', 'orders.csv'), join(dir, 'examples', 'orders.csv'));
  copyFileSync(join(root, 'examples', 'orders.csv'), join(dir, 'my.csv'));
  return { dir, lake: join(dir, '.lake') };
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeout?: number;
}

/** `sluice <words…>` as a user runs it, through bin/sluice.mjs, on the project's lake. */
export function sluice(
  project: Project,
  words: string[],
  options: RunOptions = {},
): SpawnSyncReturns<string> {
  if (words[0] !== 'sluice') throw new Error(`not a sluice command: ${words.join(' ')}`);
  return spawnSync(
    process.execPath,
    [join(root, 'bin', 'sluice.mjs'), '--lake', project.lake, ...words.slice(1)],
    {
      cwd: project.dir,
      encoding: 'utf8',
      env: { ...process.env, ...options.env },
      timeout: options.timeout ?? 120_000,
    },
  );
}

/** Any other program (git, dvc, cdk) in the project's directory. */
export function program(
  cwd: string,
  file: string,
  args: string[],
  options: RunOptions = {},
): SpawnSyncReturns<string> {
  return spawnSync(file, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.timeout ?? 120_000,
  });
}

/** The project's own dvc and cdk, as `npm run` and `npx` find them. */
export const DVC = join(root, '.venv', 'bin', 'dvc');
export const CDK = join(root, 'node_modules', '.bin', 'cdk');

/**
 * `sluice <words…>` started in its own process group, as a shell starts a foreground job, so that
 * Ctrl-C (SIGINT to the group) reaches it and every program it started. Resolves with what it
 * printed and how it ended; `onStderr` sees stderr as it arrives.
 */
export function sluiceJob(
  project: Project,
  words: string[],
  onStderr: (text: string, job: { interrupt: () => void }) => void,
  options: RunOptions = {},
): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'sluice.mjs'), '--lake', project.lake, ...words.slice(1)],
    {
      cwd: project.dir,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const job = { interrupt: () => process.kill(-child.pid!, 'SIGINT') };
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    onStderr(stderr, job);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `sluice <words…>` without blocking this process, for commands that talk to a server the test
 * itself serves (a blocking spawn would stop that server from answering).
 */
export function sluiceAsync(project: Project, words: string[], options: RunOptions = {}): Promise<Finished> {
  if (words[0] !== 'sluice') throw new Error(`not a sluice command: ${words.join(' ')}`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'sluice.mjs'), '--lake', project.lake, ...words.slice(1)],
      {
        cwd: project.dir,
        encoding: 'utf8',
        env: { ...process.env, ...options.env },
        timeout: options.timeout ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(Object.assign(error, { stdout, stderr }));
        else resolve({ status: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
