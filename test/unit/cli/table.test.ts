import { describe, expect, it } from '@jest/globals';
import { columnWidths, cut, table, terminalWidth, wrap } from '../../../src/cli/table.js';

const widthOf = (line: string) => [...line].length;

describe('the CLI table printer', () => {
  it('prints a table that fits as it is, columns two spaces apart', () => {
    // Act
    const text = table(['Name', 'Rows'], [['orders', '300']], 100);
    // Assess
    expect(text.split('\n')).toEqual(['Name    Rows', '──────  ────', 'orders  300']);
  });

  it('shrinks the widest column first and cuts its cells with …, keeping short columns whole', () => {
    // Prepare
    const rows = [['✓', 'expect_column_values_to_be_unique', 'order_date', 'observed '.repeat(20)]];
    // Act
    const lines = table(['', 'Expectation', 'Column', 'Observed'], rows, 100).split('\n');
    // Assess
    expect(widthOf(lines[1]!)).toBe(100);
    expect(widthOf(lines[2]!)).toBe(100);
    expect(lines[2]).toMatch(/^✓ {2}expect_column_values_to_be_unique {2}order_date {2}observed .*…$/);
  });

  it('keeps a column named in keep whole (an id to copy) and shrinks the others', () => {
    // Prepare
    const tag = 'orders@2026-11-25-8be8c5d56a3841a7';
    // Act
    const lines = table(['Tag', 'DVC md5'], [[tag, 'f'.repeat(32)]], 50, { keep: [0] }).split('\n');
    // Assess
    expect(lines[2]).toBe(`${tag}  ${'f'.repeat(13)}…`);
  });

  it('gives the width left over to the columns it cut, so the table uses the whole width', () => {
    // Act
    const widths = columnWidths([50, 50, 3], 80);
    // Assess
    expect(widths.reduce((a, b) => a + b, 0) + 2 * 2).toBe(80);
    expect(widths[2]).toBe(3);
  });

  it('keeps every line within the width even with more columns than fit, a line break in a cell and wide characters', () => {
    // Prepare
    const header = Array.from({ length: 40 }, (_, i) => `column_${i}`);
    const rows = [header.map((_, i) => (i === 3 ? 'two\nlines' : '😀'.repeat(i)))];
    // Act
    const lines = table(header, rows, 30).split('\n');
    // Assess
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(widthOf(line)).toBeLessThanOrEqual(30);
  });

  it('cuts text with … only when it is longer than the width', () => {
    expect(cut('abcdef', 6)).toBe('abcdef');
    expect(cut('abcdefg', 6)).toBe('abcde…');
  });

  it('wraps prose at spaces with a hanging indent, breaking a word longer than a line', () => {
    // Act
    const lines = wrap(`warning: one two three ${'x'.repeat(30)} four`, 20, '  ').split('\n');
    // Assess
    for (const line of lines) expect(widthOf(line)).toBeLessThanOrEqual(20);
    expect(lines[0]).toBe('warning: one two');
    expect(lines.slice(1).every((line) => line.startsWith('  '))).toBe(true);
    expect(lines.join('').replaceAll(' ', '')).toBe(`warning:onetwothree${'x'.repeat(30)}four`);
  });
});

describe('the terminal width', () => {
  it("is a terminal's columns", () => {
    expect(terminalWidth({ isTTY: true, columns: 132 })).toBe(132);
  });

  it('is $COLUMNS when stdout is not a terminal, else 100', () => {
    const before = process.env.COLUMNS;
    try {
      process.env.COLUMNS = '72';
      expect(terminalWidth({ isTTY: false })).toBe(72);
      delete process.env.COLUMNS;
      expect(terminalWidth({ isTTY: false })).toBe(100);
    } finally {
      if (before === undefined) delete process.env.COLUMNS;
      else process.env.COLUMNS = before;
    }
  });
});
