/**
 * The expectations of the catalogue, each as an evaluator: it sees every record once, keeps a
 * small accumulator, and gives its finding at the end of the stream. The evaluators live in a file
 * per kind, as the catalogue groups them (column map, column aggregate, multicolumn, table); this
 * module registers them. Adding an expectation means adding an evaluator to the file of its kind
 * and an entry in the catalogue; the engine does not change.
 */
import type { ExpectationConfig } from '../shared/contract.js';
import { ExpectationRaised } from '../shared/errors.js';
import { EXPECTATION_CATALOGUE, type ExpectationKind } from '../shared/expectation-catalogue.js';
import { AGGREGATE_EVALUATORS } from './column-aggregate-expectations.js';
import { COLUMN_MAP_EVALUATORS } from './column-map-expectations.js';
import { DISTINCT_VALUE_EVALUATORS } from './distinct-value-expectations.js';
import { type Evaluator, type Finding, notEvaluated } from './evaluator.js';
import { KL_DIVERGENCE_EVALUATORS } from './kl-divergence.js';
import { MULTICOLUMN_EVALUATORS } from './multicolumn-expectations.js';
import { TABLE_EVALUATORS } from './table-expectations.js';

export type { Evaluator, Finding, Row, TableFacts } from './evaluator.js';
export { notEvaluated, percent, show } from './evaluator.js';

export type Factory = (config: ExpectationConfig) => Evaluator;

const EVALUATORS: Readonly<Record<string, Factory>> = {
  ...COLUMN_MAP_EVALUATORS,
  ...AGGREGATE_EVALUATORS,
  ...DISTINCT_VALUE_EVALUATORS,
  ...KL_DIVERGENCE_EVALUATORS,
  ...MULTICOLUMN_EVALUATORS,
  ...TABLE_EVALUATORS,
};

export function createEvaluator(config: ExpectationConfig): Evaluator {
  const factory = EVALUATORS[config.type];
  const evaluator = !factory
    ? new NotImplemented(config)
    : boundless(config.kwargs)
      ? new NotEvaluable(config, 'min_value and max_value cannot both be None')
      : factory(config);
  return config.kwargs.catch_exceptions === false ? raising(evaluator) : evaluator;
}

/**
 * Bounds given, both null. GX 1.x reports this when it validates, as an exception, for every
 * expectation with min_value/max_value; the contract schema only asks for one of the two keys.
 */
function boundless(kwargs: Record<string, unknown>): boolean {
  return (
    ('min_value' in kwargs || 'max_value' in kwargs) && kwargs.min_value == null && kwargs.max_value == null
  );
}

/**
 * GX's `catch_exceptions: false`: an expectation that cannot be evaluated raises, and the
 * validation stops with its error instead of reporting it in exception_info. Here the finding is
 * known at the end of the stream, so the run fails there, before any result is written.
 */
function raising(evaluator: Evaluator): Evaluator {
  const finish = evaluator.finish.bind(evaluator);
  evaluator.finish = (table) => {
    const finding = finish(table);
    if (finding.exception !== undefined) {
      throw new ExpectationRaised(
        `${finding.summary} (catch_exceptions is false, so the validation stops instead of reporting it in exception_info)`,
      );
    }
    return finding;
  };
  return evaluator;
}

/** An expectation that cannot be evaluated, whatever the data: its finding says why. */
class NotEvaluable implements Evaluator {
  readonly kind: ExpectationKind;
  readonly column: string | null;
  readonly needsColumns = false;

  constructor(
    readonly config: ExpectationConfig,
    private readonly why: string,
  ) {
    this.kind = EXPECTATION_CATALOGUE[config.type]?.kind ?? 'table';
    this.column = typeof config.kwargs.column === 'string' ? config.kwargs.column : null;
  }

  begin(): void {}

  finish(): Finding {
    return notEvaluated(this.config, this.why);
  }

  state(): null {
    return null;
  }

  absorb(): void {}
}

/** An expectation the catalogue names that this validator does not evaluate yet. */
class NotImplemented extends NotEvaluable {
  constructor(config: ExpectationConfig) {
    super(config, `the validator does not implement ${config.type}`);
  }
}
