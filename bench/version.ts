// Times Sluice's Version step (the buildspec run locally: clone, sync, dvc add, dvc push, commit,
// tag, push) against plain `dvc add && dvc push` of the same data to the same kind of remote.
//   node --import tsx bench/version.ts [--case large|small|both] [--size-mb 1024] [--files 10000]
// Needs the project's .venv (npm test or `node scripts/setup.mjs --python` installs it).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localVersionTask } from '../src/local/version-step.js';

const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'both' },
    'size-mb': { type: 'string', default: '1024' },
    files: { type: 'string', default: '10000' },
  },
});
const toolsBin = join(import.meta.dirname, '..', '.venv', 'bin');
const env = { ...process.env, PATH: `${toolsBin}:${process.env.PATH}`, DVC_NO_ANALYTICS: '1' };

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** Writes the dataset as curated partitions: `files` files adding up to `bytes`. */
function generate(curated: string, files: number, bytes: number): void {
  const per = Math.floor(bytes / files);
  const chunk = randomBytes(Math.min(per, 8 * 1024 * 1024));
  for (let i = 0; i < files; i++) {
    const dir = join(
      curated,
      'bench',
      `dt=2026-11-${String((i % 28) + 1).padStart(2, '0')}`,
      `run=${String(i).padStart(6, '0')}`,
    );
    mkdirSync(dir, { recursive: true });
    const parts: Buffer[] = [];
    for (let written = 0; written < per; written += chunk.length)
      parts.push(chunk.subarray(0, Math.min(chunk.length, per - written)));
    // Distinct content per file, so DVC stores every file.
    parts.push(Buffer.from(`${i}\n`));
    writeFileSync(join(dir, 'part-00000.jsonl'), Buffer.concat(parts));
  }
}

/** Sluice's Version step for one version (`tag` must be new), with the time of each build command. */
async function sluiceVersion(
  work: string,
  curatedRoot: string,
  tag: string,
): Promise<{ total: number; steps: string[] }> {
  const task = localVersionTask({
    gitRemote: join(work, 'datasets.git'),
    dvcRemote: join(work, 'remote-sluice'),
    curatedRoot,
    toolsBin,
  });
  const started = process.hrtime.bigint();
  let last = Date.now();
  const steps: string[] = [];
  await task(
    {
      ProjectName: 'bench',
      EnvironmentVariablesOverride: [
        { Name: 'SLUICE_DATASET', Value: 'bench' },
        { Name: 'SLUICE_RUN_ID', Value: tag },
        { Name: 'SLUICE_TAG', Value: `bench@${tag}` },
        { Name: 'SLUICE_VALIDATION', Value: 'passed' },
      ],
    },
    {
      emit: (event) => {
        const now = Date.now();
        const command = (event.detail ?? '')
          .split('\n')
          .map((line) => line.trim())
          .find(
            (line) =>
              line &&
              !line.startsWith('#') &&
              !line.startsWith('[pre_build] #') &&
              !line.startsWith('[build] #'),
          );
        steps.push(`${((now - last) / 1000).toFixed(2).padStart(7)} s  ${(command ?? '').slice(0, 80)}`);
        last = now;
      },
    },
  );
  return { total: seconds(started), steps };
}

/** Plain DVC in a repository of its own: the data copied in, then timed `dvc add` + `dvc push`. */
function plainDvc(work: string, curated: string, first: boolean): number {
  const repo = join(work, 'plain');
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: repo, env, stdio: 'pipe' });
  if (first) {
    mkdirSync(repo);
    run('git', ['init', '--quiet']);
    run('dvc', ['init', '--quiet']);
    run('dvc', ['remote', 'add', '--default', 'store', join(work, 'remote-plain')]);
  }
  rmSync(join(repo, 'data', 'bench'), { recursive: true, force: true });
  cpSync(curated, join(repo, 'data', 'bench'), { recursive: true });
  const started = process.hrtime.bigint();
  run('dvc', ['add', '--quiet', 'data/bench']);
  run('dvc', ['push', '--quiet']);
  return seconds(started);
}

async function bench(name: string, files: number, bytes: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-version-'));
  try {
    const curatedRoot = join(work, 'curated');
    const started = process.hrtime.bigint();
    generate(curatedRoot, files, bytes);
    console.log(
      `${name}: ${files.toLocaleString('en-US')} files, ${(bytes / 2 ** 20).toFixed(0)} MiB (generated in ${seconds(started).toFixed(1)} s)`,
    );
    const report = (label: string, plain: number, sluice: { total: number; steps: string[] }) => {
      console.log(`  ${label}`);
      console.log(`    plain dvc add + dvc push    ${plain.toFixed(2)} s`);
      console.log(`    Sluice Version step         ${sluice.total.toFixed(2)} s, of which:`);
      for (const step of sluice.steps) console.log(`      ${step}`);
      const ratio = sluice.total / plain;
      console.log(
        `    ratio Sluice / plain        ${ratio.toFixed(3)}  (overhead ${((ratio - 1) * 100).toFixed(1)} %)`,
      );
    };
    // First version: Sluice also initialises DVC, its remote and the prepare stage in the repository.
    report(
      'first version',
      plainDvc(work, join(curatedRoot, 'bench'), true),
      await sluiceVersion(work, curatedRoot, 'v1'),
    );
    // A later version after one more batch: what every recurring run pays.
    generate(join(curatedRoot, 'more'), 1, Math.max(1024, Math.floor(bytes / files)));
    cpSync(join(curatedRoot, 'more', 'bench'), join(curatedRoot, 'bench', 'dt=2026-12-01'), {
      recursive: true,
    });
    report(
      'next version (one more batch)',
      plainDvc(work, join(curatedRoot, 'bench'), false),
      await sluiceVersion(work, curatedRoot, 'v2'),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (values.case === 'large' || values.case === 'both')
  await bench('large', 10, Number(values['size-mb']) * 2 ** 20);
if (values.case === 'small' || values.case === 'both')
  await bench('small', Number(values.files), Number(values.files) * 2048);
