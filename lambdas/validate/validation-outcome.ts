/**
 * What a validation returns once every record is read: the Great Expectations-shaped suite result
 * of each expectation's finding, the promotion decision, and a sentence per expectation.
 */
import type { Contract } from '../shared/contract.js';
import { type Decision, decide, type Judged } from './decision.js';
import type { QuarantineEntry } from './engine-types.js';
import type { Evaluator, Finding } from './expectations.js';
import type { Profile } from './profile.js';
import {
  type ExpectationValidationResult,
  NO_EXCEPTION,
  type SuiteValidationResult,
} from './result-format.js';

export interface ValidationOutcome {
  result: SuiteValidationResult;
  rows: { read: number; valid: number; quarantined: number };
  decision: Decision;
  /** One sentence per entry of result.results, in its order: the expectation, what was observed and expected. */
  summaries: string[];
  /** Each column's profile, when the validation profiled (it does unless told not to). */
  profile?: Profile;
  /** The first quarantined rows of each expectation (quarantine-samples.ts); absent from a merge of shards. */
  quarantineSamples?: QuarantineEntry[];
}

/** An expectation (the schema's entry first) with what it found. */
export interface Evaluated {
  evaluator: Evaluator;
  finding: Finding;
}

/** What the run saw, beyond the findings. */
export interface RunFacts {
  rows: ValidationOutcome['rows'];
  /** The CSV header, or the JSON Lines keys seen when an expectation asked for them. */
  columns: string[] | undefined;
  /** Why validation stopped before the rows were read (a header lacking required columns). */
  stopped: string | undefined;
  /** Names the input, e.g. s3://bucket/key: the result's batch_spec.path. */
  source: string | undefined;
  validationTime: Date;
}

/** The suite result, decision and summaries of a validation of `contract`. */
export function validationOutcome(
  contract: Contract,
  evaluated: readonly Evaluated[],
  facts: RunFacts,
): ValidationOutcome {
  const { rows, columns, stopped } = facts;
  const results: ExpectationValidationResult[] = evaluated.map(({ evaluator, finding }) => ({
    success: finding.success,
    expectation_config: {
      type: evaluator.config.type,
      kwargs: evaluator.config.kwargs,
      // GX keeps what it does not model in meta: the severity shows there too for GX tooling.
      meta: { ...evaluator.config.meta, severity: evaluator.config.severity },
      severity: evaluator.config.severity,
    },
    result: finding.result,
    exception_info:
      finding.exception === undefined
        ? { ...NO_EXCEPTION }
        : { raised_exception: true, exception_message: finding.exception, exception_traceback: null },
  }));
  const result: SuiteValidationResult = {
    ...suiteSuccess(results),
    results,
    meta: {
      expectation_suite_name: contract.name,
      validation_time: facts.validationTime.toISOString(),
      batch_spec: {
        ...(facts.source ? { path: facts.source } : {}),
        format: contract.format.type,
      },
      ...(columns ? { columns } : {}),
      rows,
      on_failure: contract.on_failure,
      ...(stopped ? { stopped_early: stopped } : {}),
    },
  };
  const judged: Judged[] = evaluated.map(({ evaluator, finding }) => ({
    severity: evaluator.config.severity,
    kind: evaluator.kind,
    finding,
  }));
  const decision = decide(contract.on_failure, judged, rows, stopped);
  return { result, rows, decision, summaries: evaluated.map(({ finding }) => finding.summary) };
}

/** A suite's `success` and `statistics`, as GX gives them, from its expectations' results. */
export function suiteSuccess(
  results: readonly SuiteValidationResult['results'][number][],
): Pick<SuiteValidationResult, 'success' | 'statistics'> {
  const successful = results.filter((r) => r.success).length;
  return {
    success: successful === results.length,
    statistics: {
      evaluated_expectations: results.length,
      successful_expectations: successful,
      unsuccessful_expectations: results.length - successful,
      success_percent: results.length === 0 ? null : (successful / results.length) * 100,
    },
  };
}
