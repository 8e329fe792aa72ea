/**
 * Date-times as `expect_column_values_to_be_dateutil_parseable` accepts them and as
 * `parse_strings_as_datetimes` compares them: an approximation of Python's `dateutil.parser.parse`.
 * It reads what JavaScript's `Date.parse` reads (ISO 8601, RFC 2822, "Nov 25 2026 10:00") plus
 * dateutil's compact and separated forms (20261125, 25/11/2026, 25.11.2026); dateutil also reads
 * free text such as "Tuesday at noon", which is refused here.
 *
 * A date-time without a zone is read as UTC, whatever the machine's time zone: `Date.parse` reads
 * "2026-11-25" as UTC but "2026-11-25T10:00" and "Nov 25 2026" as local time, which would make the
 * same instant compare differently on a laptop and in Lambda.
 */

/** A time zone at the end of the text: Z or an offset after a time, or a zone name Date.parse knows. */
const ZONE =
  /(?:\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)|\b(?:UTC?|GMT|Z|[ECMP][SD]T)(?:\s*[+-]\d\d:?\d\d)?)$/i;
/** ISO 8601 date-only forms, which Date.parse already reads as UTC. */
const ISO_DATE = /^[+-]?\d{4,6}(?:-\d\d(?:-\d\d)?)?$/;
const ISO_DAY = /^(\d{4})-(\d\d)-(\d\d)(?![\d])/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})(?:[T ]?(\d{2})(\d{2})(\d{2})?)?$/;
const SEPARATED =
  /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;

/** The instant a text names, in milliseconds since the epoch, or undefined when it is not a date-time. */
export function parseDateTime(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || !/\d/.test(trimmed)) return undefined;
  const iso = ISO_DAY.exec(trimmed);
  // Date.parse rolls 2026-02-30 over to 2 March; dateutil refuses it.
  if (iso && utc(Number(iso[1]), Number(iso[2]), Number(iso[3]), 0, 0, 0, 0) === undefined) return undefined;
  const parsed = Date.parse(trimmed);
  if (!Number.isNaN(parsed)) {
    if (ISO_DATE.test(trimmed) || ZONE.test(trimmed)) return parsed;
    return parsed - new Date(parsed).getTimezoneOffset() * 60_000;
  }
  const compact = COMPACT.exec(trimmed);
  if (compact) {
    const [year, month, day, hour, minute, second] = numbers(compact, 6);
    return utc(year!, month!, day!, hour!, minute!, second!, 0);
  }
  const parts = SEPARATED.exec(trimmed);
  if (!parts) return undefined;
  const [a, b, c, hour, minute, second] = numbers(parts, 6);
  const millis = parts[7] === undefined ? 0 : Number(parts[7].padEnd(3, '0'));
  if (parts[1]!.length === 4) return utc(a!, b!, c!, hour!, minute!, second!, millis);
  const year = c! < 100 ? 2000 + c! : c!;
  // dateutil reads month first unless that makes no date, then day first (25/11/2026).
  return (
    utc(year, a!, b!, hour!, minute!, second!, millis) ?? utc(year, b!, a!, hour!, minute!, second!, millis)
  );
}

/** The first `count` groups of a match as numbers, 0 for a group that did not take part. */
function numbers(match: RegExpExecArray, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number(match[i + 1] ?? 0));
}

/** Whether dateutil would read the text as a date-time (as approximated here). */
export function isDateLike(text: string): boolean {
  return parseDateTime(text) !== undefined;
}

function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year);
  return date.getTime();
}
