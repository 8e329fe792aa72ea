import { streamIntervalStatus } from '../../lambdas/ingest/stream.js';
import { describeError } from '../../lambdas/record-run/core.js';
import type { Contract } from '../../lambdas/shared/contract.js';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { lineageFromEnv } from '../../lambdas/shared/lineage-transport.js';
import type { ObjectStore } from '../../lambdas/shared/object-store.js';
import { type Interval, intervalAfter, parseSchedule } from '../../lambdas/shared/schedule.js';
import type { ExecutionReport, HistoryEvent } from '../local/asl-runner.js';
import { CountingObjectStore, STORE_CALLS, type StoreCallCounts } from '../local/counting-object-store.js';
import { coreFunctions, runInterval, runPartnerDrop, runSchedule, runUpload } from '../local/pipeline.js';
import { type LakeSpec, pipelineThreads } from '../local/pipeline-threads.js';
import type { LocalVersioning } from '../local/version-step.js';
import { contractsFor } from './contracts.js';
import { intervalToRun } from './deployed.js';
import { renderEvents, renderSteps } from './execution-tables.js';
import { EXIT } from './exit-codes.js';
import { type LakeOptions, openLake } from './lake.js';
import { labelled, table } from './table.js';

export interface RunCommandOptions extends LakeOptions {
  datasets: string;
  input?: string;
  intervalStart?: string;
  intervalEnd?: string;
  events?: boolean;
  json?: boolean;
  /** Take an interval off the schedule's grid or not ended yet. */
  force?: boolean;
  /** Seconds between progress lines (1 by default). */
  progressSeconds?: string | number;
  /** An upload's arrival time (ISO 8601), as the S3 event gives it; now by default. */
  receivedAt?: string;
  /** Count the object-store calls of the run, by zone, and print them (what `sluice cost` models). */
  countRequests?: boolean;
  /** Shards of a large batch validated at once, each in a worker thread; the number of cores by default. */
  workers?: string | number;
}

interface PipelineOutput {
  ingest?: {
    runId: string;
    dt: string;
    rawKey: string;
    sha256: string;
    size: number;
    alreadyProcessed: boolean;
    empty?: boolean;
    waiting?: boolean;
    waitingFor?: string;
    files?: number;
    manifestKey?: string;
  };
  validation?: {
    promote: boolean;
    summary: string;
    rows: { read: number; valid: number; quarantined: number };
    statistics: { evaluated_expectations: number; successful_expectations: number };
    reportKey: string;
    validatedKey: string;
    quarantineKey: string;
  };
  promotion?: { curatedKey: string };
  version?: { exported?: Array<{ Name: string; Value: string }> };
  record?: { recordKey: string };
}

/** --workers: a whole number of at least 1; undefined (the number of cores) when not given. */
function workersOf(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new ConfigurationError(`--workers must be a whole number of at least 1, not '${value}'`);
  }
  return workers;
}

export async function runCommand(dataset: string, options: RunCommandOptions): Promise<number> {
  const { contracts, contract } = contractsFor(dataset, options.datasets);
  const lake = await openLake(options);
  const { where, versioning } = lake;
  const counting = options.countRequests ? new CountingObjectStore(lake.store) : undefined;
  const store = counting ?? lake.store;
  const err = process.stderr;
  const pulled = !['s3-upload', 'partner-drop'].includes(contract.source.type);
  let interval: Interval | undefined;
  if (pulled) {
    if (options.input) {
      throw new ConfigurationError(
        `dataset '${dataset}' pulls from its ${contract.source.type} source; --input applies to s3-upload and partner-drop datasets (use --interval-start/--interval-end)`,
      );
    }
    interval = intervalToRun(contract, options);
    err.write(
      `sluice: running '${dataset}' for ${interval.start} – ${interval.end} from its ${contract.source.type} source (lake: ${where})\n`,
    );
  } else if (!options.input && contract.source.type === 'partner-drop') {
    err.write(
      `sluice: checking the deadlines of '${dataset}' partner batches, as its schedule does (lake: ${where})\n`,
    );
  } else {
    if (!options.input) {
      throw new ConfigurationError(
        `dataset '${dataset}' has a ${contract.source.type} source: give the data with --input <${contract.source.type === 'partner-drop' ? 'folder' : 'file'}>`,
      );
    }
    err.write(`sluice: running '${dataset}' on ${options.input} (lake: ${where})\n`);
  }

  if (lake.store instanceof FsObjectStore) {
    const stale = await lake.store.removeStaleTemps();
    if (stale.files.length > 0) {
      err.write(
        `sluice: removed ${stale.files.length} temporary file${stale.files.length === 1 ? '' : 's'} (${(stale.bytes / 1e6).toFixed(1)} MB) left in the lake by an interrupted run\n`,
      );
    }
  }

  // Ctrl-C or SIGTERM stops the run: the Version step's build is stopped and its lock released,
  // the steps under way finish, and the run is recorded as ABORTED. A second one exits at once.
  const controller = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      err.write(`sluice: ${signal} again: stopping at once\n`);
      process.exit(EXIT.interrupted);
    }
    err.write(
      `\nsluice: ${signal}: stopping the run once the step under way stops (${signal} again stops at once)\n`,
    );
    controller.abort(signal);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    return await runAndReport(
      dataset,
      options,
      { store, contracts, versioning, contract, interval, counting, spec: lake.spec },
      controller.signal,
    );
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

async function runAndReport(
  dataset: string,
  options: RunCommandOptions,
  lake: {
    store: ObjectStore;
    contracts: Map<string, Contract>;
    versioning: LocalVersioning;
    contract: Contract;
    interval: Interval | undefined;
    counting: CountingObjectStore | undefined;
    spec: LakeSpec;
  },
  signal: AbortSignal,
): Promise<number> {
  const { store, contracts, versioning, contract, interval, counting } = lake;
  const workers = workersOf(options.workers);
  const err = process.stderr;
  const progressEveryMs = Number(options.progressSeconds ?? 1) * 1000;
  if (!(progressEveryMs >= 0)) {
    throw new ConfigurationError(
      `--progress-seconds must be a number of seconds, not '${options.progressSeconds}'`,
    );
  }
  let lastProgress = Date.now();
  const common = {
    dataset,
    store,
    contracts,
    versioning,
    signal,
    workers,
    // Shards run in worker threads, on every core; counted calls must be made through this
    // thread's store, so a counted run validates its shards here.
    ...(counting ? {} : { threads: pipelineThreads(lake.spec, contracts) }),
    onWait: (message: string) => err.write(`    … ${message}\n`),
    functions: coreFunctions({
      store,
      contracts,
      // Standard error for the console transport: standard output is the summary, or --json.
      lineage: lineageFromEnv(process.env, { write: (line) => err.write(`${line}\n`) }),
      warn: (message) => err.write(`    ! ${message}\n`),
      onProgress: ({ rowsRead, bytesRead }) => {
        if (Date.now() - lastProgress < progressEveryMs) return;
        lastProgress = Date.now();
        err.write(`    … ${rowsRead.toLocaleString('en-US')} rows, ${(bytesRead / 1e6).toFixed(1)} MB\n`);
      },
    }),
    onEvent: (event: HistoryEvent) => {
      if (event.type === 'TaskStateEntered') err.write(`  ▸ ${event.step}\n`);
      if (event.type === 'LambdaFunctionFailed')
        err.write(`    ✗ ${event.step}: ${event.error}: ${event.cause}\n`);
      if (event.type === 'TaskStateRetried') err.write(`    ↻ retrying ${event.step}\n`);
      if (event.type === 'BuildCommandFailed')
        err.write(`    ✗ ${event.detail?.split('\n').slice(0, 12).join('\n      ')}\n`);
    },
  };
  const result = interval
    ? await runInterval({ ...common, interval, force: options.force })
    : contract.source.type === 'partner-drop'
      ? options.input
        ? await runPartnerDrop({ ...common, inputDir: options.input })
        : await runSchedule(common)
      : await runUpload({ ...common, inputFile: options.input!, clock: receivedAtClock(options.receivedAt) });
  const { report } = result;
  // Taken before the summary, which reads the lake too: the calls of the run and nothing else.
  const storeCalls = counting?.counts();
  const exitCode =
    report.status === 'SUCCEEDED' ? EXIT.ok : report.status === 'ABORTED' ? EXIT.interrupted : EXIT.failed;

  if (options.json) {
    process.stdout.write(`${JSON.stringify(storeCalls ? { ...report, storeCalls } : report, null, 2)}\n`);
    return exitCode;
  }

  const out: string[] = [];
  const took = ((report.stoppedAt - report.startedAt) / 1000).toFixed(2);
  out.push('', `Execution ${report.name}: ${report.status} in ${took} s`, '');
  out.push(options.events ? renderEvents(report) : renderSteps(report), '');
  const next =
    interval && contract.schedule ? intervalAfter(parseSchedule(contract.schedule), interval) : undefined;
  const stream =
    interval && contract.source.type === 'stream' && report.status === 'SUCCEEDED'
      ? await streamIntervalStatus(store, contract, contract.source, interval, new Date())
      : undefined;
  out.push(...summary(report, store, { dataset, interval, next, stream }));
  if (storeCalls) out.push(storeCallsTable(storeCalls), '');
  out.push(`History: sluice history ${report.name}${options.events ? '' : ' --events'}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return exitCode;
}

/** The interval a pulled run took, and the one after it, for what a stream run says it left waiting. */
interface RunContext {
  dataset: string;
  interval?: Interval;
  next?: Interval;
  /** A stream run: the hour the interval took, and the closed hours still waiting. */
  stream?: { partition?: string; backlog: string[] };
}

function summary(report: ExecutionReport, store: ObjectStore, context: RunContext): string[] {
  if (report.status === 'ABORTED') {
    return [
      'Run aborted: interrupted before it finished; the run record says ABORTED.',
      'Raw data, if it was landed, is kept unchanged; run the same input again to finish it.',
      '',
    ];
  }
  if (report.status === 'FAILED') {
    const lines = [
      `Run failed: ${report.error}`,
      indent(describeError({ Error: report.error ?? '', Cause: report.cause }).message),
    ];
    lines.push(
      '',
      'Raw data, if it was landed, is kept unchanged; the run record is in the reports zone.',
      '',
    );
    return lines;
  }
  const output = (report.status === 'SUCCEEDED' ? report.output : undefined) as PipelineOutput | undefined;
  const ingest = output?.ingest;
  if (!ingest) return [];
  const ran = { output, ingest, store, context };
  return nothingValidatedLines(report, ran) ?? validatedLines(ran);
}

/** What the summary of a run that ingested is made from. */
interface RunSummaryParts {
  output: PipelineOutput;
  ingest: NonNullable<PipelineOutput['ingest']>;
  store: ObjectStore;
  context: RunContext;
}

/**
 * Why a run validated nothing, when it did not: the bytes or the hour were processed before, a
 * partner batch is not complete, or there was nothing new.
 */
function nothingValidatedLines(report: ExecutionReport, ran: RunSummaryParts): string[] | undefined {
  const { output, ingest, store, context } = ran;
  if (ingest.alreadyProcessed && context.stream?.partition && context.interval) {
    return [
      `Already processed: interval ${context.interval.start} – ${context.interval.end} took hour ${context.stream.partition} (run ${ingest.runId}), which succeeded.`,
      ...backlogLines(context.stream.backlog, context),
      '',
    ];
  }
  if (ingest.alreadyProcessed) {
    return [
      `Already processed: run ${ingest.runId} of these bytes (sha256 ${ingest.sha256.slice(0, 12)}…) succeeded before.`,
      `Nothing was written. Raw: ${store.describe('raw', ingest.rawKey)}`,
      '',
    ];
  }
  if (
    ingest.waiting &&
    report.input &&
    (report.input as { trigger?: { type?: string } }).trigger?.type === 'schedule'
  ) {
    return [`Deadlines checked: ${ingest.waitingFor}. Nothing was landed.`, ''];
  }
  if (ingest.waiting) {
    return [
      `Waiting: the partner batch is not complete yet; missing ${ingest.waitingFor}.`,
      'Nothing was landed; the run of the file that completes it ingests the batch.',
      '',
    ];
  }
  if (ingest.empty && context.stream) {
    return [
      `Nothing new: interval ${context.interval?.start} – ${context.interval?.end} found no closed hour with objects not yet validated; nothing was validated.`,
      ...backlogLines(context.stream.backlog, context),
      ...(output.record ? [`Run record: ${store.describe('reports', output.record.recordKey)}`] : []),
      '',
    ];
  }
  if (ingest.empty) {
    return [
      `Nothing new: run ${ingest.runId} found no data above the source's watermark; nothing was landed or validated.`,
      ...(output.record ? [`Run record: ${store.describe('reports', output.record.recordKey)}`] : []),
      '',
    ];
  }
  return undefined;
}

/** The summary table of a run that validated a batch, with the validation's own summary. */
function validatedLines(ran: RunSummaryParts): string[] {
  const { output, ingest, store, context } = ran;
  const v = output.validation!;
  const files = ingest.files ?? 1;
  const rows: [string, string][] = [
    ['run', `${ingest.runId}  (dt=${ingest.dt})`],
    [
      'raw',
      `${store.describe('raw', ingest.rawKey)}${files > 1 ? ` and ${(files - 1).toLocaleString('en-US')} more` : ''}  (${files.toLocaleString('en-US')} file${files === 1 ? '' : 's'}, ${ingest.size.toLocaleString('en-US')} bytes)`,
    ],
    ['rows read', v.rows.read.toLocaleString('en-US')],
    ['validated', `${v.rows.valid.toLocaleString('en-US')}  ${store.describe('validated', v.validatedKey)}`],
    [
      'quarantined',
      `${v.rows.quarantined.toLocaleString('en-US')}  ${store.describe('quarantine', v.quarantineKey)}`,
    ],
    ['expectations', `${v.statistics.successful_expectations}/${v.statistics.evaluated_expectations} met`],
    ['report', store.describe('reports', v.reportKey)],
  ];
  if (context.stream?.partition) rows.splice(1, 0, ['hour', context.stream.partition]);
  if (output.promotion) rows.push(['curated', store.describe('curated', output.promotion.curatedKey)]);
  if (output.version) rows.push(['version', describeVersion(output.version)]);
  if (output.record) rows.push(['run record', store.describe('reports', output.record.recordKey)]);
  return [
    labelled(rows),
    '',
    v.summary,
    ...(context.stream ? backlogLines(context.stream.backlog, context) : []),
    '',
  ];
}

/**
 * What a stream run left waiting: each run of the schedule takes the oldest closed hour that holds
 * objects not yet validated, so the next one is taken by the next interval's run, once it ends.
 */
function backlogLines(backlog: string[], context: RunContext): string[] {
  if (backlog.length === 0) return [];
  const after =
    backlog.length > 1 ? `; ${backlog.length - 1} more closed hour(s) wait after it, one per run` : '';
  const when = context.next
    ? `the run of the next interval, ${context.next.start} – ${context.next.end}, takes it from ${context.next.end} (sluice run ${context.dataset} then)`
    : 'the next run of the schedule takes it';
  return [`Waiting: closed hour ${backlog[0]} holds objects not validated yet; ${when}${after}.`];
}

function describeVersion(version: NonNullable<PipelineOutput['version']>): string {
  const v = Object.fromEntries((version.exported ?? []).map((e) => [e.Name, e.Value]));
  const md5 = `dvc md5 ${v.SLUICE_DVC_MD5}`;
  if (v.SLUICE_VERSION_CHANGED === 'true')
    return `${v.SLUICE_VERSION_TAG}  (${md5}, commit ${v.SLUICE_VERSION_COMMIT?.slice(0, 10)})`;
  return `unchanged, already ${v.SLUICE_VERSION_TAG || 'versioned'}  (${md5})`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** The clock an upload's run reads its arrival time from: `--received-at` when given, else now. */
function receivedAtClock(receivedAt: string | undefined): (() => Date) | undefined {
  if (receivedAt === undefined) return undefined;
  const at = new Date(receivedAt);
  if (Number.isNaN(at.getTime())) {
    throw new ConfigurationError(`--received-at must be an ISO 8601 time, not '${receivedAt}'`);
  }
  return () => at;
}

/** The object-store calls of a run (`--count-requests`), a row per zone, a column per call. */
function storeCallsTable(calls: StoreCallCounts): string {
  const used = STORE_CALLS.filter((call) => Object.values(calls).some((byCall) => byCall[call]));
  return [
    'Object-store calls of this run, by zone (upload and the local history file included; sluice cost models them):',
    table(
      ['Zone', ...used],
      Object.entries(calls).map(([zone, byCall]) => [zone, ...used.map((call) => String(byCall[call] ?? 0))]),
    ),
  ].join('\n');
}
