import { describe, expect, it } from '@jest/globals';
import { CsvReader, CsvSyntaxError } from '../../../lambdas/validate/csv-reader.js';

interface Read {
  fields: string[];
  line: number;
  problem: string | undefined;
  text: string;
}

/** Reads text given in pieces, as the stream would deliver it. */
function read(pieces: string[], delimiter = ',', quote = '"'): Read[] {
  const reader = new CsvReader(delimiter, quote, 8 * 1024 * 1024);
  const records: Read[] = [];
  const sink = (fields: string[], line: number, problem: string | undefined) => {
    records.push({ fields, line, problem, text: reader.recordText() });
  };
  for (const piece of pieces) reader.push(piece, sink);
  reader.end(sink);
  return records;
}

/** Every way of cutting the text in two, and one character at a time. */
function cuts(text: string): string[][] {
  const ways = [[text], text.split('')];
  for (let at = 1; at < text.length; at++) ways.push([text.slice(0, at), text.slice(at)]);
  return ways;
}

describe('CsvReader', () => {
  it('splits unquoted lines on the delimiter', () => {
    // Prepare
    const text = 'a,b,c\n1,2,3\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
  });

  it('keeps delimiters, doubled quotes and line breaks inside quoted fields', () => {
    // Prepare
    const text = 'id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.slice(1).map((r) => r.fields)).toEqual([
      ['1', 'a, b'],
      ['2', 'say "hi"'],
      ['3', 'two\nlines'],
    ]);
  });

  it('numbers each record by the line it starts on, counting line breaks inside quotes', () => {
    // Prepare
    const text = 'id,note\n1,"one\ntwo\nthree"\n2,x\n\n3,y\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.map((r) => [r.fields[0], r.line])).toEqual([
      ['id', 1],
      ['1', 2],
      ['2', 5],
      ['3', 7],
    ]);
  });

  it('reads CRLF line ends, also after a quoted field', () => {
    // Prepare
    const text = 'a,b\r\n1,"x"\r\n2,y\r\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['1', 'x'],
      ['2', 'y'],
    ]);
  });

  it('reads a last line that has no line break', () => {
    // Prepare
    const text = 'a,b\n1,2';
    // Act
    const records = read([text]);
    // Assess
    expect(records.at(-1)?.fields).toEqual(['1', '2']);
  });

  it('skips empty lines', () => {
    // Prepare
    const text = 'a\n\n\r\nx\n\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.map((r) => r.fields)).toEqual([['a'], ['x']]);
  });

  it('keeps empty fields, including a trailing one', () => {
    // Prepare
    const text = 'a,b,c\n,,\n"",x,\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.slice(1).map((r) => r.fields)).toEqual([
      ['', '', ''],
      ['', 'x', ''],
    ]);
  });

  it('reads the same records however the text is cut into pieces', () => {
    // Prepare
    const text = 'id,"no\nte"\r\n1,"a ""q"" b"\r\n2,plain\n\n3,"x\r\ny",\n4,"end"';
    const whole = read([text]).map((r) => [r.fields, r.line, r.problem, r.text]);
    // Act
    const mismatches = cuts(text).filter(
      (pieces) =>
        JSON.stringify(read(pieces).map((r) => [r.fields, r.line, r.problem, r.text])) !==
        JSON.stringify(whole),
    );
    // Assess
    expect(mismatches).toEqual([]);
  });

  it('uses the contract delimiter and quote character', () => {
    // Prepare
    const text = "a;b\n'x;y';'it''s'\n";
    // Act
    const records = read([text], ';', "'");
    // Assess
    expect(records[1]?.fields).toEqual(['x;y', "it's"]);
  });

  it('takes a quote inside an unquoted field literally', () => {
    // Prepare
    const text = 'a,b\n5" screen,x\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records[1]).toMatchObject({ fields: ['5" screen', 'x'], problem: undefined });
  });

  it('reports text after a closing quote as a problem of the record, and reads on', () => {
    // Prepare
    const text = 'a,b\n"x"y,1\n2,3\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.slice(1).map((r) => [r.fields, r.problem])).toEqual([
      [['xy', '1'], 'field 1 has text after its closing quote'],
      [['2', '3'], undefined],
    ]);
  });

  it('throws CsvSyntaxError naming the line when a quote is still open at the end', () => {
    // Prepare
    const text = 'a,b\n1,2\n3,"never closed\n4,5\n';
    // Act
    const act = () => read([text]);
    // Assess
    expect(act).toThrow(CsvSyntaxError);
    expect(act).toThrow(/line 3: field 2 opens a quote that is never closed/);
  });

  it('gives the source text of the record being delivered', () => {
    // Prepare
    const text = 'a,b\r\n1,"x\ny",z\r\n';
    // Act
    const records = read([text]);
    // Assess
    expect(records.map((r) => r.text)).toEqual(['a,b', '1,"x\ny",z']);
  });

  it('says which line it has reached for text not yet read as records', () => {
    // Prepare
    const reader = new CsvReader(',', '"', 8 * 1024 * 1024);
    const sink = () => {};
    // Act
    reader.push('a,b\n1,"open\nstill open\n', sink);
    // Assess
    expect(reader.lineReached()).toBe(4);
  });
});
