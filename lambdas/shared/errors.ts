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

/** Every error name the state machine can see from a Sluice task. */
export const SLUICE_ERROR_NAMES = [
  'ContractInvalid',
  'ValidationFailed',
  'SourceUnavailable',
  'RawObjectConflict',
  'MalformedInput',
  'ObjectNotFound',
  'UnsupportedSource',
  'VersioningFailed',
  'ConfigurationError',
] as const;
