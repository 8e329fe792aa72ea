import type { SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { DVC, freshProject, type Project, program, sluice } from './support/cli.js';
import { COVERED, type DocumentedCommand, documented, words } from './support/documented.js';

// The README's local path, as a user follows it: `sluice run` on the orders example, then the
// commands that inspect what it left (runs, history, versions, checkout), and a version restored
// with plain git and dvc. The runs happen once, before the tests; the tests only read the lake (a
// versioned run costs seconds of dvc), each into directories of its own.

let project: Project;
/** `sluice run orders --input my.csv`, then the same file again with `-i … --events`, then `--json`. */
let first: SpawnSyncReturns<string>;
let again: SpawnSyncReturns<string>;
let asJson: SpawnSyncReturns<string>;

const [runInput, runEvents] = (() => {
  const runs = documented(COVERED.runUpload);
  return [runs.find((c) => !c.text.includes('--events'))!, runs.find((c) => c.text.includes('--events'))!];
})();

beforeAll(() => {
  project = freshProject();
  first = sluice(project, words(runInput));
  again = sluice(project, words(runEvents));
  asJson = sluice(project, [...words(runInput), '--json']);
}, 240_000);

/** The first run's execution name and version tag, as it printed them. */
function printed() {
  const execution = first.stdout.match(/^History: sluice history (\S+)/m)?.[1];
  const tag = first.stdout.match(/^version\s+(orders@\S+)/m)?.[1];
  if (!execution || !tag) throw new Error(`the first run printed no execution or tag:\n${first.stdout}`);
  return { execution, tag };
}

/** The curated Parquet files of the lake (base64), by their path under the dataset: what a version must give back. */
function curatedFiles(): Map<string, string> {
  const dir = join(project.lake, 'lake', 'curated', 'orders');
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
  return new Map(files.map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

/** The `.parquet` files under a restored `data/orders/` (or a checkout's directory), by the same paths. */
function restoredFiles(dir: string): Map<string, string> {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
  return new Map(
    files.map((f) => [relative(dir, join(dir, f)), readFileSync(join(dir, f)).toString('base64')]),
  );
}

const unique = (commands: DocumentedCommand[]) => [...new Map(commands.map((c) => [c.text, c])).values()];

describe('the README on a local lake', () => {
  it('runs my.csv through the orders pipeline: validated, quarantined, promoted and versioned', () => {
    // Assess
    expect(first.stderr).not.toMatch(/Error/);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/Execution orders-\S+: SUCCEEDED/);
    expect(first.stdout).toMatch(/VersionWithDvc\s+Task\s+Succeeded/);
    expect(first.stdout).toMatch(/rows read\s+300/);
    expect(first.stdout).toMatch(/quarantined\s+10\s/);
    expect(first.stdout).toMatch(
      /^version\s+orders@\d{4}-\d\d-\d\d-[0-9a-f]{16}\s+\(dvc md5 [0-9a-f]{32}\.dir/m,
    );
  });

  it('runs the same file again as a visible no-op, printing every history event with --events', () => {
    // Assess
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Already processed: run [0-9a-f]{16}/);
    expect(again.stdout).toMatch(/ExecutionStarted/);
    expect(again.stdout).toMatch(/ExecutionSucceeded/);
  });

  it('prints the execution report as JSON with --json', () => {
    // Assess
    expect(asJson.status).toBe(0);
    const report = JSON.parse(asJson.stdout) as {
      status: string;
      output: { ingest: { alreadyProcessed: boolean } };
    };
    expect(report).toMatchObject({ status: 'SUCCEEDED', output: { ingest: { alreadyProcessed: true } } });
  });

  it('lists the recorded run with sluice runs, as a table and as JSON', () => {
    // Prepare
    const [runs] = documented(COVERED.runs);
    const runId = printed().tag.slice(-16);
    // Act
    const result = sluice(project, words(runs!));
    const json = sluice(project, [...words(runs!), '--json']);
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^${runId}\\s+\\d{4}-\\d\\d-\\d\\d\\s+SUCCEEDED\\s+\\S+\\s+300\\s+290\\s+10`, 'm'),
    );
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ runId, status: 'SUCCEEDED' })]);
  });

  it("prints the history of the run by the execution name the run printed, or of the dataset's newest run", () => {
    // Prepare: <execution> is the name after "History: sluice history" in the run's output; a
    // dataset's name stands for its newest run
    const histories = unique(documented(COVERED.localHistory));
    expect(histories.length).toBeGreaterThan(0);
    for (const history of histories) {
      // Act
      const result = sluice(project, words(history, { '<execution>': printed().execution }));
      // Assess
      expect([history.text, result.status]).toEqual([history.text, 0]);
      expect(result.stdout).toMatch(/SUCCEEDED/);
      expect(result.stdout).toMatch(/Step\s+Type\s+Status\s+Started\s+Duration/);
    }
  });

  it('lists the version with its tag, rows and DVC md5', () => {
    for (const versions of unique(documented(COVERED.versions))) {
      // Act
      // On a terminal wide enough for the whole md5 (a narrower one cuts it with …).
      const result = sluice(project, words(versions), { env: { COLUMNS: '160' } });
      // Assess
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(
        new RegExp(
          `^${printed().tag}\\s+\\S+\\s+290\\s+[\\d.]+ KiB\\s+[0-9a-f]{32}\\.dir\\s+quarantined`,
          'm',
        ),
      );
    }
  });

  it('restores the version with sluice checkout, every byte as curated', () => {
    // Prepare: the README writes the tag as orders@2026-11-25-<run> and <tag>, the directory as
    // /tmp/v1 and <dir>; they are the first run's tag and a new temporary directory.
    const { tag } = printed();
    const commands = documented(COVERED.checkout);
    expect(commands.map((c) => c.text)).toEqual([
      'sluice checkout orders@2026-11-25-<run> /tmp/v1',
      'sluice checkout <tag> <dir>',
    ]);
    for (const checkout of commands) {
      const dir = join(mkdtempSync(join(tmpdir(), 'sluice-e2e-checkout-')), 'v1');
      // Act
      const result = sluice(
        project,
        words(checkout, { 'orders@2026-11-25-<run>': tag, '<tag>': tag, '/tmp/v1': dir, '<dir>': dir }),
      );
      // Assess
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`restored ${tag} into ${dir}: 1 file`);
      expect(restoredFiles(join(dir, 'data', 'orders'))).toEqual(curatedFiles());
    }
  });

  it('restores the version with git clone, git checkout <tag> and dvc pull', () => {
    // Prepare: docs/deploy.md's "Getting a version back on a laptop", on the lake's dataset
    // repository; $DATASET_REPOSITORY_CLONE_URL is that repository and 'orders@2026-11-25-…' the tag.
    const { tag } = printed();
    const fill = {
      $DATASET_REPOSITORY_CLONE_URL: join(project.lake, 'datasets.git'),
      'orders@2026-11-25-…': tag,
    };
    let cwd = mkdtempSync(join(tmpdir(), 'sluice-e2e-clone-'));
    const outputs: Record<string, SpawnSyncReturns<string>> = {};
    // Act
    for (const command of documented(COVERED.gitCheckoutDvcPull)) {
      const all = words(command, fill);
      for (const step of splitAnd(all)) {
        if (step[0] === 'cd') {
          cwd = join(cwd, step[1]!);
          continue;
        }
        const result = program(cwd, step[0] === 'dvc' ? DVC : step[0]!, step.slice(1));
        outputs[step.slice(0, 2).join(' ')] = result;
        expect([step.join(' '), result.status, result.stderr]).toEqual([
          step.join(' '),
          0,
          expect.any(String),
        ]);
      }
    }
    // Assess
    expect(outputs['git tag']!.stdout).toContain(tag);
    expect(restoredFiles(join(cwd, 'data', 'orders'))).toEqual(curatedFiles());
  });

  it('has the dvc the deployed build pins', () => {
    // Prepare: the `pip install` line of docs/deploy.md names the versions
    const [pip] = documented(/^pip install "dvc==/);
    const pinned = pip!.text.match(/"dvc==([\d.]+)"/)![1];
    // Act
    const result = program(project.dir, DVC, ['--version']);
    // Assess
    expect(result.stdout.trim()).toBe(pinned);
  });
});

/** `a b && c d` as [[a, b], [c, d]]. */
function splitAnd(all: string[]): string[][] {
  const steps: string[][] = [[]];
  for (const word of all) {
    if (word === '&&') steps.push([]);
    else steps.at(-1)!.push(word);
  }
  return steps;
}
