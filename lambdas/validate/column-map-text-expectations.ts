/**
 * Column-map expectations that read a value's text: regular expressions, lengths, strftime and
 * dateutil date-times, JSON. GX's null handling and `mostly` apply (ColumnMapEvaluator); a row
 * whose value is unexpected goes to quarantine when the expectation's severity is error.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ExpectationConfig } from '../shared/contract.js';
import { isDateLike } from '../shared/date-time.js';
import { compileLinear, type LinearRegex, linearRegExp } from '../shared/linear-regex.js';
import { strftimeMatcher } from '../shared/strftime.js';
import { ColumnMapEvaluator, type Evaluator, show } from './evaluator.js';

export const COLUMN_MAP_TEXT_EVALUATORS: Readonly<Record<string, (config: ExpectationConfig) => Evaluator>> =
  {
    expect_column_values_to_match_regex: (c) => new ValuesMatchRegex(c),
    expect_column_values_to_not_match_regex: (c) => new ValuesNotMatchRegex(c),
    expect_column_values_to_match_regex_list: (c) => new ValuesMatchRegexList(c),
    expect_column_values_to_not_match_regex_list: (c) => new ValuesNotMatchRegexList(c),
    expect_column_value_lengths_to_be_between: (c) => new LengthsBetween(c),
    expect_column_value_lengths_to_equal: (c) => new LengthsEqual(c),
    expect_column_values_to_match_strftime_format: (c) => new ValuesMatchStrftime(c),
    expect_column_values_to_be_dateutil_parseable: (c) => new ValuesDateParseable(c),
    expect_column_values_to_be_json_parseable: (c) => new ValuesJsonParseable(c),
    expect_column_values_to_match_json_schema: (c) => new ValuesMatchJsonSchema(c),
  };

/** The text a regex or length sees: strings as they are, other values as JSON. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Python's len(): code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** A contract regex (JavaScript syntax, u flag) matched in linear time, or why it cannot be. */
export function compile(source: string): LinearRegex | string {
  try {
    new RegExp(source, 'u');
  } catch (error) {
    return `regex is not valid: ${(error as Error).message}`;
  }
  const compiled = compileLinear(source);
  return typeof compiled === 'string' ? `regex is refused: ${compiled}` : compiled;
}

/** Matches every text: stands in for a regex that did not compile, whose problem fails the expectation. */
const ANY: LinearRegex = { source: '(?:)', test: () => true };

/** GX uses Python's re.search: the pattern may match anywhere in the value. Here: JavaScript syntax with the u flag, matched by RE2. */
class ValuesMatchRegex extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regex: LinearRegex;

  constructor(config: ExpectationConfig) {
    super(config);
    const source = String(config.kwargs.regex);
    this.expected = `values matching /${source}/u`;
    const compiled = compile(source);
    if (typeof compiled === 'string') this.problem = compiled;
    this.regex = typeof compiled === 'string' ? ANY : compiled;
  }

  protected test(value: unknown): string | undefined {
    const text =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return this.regex.test(text) ? undefined : `must match /${this.regex.source}/u, got ${show(value)}`;
  }
}

class ValuesNotMatchRegex extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regex: LinearRegex = ANY;

  constructor(config: ExpectationConfig) {
    super(config);
    const compiled = compile(String(config.kwargs.regex));
    if (typeof compiled === 'string') this.problem = compiled;
    else this.regex = compiled;
    this.expected = `values not matching /${String(config.kwargs.regex)}/u`;
  }

  protected test(value: unknown): string | undefined {
    return this.regex.test(textOf(value))
      ? `must not match /${this.regex.source}/u, got ${show(value)}`
      : undefined;
  }
}

/** GX: match_on 'any' (default) wants one regex of the list to match, 'all' every one. */
class ValuesMatchRegexList extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regexes: LinearRegex[] = [];
  private readonly all: boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const sources = (config.kwargs.regex_list as string[] | undefined) ?? [];
    this.all = config.kwargs.match_on === 'all';
    for (const source of sources) {
      const compiled = compile(source);
      if (typeof compiled === 'string') this.problem ??= compiled;
      else this.regexes.push(compiled);
    }
    this.expected = `values matching ${this.all ? 'all' : 'any'} of ${sources.map((s) => `/${s}/u`).join(', ')}`;
  }

  protected test(value: unknown): string | undefined {
    const text = textOf(value);
    const ok = this.all ? this.regexes.every((r) => r.test(text)) : this.regexes.some((r) => r.test(text));
    return ok
      ? undefined
      : `must match ${this.expected.slice('values matching '.length)}, got ${show(value)}`;
  }
}

/** GX: unexpected when any regex of the list is found in the value. */
class ValuesNotMatchRegexList extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly regexes: LinearRegex[] = [];

  constructor(config: ExpectationConfig) {
    super(config);
    const sources = (config.kwargs.regex_list as string[] | undefined) ?? [];
    for (const source of sources) {
      const compiled = compile(source);
      if (typeof compiled === 'string') this.problem ??= compiled;
      else this.regexes.push(compiled);
    }
    this.expected = `values matching none of ${sources.map((s) => `/${s}/u`).join(', ')}`;
  }

  protected test(value: unknown): string | undefined {
    const text = textOf(value);
    const found = this.regexes.find((r) => r.test(text));
    return found ? `must not match /${found.source}/u, got ${show(value)}` : undefined;
  }
}

/** GX: lengths of the values' text, min/max inclusive (a null bound is no bound). */
class LengthsBetween extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly min: number | null;
  private readonly max: number | null;

  constructor(config: ExpectationConfig) {
    super(config);
    this.min = (config.kwargs.min_value as number | null | undefined) ?? null;
    this.max = (config.kwargs.max_value as number | null | undefined) ?? null;
    if (this.min === null && this.max === null) this.problem = 'min_value and max_value cannot both be None';
    const parts = [this.min !== null ? `>= ${this.min}` : '', this.max !== null ? `<= ${this.max}` : ''];
    this.expected = `value lengths ${parts.filter(Boolean).join(' and ')}`;
  }

  protected test(value: unknown): string | undefined {
    const length = codePoints(textOf(value));
    if ((this.min !== null && length < this.min) || (this.max !== null && length > this.max)) {
      return `length must be ${this.expected.slice('value lengths '.length)}, got ${length} (${show(value)})`;
    }
    return undefined;
  }
}

class LengthsEqual extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly length: number;

  constructor(config: ExpectationConfig) {
    super(config);
    this.length = Number(config.kwargs.value);
    this.expected = `value lengths of ${this.length}`;
  }

  protected test(value: unknown): string | undefined {
    const length = codePoints(textOf(value));
    return length === this.length
      ? undefined
      : `length must be ${this.length}, got ${length} (${show(value)})`;
  }
}

/** Python's datetime.strptime(value, format): the whole value, and a real calendar date. */
class ValuesMatchStrftime extends ColumnMapEvaluator {
  protected readonly expected: string;
  private readonly matches: (text: string) => boolean;

  constructor(config: ExpectationConfig) {
    super(config);
    const format = String(config.kwargs.strftime_format);
    this.expected = `values in strftime format '${format}'`;
    const matcher = strftimeMatcher(format);
    if (typeof matcher === 'string') {
      this.problem = matcher;
      this.matches = () => false;
    } else this.matches = matcher;
  }

  protected test(value: unknown): string | undefined {
    return typeof value === 'string' && this.matches(value)
      ? undefined
      : `must be a date-time in ${this.expected.slice('values in '.length)}, got ${show(value)}`;
  }
}

/** dateutil.parser.parse, as approximated in date-time.ts (docs/expectations.md says where the two differ). */
class ValuesDateParseable extends ColumnMapEvaluator {
  protected readonly expected = 'values dateutil can parse as a date-time';

  protected test(value: unknown): string | undefined {
    if (typeof value !== 'string') return `must be a string holding a date-time, got ${show(value)}`;
    return isDateLike(value) ? undefined : `must be a parseable date-time, got ${show(value)}`;
  }
}

class ValuesJsonParseable extends ColumnMapEvaluator {
  protected readonly expected = 'values that parse as JSON';

  protected test(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    try {
      JSON.parse(value);
      return undefined;
    } catch (error) {
      return `must be JSON (${(error as Error).message}), got ${show(value)}`;
    }
  }
}

/** A text value is parsed as JSON first (as GX does); a JSON Lines object or array is checked as it is. */
class ValuesMatchJsonSchema extends ColumnMapEvaluator {
  protected readonly expected = 'values matching the JSON Schema in kwargs.json_schema';
  private readonly validate: ValidateFunction | undefined;

  constructor(config: ExpectationConfig) {
    super(config);
    try {
      const ajv = new Ajv2020({ allErrors: false, strict: false, code: { regExp: linearRegExp } });
      this.validate = ajv.compile(config.kwargs.json_schema as object);
    } catch (error) {
      this.problem = `json_schema is not a usable JSON Schema: ${(error as Error).message}`;
    }
  }

  protected test(value: unknown): string | undefined {
    let parsed = value;
    if (typeof value === 'string') {
      try {
        parsed = JSON.parse(value);
      } catch {
        return `must be JSON matching the schema, got ${show(value)}`;
      }
    }
    if (this.validate?.(parsed)) return undefined;
    const error = this.validate?.errors?.[0];
    return `must match the JSON Schema (${error ? `${error.instancePath || '/'} ${error.message}` : 'invalid'}), got ${show(value)}`;
  }
}
