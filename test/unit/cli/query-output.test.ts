import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from '@jest/globals';
import { csvField, tableCell, toJson, toText } from '../../../src/cli/query-output.js';

/** The first row of a query, each value as --json and as text prints it. */
async function firstRow(
  sql: string,
): Promise<{ json: Record<string, unknown>; text: Record<string, string | null> }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const row = reader.getRows()[0]!;
    return {
      json: Object.fromEntries(names.map((n, i) => [n, toJson(row[i]!, types[i]!, toJson)])),
      text: Object.fromEntries(names.map((n, i) => [n, toText(row[i]!, types[i]!)])),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('query values as JSON and text', () => {
  it('gives BIGINTs in the safe range as numbers and larger integers as exact strings', async () => {
    // Act
    const { json } = await firstRow(
      'SELECT count(*) AS n, 9007199254740993::BIGINT AS big, 170141183460469231731687303715884105727::HUGEINT AS huge',
    );
    // Assess
    expect(json).toEqual({ n: 1, big: '9007199254740993', huge: '170141183460469231731687303715884105727' });
    expect(JSON.stringify(json)).toContain('"n":1');
  });

  it('gives DECIMALs up to 15 digits as numbers and wider ones as exact strings', async () => {
    // Act
    const { json, text } = await firstRow(
      'SELECT 1.50::DECIMAL(4,2) AS price, 12345678901234567.5::DECIMAL(18,1) AS wide',
    );
    // Assess
    expect(json).toEqual({ price: 1.5, wide: '12345678901234567.5' });
    expect(text).toEqual({ price: '1.5', wide: '12345678901234567.5' });
  });

  it('gives dates and timestamps in ISO 8601, a TIMESTAMPTZ in UTC', async () => {
    // Act
    const { json } = await firstRow(
      "SELECT DATE '2026-11-05' AS d, TIMESTAMP '2026-11-05 10:00:00.123456' AS ts, TIMESTAMPTZ '2026-11-05 10:00:00+02' AS tz",
    );
    // Assess
    expect(json).toEqual({ d: '2026-11-05', ts: '2026-11-05T10:00:00.123456', tz: '2026-11-05T08:00:00Z' });
  });

  it('gives a JSON column as its value, nested values as JSON, and NULL as null', async () => {
    // Act
    const { json, text } = await firstRow(
      `SELECT '{"a": [1, 2]}'::JSON AS j, {'k': [1, 2], 'at': DATE '2026-01-02'} AS s, NULL AS n, 'nan'::DOUBLE AS nan`,
    );
    // Assess
    expect(json).toEqual({ j: { a: [1, 2] }, s: { k: [1, 2], at: '2026-01-02' }, n: null, nan: 'NaN' });
    expect(text).toEqual({ j: '{"a": [1, 2]}', s: '{"k":[1,2],"at":"2026-01-02"}', n: null, nan: 'NaN' });
  });
});

describe('CSV fields and table cells', () => {
  it('quotes a CSV field with a comma, quote or line break, and tells an empty string from NULL', () => {
    // Act
    const fields = ['plain', 'a,b', 'say "hi"', 'two\nlines', '', null].map(csvField);
    // Assess
    expect(fields).toEqual(['plain', '"a,b"', '"say ""hi"""', '"two\nlines"', '""', '']);
  });

  it('keeps a table cell on one line and shows NULL', () => {
    // Act
    const cells = ['two\nlines\tand a tab', null].map(tableCell);
    // Assess
    expect(cells).toEqual(['two\\nlines\\tand a tab', 'NULL']);
  });
});
