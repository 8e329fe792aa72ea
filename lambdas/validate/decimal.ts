/**
 * Reading numbers from text: a CSV cell typed as a number, a cell compared with numeric bounds.
 * Only decimal literals count, so spaces, "Infinity" and hex never become numbers by accident.
 */

/**
 * The number a text holds when it is a decimal literal (`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`),
 * else undefined. `Number()` does the parsing; the checks around it refuse what it accepts and a
 * decimal literal is not: spaces around, "Infinity", 0x/0o/0b prefixes. Faster than a regular expression.
 */
export function decimal(text: string): number | undefined {
  const simple = simpleDecimal(text);
  if (simple !== undefined) return simple;
  const number = Number(text);
  if (!Number.isFinite(number) || text.length === 0) return undefined;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (!((first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46)) return undefined;
  if (!((last >= 48 && last <= 57) || last === 46)) return undefined;
  if (first === 48 && text.length > 2) {
    const second = text.charCodeAt(1) | 0x20;
    if (second === 120 || second === 111 || second === 98) return undefined;
  }
  return number;
}

/** Exact powers of ten: a double holds each of them without rounding. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The common case of `decimal`, without `Number()`'s runtime call: an optional minus, at most 15
 * digits, at most one dot. The digits make an integer below 2^53 and 10^k is exact, so one
 * division rounds once, exactly as parsing the text would (Clinger's fast path). Else undefined.
 */
function simpleDecimal(text: string): number | undefined {
  const negative = text.charCodeAt(0) === 45;
  let digits = 0;
  let count = 0;
  let dot = -1;
  for (let k = negative ? 1 : 0; k < text.length; k++) {
    const code = text.charCodeAt(k);
    if (code >= 48 && code <= 57) {
      digits = digits * 10 + (code - 48);
      count++;
    } else if (code === 46 && dot === -1) {
      dot = k;
    } else {
      return undefined;
    }
  }
  if (count === 0 || count > 15) return undefined;
  const fraction = dot === -1 ? 0 : text.length - dot - 1;
  const value = fraction === 0 ? digits : digits / POWERS_OF_TEN[fraction]!;
  return negative ? -value : value;
}
