/**
 * Turns a CSV row's cells into the record the schema and the expectations see: each cell typed
 * by its column's coercer, empty and null cells left out. The builder is generated per header,
 * as ajv generates its validators: one straight line of named property stores per column, so
 * every record of a file gets the same few hidden classes and no store is keyed at run time
 * (which was the costliest part of reading a row). `values` receives the typed value of each
 * cell in header order (null for a null cell), which the evaluators and the JSON writer use.
 */
import type { Row } from './evaluator.js';
import type { Coercer } from './record-schema.js';

export type RecordBuilder = (cells: readonly string[], values: unknown[]) => Row;

/**
 * Headers wider than this get a loop instead of generated code: a straight line per column is
 * fast for the usual tens of columns, but for a hundred thousand V8 would compile a function of
 * hundreds of thousands of statements, hundreds of MB of memory for one header.
 */
export const MAX_GENERATED_COLUMNS = 2048;

export function recordBuilder(
  header: readonly string[],
  coercers: ReadonlyArray<Coercer | undefined>,
  nullValues: ReadonlySet<string> | undefined,
): RecordBuilder {
  if (header.length > MAX_GENERATED_COLUMNS) return loopedRecordBuilder(header, coercers, nullValues);
  const lines: string[] = ['const record = {};', 'let cell;'];
  header.forEach((name, c) => {
    const isNull = nullValues === undefined ? `cell === ''` : `cell === '' || nullValues.has(cell)`;
    const value = coercers[c] === undefined ? 'cell' : `coercers[${c}](cell)`;
    lines.push(
      `cell = cells[${c}];`,
      `if (${isNull}) values[${c}] = null;`,
      // JSON.stringify quotes the name as a JS string literal: any column name is safe here.
      `else record[${JSON.stringify(name)}] = values[${c}] = ${value};`,
    );
  });
  lines.push('return record;');
  const make = new Function('coercers', 'nullValues', `return (cells, values) => {\n${lines.join('\n')}\n};`);
  return make(coercers, nullValues) as RecordBuilder;
}

/** The same record as the generated builder, column by column in a loop (for very wide headers). */
function loopedRecordBuilder(
  header: readonly string[],
  coercers: ReadonlyArray<Coercer | undefined>,
  nullValues: ReadonlySet<string> | undefined,
): RecordBuilder {
  return (cells, values) => {
    const record: Row = {};
    for (let c = 0; c < header.length; c++) {
      const cell = cells[c]!;
      if (cell === '' || nullValues?.has(cell)) values[c] = null;
      else {
        const coerce = coercers[c];
        // The header has no '__proto__' (refused when it is read): each store makes an own property.
        record[header[c]!] = values[c] = coerce === undefined ? cell : coerce(cell);
      }
    }
    return record;
  };
}
