/**
 * Python's `datetime.strptime(text, format)` as a matcher: the whole text must match the format,
 * and the fields must make a real date and time (2026-02-30 does not). The directives of
 * Python's documentation are supported except the locale ones (%c, %x, %X) and week numbers.
 */
import { RE2JS } from 're2js';
import { toRe2Syntax } from './linear-regex.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const DAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** Each directive: its pattern and the field it sets. */
const DIRECTIVES: Readonly<Record<string, { pattern: string; field?: string }>> = {
  Y: { pattern: '(\\d{4})', field: 'year' },
  y: { pattern: '(\\d{2})', field: 'year2' },
  m: { pattern: '(1[0-2]|0[1-9]|[1-9])', field: 'month' },
  d: { pattern: '(3[01]|[12]\\d|0[1-9]|[1-9])', field: 'day' },
  H: { pattern: '(2[0-3]|[01]\\d|\\d)', field: 'hour' },
  I: { pattern: '(1[0-2]|0[1-9]|[1-9])', field: 'hour12' },
  M: { pattern: '([0-5]\\d|\\d)', field: 'minute' },
  S: { pattern: '(6[01]|[0-5]\\d|\\d)', field: 'second' },
  f: { pattern: '(\\d{1,6})' },
  p: { pattern: '(am|pm)', field: 'ampm' },
  j: { pattern: '(36[0-6]|3[0-5]\\d|[12]\\d\\d|0[1-9]\\d|00[1-9]|[1-9]\\d|0[1-9]|[1-9])', field: 'yday' },
  b: { pattern: `(${MONTHS.join('|')})`, field: 'monthAbbr' },
  h: { pattern: `(${MONTHS.join('|')})`, field: 'monthAbbr' },
  B: { pattern: `(${MONTH_NAMES.join('|')})`, field: 'monthName' },
  a: { pattern: `(${DAYS.join('|')})` },
  A: { pattern: `(${DAY_NAMES.join('|')})` },
  w: { pattern: '([0-6])' },
  z: { pattern: '(Z|[+-]\\d\\d:?\\d\\d(?::?\\d\\d(?:\\.\\d{6})?)?|)' },
  Z: { pattern: '(UTC|GMT|[A-Z]{3,4}|)' },
  '%': { pattern: '%' },
};

/** The directives strftimeMatcher reads, as written in a format: %Y, %m, … */
export const STRFTIME_DIRECTIVES: readonly string[] = Object.keys(DIRECTIVES).map((letter) => `%${letter}`);

/** A function telling whether a text matches the format, or why the format cannot be used. */
export function strftimeMatcher(format: string): ((text: string) => boolean) | string {
  let source = '^';
  const fields: Array<string | undefined> = [];
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      source += /\s/.test(c) ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      continue;
    }
    const letter = format[++i];
    const directive = letter === undefined ? undefined : DIRECTIVES[letter];
    if (!directive) return `strftime_format '${format}': %${letter ?? ''} is not supported`;
    source += directive.pattern;
    if (directive.pattern.startsWith('(')) fields.push(directive.field);
  }
  // Linear time whatever the value, as every regex a contract leads to (linear-regex.ts).
  const regex = RE2JS.compile(toRe2Syntax(`${source}$`), RE2JS.CASE_INSENSITIVE);
  return (text) => {
    const matcher = regex.matcher(text);
    const match = matcher.find() ? fields.map((_, g) => matcher.group(g + 1)) : undefined;
    if (!match) return false;
    let year = 1900;
    let month = 1;
    let day = 1;
    let hour12: number | undefined;
    let ampm: string | undefined;
    let yday: number | undefined;
    for (let g = 0; g < fields.length; g++) {
      const value = match[g] ?? '';
      switch (fields[g]) {
        case 'year':
          year = Number(value);
          break;
        case 'year2': {
          const y = Number(value);
          year = y < 69 ? 2000 + y : 1900 + y;
          break;
        }
        case 'month':
          month = Number(value);
          break;
        case 'monthAbbr':
          month = MONTHS.indexOf(value.toLowerCase()) + 1;
          break;
        case 'monthName':
          month = MONTH_NAMES.indexOf(value.toLowerCase()) + 1;
          break;
        case 'day':
          day = Number(value);
          break;
        case 'hour12':
          hour12 = Number(value);
          break;
        case 'ampm':
          ampm = value.toLowerCase();
          break;
        case 'yday':
          yday = Number(value);
          break;
      }
    }
    if (ampm !== undefined && hour12 === undefined) return true;
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (yday !== undefined) return yday <= (leap ? 366 : 365);
    const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    return day <= monthDays[month - 1]!;
  };
}
