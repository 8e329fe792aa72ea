/**
 * `sluice validate <contract> <file>`: the validate step on a local CSV or JSON Lines file, without
 * the lake. Prints a per-expectation summary, writes GX-shaped JSON and HTML data docs on request,
 * and exits 1 when the batch would not be promoted.
 */
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { type Contract, isJsonDocuments, loadStandaloneContractFile } from '../../lambdas/shared/contract.js';
import { RESULT_FORMAT_LEVELS, type ResultFormatLevel } from '../../lambdas/shared/result-format-levels.js';
import { renderValidationHtml } from '../../lambdas/validate/data-docs.js';
import { type ValidationOutcome, validateStream } from '../../lambdas/validate/engine.js';
import { documentRecordLines } from '../../lambdas/validate/json-document-reader.js';
import { type ExpectationValidationResult, publishedResult } from '../../lambdas/validate/result-format.js';
import { shardTargetBytes } from '../../lambdas/validate/shard-plan.js';
import { planFile, type ShardedProgress, validateFileInShards } from '../local/shard-workers.js';
import { table, terminalWidth, wrap } from './table.js';

export interface ValidateCommandOptions {
  resultFormat?: string;
  /** A file to write the result JSON to; `true` prints it on stdout instead of the summary. */
  json?: string | boolean;
  html?: string;
  /** Show the progress bar from this file size on (bytes). */
  progressFrom?: number;
  /**
   * Shards validated at once, in worker threads (default: the machine's cores). A file larger than
   * the contract's shard size (format.shard_mb) is validated in shards; a smaller one is a single
   * shard, read in one pass.
   */
  workers?: string | number;
}

const PROGRESS_FROM = 4 * 1024 * 1024;

export async function validateCommand(
  contractFile: string,
  file: string,
  options: ValidateCommandOptions = {},
): Promise<number> {
  try {
    // The file validated here is not in the lake: a contract named otherwise still applies to it.
    let contract = loadStandaloneContractFile(contractFile, (message) =>
      process.stderr.write(`sluice: warning: ${message} (sluice check and sluice run refuse this)\n`),
    );
    if (options.resultFormat !== undefined) contract = withResultFormat(contract, options.resultFormat);
    const workers = workerCount(options.workers);
    const size = statSync(file).size;
    const showProgress = size >= (options.progressFrom ?? PROGRESS_FROM);
    const plan = isJsonDocuments(contract.format)
      ? undefined
      : await planFile(file, contract, shardTargetBytes(contract.format));
    const outcome =
      plan !== undefined && plan.shards.length > 1
        ? (
            await validateFileInShards(file, contract, plan, {
              workers,
              source: file,
              onProgress: showProgress ? shardProgress(size) : undefined,
            })
          ).outcome
        : await onePass(contract, file, size, showProgress, options.html !== undefined);
    const report = {
      ...publishedResult(outcome.result),
      meta: { ...outcome.result.meta, dataset: contract.name, decision: outcome.decision },
    };
    if (typeof options.json === 'string') writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    if (options.html) {
      writeFileSync(
        options.html,
        renderValidationHtml(outcome.result, {
          dataset: contract.name,
          decision: outcome.decision,
          rows: outcome.rows,
          ...(outcome.profile ? { profile: outcome.profile } : {}),
          ...(outcome.quarantineSamples ? { quarantineSamples: outcome.quarantineSamples } : {}),
        }),
      );
    }
    process.stdout.write(
      options.json === true
        ? `${JSON.stringify(report, null, 2)}\n`
        : summary(contract, file, outcome, options),
    );
    return outcome.decision.promote ? 0 : 1;
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 2;
  }
}

/** Validates the whole file in one pass, as one Lambda invocation does. */
async function onePass(
  contract: Contract,
  file: string,
  size: number,
  showProgress: boolean,
  report: boolean,
) {
  const progress = showProgress ? progressBar(size) : undefined;
  const outcome = await validateStream(
    isJsonDocuments(contract.format)
      ? Readable.from(
          documentRecordLines(
            createReadStream(file, { highWaterMark: 256 * 1024 }),
            file,
            contract.format.documents.records_path,
            contract.format.max_record_bytes,
          ),
        )
      : createReadStream(file, { highWaterMark: 256 * 1024 }),
    contract,
    // No rows are written here: the engine skips producing them.
    {},
    // Profiles and quarantined rows are for the HTML report: without one, they are not gathered.
    {
      source: file,
      onProgress: progress?.update,
      sizeBytes: size,
      profile: report,
      quarantineSamples: report,
    },
  );
  progress?.done();
  return outcome;
}

/** `--workers`: a positive integer, the machine's cores when not given. */
function workerCount(value: string | number | undefined): number {
  if (value === undefined) return availableParallelism();
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`--workers must be a positive integer, got '${value}'`);
  }
  return count;
}

/** The contract with every expectation's result_format set to the level given on the command line. */
function withResultFormat(contract: Contract, level: string): Contract {
  const upper = level.toUpperCase() as ResultFormatLevel;
  if (!RESULT_FORMAT_LEVELS.includes(upper)) {
    throw new Error(`--result-format must be one of ${RESULT_FORMAT_LEVELS.join(', ')}, got '${level}'`);
  }
  return {
    ...contract,
    expectations: contract.expectations.map((e) => ({ ...e, kwargs: { ...e.kwargs, result_format: upper } })),
  };
}

/** The human summary: the rows, one line per expectation, then the decision. */
export function summary(
  contract: Contract,
  file: string,
  outcome: ValidationOutcome,
  options: ValidateCommandOptions = {},
): string {
  const { rows, decision, result } = outcome;
  const width = terminalWidth();
  const lines = result.results.map((r) => [
    mark(r),
    r.expectation_config.type,
    columnsOf(r.expectation_config.kwargs),
    r.expectation_config.severity,
    observedOf(r),
  ]);
  const out = [
    wrap(`${contract.name}: ${file}`, width),
    `rows read ${rows.read.toLocaleString('en-US')}, valid ${rows.valid.toLocaleString('en-US')}, quarantined ${rows.quarantined.toLocaleString('en-US')}`,
    '',
    table(['', 'Expectation', 'Column', 'Severity', 'Observed'], lines, width),
    '',
  ];
  for (const warning of decision.warnings) out.push(wrap(`warning: ${warning}`, width, '  '));
  out.push(
    decision.promote
      ? 'Would be promoted.'
      : `Would NOT be promoted:\n${decision.reasons.map((r) => wrap(`  - ${r}`, width, '    ')).join('\n')}`,
  );
  if (typeof options.json === 'string') out.push(wrap(`Result JSON: ${options.json}`, width));
  if (options.html) out.push(wrap(`Data docs: ${options.html}`, width));
  return `${out.join('\n')}\n`;
}

function mark(r: ExpectationValidationResult): string {
  if (r.success) return '✓';
  return r.expectation_config.severity === 'warning' ? '!' : '✗';
}

function columnsOf(kwargs: Record<string, unknown>): string {
  const named = [kwargs.column, kwargs.column_A, kwargs.column_B, kwargs.column_list].flat();
  return named.filter((c): c is string => typeof c === 'string').join(', ');
}

function observedOf(r: ExpectationValidationResult): string {
  const res = r.result;
  if (r.exception_info.raised_exception) return `not evaluated: ${r.exception_info.exception_message ?? ''}`;
  let text = '';
  if (res.element_count !== undefined) {
    text = `${res.unexpected_count ?? 0} unexpected of ${res.element_count}`;
    const sample = res.partial_unexpected_list?.slice(0, 3).map((v) => JSON.stringify(v));
    if (sample && sample.length > 0) text += `, e.g. ${sample.join(', ')}`;
  } else if ('observed_value' in res) {
    text = `observed ${JSON.stringify(res.observed_value)}`;
  }
  return text;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
function progressBar(total: number) {
  const started = Date.now();
  let drawn = 0;
  let lastTenth = -1;
  const tty = process.stderr.isTTY === true;
  const draw = (bytes: number, rows: number, final: boolean) => {
    const share = total === 0 ? 1 : Math.min(1, bytes / total);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(rows / seconds).toLocaleString('en-US') : '…';
    const width = 30;
    const filled = Math.round(share * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${rows.toLocaleString('en-US')} rows  ${rate} rows/s`;
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else {
      const tenth = Math.floor(share * 10);
      if (tenth !== lastTenth || final) {
        lastTenth = tenth;
        process.stderr.write(`${line}\n`);
      }
    }
  };
  let last = { bytes: 0, rows: 0 };
  return {
    update: (p: { bytesRead: number; rowsRead: number }) => {
      last = { bytes: p.bytesRead, rows: p.rowsRead };
      const now = Date.now();
      if (now - drawn >= 200) {
        drawn = now;
        draw(p.bytesRead, p.rowsRead, false);
      }
    },
    done: () => draw(last.bytes, last.rows, true),
  };
}

/** Progress of a sharded validation on stderr: shards done, share of the file read, MB/s. */
function shardProgress(total: number): (progress: ShardedProgress) => void {
  const started = Date.now();
  let drawn = 0;
  let shardsDrawn = -1;
  const tty = process.stderr.isTTY === true;
  return ({ shardsDone, shards, bytesRead }) => {
    const now = Date.now();
    const final = shardsDone === shards;
    // On a terminal, redrawn in place; otherwise a line each time a shard is done.
    if (tty ? now - drawn < 200 && !final : shardsDone === shardsDrawn) return;
    drawn = now;
    shardsDrawn = shardsDone;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? (bytesRead / 1e6 / seconds).toFixed(1) : '…';
    const share = total === 0 ? 1 : Math.min(1, bytesRead / total);
    const line = `shards ${shardsDone}/${shards}  ${(share * 100).toFixed(0).padStart(3)}%  ${rate} MB/s`;
    process.stderr.write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
}
