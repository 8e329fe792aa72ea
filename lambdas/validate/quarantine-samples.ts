import type { QuarantineEntry } from './engine-types.js';
import type { RowFailure } from './row-failure.js';

/** Quarantined rows kept for each expectation (and column) the data docs show them under. */
export const SAMPLES_PER_EXPECTATION = 20;

/**
 * The first quarantined rows of each failing expectation, with their row numbers, for the data
 * docs: a row is kept while one of its failures' expectations has fewer than
 * SAMPLES_PER_EXPECTATION rows kept. Bounded by the number of expectations, not of rows.
 */
export class QuarantineSamples {
  readonly entries: QuarantineEntry[] = [];
  private readonly kept = new Map<string, number>();

  wants(failures: readonly RowFailure[]): boolean {
    return failures.some((f) => (this.kept.get(keyOf(f)) ?? 0) < SAMPLES_PER_EXPECTATION);
  }

  add(entry: QuarantineEntry): void {
    for (const f of entry.failures) this.kept.set(keyOf(f), (this.kept.get(keyOf(f)) ?? 0) + 1);
    this.entries.push(entry);
  }
}

function keyOf(failure: RowFailure): string {
  return `${failure.expectation}\u0000${failure.column ?? ''}`;
}
