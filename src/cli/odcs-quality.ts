/**
 * ODCS quality rules ↔ Sluice expectations (`sluice import odcs`, `sluice export odcs`).
 *
 * ODCS library metrics count bad values and compare the count with an operator; Sluice, as Great
 * Expectations, states what good values are and tolerates a share of bad ones (`mostly`). So a
 * rule carries over when its operator bounds the bad values from above: none at all (`mustBe: 0`
 * rows) is the expectation as it is, and a percentage is `mostly = 1 - p/100`. A count of bad rows
 * other than none has no GX form and is refused, as is every rule Sluice cannot run (`sql`, other
 * engines' `custom` rules), with its position: a contract that silently lost a check would pass
 * data it should not. What the expectation cannot hold (the rule's id, dimension, schedule, the
 * operator and unit it was written with) stays in its `meta.odcs`, so that exporting writes the
 * rule back as it was read.
 */
import { parse } from 'yaml';
import type { ExpectationConfig } from '../../lambdas/shared/contract.js';
import { EXPECTATION_CATALOGUE } from '../../lambdas/shared/expectation-catalogue.js';

export type Json = Record<string, unknown>;

export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** ODCS's comparison operators, each taking a number (the `Between`s a pair). */
export const OPERATORS = [
  'mustBe',
  'mustNotBe',
  'mustBeGreaterThan',
  'mustBeGreaterOrEqualTo',
  'mustBeLessThan',
  'mustBeLessOrEqualTo',
  'mustBeBetween',
  'mustNotBeBetween',
] as const;
type Operator = (typeof OPERATORS)[number];

/** What a rule becomes: one expectation, or a problem naming why not. */
export type RuleResult = { expectation: Json } | { problem: string };

/** Fields of a rule that the expectation's kwargs and severity say, and which export derives again. */
const DERIVED = new Set<string>([...OPERATORS, 'metric', 'rule', 'arguments', 'severity', 'implementation']);

/** meta.odcs keys that say how a rule was written, not part of the rule as ODCS writes it. */
const HINTS = new Set(['metric', 'operator', 'unit', 'arguments', 'type', 'from', 'engine']);

/**
 * One ODCS quality rule (of a property when `column` is given, of the object otherwise) as an
 * expectation; `text` rules are not checks and come back as undefined, for the caller to keep.
 */
export function ruleToExpectation(rule: Json, column: string | undefined): RuleResult | undefined {
  const type = rule.type ?? (rule.metric !== undefined || rule.rule !== undefined ? 'library' : undefined);
  if (type === 'text') return undefined;
  if (type === 'sql') {
    const query = String(rule.query ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    return {
      problem:
        `sql rules are not run: Sluice validates the files of each batch, not a database, so the query ` +
        `(${query.length > 60 ? `${query.slice(0, 57)}...` : query}) has no table to run on; write it as a ` +
        'library metric or a Great Expectations expectation (type: custom, engine: great-expectations)',
    };
  }
  if (type === 'custom') return customRule(rule, column);
  if (type === 'library') return libraryRule(rule, column);
  if (type === undefined) return { problem: 'no type, and no metric that would make it a library rule' };
  return { problem: `type ${JSON.stringify(type)} is not one of ODCS's text, library, sql, custom` };
}

/** The rule's own fields (id, description, dimension, schedule, ...), kept for export. */
function keptFields(rule: Json): Json {
  const kept: Json = {};
  for (const [key, value] of Object.entries(rule))
    if (!DERIVED.has(key) && !HINTS.has(key)) kept[key] = value;
  return kept;
}

/** ODCS severities are free text: error and warning are Sluice's, info is reported as a warning. */
function severityOf(rule: Json, odcs: Json): 'error' | 'warning' {
  const severity = rule.severity;
  if (severity === undefined || severity === 'error') return 'error';
  if (severity === 'warning') return 'warning';
  odcs.severity = severity;
  return severity === 'info' ? 'warning' : 'error';
}

function expectation(type: string, kwargs: Json, rule: Json, odcs: Json): { expectation: Json } {
  return {
    expectation: { type, kwargs, meta: { odcs }, severity: severityOf(rule, odcs) },
  };
}

function customRule(rule: Json, column: string | undefined): RuleResult {
  const engine = String(rule.engine ?? '');
  // The spec's prose writes greatExpectations, its schema's examples great-expectations.
  if (engine.toLowerCase().replace(/[-_\s]/g, '') !== 'greatexpectations') {
    return {
      problem: `custom rules of engine '${engine}' are not run: Sluice runs Great Expectations expectations (engine: great-expectations)`,
    };
  }
  let implementation = rule.implementation;
  if (typeof implementation === 'string') {
    try {
      implementation = parse(implementation);
    } catch (error) {
      return { problem: `implementation is not YAML: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  const gxType = isRecord(implementation)
    ? (implementation.type ?? implementation.expectation_type)
    : undefined;
  if (!isRecord(implementation) || typeof gxType !== 'string') {
    return {
      problem: 'implementation is not a Great Expectations expectation: expected { type, kwargs, meta }',
    };
  }
  const spec = EXPECTATION_CATALOGUE[gxType];
  if (!spec) {
    return {
      problem: `${gxType} is not an expectation Sluice runs (docs/expectations.md lists the ones it does)`,
    };
  }
  const kwargs: Json = isRecord(implementation.kwargs) ? { ...implementation.kwargs } : {};
  if (column !== undefined && spec.columnArgs.includes('column') && kwargs.column === undefined) {
    kwargs.column = column;
  }
  const {
    sluice_scope: scope,
    sluice_approximate: approximate,
    ...meta
  } = isRecord(implementation.meta) ? implementation.meta : {};
  const odcs = keptFields(rule);
  // The engine's name as export writes it says nothing; another spelling is kept to be written back.
  if (engine !== 'great-expectations') odcs.engine = engine;
  const severity = severityOf(rule, odcs);
  const converted: Json = { type: gxType, kwargs, meta: { ...meta, odcs }, severity };
  if (scope === 'snapshot') converted.scope = 'snapshot';
  if (approximate !== undefined) converted.approximate = approximate;
  return { expectation: converted };
}

function libraryRule(rule: Json, column: string | undefined): RuleResult {
  const metric = rule.metric ?? rule.rule;
  const operators = OPERATORS.filter((o) => rule[o] !== undefined);
  if (operators.length !== 1) {
    return {
      problem: `${String(metric)} needs one operator (${OPERATORS.join(', ')}), found ${operators.length === 0 ? 'none' : operators.join(', ')}`,
    };
  }
  const operator = operators[0]!;
  const value = rule[operator];
  const unit = rule.unit ?? 'rows';
  if (unit !== 'rows' && unit !== 'percent') {
    return { problem: `unit ${JSON.stringify(unit)}: Sluice reads rows or percent` };
  }
  const args: Json = isRecord(rule.arguments) ? { ...rule.arguments } : {};
  // How the rule was written, after its own fields in a fixed order, so that export writes it back alike.
  const odcs: Json = keptFields(rule);
  if (rule.type !== undefined) odcs.type = rule.type;
  Object.assign(odcs, { metric, operator });
  if (rule.unit !== undefined) odcs.unit = rule.unit;
  const onColumn = (type: string, kwargs: Json): RuleResult => {
    if (column === undefined) {
      return {
        problem: `${String(metric)} counts the values of a column: put the rule in a property's quality, or name the properties`,
      };
    }
    const mostly = tolerance(operator, value, unit, String(metric));
    if (typeof mostly === 'string') return { problem: mostly };
    if (Object.keys(args).length > 0) odcs.arguments = args;
    return expectation(type, { column, ...kwargs, ...mostly }, rule, odcs);
  };
  switch (metric) {
    case 'nullValues':
      return onColumn('expect_column_values_to_not_be_null', {});
    case 'missingValues': {
      const listed = args.missingValues ?? [null];
      if (!Array.isArray(listed)) return { problem: 'arguments.missingValues must be a list of values' };
      const values = listed.filter((v) => v !== null);
      if (values.length === 0) return onColumn('expect_column_values_to_not_be_null', {});
      if (values.length < listed.length) {
        return {
          problem:
            'missingValues lists null and other values: Sluice counts nulls (expect_column_values_to_not_be_null) ' +
            'and listed values (expect_column_values_to_not_be_in_set) apart; write a nullValues rule and a ' +
            'missingValues rule without null',
        };
      }
      delete args.missingValues;
      return onColumn('expect_column_values_to_not_be_in_set', { value_set: values });
    }
    case 'invalidValues': {
      const { validValues, pattern } = args;
      if ((validValues === undefined) === (pattern === undefined)) {
        return { problem: 'invalidValues needs one of arguments.validValues or arguments.pattern' };
      }
      if (pattern !== undefined) {
        if (typeof pattern !== 'string') return { problem: 'arguments.pattern must be a string' };
        delete args.pattern;
        return onColumn('expect_column_values_to_match_regex', { regex: pattern });
      }
      if (!Array.isArray(validValues)) return { problem: 'arguments.validValues must be a list of values' };
      // A null is never unexpected in GX's column maps: listing it as valid says what they do already.
      if (!validValues.includes(null)) delete args.validValues;
      return onColumn('expect_column_values_to_be_in_set', {
        value_set: validValues.filter((v) => v !== null),
      });
    }
    case 'duplicateValues': {
      const properties = args.properties;
      if (properties === undefined) return onColumn('expect_column_values_to_be_unique', {});
      if (
        !Array.isArray(properties) ||
        properties.length < 2 ||
        !properties.every((p) => typeof p === 'string')
      ) {
        return { problem: 'arguments.properties must list two or more property names' };
      }
      const mostly = tolerance(operator, value, unit, 'duplicateValues');
      if (typeof mostly === 'string') return { problem: mostly };
      delete args.properties;
      if (Object.keys(args).length > 0) odcs.arguments = args;
      return expectation(
        'expect_compound_columns_to_be_unique',
        { column_list: properties, ...mostly },
        rule,
        odcs,
      );
    }
    case 'rowCount': {
      if (unit === 'percent') return { problem: 'rowCount is a number of rows, not a percent' };
      const kwargs = rowCountBounds(operator, value);
      if (typeof kwargs === 'string') return { problem: kwargs };
      if (Object.keys(args).length > 0) odcs.arguments = args;
      const type =
        'value' in kwargs ? 'expect_table_row_count_to_equal' : 'expect_table_row_count_to_be_between';
      return expectation(type, kwargs, rule, odcs);
    }
    default:
      return {
        problem: `metric ${JSON.stringify(metric)} is not one of ODCS's library metrics (nullValues, missingValues, invalidValues, duplicateValues, rowCount)`,
      };
  }
}

/** Rounds away the binary noise of 1 - p/100 and its inverse (1 - 0.95 is 0.050000000000000044). */
const clean = (x: number) => Number(x.toPrecision(12));

/**
 * The `mostly` an operator on a count or share of bad values means: {} for none at all, or the
 * share of good values GX's `mostly` asks for; a message when no `mostly` says it.
 */
function tolerance(
  operator: Operator,
  value: unknown,
  unit: string,
  metric: string,
): { mostly?: number } | string {
  const none = `${metric} ${operator}: ${JSON.stringify(value)}`;
  if (typeof value !== 'number') return `${none}: expected a number`;
  if (operator === 'mustBe' && value === 0) return {};
  const upper = operator === 'mustBeLessThan' || operator === 'mustBeLessOrEqualTo';
  if (!upper) {
    return `${none}: Sluice bounds the bad values from above (mustBe: 0, mustBeLessThan, mustBeLessOrEqualTo)`;
  }
  if (unit === 'rows') {
    const noneAllowed = operator === 'mustBeLessThan' ? value > 0 && value <= 1 : value >= 0 && value < 1;
    if (noneAllowed) return {};
    return (
      `${none} rows: Sluice tolerates a share of the rows (GX's mostly), not a number of them; ` +
      'give it in percent (unit: percent), or allow none (mustBe: 0)'
    );
  }
  if (value < 0 || value > 100 || (operator === 'mustBeLessThan' && value === 0)) {
    return `${none} percent: expected a percentage between 0 and 100`;
  }
  return value === 0 ? {} : { mostly: clean(1 - value / 100) };
}

/** Row-count kwargs for an operator; ODCS's mustBeBetween excludes its ends (greater than a, less than b). */
function rowCountBounds(operator: Operator, value: unknown): Json | string {
  const n = typeof value === 'number' ? value : Number.NaN;
  switch (operator) {
    case 'mustBe':
      return Number.isInteger(n) && n >= 0
        ? { value: n }
        : `rowCount mustBe: ${JSON.stringify(value)}: expected a whole number`;
    case 'mustBeGreaterThan':
      return { min_value: Math.max(0, Math.floor(n) + 1) };
    case 'mustBeGreaterOrEqualTo':
      return { min_value: Math.max(0, Math.ceil(n)) };
    case 'mustBeLessThan':
      return { max_value: Math.ceil(n) - 1 };
    case 'mustBeLessOrEqualTo':
      return { max_value: Math.floor(n) };
    case 'mustBeBetween': {
      const [a, b] = Array.isArray(value) ? (value as number[]) : [];
      if (typeof a !== 'number' || typeof b !== 'number')
        return 'rowCount mustBeBetween: expected [low, high]';
      return { min_value: Math.max(0, Math.floor(a) + 1), max_value: Math.ceil(b) - 1 };
    }
    default:
      return `rowCount ${operator}: Sluice checks a row count is equal to a number or between bounds`;
  }
}

/** Kwargs each library metric's expectation may have, beyond which the expectation is written as a custom rule. */
const LIBRARY_KWARGS: Readonly<Record<string, readonly string[]>> = {
  expect_column_values_to_not_be_null: ['column', 'mostly'],
  expect_column_values_to_not_be_in_set: ['column', 'value_set', 'mostly'],
  expect_column_values_to_be_in_set: ['column', 'value_set', 'mostly'],
  expect_column_values_to_match_regex: ['column', 'regex', 'mostly'],
  expect_column_values_to_be_unique: ['column', 'mostly'],
  expect_compound_columns_to_be_unique: ['column_list', 'mostly'],
  expect_table_row_count_to_be_between: ['min_value', 'max_value'],
  expect_table_row_count_to_equal: ['value'],
};

/** The ODCS rule an expectation is written as: a library metric where one says it exactly, else a custom GX rule. */
export function expectationToRule(expectation: ExpectationConfig): Json {
  const { odcs: odcsMeta, ...gxMeta } = expectation.meta ?? {};
  const odcs: Json = isRecord(odcsMeta) ? odcsMeta : {};
  const fields: Json = {};
  for (const [key, value] of Object.entries(odcs))
    if (!HINTS.has(key) && key !== 'severity') fields[key] = value;
  const severity =
    typeof odcs.severity === 'string' && (odcs.severity === 'info') === (expectation.severity === 'warning')
      ? odcs.severity
      : expectation.severity;
  const library = libraryForm(expectation, odcs, Object.keys(gxMeta).length === 0);
  if (library) return { ...fields, ...library, severity };
  const meta: Json = { ...gxMeta };
  if (expectation.scope === 'snapshot') meta.sluice_scope = 'snapshot';
  if (expectation.approximate) meta.sluice_approximate = expectation.approximate;
  const implementation: Json = { type: expectation.type, kwargs: { ...expectation.kwargs } };
  if (Object.keys(meta).length > 0) implementation.meta = meta;
  return {
    ...fields,
    type: 'custom',
    engine: typeof odcs.engine === 'string' ? odcs.engine : 'great-expectations',
    implementation,
    severity,
  };
}

function libraryForm(expectation: ExpectationConfig, odcs: Json, noGxMeta: boolean): Json | undefined {
  const allowed = LIBRARY_KWARGS[expectation.type];
  const { kwargs } = expectation;
  if (
    !allowed ||
    !noGxMeta ||
    expectation.scope === 'snapshot' ||
    expectation.approximate ||
    !Object.keys(kwargs).every((k) => allowed.includes(k))
  ) {
    return undefined;
  }
  // A forbidden-value list is a missingValues rule only when it was one; written by hand it stays GX.
  if (expectation.type === 'expect_column_values_to_not_be_in_set' && odcs.metric !== 'missingValues')
    return undefined;
  const args: Json = isRecord(odcs.arguments) ? { ...odcs.arguments } : {};
  const head: Json = {};
  if (odcs.type !== undefined) head.type = odcs.type;
  const mostly = kwargs.mostly as number | undefined;
  const shareRule = (metric: string): Json => {
    const rule: Json = { ...head, metric };
    const operator = odcs.operator as Operator | undefined;
    if (mostly === undefined) {
      // None allowed, in the words it was written with: mustBe: 0, mustBeLessThan: 1 (rows), mustBeLessOrEqualTo: 0.
      if (operator === 'mustBeLessThan' && odcs.unit !== 'percent') rule.mustBeLessThan = 1;
      else if (operator === 'mustBeLessOrEqualTo') rule.mustBeLessOrEqualTo = 0;
      else rule.mustBe = 0;
      if (odcs.unit !== undefined) rule.unit = odcs.unit;
    } else {
      rule[operator === 'mustBeLessThan' ? 'mustBeLessThan' : 'mustBeLessOrEqualTo'] = clean(
        (1 - mostly) * 100,
      );
      rule.unit = 'percent';
    }
    if (Object.keys(args).length > 0) rule.arguments = args;
    return rule;
  };
  switch (expectation.type) {
    case 'expect_column_values_to_not_be_null':
      return shareRule(odcs.metric === 'missingValues' ? 'missingValues' : 'nullValues');
    case 'expect_column_values_to_not_be_in_set':
      args.missingValues = kwargs.value_set;
      return shareRule('missingValues');
    case 'expect_column_values_to_be_in_set': {
      const kept = args.validValues;
      const set = kwargs.value_set as unknown[];
      const same =
        Array.isArray(kept) && JSON.stringify(kept.filter((v) => v !== null)) === JSON.stringify(set);
      args.validValues = same ? kept : set;
      return shareRule('invalidValues');
    }
    case 'expect_column_values_to_match_regex':
      args.pattern = kwargs.regex;
      return shareRule('invalidValues');
    case 'expect_column_values_to_be_unique':
      return shareRule('duplicateValues');
    case 'expect_compound_columns_to_be_unique':
      args.properties = kwargs.column_list;
      return shareRule('duplicateValues');
    case 'expect_table_row_count_to_equal':
      return { ...head, metric: 'rowCount', mustBe: kwargs.value };
    default:
      return rowCountRule(head, kwargs, odcs.operator, args);
  }
}

function rowCountRule(head: Json, kwargs: Json, operator: unknown, args: Json): Json | undefined {
  const min = kwargs.min_value as number | null | undefined;
  const max = kwargs.max_value as number | null | undefined;
  const rule: Json = { ...head, metric: 'rowCount' };
  if (min != null && max != null) rule.mustBeBetween = [min - 1, max + 1];
  else if (min != null) {
    if (operator === 'mustBeGreaterThan') rule.mustBeGreaterThan = min - 1;
    else rule.mustBeGreaterOrEqualTo = min;
  } else if (max != null) {
    if (operator === 'mustBeLessThan') rule.mustBeLessThan = max + 1;
    else rule.mustBeLessOrEqualTo = max;
  } else return undefined;
  if (Object.keys(args).length > 0) rule.arguments = args;
  return rule;
}
