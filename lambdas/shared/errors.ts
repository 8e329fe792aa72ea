/**
 * Errors whose `name` the state machine matches in `Retry` and `Catch`.
 * A message says what was wrong, where (file, key, row, column) and what was expected.
 *
 * Each class spells its name as a literal rather than taking it from the class (`new.target.name`):
 * a minifier renames classes, and the Lambda runtime reports `error.name` as the error type that
 * Step Functions matches. The bundles also keep class names (`keepNames`), but the literal is what
 * holds whatever bundles the code.
 */
export abstract class SluiceError extends Error {
  abstract override readonly name: string;
}

/** A dataset contract that cannot be used: bad YAML, unknown expectation, bad kwargs, unknown column. */
export class ContractInvalid extends SluiceError {
  override readonly name = 'ContractInvalid';
}

/** A batch that broke its contract so that it cannot be promoted. */
export class ValidationFailed extends SluiceError {
  override readonly name = 'ValidationFailed';
}

/**
 * An expectation whose kwargs set `catch_exceptions: false` could not be evaluated (a column the
 * file lacks, a value a numeric aggregate cannot use): as in GX, the validation stops with it.
 */
export class ExpectationRaised extends SluiceError {
  override readonly name = 'ExpectationRaised';
}

/** A source that could not be reached or read; transient, so the state machine retries it. */
export class SourceUnavailable extends SluiceError {
  override readonly name = 'SourceUnavailable';
}

/** Different bytes offered under a raw key that already holds an object: raw is write-once. */
export class RawObjectConflict extends SluiceError {
  override readonly name = 'RawObjectConflict';
}

/** A file that cannot be read as its declared format: bad encoding, broken CSV, invalid JSON line. */
export class MalformedInput extends SluiceError {
  override readonly name = 'MalformedInput';
}

/** An object that was expected in the lake and is not there. */
export class ObjectNotFound extends SluiceError {
  override readonly name = 'ObjectNotFound';
}

/** A source type, format or trigger this deployment does not handle. */
export class UnsupportedSource extends SluiceError {
  override readonly name = 'UnsupportedSource';
}

/** The Version step could not make a DVC version: dvc, git or the push failed. Nothing was tagged. */
export class VersioningFailed extends SluiceError {
  override readonly name = 'VersioningFailed';
}

/** Missing or wrong configuration (environment variables, CLI options). */
export class ConfigurationError extends SluiceError {
  override readonly name = 'ConfigurationError';
}

/**
 * A source that answered, but refused what was asked as asked: an unknown table or column, bad
 * credentials, an HTTP 4xx other than 429. Not transient, so not retried: the contract or the
 * source must change.
 */
export class SourceRefused extends SluiceError {
  override readonly name = 'SourceRefused';
}

/**
 * Another run moved the dataset's watermark while this one extracted; the extraction was retried
 * from the new watermark and lost again. Transient: the state machine retries it.
 */
export class WatermarkConflict extends SluiceError {
  override readonly name = 'WatermarkConflict';
}

/** A partner batch that was not completed (marker, manifest or a listed file missing) by its deadline. */
export class IncompleteBatch extends SluiceError {
  override readonly name = 'IncompleteBatch';
}

/** A file whose bytes do not match the checksum its batch manifest lists. Nothing was promoted. */
export class ChecksumMismatch extends SluiceError {
  override readonly name = 'ChecksumMismatch';
}

/**
 * A data interval a pulled or stream run may not take: off its schedule's grid (it would overlap
 * the intervals the schedule runs, and land their records twice). Refused unless forced.
 */
export class IntervalNotAllowed extends SluiceError {
  override readonly name = 'IntervalNotAllowed';
}

/**
 * A data interval that has not ended yet. An interval is pulled once, so pulling it early would
 * keep a partial result for ever. Refused unless forced.
 */
export class IntervalNotClosed extends SluiceError {
  override readonly name = 'IntervalNotClosed';
}

/**
 * A Great Expectations suite that cannot become a Sluice contract, or a contract that cannot
 * become a GX suite (`sluice import gx`, `sluice export gx`): each expectation Sluice or GX cannot
 * run is named by its position (`expectations[3]`) with the reason.
 */
export class SuiteUnsupported extends SluiceError {
  override readonly name = 'SuiteUnsupported';
}

/**
 * An Open Data Contract Standard (ODCS) contract that cannot become a Sluice contract, or a
 * contract that cannot become ODCS (`sluice import odcs`, `sluice export odcs`): each rule or
 * element Sluice cannot run is named by its position (`schema[0].properties[2].quality[1]`) with
 * the reason.
 */
export class OdcsUnsupported extends SluiceError {
  override readonly name = 'OdcsUnsupported';
}

/**
 * A contract change that readers of the curated table cannot follow (a removed column, a changed
 * type, a required column added): named with the dataset, the column and the reason, by
 * `sluice check --against` and by synth against the `contractBaseline`.
 */
export class SchemaChangeIncompatible extends SluiceError {
  override readonly name = 'SchemaChangeIncompatible';
}

/**
 * A record value that the contract's schema admits but the curated Parquet column cannot hold
 * (an integer beyond 64 bits, a date-time before year 1): promotion stops and names the record.
 */
export class UnrepresentableValue extends SluiceError {
  override readonly name = 'UnrepresentableValue';
}

/**
 * A programming error inside Sluice (a TypeError, a broken invariant), not a problem of the data
 * or the source: never transient, so never retried. The message names the original error and the
 * first place in the code it was thrown from; `cause` keeps its whole stack.
 */
export class InternalError extends SluiceError {
  override readonly name = 'InternalError';

  /** The InternalError that names `error`, thrown while `doing` (e.g. "ingesting dataset 'orders'"). */
  static wrapping(error: Error, doing: string): InternalError {
    const frame = error.stack
      ?.split('\n')
      .find((line) => line.trimStart().startsWith('at '))
      ?.trim();
    return new InternalError(
      `a bug in Sluice while ${doing}: ${error.name}: ${error.message}${frame ? ` (${frame})` : ''}. ` +
        `This is not a problem of the source or the data, and it is not retried; report it with this message.`,
      { cause: error },
    );
  }
}

/**
 * Whether an error is a programming error of JavaScript code (Sluice's or a library's) rather
 * than a failure of I/O, the network or a database: a TypeError, RangeError, ReferenceError,
 * SyntaxError, EvalError or URIError, or a failed assertion. Retrying cannot make it pass.
 */
export function isProgrammingError(error: unknown): error is Error {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError ||
    error instanceof EvalError ||
    error instanceof URIError ||
    (error instanceof Error && error.name === 'AssertionError')
  );
}

/**
 * A local run stopped by SIGINT or SIGTERM (Ctrl-C): what it held is released and its run is
 * recorded as ABORTED. Never raised deployed, where Step Functions aborts executions itself.
 */
export class RunInterrupted extends SluiceError {
  override readonly name = 'RunInterrupted';
}

/**
 * SQL that `sluice query` could not run over the local lake: it does not parse, names a view or
 * column that is not there, or failed while running (a value that does not convert).
 */
export class QueryFailed extends SluiceError {
  override readonly name = 'QueryFailed';
}

/** Every error class a Sluice task throws for the state machine to match (by its name). */
export const SLUICE_ERRORS = [
  ContractInvalid,
  ValidationFailed,
  ExpectationRaised,
  SourceUnavailable,
  RawObjectConflict,
  MalformedInput,
  ObjectNotFound,
  UnsupportedSource,
  VersioningFailed,
  ConfigurationError,
  SourceRefused,
  WatermarkConflict,
  IncompleteBatch,
  ChecksumMismatch,
  IntervalNotAllowed,
  IntervalNotClosed,
  InternalError,
  RunInterrupted,
  SuiteUnsupported,
  QueryFailed,
  OdcsUnsupported,
  SchemaChangeIncompatible,
  UnrepresentableValue,
] as const;

/** The name a Sluice error is thrown with: what Retry and Catch match. */
export type SluiceErrorName = InstanceType<(typeof SLUICE_ERRORS)[number]>['name'];

/** Every error name the state machine can see from a Sluice task: the names SLUICE_ERRORS are thrown with. */
export const SLUICE_ERROR_NAMES: readonly SluiceErrorName[] = SLUICE_ERRORS.map(
  (ErrorClass) => new ErrorClass('').name,
);
