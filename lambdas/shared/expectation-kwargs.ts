/**
 * The contract loader's checks of each expectation: a known type, kwargs that match the JSON
 * Schema of its catalogue entry, and what that schema cannot say (regular expressions, strftime
 * formats and JSON Schemas this validator can read, and why a kwarg GX once had is not taken).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeAjvError, relevantErrors } from './ajv-errors.js';
import { parseDateTime } from './date-time.js';
import {
  DATE_TIME_EXPECTATIONS,
  EXPECTATION_CATALOGUE,
  snapshotScopeRefusal,
} from './expectation-catalogue.js';
import { compileLinear, linearRegExp } from './linear-regex.js';
import { STRFTIME_DIRECTIVES, strftimeMatcher } from './strftime.js';

/**
 * kwargs GX has had that this validator does not take, and why: the contract loader adds the reason
 * to its "unexpected property" message, so that a suite carried over from GX says what to change.
 */
const NOT_TAKEN: Readonly<Record<string, string>> = {
  parse_strings_as_datetimes:
    `values are compared as date-times only by ${DATE_TIME_EXPECTATIONS.join(', ')} ` +
    `(GX deprecated the kwarg in 0.13.41 and removed it in 1.0); remove it, and write a value_set as the values are written in the data`,
  allow_cross_type_comparisons:
    'values of different types are not compared: such a value is unexpected (GX deprecated the kwarg with parse_strings_as_datetimes)',
  output_strftime_format: 'the observed value is reported as it is written in the data',
  row_condition: 'conditional expectations are not supported: every row is looked at',
  condition_parser: 'conditional expectations are not supported: every row is looked at',
};

/** Why a kwarg that an expectation's schema does not list is refused, when there is more to say than that. */
export function notTakenBecause(kwarg: string): string | undefined {
  return Object.hasOwn(NOT_TAKEN, kwarg) ? NOT_TAKEN[kwarg] : undefined;
}

/** The expectations a contract may ask to compute approximately (a median or quantile within a relative error). */
const APPROXIMABLE = new Set([
  'expect_column_median_to_be_between',
  'expect_column_quantile_values_to_be_between',
]);

/** An expectation as the contract declares it, once the contract's own schema has accepted it. */
export interface DeclaredExpectation {
  type: string;
  kwargs: Record<string, unknown>;
  scope?: 'batch' | 'snapshot';
  approximate?: unknown;
}

/** One problem of an expectation: a JSON path inside the contract, and what was expected. */
export interface ExpectationProblem {
  path: string;
  message: string;
}

/**
 * The checks of a contract's expectations, with kwargs schemas compiled by `ajv` (the contract
 * loader's own, so that kwargs get its formats and defaults): each expectation is known, its
 * kwargs match its schema, the columns it names are in the contract's schema, its kwargs pass
 * `kwargProblems`, and its scope is one it can be evaluated in.
 */
export function expectationChecks(
  ajv: Ajv2020,
): (expectations: readonly DeclaredExpectation[], columns: ReadonlySet<string>) => ExpectationProblem[] {
  /**
   * Each expectation's kwargs validator, compiled the first time a contract uses it: compiling
   * all of the catalogue up front would cost every process (a Lambda's cold start, its memory)
   * code for the expectations its contracts never name.
   */
  const kwargsValidators = new Map<string, ValidateFunction>();
  const kwargsValidator = (type: string, spec: { kwargs: object }): ValidateFunction => {
    let validate = kwargsValidators.get(type);
    if (!validate) {
      validate = ajv.compile(spec.kwargs);
      kwargsValidators.set(type, validate);
    }
    return validate;
  };

  return (expectations, columns) => {
    const problems: ExpectationProblem[] = [];
    const known = Object.keys(EXPECTATION_CATALOGUE).sort();
    expectations.forEach((expectation, index) => {
      const at = `/expectations/${index}`;
      const spec = EXPECTATION_CATALOGUE[expectation.type];
      if (!spec) {
        const hint = closest(expectation.type, known);
        problems.push({
          path: `${at}/type`,
          message: `unknown expectation '${expectation.type}'${hint ? `; did you mean '${hint}'?` : ''} (known: ${known.length} expectations, see docs/expectations.md)`,
        });
        return;
      }
      const validateKwargs = kwargsValidator(expectation.type, spec);
      if (!validateKwargs(expectation.kwargs)) {
        for (const error of relevantErrors(validateKwargs.errors ?? [])) {
          problems.push(kwargsProblem(expectation.type, `${at}/kwargs`, error));
        }
        return;
      }
      problems.push(...namedColumnProblems(expectation, spec.columnArgs, columns, at));
      for (const { pointer, message } of kwargProblems(expectation.type, expectation.kwargs)) {
        problems.push({ path: `${at}/kwargs${pointer}`, message });
      }
      const refusal = expectation.scope === 'snapshot' ? snapshotScopeRefusal(expectation.type) : undefined;
      if (refusal !== undefined) {
        problems.push({ path: `${at}/scope`, message: `scope snapshot is not available: ${refusal}` });
      }
      if (expectation.approximate !== undefined && !APPROXIMABLE.has(expectation.type)) {
        problems.push({
          path: `${at}/approximate`,
          message: `${expectation.type} is computed exactly; approximate is for ${[...APPROXIMABLE].join(' and ')}`,
        });
      }
    });
    return problems;
  };
}

/** The columns an expectation names in its column kwargs that the contract's schema does not have. */
function namedColumnProblems(
  expectation: DeclaredExpectation,
  columnArgs: readonly string[],
  columns: ReadonlySet<string>,
  at: string,
): ExpectationProblem[] {
  const problems: ExpectationProblem[] = [];
  for (const arg of columnArgs) {
    const value = expectation.kwargs[arg];
    const named = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const column of named) {
      if (typeof column === 'string' && !columns.has(column)) {
        problems.push({
          path: `${at}/kwargs/${arg}`,
          message: `${expectation.type}: unknown column '${column}'; the schema has ${[...columns].join(', ')}`,
        });
      }
    }
  }
  return problems;
}

/**
 * A kwargs error, at the kwarg it is about. A kwarg the expectation does not take is named with
 * the ones it does take, and why it is not taken when GX once had it.
 */
function kwargsProblem(type: string, kwargsPath: string, error: ErrorObject): ExpectationProblem {
  if (error.keyword === 'additionalProperties' && error.instancePath === '') {
    const name = String((error.params as Record<string, unknown>).additionalProperty);
    const taken = Object.keys(EXPECTATION_CATALOGUE[type]!.kwargs.properties as object);
    const because = notTakenBecause(name);
    const hint = closest(name, taken);
    return {
      path: `${kwargsPath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      message:
        `${type}: unexpected property '${name}'` +
        (because
          ? `: ${because}`
          : `${hint ? `; did you mean '${hint}'?` : ''}; ${type} takes ${taken.join(', ')}`),
    };
  }
  return { path: `${kwargsPath}${error.instancePath}`, message: `${type}: ${describeAjvError(error)}` };
}

/** The known name nearest to a misspelt one, when it is near enough to be a likely typo. */
function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(3, Math.floor(name.length / 5)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A kwarg the JSON Schema allows but the validator cannot honour. */
export interface KwargProblem {
  /** JSON pointer inside kwargs: '/regex_list/1'. */
  pointer: string;
  message: string;
}

/**
 * What the kwargs' JSON Schema cannot say, checked once the kwargs match it: regular expressions
 * and strftime formats this validator can read, a usable json_schema, one value range per
 * quantile and no approximate quantiles, and date-time bounds and value sets under
 * parse_strings_as_datetimes. GX raises for each of these when it validates.
 */
export function kwargProblems(type: string, kwargs: Record<string, unknown>): KwargProblem[] {
  const spec = EXPECTATION_CATALOGUE[type];
  if (!spec) return [];
  const problems: KwargProblem[] = [];
  const refuse = (pointer: string, message: string) =>
    problems.push({ pointer, message: `${type}: ${message}` });

  for (const arg of spec.regexArgs ?? []) {
    const value = kwargs[arg];
    const sources: Array<[string, unknown]> =
      typeof value === 'string'
        ? [[`/${arg}`, value]]
        : Array.isArray(value)
          ? value.map((v, i) => [`/${arg}/${i}`, v])
          : [];
    for (const [pointer, source] of sources) {
      if (typeof source !== 'string') continue;
      const why = regexProblem(source);
      if (why !== undefined) refuse(pointer, `not a valid regular expression: ${why}`);
      else {
        const linear = compileLinear(source);
        if (typeof linear === 'string') refuse(pointer, `regular expression refused: ${linear}`);
      }
    }
  }
  if (typeof kwargs.strftime_format === 'string') {
    const matcher = strftimeMatcher(kwargs.strftime_format);
    if (typeof matcher === 'string') {
      refuse('/strftime_format', `${matcher}; the directives read here are ${STRFTIME_DIRECTIVES.join(' ')}`);
    }
  }
  if (kwargs.json_schema !== undefined) {
    try {
      // The options of the evaluator's own compile (column-map-text-expectations.ts), without its warnings.
      new Ajv2020({ allErrors: false, strict: false, logger: false, code: { regExp: linearRegExp } }).compile(
        kwargs.json_schema as object,
      );
    } catch (error) {
      refuse('/json_schema', `not a usable JSON Schema: ${(error as Error).message}`);
    }
  }
  if (type === 'expect_column_kl_divergence_to_be_less_than') {
    for (const [pointer, message] of partitionProblems(kwargs)) refuse(pointer, message);
  }
  const ranges = kwargs.quantile_ranges as { quantiles?: unknown[]; value_ranges?: unknown[] } | undefined;
  if (ranges?.quantiles && ranges.value_ranges && ranges.quantiles.length !== ranges.value_ranges.length) {
    refuse(
      '/quantile_ranges/value_ranges',
      `quantile_ranges has ${ranges.quantiles.length} quantiles and ${ranges.value_ranges.length} value_ranges; ` +
        'give one [min, max] range per quantile',
    );
  }
  if (kwargs.allow_relative_error === true) {
    refuse(
      '/allow_relative_error',
      'allow_relative_error: true lets a SQL or Spark backend approximate; quantiles here are computed ' +
        'exactly, as GX computes them on pandas, where true is an error; leave it out (interpolation ' +
        '"nearest") or name a pandas interpolation: linear, lower, higher, midpoint or nearest',
    );
  }
  if (kwargs.parse_strings_as_datetimes === true) {
    const dateTime = (pointer: string, what: string, value: unknown) => {
      if (typeof value === 'string' && parseDateTime(value) !== undefined) return;
      refuse(
        pointer,
        `with parse_strings_as_datetimes, ${what} must be a date-time text such as "2026-11-25" or ` +
          `"2026-11-25T10:00:00Z", got ${JSON.stringify(value)}`,
      );
    };
    for (const bound of ['min_value', 'max_value']) {
      if (kwargs[bound] !== undefined && kwargs[bound] !== null) dateTime(`/${bound}`, bound, kwargs[bound]);
    }
    if (Array.isArray(kwargs.value_set)) {
      kwargs.value_set.forEach((v, i) => {
        dateTime(`/value_set/${i}`, 'each value_set entry', v);
      });
    }
  }
  return problems;
}

/** Python spellings that JavaScript regular expressions do not read, with what to write instead. */
const PYTHON_ONLY: ReadonlyArray<[RegExp, string]> = [
  [/\(\?P</, "Python's (?P<name>…) is written (?<name>…)"],
  [
    /\(\?P=/,
    "Python's (?P=name) refers back to a group, which cannot be matched in linear time: leave it out",
  ],
  [/\\A/, "Python's \\A is written ^"],
  [/\\Z/, "Python's \\Z is written $"],
  [/\(\?[aiLmsux]+\)/, 'inline flags such as (?i) are not read; write the alternatives out, e.g. [Aa]'],
];

/** Why a regex does not compile as the validator compiles it (a JavaScript RegExp with the u flag). */
function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (error) {
    const hints = PYTHON_ONLY.filter(([spelling]) => spelling.test(source)).map(([, hint]) => hint);
    return `${(error as Error).message} (JavaScript syntax with the u flag${hints.length > 0 ? `; ${hints.join('; ')}` : ''})`;
  }
}

/** numpy's allclose to 1, as GX checks that a partition's weights sum to one. */
function sumsToOne(weights: readonly number[]): boolean {
  const sum = weights.reduce((a, b) => a + b, 0);
  return Math.abs(sum - 1) <= 1e-8 + 1e-5;
}

/**
 * What GX raises on when it validates expect_column_kl_divergence_to_be_less_than's partition and
 * holdouts (a partition object that is not one, holdouts that cannot apply to it), refused here
 * when the contract loads. An absent partition is taken from the previous promoted run.
 */
function partitionProblems(kwargs: Record<string, unknown>): Array<[string, string]> {
  const partition = kwargs.partition_object as
    | { bins?: number[]; values?: unknown[]; weights: number[]; tail_weights?: number[] }
    | null
    | undefined;
  const tailHoldout = (kwargs.tail_weight_holdout as number | undefined) ?? 0;
  const internalHoldout = (kwargs.internal_weight_holdout as number | undefined) ?? 0;
  const problems: Array<[string, string]> = [];
  if (partition === null || partition === undefined) return problems;
  if (partition.values !== undefined) {
    if (partition.values.length !== partition.weights.length) {
      problems.push([
        '/partition_object/weights',
        `a categorical partition has one weight per value: ${partition.values.length} values, ${partition.weights.length} weights`,
      ]);
    } else if (!sumsToOne(partition.weights)) {
      problems.push(['/partition_object/weights', 'the weights of a partition must sum to 1']);
    }
    if (internalHoldout > 0) {
      problems.push([
        '/internal_weight_holdout',
        'internal_weight_holdout cannot be used with a categorical partition (values)',
      ]);
    }
    return problems;
  }
  const bins = partition.bins ?? [];
  if (bins.length !== partition.weights.length + 1) {
    problems.push([
      '/partition_object/bins',
      `a continuous partition has one more bin edge than weights: ${bins.length} edges, ${partition.weights.length} weights`,
    ]);
  } else if (bins.some((b, i) => i > 0 && !(b > bins[i - 1]!))) {
    problems.push(['/partition_object/bins', 'bin edges must increase strictly']);
  } else if (!sumsToOne([...partition.weights, ...(partition.tail_weights ?? [])])) {
    problems.push([
      '/partition_object/weights',
      'the weights (and tail_weights) of a partition must sum to 1',
    ]);
  }
  if (kwargs.bucketize_data === false) {
    problems.push(['/bucketize_data', 'a continuous partition (bins) needs bucketize_data: true']);
  }
  if (partition.tail_weights !== undefined && tailHoldout !== 0) {
    problems.push([
      '/tail_weight_holdout',
      'tail_weight_holdout must be 0 when the partition has tail_weights',
    ]);
  }
  const infinite = bins[0] === Number.NEGATIVE_INFINITY || bins[bins.length - 1] === Number.POSITIVE_INFINITY;
  if (infinite && partition.tail_weights !== undefined) {
    problems.push(['/partition_object/tail_weights', 'a partition with an infinite end has no tail_weights']);
  }
  if (
    bins[0] === Number.NEGATIVE_INFINITY &&
    bins[bins.length - 1] === Number.POSITIVE_INFINITY &&
    tailHoldout > 0
  ) {
    problems.push([
      '/tail_weight_holdout',
      'tail_weight_holdout cannot be used with a partition whose both ends are infinite',
    ]);
  }
  return problems;
}
