import { loadContractsLeniently } from '../../lambdas/shared/contract.js';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import type { RunRecord } from '../../lambdas/shared/run-record.js';
import type { ExecutionReport } from '../local/asl-runner.js';
import { renderEvents, renderSteps } from './execution-tables.js';
import { type LakeOptions, openLake } from './lake.js';
import { table, terminalWidth } from './table.js';

/** The datasets the contracts directory defines (broken contracts too), or undefined when it cannot be read. */
function knownDatasets(dir: string | undefined): string[] | undefined {
  if (!dir) return undefined;
  try {
    const { contracts, broken } = loadContractsLeniently(dir);
    return [...new Set([...contracts.keys(), ...broken.map((b) => b.dataset)])].sort();
  } catch (error) {
    if (error instanceof ConfigurationError) return undefined;
    throw error;
  }
}

/** Lists a dataset's run records, newest first. */
export async function runsCommand(
  dataset: string,
  options: LakeOptions & { datasets?: string; json?: boolean },
): Promise<number> {
  const { store } = await openLake(options);
  const keys = (await store.list('reports', `${dataset}/runs/`)).filter((key) =>
    /\/runs\/[^/]+\.json$/.test(key),
  );
  const records = await Promise.all(
    keys.map(async (key) => JSON.parse(await store.readText('reports', key)) as RunRecord),
  );
  records.sort((a, b) =>
    (b.finishedAt ?? b.startedAt ?? '').localeCompare(a.finishedAt ?? a.startedAt ?? ''),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    return 0;
  }
  if (records.length === 0) {
    const known = knownDatasets(options.datasets);
    if (known && !known.includes(dataset)) {
      process.stderr.write(
        `sluice: no dataset '${dataset}': no contract in ${options.datasets} and no runs in ${store.describe('reports', `${dataset}/runs/`)}; known datasets: ${known.join(', ') || '(none)'}\n`,
      );
      return 2;
    }
    process.stdout.write(
      `no runs recorded for '${dataset}' yet (looked in ${store.describe('reports', `${dataset}/runs/`)})\n`,
    );
    return 0;
  }
  const rows = records.map((r) => [
    r.runId,
    r.dt,
    r.status,
    r.finishedAt ?? '',
    r.validation ? String(r.validation.rows.read) : '',
    r.validation ? String(r.validation.rows.valid) : '',
    r.validation ? String(r.validation.rows.quarantined) : '',
    r.error ? `${r.error.name}: ${r.error.message.split('\n')[0]!.slice(0, 60)}` : '',
  ]);
  process.stdout.write(
    // The run id stays whole: it names the run's folders and record.
    `${table(['Run', 'dt', 'Status', 'Finished', 'Read', 'Valid', 'Quarantined', 'Error'], rows, terminalWidth(), { keep: [0] })}\n`,
  );
  return 0;
}

/**
 * Prints the saved history of a local execution: by its name, or, given a dataset, its newest
 * execution (as `history` resolves a dataset on a deployed stack).
 */
export async function historyCommand(
  execution: string,
  options: LakeOptions & { events?: boolean; json?: boolean },
): Promise<number> {
  const { store } = await openLake(options);
  const key = (await executionKeyOf(store, execution)) ?? (await newestExecutionKey(store, execution));
  if (!key) {
    process.stderr.write(
      `sluice: no local execution '${execution}' and no execution of a dataset '${execution}' ` +
        `(looked in ${store.describe('reports', `${execution.replace(EXECUTION_SUFFIX, '')}/executions/`)})\n`,
    );
    return 2;
  }
  const report = JSON.parse(await store.readText('reports', key)) as ExecutionReport;
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`Execution ${report.name}: ${report.status}\n\n`);
  process.stdout.write(`${options.events ? renderEvents(report) : renderSteps(report)}\n`);
  if (report.error) process.stdout.write(`\n${report.error}: ${report.cause}\n`);
  return 0;
}

/** A local execution's name ends in its start time (to the second) and a random suffix. */
const EXECUTION_SUFFIX = /-(\d{8}T\d{6})-[0-9a-f]+$/;

async function executionKeyOf(store: ObjectStore, name: string): Promise<string | undefined> {
  if (!EXECUTION_SUFFIX.test(name)) return undefined;
  const key = `${name.replace(EXECUTION_SUFFIX, '')}/executions/${name}.json`;
  return (await store.head('reports', key)) ? key : undefined;
}

/** The newest saved execution of a dataset: latest start second by name, then by the start time saved. */
async function newestExecutionKey(store: ObjectStore, dataset: string): Promise<string | undefined> {
  const prefix = `${dataset}/executions/`;
  const keys = (await store.list('reports', prefix)).filter((key) => {
    const name = key.slice(prefix.length).replace(/\.json$/, '');
    return !name.includes('/') && name.replace(EXECUTION_SUFFIX, '') === dataset;
  });
  const second = (key: string) => EXECUTION_SUFFIX.exec(key.replace(/\.json$/, ''))?.[1] ?? '';
  const latest = keys.map(second).sort().at(-1);
  const candidates = keys.filter((key) => second(key) === latest);
  if (candidates.length <= 1) return candidates[0];
  const started = await Promise.all(
    candidates.map(
      async (key) =>
        [key, (JSON.parse(await store.readText('reports', key)) as ExecutionReport).startedAt] as const,
    ),
  );
  return started.sort((a, b) => b[1] - a[1])[0]![0];
}
