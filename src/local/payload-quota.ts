// The payload quota of Step Functions, enforced by the local runner as the service enforces it.

/**
 * Step Functions' quota on the input and output of a state, the parameters and result of a task,
 * and an execution's input and output: 256 KiB of UTF-8 JSON.
 */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** The size of a payload as Step Functions counts it: its JSON in UTF-8. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * `States.DataLimitExceeded`, as Step Functions raises it: terminal, so that no Retry and no Catch
 * (not even `States.ALL`) handles it, and the execution fails at once. The interpreter reads
 * `isRetryable` and `isCatchable`.
 */
class DataLimitExceeded extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.DataLimitExceeded';
  }
}

function tooLarge(what: string, bytes: number): DataLimitExceeded {
  return new DataLimitExceeded(
    `${what} is ${bytes.toLocaleString('en-US')} bytes, over the ${PAYLOAD_LIMIT_BYTES.toLocaleString('en-US')}-byte payload quota of Step Functions; pass S3 keys (a manifest), not lists that grow with the data`,
  );
}

/**
 * The first payload found over the quota: it fails the execution, as in Step Functions, where the
 * task or state that produced it fails with an error no Retry or Catch handles.
 */
export class PayloadQuota {
  exceeded: DataLimitExceeded | undefined;

  /** The size of `value`; throws (and remembers) `States.DataLimitExceeded` when it is over. */
  check(what: string, value: unknown): number {
    const bytes = payloadBytes(value);
    if (bytes > PAYLOAD_LIMIT_BYTES) {
      this.exceeded ??= tooLarge(what, bytes);
      throw this.exceeded;
    }
    return bytes;
  }

  /** Once the quota was exceeded, no further task runs. */
  throwIfExceeded(): void {
    if (this.exceeded) throw this.exceeded;
  }

  /** Remembers a payload over the quota seen after its state ran; true if it is the first. */
  noteOver(what: string, bytes: number): boolean {
    if (bytes <= PAYLOAD_LIMIT_BYTES || this.exceeded) return false;
    this.exceeded = tooLarge(what, bytes);
    return true;
  }
}
