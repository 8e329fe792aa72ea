import type { Contract, ExpectationConfig, Severity } from '../../lambdas/shared/contract.js';
import { SuiteUnsupported } from '../../lambdas/shared/errors.js';
import { EXPECTATION_CATALOGUE, TYPE_NAMES_BY_KIND } from '../../lambdas/shared/expectation-catalogue.js';
import { loadImported } from './interop-io.js';

/** One expectation of a GX 1.x suite, as GX writes it. */
export interface GxExpectation {
  type: string;
  kwargs: Record<string, unknown>;
  meta: Record<string, unknown>;
  severity: GxSeverity;
}

/** A GX 1.x expectation suite, as `ExpectationSuite(**suite)` loads it. */
export interface GxSuite {
  name: string;
  expectations: GxExpectation[];
  meta: Record<string, unknown>;
  notes?: string;
}

export type GxSeverity = 'critical' | 'warning' | 'info';

const SEVERITY_FROM_GX: Readonly<Record<GxSeverity, Severity>> = {
  critical: 'error',
  warning: 'warning',
  info: 'warning',
};

/** The record schema and format an imported contract gets from a sample file (`sluice suggest`). */
export interface SampleShape {
  format: Record<string, unknown>;
  schema: { type: 'object'; properties: Record<string, Record<string, unknown>>; required?: string[] };
}

export interface ImportedContract {
  /** The contract as YAML, accepted by `sluice check`. */
  yaml: string;
  contract: Contract;
  /** What was chosen without being asked, to tell the user. */
  notes: string[];
}

type JsonType = 'integer' | 'number' | 'string' | 'boolean';

/**
 * A Sluice contract named `name` from a GX suite (1.x or 0.x JSON, already parsed). Throws
 * `SuiteUnsupported` listing every expectation Sluice cannot run, each with its position.
 */
export function importGxSuite(
  suite: unknown,
  options: { name: string; where: string; sample?: SampleShape },
): ImportedContract {
  const { where } = options;
  const entries = suiteEntries(suite, where);
  const notes: string[] = [];
  const problems: string[] = [];
  const expectations: Array<Record<string, unknown>> = [];
  /** The suite position of each of `expectations`. */
  const positions: number[] = [];
  entries.forEach((entry, index) => {
    const converted = fromGx(entry, index, problems);
    if (converted) {
      expectations.push(converted);
      positions.push(index);
    }
  });

  const schema = options.sample?.schema ?? schemaFromExpectations(expectations, notes);
  const suiteName =
    (suite as { name?: unknown; expectation_suite_name?: unknown }).name ??
    (suite as { expectation_suite_name?: unknown }).expectation_suite_name;
  const contract = {
    name: options.name,
    description: `Imported from the Great Expectations suite '${String(suiteName ?? options.name)}'`,
    source: { type: 's3-upload', prefix: `${options.name}/` },
    format: options.sample?.format ?? { type: 'csv', header: true },
    schema,
    expectations,
    on_failure: 'quarantine',
  };
  if (!options.sample) {
    notes.push(
      `the record schema is built from the columns the expectations name (${Object.keys(schema.properties).length}); ` +
        'give --sample <file> to take it from a file, and review it before use',
    );
  }
  const loaded = loadImported(
    contract,
    problems,
    (all, options) => refusal(where, all, options),
    (message) => [...problems, ...positionedProblems(message, positions)].sort(byPosition),
  );
  return { ...loaded, notes };
}

function byPosition(a: string, b: string): number {
  const position = (p: string) => Number(/^expectations\[(\d+)\]/.exec(p)?.[1] ?? -1);
  return position(a) - position(b);
}

/** The expectations of a 1.x or 0.x suite, or SuiteUnsupported when the text is not a suite. */
function suiteEntries(suite: unknown, where: string): Array<Record<string, unknown>> {
  const expectations = (suite as { expectations?: unknown } | null)?.expectations;
  if (typeof suite !== 'object' || suite === null || !Array.isArray(expectations)) {
    throw new SuiteUnsupported(
      `${where}: not a Great Expectations suite: expected a JSON object with an 'expectations' array ` +
        `({name, expectations: [{type, kwargs}]} in GX 1.x, {expectation_suite_name, expectations: [{expectation_type, kwargs}]} in 0.x)`,
    );
  }
  return expectations as Array<Record<string, unknown>>;
}

/** GX kwargs that say nothing when null (GX 1.x writes them out with their defaults). */
const NULL_DEFAULTS = new Set(['row_condition', 'condition_parser']);

/** One suite entry as a contract expectation, or undefined with its problems pushed. */
function fromGx(
  entry: Record<string, unknown>,
  index: number,
  problems: string[],
): Record<string, unknown> | undefined {
  const at = `expectations[${index}]`;
  if (typeof entry !== 'object' || entry === null) {
    problems.push(`${at}: expected an object {type, kwargs, meta}`);
    return undefined;
  }
  const type = entry.type ?? entry.expectation_type;
  if (typeof type !== 'string') {
    problems.push(`${at}: no 'type' (GX 1.x) or 'expectation_type' (GX 0.x) naming the expectation`);
    return undefined;
  }
  if (!(type in EXPECTATION_CATALOGUE)) {
    problems.push(
      `${at}: ${type} is not an expectation Sluice runs (docs/expectations.md lists the ones it does)`,
    );
    return undefined;
  }
  const kwargs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries((entry.kwargs ?? {}) as Record<string, unknown>)) {
    // batch_id is where GX ran it, not part of the check.
    if (key === 'batch_id' || (NULL_DEFAULTS.has(key) && value === null)) continue;
    if (key === 'row_condition' || key === 'condition_parser') {
      problems.push(
        `${at}: ${type} has ${key} ${JSON.stringify(value)}: conditional expectations (row_condition) are not supported`,
      );
      return undefined;
    }
    kwargs[key] = value;
  }
  const meta: Record<string, unknown> = { ...((entry.meta ?? {}) as Record<string, unknown>) };
  if (typeof entry.description === 'string') meta.description = entry.description;
  const gxSeverity = entry.severity ?? 'critical';
  if (typeof gxSeverity !== 'string' || !(gxSeverity in SEVERITY_FROM_GX)) {
    problems.push(`${at}: severity ${JSON.stringify(gxSeverity)} is not one of GX's critical, warning, info`);
    return undefined;
  }
  if (gxSeverity === 'info') meta.gx_severity = 'info';
  const { sluice_scope: scope, ...rest } = meta;
  const expectation: Record<string, unknown> = { type, kwargs };
  if (Object.keys(rest).length > 0) expectation.meta = rest;
  expectation.severity = SEVERITY_FROM_GX[gxSeverity as GxSeverity];
  if (scope === 'snapshot') expectation.scope = 'snapshot';
  return expectation;
}

/** Expectations whose kwargs compare each value (or an aggregate of them) with numbers or texts. */
const COMPARED_WITH_BOUNDS = new Set([
  'expect_column_values_to_be_between',
  'expect_column_min_to_be_between',
  'expect_column_max_to_be_between',
]);
const NUMERIC_AGGREGATES = new Set([
  'expect_column_mean_to_be_between',
  'expect_column_median_to_be_between',
  'expect_column_sum_to_be_between',
  'expect_column_stdev_to_be_between',
  'expect_column_quantile_values_to_be_between',
]);
const TEXT_CHECKS = new Set([
  'expect_column_values_to_match_regex',
  'expect_column_values_to_not_match_regex',
  'expect_column_values_to_match_regex_list',
  'expect_column_values_to_not_match_regex_list',
  'expect_column_value_lengths_to_be_between',
  'expect_column_value_lengths_to_equal',
  'expect_column_values_to_match_strftime_format',
  'expect_column_values_to_be_dateutil_parseable',
  'expect_column_values_to_be_json_parseable',
  'expect_column_values_to_match_json_schema',
]);
const SET_CHECKS = new Set([
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_not_be_in_set',
  'expect_column_distinct_values_to_be_in_set',
  'expect_column_distinct_values_to_contain_set',
  'expect_column_distinct_values_to_equal_set',
  'expect_column_most_common_value_to_be_in_set',
]);

function kindOfTypeName(name: unknown): JsonType | undefined {
  for (const [kind, names] of Object.entries(TYPE_NAMES_BY_KIND)) {
    if ((names as readonly string[]).includes(name as string)) {
      if (kind === 'integer') return 'integer';
      if (kind === 'float') return 'number';
      if (kind === 'string' || kind === 'boolean') return kind;
    }
  }
  return undefined;
}

function kindOfValues(values: unknown[]): JsonType | undefined {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) return undefined;
  if (present.every((v) => typeof v === 'number')) return 'number';
  if (present.every((v) => typeof v === 'string')) return 'string';
  if (present.every((v) => typeof v === 'boolean')) return 'boolean';
  return undefined;
}

/** The type an expectation implies for its column, when it implies one. */
function impliedType(type: string, kwargs: Record<string, unknown>): JsonType | undefined {
  if (COMPARED_WITH_BOUNDS.has(type)) return kindOfValues([kwargs.min_value, kwargs.max_value]);
  if (NUMERIC_AGGREGATES.has(type)) return 'number';
  if (TEXT_CHECKS.has(type)) return 'string';
  if (SET_CHECKS.has(type)) return kindOfValues((kwargs.value_set as unknown[] | null) ?? []);
  if (type === 'expect_column_values_to_be_of_type') return kindOfTypeName(kwargs.type_);
  if (type === 'expect_column_values_to_be_in_type_list') {
    const kinds = new Set(((kwargs.type_list as unknown[]) ?? []).map(kindOfTypeName));
    return kinds.size === 1 ? [...kinds][0] : undefined;
  }
  return undefined;
}

/**
 * A record schema from the columns the expectations name, in the order they are first named (a
 * table expectation's column list first, as it gives the file's order), each typed where the
 * expectations imply one type; a column whose expectations disagree is left untyped, with a note.
 */
function schemaFromExpectations(
  expectations: ReadonlyArray<Record<string, unknown>>,
  notes: string[],
): SampleShape['schema'] {
  const hints = new Map<string, Set<JsonType>>();
  const name = (column: unknown) => {
    if (typeof column === 'string' && !hints.has(column)) hints.set(column, new Set());
  };
  for (const { type, kwargs } of expectations as Array<{ type: string; kwargs: Record<string, unknown> }>) {
    if (type === 'expect_table_columns_to_match_ordered_list')
      for (const c of kwargs.column_list as unknown[]) name(c);
    if (type === 'expect_table_columns_to_match_set') for (const c of kwargs.column_set as unknown[]) name(c);
  }
  for (const { type, kwargs } of expectations as Array<{ type: string; kwargs: Record<string, unknown> }>) {
    const spec = EXPECTATION_CATALOGUE[type]!;
    const columns = spec.columnArgs.flatMap((arg) => {
      const value = kwargs[arg];
      return Array.isArray(value) ? value : [value];
    });
    if (type === 'expect_column_to_exist') columns.push(kwargs.column);
    for (const column of columns) name(column);
    const implied = impliedType(type, kwargs);
    const columnsTyped =
      type === 'expect_multicolumn_sum_to_equal' ? columns : implied ? [kwargs.column] : [];
    for (const column of columnsTyped) {
      if (typeof column === 'string') hints.get(column)!.add(implied ?? 'number');
    }
  }
  const properties: Record<string, Record<string, unknown>> = {};
  for (const [column, kinds] of hints) {
    if (kinds.size === 1) properties[column] = { type: [...kinds][0] };
    else {
      properties[column] = {};
      if (kinds.size > 1) {
        notes.push(`column '${column}' is left untyped: its expectations imply ${[...kinds].join(' and ')}`);
      }
    }
  }
  return { type: 'object', properties };
}

/** The contract loader's problems, those about expectations named by their position in the suite. */
function positionedProblems(message: string, positions: readonly number[]): string[] {
  return message
    .split('\n')
    .slice(1)
    .map((line) => {
      const match = /\bat (\/\S*): (.*)$/.exec(line.trim());
      if (!match) return line.trim();
      const [, pointer, what] = match as unknown as [string, string, string];
      const position = /^\/expectations\/(\d+)(\/.*)?$/.exec(pointer);
      if (!position) return `the imported contract, at ${pointer}: ${what}`;
      return `expectations[${positions[Number(position[1])]}]${position[2] ?? ''}: ${what}`;
    });
}

function refusal(where: string, problems: string[], options?: ErrorOptions): SuiteUnsupported {
  return new SuiteUnsupported(
    `${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the suite's expectations:\n` +
      problems.map((p) => `  ${p}`).join('\n'),
    options,
  );
}

/**
 * A GX 1.x suite from a contract: its expectations with GX's severities. Throws SuiteUnsupported
 * naming each expectation GX 1.x would refuse to load (parse_strings_as_datetimes, which GX 1.0
 * removed). The record schema, format and source have no place in a GX suite and stay behind.
 */
export function exportGxSuite(contract: Contract, where: string): GxSuite {
  const problems: string[] = [];
  const expectations = contract.expectations.map((expectation, index) => toGx(expectation, index, problems));
  if (problems.length > 0) throw refusal(where, problems);
  const suite: GxSuite = { name: contract.name, expectations, meta: { sluice_contract: contract.name } };
  if (contract.description) suite.notes = contract.description;
  return suite;
}

function toGx(expectation: ExpectationConfig, index: number, problems: string[]): GxExpectation {
  const { gx_severity: gxSeverity, ...meta } = expectation.meta ?? {};
  if ('parse_strings_as_datetimes' in expectation.kwargs) {
    problems.push(
      `expectations[${index}]: ${expectation.type} has parse_strings_as_datetimes, which GX 1.0 removed ` +
        '(GX refuses the kwarg); drop it, or compare the values as they are written',
    );
  }
  // GX has no snapshot scope: kept in meta, where GX keeps what it does not model.
  if (expectation.scope === 'snapshot') meta.sluice_scope = 'snapshot';
  const severity: GxSeverity =
    expectation.severity === 'error' ? 'critical' : gxSeverity === 'info' ? 'info' : 'warning';
  return { type: expectation.type, kwargs: { ...expectation.kwargs }, meta, severity };
}
