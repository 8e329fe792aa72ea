import { describe, expect, it } from '@jest/globals';
import { MalformedInput } from '../../lambdas/shared/errors.js';
import { renderValidationHtml } from '../../lambdas/validate/data-docs.js';
import { SCHEMA_EXPECTATION } from '../../lambdas/validate/engine.js';
import { csvContract, validate } from '../unit/validate/support.js';

// Bad and tricky CSV through the validation engine: each ends in a named error or the right records.
// A 70 MB line is covered by test/integration/validate-limits-cli.test.ts (MalformedInput, bounded memory).

const strings = csvContract('type: object\nproperties:\n  a: { type: string }\n  b: { type: string }');
const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('corpus: CSV input the engine refuses by name', () => {
  it.each([
    ['an empty file', '', /no header row: the file is empty/],
    ['an unclosed quote', 'a,b\n1,"2\n3,4\n', /line 2: field 2 opens a quote that is never closed/],
    [
      'invalid UTF-8',
      bytes('a,b\n1,', [0xc3, 0x28], '\n'),
      /line 2, byte offset 6: not valid UTF-8 \(0xc3 0x28/,
    ],
    [
      'UTF-16 with a byte order mark',
      bytes([0xff, 0xfe], Buffer.from('a,b\r\n1,2\r\n', 'utf16le').toJSON().data),
      /byte offset 0: not valid UTF-8 .*starts with a UTF-16 byte order mark, save it as UTF-8/,
    ],
    [
      'lines ending in a lone CR',
      'a,b\r1,2\r3,4\r',
      /line 1: the header holds a carriage return \(CR\) that does not end a line: lines must end in LF or CRLF/,
    ],
    ['a column named twice', 'a,b,a\n1,2,3\n', /line 1: the header names column 'a' twice/],
    ['two columns without a name', 'a,,\n1,2,3\n', /line 1: the header names column '' twice/],
    ['a column named __proto__', 'a,__proto__\n1,2\n', /a column cannot be named '__proto__'/],
  ])('refuses %s with MalformedInput', async (_case, input, message) => {
    // Act
    const run = validate(input, strings, { source: 'in.csv' });
    // Assess
    await expect(run).rejects.toThrow(MalformedInput);
    await expect(run).rejects.toThrow(message);
  });
});

describe('corpus: CSV input the engine reads', () => {
  it('reads a header with no rows as an empty batch', async () => {
    // Act
    const run = await validate('a,b\n', strings);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 0, valid: 0, quarantined: 0 });
    expect(run.outcome.result.meta.columns).toEqual(['a', 'b']);
  });

  it('quarantines ragged rows with their text and keeps the others', async () => {
    // Act
    const run = await validate('a,b\n1\n1,2,3\n1,2\n', strings);
    // Assess
    expect(run.valid).toEqual([{ a: '1', b: '2' }]);
    expect(run.quarantine.map((q) => [q.row, q.record, q.failures[0]?.reason])).toEqual([
      [2, '1', 'the row has 1 field, the header has 2'],
      [3, '1,2,3', 'the row has 3 fields, the header has 2'],
    ]);
  });

  it('reads a UTF-8 byte order mark and CRLF line endings as plain lines', async () => {
    // Act
    const run = await validate(bytes([0xef, 0xbb, 0xbf], 'a,b\r\n1,2\r\n3,4\r\n'), strings);
    // Assess
    expect(run.outcome.result.meta.columns).toEqual(['a', 'b']);
    expect(run.valid).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
  });

  it('reads mixed LF and CRLF line endings, keeping a CRLF inside quotes as data', async () => {
    // Act
    const run = await validate('a,b\r\n1,2\n3,4\r\n"5\r\n6",7\n', strings);
    // Assess
    expect(run.valid).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
      { a: '5\r\n6', b: '7' },
    ]);
  });

  it('keeps NUL bytes as data, escaped in the JSON output', async () => {
    // Act
    const run = await validate('a,b\n1\u0000x,\u0000\n', strings);
    // Assess
    expect(run.validText).toBe('{"a":"1\\u0000x","b":"\\u0000"}\n');
  });

  it('keeps one column without a name as the column ""', async () => {
    // Act
    const run = await validate('a,,b\n1,2,3\n', strings);
    // Assess
    expect(run.valid).toEqual([{ a: '1', '': '2', b: '3' }]);
  });

  it('keeps constructor and prototype as ordinary columns', async () => {
    // Act
    const run = await validate('constructor,prototype\n1,2\n', strings);
    // Assess
    expect(run.validText).toBe('{"constructor":"1","prototype":"2"}\n');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads 100,000 columns, writing each in header order, without generating code per column', async () => {
    // Prepare
    const count = 100_000;
    const header = Array.from({ length: count }, (_, i) => `c${i}`);
    const row = header.map((_, i) => (i % 3 === 0 ? '' : `${i}`));
    const contract = csvContract(
      'type: object\nproperties:\n  c1: { type: integer }\n  c2: { type: string }',
    );
    // Act
    const run = await validate(`${header.join(',')}\n${row.join(',')}\n`, contract);
    // Assess
    const expected = Object.fromEntries(
      header.map((name, i) => [name, row[i] === '' ? null : name === 'c1' ? 1 : row[i]]),
    );
    expect(run.outcome.rows).toEqual({ read: 1, valid: 1, quarantined: 0 });
    expect(run.validText).toBe(`${JSON.stringify(expected)}\n`);
  });

  it('keeps spreadsheet formula values as data, byte for byte', async () => {
    // Sluice writes no CSV: validated, curated and quarantined records are JSON Lines and the
    // reports JSON and HTML, so a formula is never written where a spreadsheet would run it.
    // What matters is that it is kept exactly as data.
    // Prepare
    const formulas = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1:A2)', '=HYPERLINK("http://x","y")'];
    const csv = `a,b\n${formulas.map((f) => `"${f.replaceAll('"', '""')}",x`).join('\n')}\n`;
    // Act
    const run = await validate(csv, strings);
    // Assess
    expect(run.valid.map((r) => r.a)).toEqual(formulas);
  });

  it('escapes <script> and </style> from values and column names in the data docs', async () => {
    // Prepare
    const contract = csvContract(
      'type: object\nproperties:\n  "</style><script>alert(1)</script>": { type: integer }\n  b: { type: string }',
      '\n- type: expect_column_values_to_be_in_set\n  kwargs: { column: b, value_set: [x] }',
      'on_failure: quarantine',
    );
    const csv = '"</style><script>alert(1)</script>",b\nnot-a-number,"<script>alert(2)</script>"\n';
    const run = await validate(csv, contract);
    // Act
    const html = renderValidationHtml(run.outcome.result, {
      dataset: 'orders',
      decision: run.outcome.decision,
      rows: run.outcome.rows,
    });
    // Assess
    expect(run.quarantine[0]?.failures.map((f) => f.expectation)).toEqual([
      SCHEMA_EXPECTATION,
      'expect_column_values_to_be_in_set',
    ]);
    expect(html).toContain('&lt;/style&gt;&lt;script&gt;alert(1)');
    expect(html).toContain('&lt;script&gt;alert(2)');
    expect(html).not.toMatch(/<script/i);
    expect(html.match(/<\/style>/g)).toHaveLength(1);
  });
});
