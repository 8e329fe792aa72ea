// Times Sluice's Version step (the buildspec run locally: clone, sync, dvc add, dvc push, commit,
// tag, push) against plain `dvc add && dvc push` of the same data to the same kind of remote.
//   node --import tsx bench/version.ts [--case large|small|both] [--size-mb 1024] [--files 10000] [--rounds 3] [--as-deployed]
//   node --import tsx bench/version.ts --as-deployed --history 100 [--batch-kb 1024]
//     the build time of the 1st, 10th and 100th version of a dataset that grows by one batch a run
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
    rounds: { type: 'string', default: '3' },
    /**
     * Give each build a fresh clone and an empty DVC cache, as a deployed CodeBuild build has. By
     * default the Version step keeps its clone and one DVC cache between builds, as `sluice run`
     * does (`<lake>/version-workspace`, `<lake>/dvc-cache`).
     */
    'as-deployed': { type: 'boolean', default: false },
    /** Version a dataset this many times, one new batch each, and time the 1st, 10th, 100th, ... build. */
    history: { type: 'string' },
    /** The size of each batch of --history. */
    'batch-kb': { type: 'string', default: '1024' },
  },
});
const toolsBin = join(import.meta.dirname, '..', '.venv', 'bin');
const env = { ...process.env, PATH: `${toolsBin}:${process.env.PATH}`, DVC_NO_ANALYTICS: '1' };

/**
 * Writes what the page cache still holds to disk before a timed section: otherwise the gigabyte
 * written just before (the generated data, the other side's push) is flushed during it, and the
 * side timed second pays for the first.
 */
function settle(): void {
  execFileSync('sync');
}

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
    // Kept between the versions of a round, as `sluice run` keeps it beside the local lake's
    // repository and plain DVC's repository keeps its own.
    ...(values['as-deployed']
      ? {}
      : { dvcCache: join(work, 'dvc-cache'), workspace: join(work, 'version-workspace') }),
  });
  settle();
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
        // The times a command reports of its own parts ("... in 1.23 s"), e.g. sync, add and push.
        for (const line of (event.detail ?? '').split('\n'))
          if (/ in \d+\.\d+ s/.test(line)) steps.push(`             ${line.trim().slice(0, 100)}`);
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
  settle();
  const started = process.hrtime.bigint();
  run('dvc', ['add', '--quiet', 'data/bench']);
  run('dvc', ['push', '--quiet']);
  return seconds(started);
}

interface Timed {
  total: number;
  steps: string[];
}

async function bench(name: string, files: number, bytes: number, rounds: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-version-'));
  try {
    const curatedRoot = join(work, 'curated');
    const started = process.hrtime.bigint();
    generate(curatedRoot, files, bytes);
    // The batch a later run adds: one more partition of the same size as the others.
    generate(join(work, 'more'), 1, Math.max(1024, Math.floor(bytes / files)));
    const extra = join(curatedRoot, 'bench', 'dt=2026-12-01');
    console.log(
      `${name}: ${files.toLocaleString('en-US')} files, ${(bytes / 2 ** 20).toFixed(0)} MiB (generated in ${seconds(started).toFixed(1)} s), ${rounds} round${rounds === 1 ? '' : 's'}; Sluice's clone and DVC cache ${values['as-deployed'] ? 'fresh in each build (as deployed)' : 'kept between builds (as sluice run keeps them)'}`,
    );
    // Each round versions the data twice on each side, in fresh repositories and remotes. The side
    // that goes first alternates: the gigabytes one side writes are still being flushed while the
    // other runs (sync before each timed part is not enough on this kind of disk), so one fixed
    // order favours one side by up to 30%. Medians of the rounds are compared.
    const results = {
      first: { plain: [] as number[], sluice: [] as Timed[] },
      next: { plain: [] as number[], sluice: [] as Timed[] },
    };
    for (let round = 0; round < rounds; round++) {
      const dir = join(work, `round-${round}`);
      mkdirSync(dir);
      rmSync(extra, { recursive: true, force: true });
      const plainFirst = round % 2 === 0;
      const version = async (which: 'first' | 'next') => {
        const tag = which === 'first' ? 'v1' : 'v2';
        const doPlain = () =>
          results[which].plain.push(plainDvc(dir, join(curatedRoot, 'bench'), which === 'first'));
        const doSluice = async () => results[which].sluice.push(await sluiceVersion(dir, curatedRoot, tag));
        if (plainFirst) {
          doPlain();
          await doSluice();
        } else {
          await doSluice();
          doPlain();
        }
      };
      await version('first');
      cpSync(join(work, 'more', 'bench'), extra, { recursive: true });
      await version('next');
      rmSync(dir, { recursive: true, force: true });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const report = (label: string, plains: number[], sluices: Timed[]) => {
      const plain = median(plains);
      const sluice = median(sluices.map((t) => t.total));
      const typical = sluices.find((t) => t.total === sluice)!;
      console.log(`  ${label}`);
      console.log(
        `    plain dvc add + dvc push    ${plain.toFixed(2)} s  (rounds: ${plains.map((x) => x.toFixed(2)).join(', ')})`,
      );
      console.log(
        `    Sluice Version step         ${sluice.toFixed(2)} s  (rounds: ${sluices.map((t) => t.total.toFixed(2)).join(', ')}); the median round:`,
      );
      for (const step of typical.steps) console.log(`      ${step}`);
      const ratio = sluice / plain;
      console.log(
        `    ratio Sluice / plain        ${ratio.toFixed(3)}  (overhead ${((ratio - 1) * 100).toFixed(1)} %, medians)`,
      );
    };
    // First version: Sluice also initialises DVC, its remote and the prepare stage in the repository.
    report('first version', results.first.plain, results.first.sluice);
    // A later version after one more batch: what every recurring run pays.
    report('next version (one more batch)', results.next.plain, results.next.sluice);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A dataset versioned `versions` times, one batch of `batchBytes` more each time, each build as the
 * chosen mode runs it; prints the build time of the 1st, 10th, 100th, ... version, which should
 * not grow with the history when builds are incremental.
 */
async function history(versions: number, batchBytes: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-history-'));
  try {
    const curatedRoot = join(work, 'curated');
    console.log(
      `history: ${versions} versions, one batch of ${(batchBytes / 1024).toFixed(0)} KiB more each; builds ${values['as-deployed'] ? 'as deployed (fresh clone, no DVC cache)' : 'as sluice run (kept clone and DVC cache)'}`,
    );
    const times: number[] = [];
    for (let version = 1; version <= versions; version++) {
      const dir = join(curatedRoot, 'bench', 'dt=2026-12-01', `run=${String(version).padStart(6, '0')}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'part-00000.jsonl'),
        Buffer.concat([randomBytes(batchBytes), Buffer.from('\n')]),
      );
      times.push((await sluiceVersion(work, curatedRoot, `v${version}`)).total);
    }
    for (let version = 1; version <= versions; version *= 10) {
      // The median of the version and its neighbours, so one slow build on a shared machine is not the figure.
      const around = times
        .slice(Math.max(0, version - 2), Math.min(versions, version + 1))
        .sort((a, b) => a - b);
      console.log(
        `  version ${String(version).padStart(4)}  (${version} files, ${((version * batchBytes) / 2 ** 20).toFixed(1)} MiB)  ${times[version - 1]!.toFixed(2)} s  (median of versions ${Math.max(1, version - 1)}-${Math.min(versions, version + 1)}: ${around[Math.floor(around.length / 2)]!.toFixed(2)} s)`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (values.history !== undefined) {
  await history(Number(values.history), Number(values['batch-kb']) * 1024);
} else {
  const rounds = Number(values.rounds);
  if (values.case === 'large' || values.case === 'both')
    await bench('large', 10, Number(values['size-mb']) * 2 ** 20, rounds);
  if (values.case === 'small' || values.case === 'both')
    await bench('small', Number(values.files), Number(values.files) * 2048, rounds);
}
