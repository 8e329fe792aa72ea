/**
 * The one table printer of the CLI. Every table fits the terminal: a table wider than the width
 * shrinks its widest columns first (a column of short values keeps them whole) and cuts the cells
 * that no longer fit with `…`. `--json` on each command that prints a table gives the whole values.
 */

/** The width a table may take when stdout is not a terminal and COLUMNS does not say otherwise. */
export const DEFAULT_WIDTH = 100;

/** Spaces between two columns. */
const GAP = 2;

/** Narrowest a shrunk column gets: a character and the `…`. */
const MIN_COLUMN = 2;

/**
 * The terminal's width: stdout's columns on a terminal, else $COLUMNS (as a shell exports it to a
 * pipeline), else 100.
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns && stream.columns > 0) return stream.columns;
  const fromEnv = Number(process.env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_WIDTH;
}

/** Characters as a terminal counts them (code points; a surrogate pair is one). */
function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `text` in at most `width` characters: cut with `…` when longer. */
export function cut(text: string, width: number): string {
  if (length(text) <= width) return text;
  if (width <= 0) return '';
  return `${[...text].slice(0, width - 1).join('')}…`;
}

/**
 * Column widths that fit `width`: the natural widths when they fit, else every column wider than a
 * cap is cut to it, with the cap as high as fits, so the widest columns give up space first.
 * Columns in `keep` (an id a user copies into the next command) keep their natural width.
 */
export function columnWidths(
  natural: readonly number[],
  width: number,
  keep: readonly number[] = [],
): number[] {
  const gaps = GAP * Math.max(0, natural.length - 1);
  const capped = (w: number, i: number, cap: number) => (keep.includes(i) ? w : Math.min(w, cap));
  const total = (cap: number) => natural.reduce((sum, w, i) => sum + capped(w, i, cap), gaps);
  const widest = Math.max(0, ...natural);
  if (total(widest) <= width) return [...natural];
  let low = MIN_COLUMN;
  let high = widest;
  while (low < high) {
    const cap = Math.ceil((low + high) / 2);
    if (total(cap) <= width) low = cap;
    else high = cap - 1;
  }
  const widths = natural.map((w, i) => capped(w, i, low));
  // The cap is whole; columns at the cap share what is left of the width, leftmost first.
  let spare = width - total(low);
  for (let i = 0; i < widths.length && spare > 0; i++) {
    if (natural[i]! > widths[i]!) {
      widths[i]! += 1;
      spare -= 1;
    }
  }
  return widths;
}

/**
 * A table as lines of text: a header, a rule, a line per row, columns two spaces apart, no line
 * wider than `width` (a table of more columns than can fit at two characters each is cut at the
 * right edge).
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  width = terminalWidth(),
  options: { keep?: readonly number[] } = {},
): string {
  // A cell's line breaks would break the table's lines.
  const clean = (cell: string | undefined) => (cell ?? '').replace(/\r?\n/g, ' ');
  const natural = header.map((title, i) =>
    Math.max(length(title), ...rows.map((row) => length(clean(row[i])))),
  );
  const widths = columnWidths(natural, width, options.keep);
  const line = (cells: readonly string[]) =>
    cut(
      header
        .map((_, i) => {
          const cell = cut(clean(cells[i]), widths[i]!);
          return cell + ' '.repeat(widths[i]! - length(cell));
        })
        .join(' '.repeat(GAP))
        .trimEnd(),
      width,
    );
  return [line(header), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Label and value lines, the labels padded to one width. Not a table: each value (a path, a
 * version tag) is printed whole, so it can be copied, and wraps where the terminal wraps it.
 */
export function labelled(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([label]) => length(label)));
  return rows
    .map(([label, value]) => `${label}${' '.repeat(width - length(label))}  ${value}`.trimEnd())
    .join('\n');
}

/**
 * Prose in lines of at most `width` characters, broken at spaces (a word longer than a line is
 * broken inside it); lines after the first start with `indent`.
 */
export function wrap(text: string, width = terminalWidth(), indent = ''): string {
  const out: string[] = [];
  let line = '';
  const room = () => width - (out.length === 0 ? 0 : length(indent));
  const push = () => {
    out.push(out.length === 0 ? line : `${indent}${line}`);
    line = '';
  };
  for (const word of text.split(' ')) {
    let rest = word;
    while (line === '' && length(rest) > room() && room() > 0) {
      line = [...rest].slice(0, room()).join('');
      rest = [...rest].slice(room()).join('');
      push();
    }
    if (line === '') line = rest;
    else if (length(line) + 1 + length(rest) <= room()) line += ` ${rest}`;
    else {
      push();
      line = rest;
      while (length(line) > room() && room() > 0) {
        const head = [...line].slice(0, room()).join('');
        line = [...line].slice(room()).join('');
        out.push(`${indent}${head}`);
      }
    }
  }
  if (line !== '' || out.length === 0) push();
  return out.join('\n');
}
