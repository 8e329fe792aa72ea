/**
 * Whether a validated batch may be promoted, and why not.
 *
 * - on_failure 'reject': any failed expectation of severity error (the schema entry included) blocks.
 * - on_failure 'quarantine': failing rows go to quarantine and the rest is promoted, unless a
 *   table-level (or aggregate) expectation of severity error failed, a row-level one whose kwargs
 *   set `mostly` fell below it (the quarantine budget is spent), or rows were read and none is valid.
 * - In both: an expectation of severity error that could not be evaluated blocks; severity
 *   warning never blocks; required columns missing from the header block.
 */
import type { Contract, Severity } from '../shared/contract.js';
import type { ExpectationKind } from '../shared/expectation-catalogue.js';
import type { Finding } from './expectations.js';

export interface Decision {
  promote: boolean;
  reasons: string[];
  /** Failed expectations of severity warning: reported, never blocking. */
  warnings: string[];
}

/** One expectation's finding, with what the decision needs to know about the expectation. */
export interface Judged {
  severity: Severity;
  kind: ExpectationKind;
  finding: Finding;
}

export function decide(
  onFailure: Contract['on_failure'],
  judged: readonly Judged[],
  rows: { read: number; valid: number },
  stoppedBecause?: string,
): Decision {
  const warnings = judged
    .filter((j) => j.severity === 'warning' && !j.finding.success)
    .map((j) => `${j.finding.summary}.`);
  if (stoppedBecause !== undefined) return { promote: false, reasons: [stoppedBecause], warnings };
  const reasons: string[] = [];
  for (const { severity, kind, finding } of judged) {
    if (finding.success || severity !== 'error') continue;
    if (finding.exception !== undefined) reasons.push(`${finding.summary}.`);
    else if (onFailure === 'reject') reasons.push(`${finding.summary} (on_failure: reject).`);
    else if (kind === 'table' || kind === 'column_aggregate') reasons.push(`${finding.summary}.`);
    else if (finding.mostly !== undefined) reasons.push(`Quarantine budget exceeded: ${finding.summary}.`);
  }
  if (onFailure === 'quarantine' && rows.read > 0 && rows.valid === 0) {
    reasons.push(
      `None of the ${rows.read} rows read is valid: all were quarantined, nothing is left to promote.`,
    );
  }
  return { promote: reasons.length === 0, reasons, warnings };
}
