/**
 * The contract's JSON Schema, applied to every record, and reported like an expectation
 * (`expect_rows_to_match_contract_schema`) so its failures show in the results and statistics.
 *
 * CSV cells are text. Each column the schema types as number, integer or boolean is converted
 * here, before ajv sees the record, rather than by ajv's `coerceTypes`: ajv would turn " " into
 * 0, "Infinity" into Infinity (written out as null) and "0x1F" into 31. Here a number is a
 * decimal literal, a boolean is true/false in any case, and anything else stays text, which
 * the schema then refuses with a message that shows it. Empty and null cells are never converted:
 * they are left out of the record ajv checks, so `required` reports them.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Contract } from '../shared/contract.js';
import type { ExpectationKind } from '../shared/expectation-catalogue.js';
import { linearRegExp } from '../shared/linear-regex.js';
import { decimal } from './decimal.js';
import { type Evaluator, type Finding, percent, type Row, show } from './expectations.js';
import {
  parseResultFormat,
  type ResultFormat,
  type UnexpectedState,
  UnexpectedValues,
} from './result-format.js';
import type { RowFailure } from './row-failure.js';
import type { ShardPlace } from './shard-state.js';
import type { SpillWriter } from './spill.js';

export const SCHEMA_EXPECTATION = 'expect_rows_to_match_contract_schema';

export type { RowFailure } from './row-failure.js';

/** Converts one CSV cell to the type its column is declared with. */
export type Coercer = (cell: string) => unknown;

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** One compiled validator per contract object, compiled on first use. */
const validators = new WeakMap<Contract, ValidateFunction>();

export function recordValidator(contract: Contract): ValidateFunction {
  let validate = validators.get(contract);
  if (!validate) {
    // An Ajv per contract: two contracts may give their schemas the same $id. The contract's
    // loader has checked the schema against the JSON Schema meta-schema (parseContract compiles
    // it): checking again here would compile the meta-schema once more, ~40 ms a validation.
    const ajv = new Ajv2020({
      allErrors: true,
      strict: false,
      strictNumbers: true,
      coerceTypes: false,
      validateSchema: false,
      code: { regExp: linearRegExp },
    });
    addFormats(ajv);
    validate = ajv.compile(contract.schema);
    validators.set(contract, validate);
  }
  return validate;
}

/** The converter for a column, from its property schema; undefined when cells stay strings. */
export function coercerFor(property: Record<string, unknown> | undefined): Coercer | undefined {
  const declared = property?.type;
  const types = Array.isArray(declared) ? declared : typeof declared === 'string' ? [declared] : [];
  // A column that accepts strings needs no conversion: every cell already matches.
  if (types.includes('string')) return undefined;
  const numbers = types.includes('number') || types.includes('integer');
  // Only whole numbers within ±2^53 keep their exact value: a larger one stays text, and fails.
  const integersOnly = types.includes('integer') && !types.includes('number');
  const booleans = types.includes('boolean');
  if (!numbers && !booleans) return undefined;
  return (cell) => {
    if (numbers) {
      const number = decimal(cell);
      if (
        number !== undefined &&
        !(integersOnly && Number.isInteger(number) && !Number.isSafeInteger(number))
      ) {
        return number;
      }
    }
    if (booleans) {
      const lower = cell.length === 4 || cell.length === 5 ? cell.toLowerCase() : '';
      if (lower === 'true') return true;
      if (lower === 'false') return false;
    }
    return cell;
  };
}

/** The failures ajv found in a record, one per problem, with the column each is about. */
export function schemaFailures(errors: readonly ErrorObject[], record: Row): RowFailure[] {
  const failures: RowFailure[] = [];
  for (const error of errors) {
    // A failed if/then reports the failing `then` keyword itself too; the `if` adds nothing.
    if (error.keyword === 'if') continue;
    const path = pointerParts(error.instancePath);
    const params = error.params as Record<string, unknown>;
    const named = params.missingProperty ?? params.additionalProperty;
    const column = path[0] ?? (typeof named === 'string' ? named : null);
    const value = path.length > 0 ? valueAt(record, path) : undefined;
    const failure: RowFailure = { column, expectation: SCHEMA_EXPECTATION, reason: describe(error, value) };
    if (value !== undefined) failure.value = value;
    failures.push(failure);
  }
  return failures;
}

/** What a schema failure says, without the value: failures with the same problem are counted together. */
export function problemOf(failure: RowFailure): string {
  const cut = failure.reason.lastIndexOf(', got ');
  return cut === -1 ? failure.reason : failure.reason.slice(0, cut);
}

function describe(error: ErrorObject, value: unknown): string {
  const params = error.params as Record<string, unknown>;
  let reason = error.message ?? error.keyword;
  switch (error.keyword) {
    case 'required':
      reason += ' (the value is empty, null or absent)';
      break;
    case 'enum':
      reason += `: ${(params.allowedValues as unknown[]).map(show).join(', ')}`;
      break;
    case 'const':
      reason += ` ${show(params.allowedValue)}`;
      break;
    case 'additionalProperties':
      reason += ` ('${String(params.additionalProperty)}')`;
      break;
    case 'type':
      if (params.type === 'integer' && typeof value === 'string' && isUnsafeInteger(decimal(value))) {
        reason += ' (a whole number within ±2^53, so that it keeps its exact value)';
      }
      break;
  }
  return value === undefined ? reason : `${reason}, got ${show(value)}`;
}

function isUnsafeInteger(number: number | undefined): boolean {
  return number !== undefined && Number.isInteger(number) && !Number.isSafeInteger(number);
}

function pointerParts(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(record: Row, path: string[]): unknown {
  let at: unknown = record;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

interface SchemaState {
  rows: number;
  missingColumns?: { missing: string[]; header: string[] } | undefined;
  unexpected: UnexpectedState;
}

/**
 * The schema check as an expectation over rows: every record read is an element, and a row
 * that fails the schema (or cannot be read as a record at all) is unexpected. Its unexpected
 * values are `{ column, problem }`, so partial_unexpected_counts shows which problems are common.
 */
export class SchemaConformance implements Evaluator {
  readonly kind: ExpectationKind = 'column_map';
  readonly column = null;
  readonly needsColumns = false;
  readonly config;
  private readonly format: ResultFormat;
  private readonly unexpected: UnexpectedValues;
  private rows = 0;
  private missingColumns: { missing: string[]; header: string[] } | undefined;

  constructor(contract: Contract) {
    this.config = {
      type: SCHEMA_EXPECTATION,
      kwargs: { schema: contract.schema },
      meta: { notes: 'The JSON Schema of one record, from the contract.' },
      severity: 'error' as const,
    };
    this.format = parseResultFormat(this.config.kwargs);
    this.unexpected = new UnexpectedValues(this.format);
  }

  begin(): void {}

  /** Counts one record read, with its failures if it has any. */
  record(index: number, failures: RowFailure[] | undefined): void {
    this.rows++;
    const first = failures?.[0];
    if (first) this.unexpected.add(index, { column: first.column, problem: problemOf(first) });
  }

  /** In a shard: keep the counts of unexpected values past the cap, for the merge. */
  countPastCap(): void {
    this.unexpected.countPastCap();
  }

  /** The values partial_unexpected_counts counts (as countKey gives them). */
  countedValues(): ReadonlySet<unknown> {
    return this.unexpected.countedValues();
  }

  state(spill?: SpillWriter): SchemaState {
    return { rows: this.rows, missingColumns: this.missingColumns, unexpected: this.unexpected.state(spill) };
  }

  absorb(state: unknown, place: ShardPlace): void {
    const s = state as SchemaState;
    this.rows += s.rows;
    this.missingColumns ??= s.missingColumns;
    this.unexpected.absorb(s.unexpected, place.index, place.pastCap);
  }

  /** The header lacks required columns: no row is read, and this is the failure. */
  headerLacks(missing: string[], header: string[]): void {
    this.missingColumns = { missing, header };
  }

  finish(): Finding {
    if (this.missingColumns) {
      const { missing, header } = this.missingColumns;
      return {
        success: false,
        result:
          this.format.level === 'BOOLEAN_ONLY'
            ? {}
            : { observed_value: header, details: { missing_required_columns: missing } },
        summary: `the header lacks required column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (header: ${header.join(', ') || '(empty)'})`,
      };
    }
    const count = this.unexpected.count;
    const examples = this.unexpected
      .examples()
      .map((e) => {
        const { column, problem } = e as { column: string | null; problem: string };
        return column === null ? problem : `${column} ${problem}`;
      })
      .join('; ');
    return {
      success: count === 0,
      result: this.unexpected.mapResult(this.rows, this.rows),
      summary:
        count === 0
          ? `${SCHEMA_EXPECTATION}: all ${this.rows} rows match the contract schema`
          : `${SCHEMA_EXPECTATION}: ${count} of ${this.rows} rows (${percent(count, this.rows)}) do not match the contract schema, e.g. ${examples}`,
    };
  }
}
