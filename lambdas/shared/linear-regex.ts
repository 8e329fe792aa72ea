/**
 * Every regular expression a contract gives (match_regex and its kin, JSON Schema `pattern` and
 * `patternProperties`, strftime formats) is matched by RE2 (re2js), in time linear in the
 * value's length. A backtracking engine such as V8's takes exponential time on a pattern such as
 * `^(a+)+$` against `aaaa…a!`: one row could hold a validation for hours. A contract's regexes are
 * written as JavaScript regexes with the u flag (docs/expectations.md); those RE2 cannot run
 * (backreferences, lookaround) are refused when the contract is loaded.
 */
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';

/** What the validator needs of a compiled regex: RegExp.prototype.test's search, anywhere in the text. */
export interface LinearRegex {
  /** The pattern as the contract wrote it. */
  readonly source: string;
  test(text: string): boolean;
}

/**
 * JavaScript's \s with the u flag (ECMAScript WhiteSpace and LineTerminator), in RE2 syntax: RE2's
 * own \s is ASCII only, and a value padded with a no-break space must keep failing `^\S+$`.
 */
const JS_SPACE =
  '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

/**
 * The pattern rewritten so that RE2 reads it as V8 reads it with the u flag: \s and \S as above,
 * `.` not matching a line terminator (RE2's matches all but \n), \uXXXX and \u{X} as RE2's \x{X}.
 * Everything else is passed on as written; RE2 refuses what it cannot run.
 */
export function toRe2Syntax(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return out + c; // a trailing backslash: RE2 names the error
      i++;
      if (next === 's') out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${JS_SPACE}]`;
      else if (next === 'u' && /^[0-9A-Fa-f]{4}/.test(source.slice(i + 1))) {
        out += `\\x{${source.slice(i + 1, i + 5)}}`;
        i += 4;
      } else if (next === 'u' && source[i + 1] === '{') {
        const end = source.indexOf('}', i + 2);
        if (end < 0) out += '\\u';
        else {
          out += `\\x{${source.slice(i + 2, end)}}`;
          i = end;
        }
      } else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '.') out += '[^\\n\\r\\x{2028}\\x{2029}]';
    else out += c;
  }
  return out;
}

/** Why RE2 refuses a pattern, in terms of what to change. */
function linearTimeReason(source: string, re2Message: string): string {
  const detail = re2Message.replace(/^error parsing regexp: /, '');
  if (/invalid escape sequence: `\\([1-9]|k)/.test(re2Message)) {
    return `a backreference (\\1, \\k<name>) cannot be matched in linear time (${detail}); match the text without referring back to a group`;
  }
  if (/\(\?<?[=!]/.test(source) && /`\(\?[=!]|invalid named capture: `\(\?<[=!]/.test(re2Message)) {
    return `lookahead and lookbehind ((?=…), (?!…), (?<=…), (?<!…)) cannot be matched in linear time (${detail}); write the pattern without them, or split it into a match_regex and a not_match_regex`;
  }
  return `RE2, which matches in linear time, does not read it: ${detail}`;
}

/** A pattern (JavaScript syntax, u flag) compiled for RE2, or why it cannot be matched in linear time. */
export function compileLinear(source: string, options: { ignoreCase?: boolean } = {}): LinearRegex | string {
  try {
    const pattern = RE2JS.compile(toRe2Syntax(source), options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return { source, test: (text) => pattern.test(text), toString: () => `/${source}/u` } as LinearRegex;
  } catch (error) {
    return linearTimeReason(source, (error as Error).message);
  }
}

/**
 * The regex engine for ajv (its `code.regExp` option), so that a record schema's `pattern` and
 * `patternProperties` match in linear time. ajv keys its compiled patterns by toString().
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string): LinearRegex => {
    const compiled = compileLinear(pattern);
    if (typeof compiled === 'string') throw new Error(`pattern "${pattern}": ${compiled}`);
    return compiled;
  },
  { code: 'linearRegExp' },
);

/** A regex in a JSON Schema that cannot be matched in linear time: its JSON pointer inside the schema, and why. */
export interface SchemaPatternProblem {
  pointer: string;
  message: string;
}

const SUBSCHEMA = [
  'not',
  'if',
  'then',
  'else',
  'items',
  'contains',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'additionalItems',
];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

function pointerPart(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Every `pattern` and `patternProperties` key of a JSON Schema that RE2 cannot run, with where it is. */
export function schemaPatternProblems(schema: unknown, at = ''): SchemaPatternProblem[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [];
  const node = schema as Record<string, unknown>;
  const problems: SchemaPatternProblem[] = [];
  const check = (pointer: string, pattern: string) => {
    const compiled = compileLinear(pattern);
    if (typeof compiled === 'string')
      problems.push({ pointer, message: `pattern "${pattern}": ${compiled}` });
  };
  if (typeof node.pattern === 'string') check(`${at}/pattern`, node.pattern);
  for (const key of SUBSCHEMA) problems.push(...schemaPatternProblems(node[key], `${at}/${key}`));
  for (const key of SUBSCHEMA_LISTS) {
    const list = node[key];
    if (Array.isArray(list)) {
      list.forEach((sub, i) => {
        problems.push(...schemaPatternProblems(sub, `${at}/${key}/${i}`));
      });
    }
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = node[key];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) continue;
    for (const [name, sub] of Object.entries(map)) {
      const pointer = `${at}/${key}/${pointerPart(name)}`;
      if (key === 'patternProperties') check(pointer, name);
      problems.push(...schemaPatternProblems(sub, pointer));
    }
  }
  return problems;
}
