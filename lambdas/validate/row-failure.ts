/** One reason a row failed, as the quarantine records it. */
export interface RowFailure {
  column: string | null;
  expectation: string;
  reason: string;
  value?: unknown;
}
