/**
 * Errors whose `name` the state machine matches in `Retry` and `Catch`.
 * A message says what was wrong, where (file, key, row, column) and what was expected.
 */
export class SluiceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A dataset contract that cannot be used: bad YAML, unknown expectation, bad kwargs, unknown column. */
export class ContractInvalid extends SluiceError {}

/** A batch that broke its contract so that it cannot be promoted. */
export class ValidationFailed extends SluiceError {}

/**
 * An expectation whose kwargs set `catch_exceptions: false` could not be evaluated (a column the
 * file lacks, a value a numeric aggregate cannot use): as in GX, the validation stops with it.
 */
export class ExpectationRaised extends SluiceError {}

/** A source that could not be reached or read; transient, so the state machine retries it. */
export class SourceUnavailable extends SluiceError {}

/** Different bytes offered under a raw key that already holds an object: raw is write-once. */
export class RawObjectConflict extends SluiceError {}

/** A file that cannot be read as its declared format: bad encoding, broken CSV, invalid JSON line. */
export class MalformedInput extends SluiceError {}

/** An object that was expected in the lake and is not there. */
export class ObjectNotFound extends SluiceError {}

/** A source type, format or trigger this deployment does not handle. */
export class UnsupportedSource extends SluiceError {}

/** The Version step could not make a DVC version: dvc, git or the push failed. Nothing was tagged. */
export class VersioningFailed extends SluiceError {}

/** Missing or wrong configuration (environment variables, CLI options). */
export class ConfigurationError extends SluiceError {}

/**
 * A source that answered, but refused what was asked as asked: an unknown table or column, bad
 * credentials, an HTTP 4xx other than 429. Not transient, so not retried: the contract or the
 * source must change.
 */
export class SourceRefused extends SluiceError {}

/**
 * Another run moved the dataset's watermark while this one extracted; the extraction was retried
 * from the new watermark and lost again. Transient: the state machine retries it.
 */
export class WatermarkConflict extends SluiceError {}

/** A partner batch that was not completed (marker, manifest or a listed file missing) by its deadline. */
export class IncompleteBatch extends SluiceError {}

/** A file whose bytes do not match the checksum its batch manifest lists. Nothing was promoted. */
export class ChecksumMismatch extends SluiceError {}

/**
 * A data interval a pulled or stream run may not take: off its schedule's grid (it would overlap
 * the intervals the schedule runs, and land their records twice). Refused unless forced.
 */
export class IntervalNotAllowed extends SluiceError {}

/**
 * A data interval that has not ended yet. An interval is pulled once, so pulling it early would
 * keep a partial result for ever. Refused unless forced.
 */
export class IntervalNotClosed extends SluiceError {}

/**
 * A programming error inside Sluice (a TypeError, a broken invariant), not a problem of the data
 * or the source: never transient, so never retried. The message names the original error and the
 * first place in the code it was thrown from; `cause` keeps its whole stack.
 */
export class InternalError extends SluiceError {
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

/** Every error name the state machine can see from a Sluice task. */
export const SLUICE_ERROR_NAMES = [
  'ContractInvalid',
  'ValidationFailed',
  'ExpectationRaised',
  'SourceUnavailable',
  'RawObjectConflict',
  'MalformedInput',
  'ObjectNotFound',
  'UnsupportedSource',
  'VersioningFailed',
  'ConfigurationError',
  'SourceRefused',
  'WatermarkConflict',
  'IncompleteBatch',
  'ChecksumMismatch',
  'IntervalNotAllowed',
  'IntervalNotClosed',
  'InternalError',
] as const;
