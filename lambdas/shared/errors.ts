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
] as const;

/** Every error name the state machine can see from a Sluice task: the names of SLUICE_ERRORS. */
export const SLUICE_ERROR_NAMES: readonly string[] = SLUICE_ERRORS.map((errorClass) => errorClass.name);
