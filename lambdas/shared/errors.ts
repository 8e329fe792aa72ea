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
  abstract override readonly name: SluiceErrorName;
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
] as const;

export type SluiceErrorName = (typeof SLUICE_ERROR_NAMES)[number];
