import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { MalformedInput } from '../../../lambdas/shared/errors.js';
import { SCHEMA_EXPECTATION, validateStream } from '../../../lambdas/validate/engine.js';
import { contractFrom, csvContract, ORDERS_SCHEMA, resultOf, validate } from './support.js';

const orders = csvContract(ORDERS_SCHEMA);

const jsonlContract = contractFrom(`name: events
source: { type: s3-upload, prefix: landing/events/ }
format: { type: jsonl }
schema:
  type: object
  required: [id]
  properties:
    id: { type: integer }
    kind: { type: string }
expectations:
  - type: expect_column_values_to_be_in_set
    kwargs: { column: kind, value_set: [click, view] }
`);

describe('validateStream: rows and typing', () => {
  it('quarantines the row that breaks the schema, with its line and column (STYLE.md example)', async () => {
    // Prepare
    const csv = 'order_id,amount\nA,10\nB,-3\n';
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 2, valid: 1, quarantined: 1 });
    expect(run.quarantine[0]).toMatchObject({ row: 3, index: 1, failures: [{ column: 'amount' }] });
  });

  it('writes valid records as typed JSON Lines, columns in header order', async () => {
    // Prepare
    const contract = csvContract(`type: object
properties:
  id: { type: integer }
  price: { type: number }
  paid: { type: boolean }
  name: { type: string }`);
    const csv = 'name,paid,id,price,extra\n"Smith, J",TRUE,7,2.50,x\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.validText).toBe('{"name":"Smith, J","paid":true,"id":7,"price":2.5,"extra":"x"}\n');
  });

  it('writes empty cells and null_values as null, never as 0, false or ""', async () => {
    // Prepare
    const contract = csvContract(
      `type: object
properties:
  n: { type: number }
  b: { type: boolean }
  s: { type: string }`,
      '[]',
      'on_failure: quarantine',
    );
    contract.format = { ...contract.format, type: 'csv', null_values: ['NA'] } as typeof contract.format;
    const csv = 'n,b,s\n,,\nNA,NA,NA\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.valid).toEqual([
      { n: null, b: null, s: null },
      { n: null, b: null, s: null },
    ]);
  });

  it('reports an empty cell in a required column as missing, not as a converted value', async () => {
    // Prepare
    const csv = 'order_id,amount\nA,\n';
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.quarantine[0]?.failures).toEqual([
      {
        column: 'amount',
        expectation: SCHEMA_EXPECTATION,
        reason: "must have required property 'amount' (the value is empty, null or absent)",
      },
    ]);
  });

  it.each([' ', 'Infinity', '0x1F', '1,5', '12abc'])(
    'refuses %j as a number, showing the cell',
    async (cell) => {
      // Prepare
      const csv = `order_id,amount\nA,"${cell}"\n`;
      // Act
      const run = await validate(csv, orders);
      // Assess
      expect(run.quarantine[0]?.failures[0]).toMatchObject({
        column: 'amount',
        reason: `must be number, got ${JSON.stringify(cell)}`,
        value: cell,
      });
    },
  );

  it('refuses an integer too large to keep its exact value', async () => {
    // Prepare
    const contract = csvContract('type: object\nproperties:\n  id: { type: integer }');
    const csv = 'id\n12345678901234567890\n9007199254740991\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.valid).toEqual([{ id: 9007199254740991 }]);
    expect(run.quarantine[0]?.failures[0]?.reason).toMatch(/must be integer \(a whole number within ±2\^53/);
  });

  it('writes strings that need JSON escapes correctly', async () => {
    // Prepare
    const contract = csvContract('type: object\nproperties:\n  s: { type: string }');
    const csv = 's\n"say ""hi"""\nback\\slash\ntab\there\n"two\nlines"\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.valid.map((r) => r.s)).toEqual(['say "hi"', 'back\\slash', 'tab\there', 'two\nlines']);
  });

  it('writes numbers as JSON numbers whatever their cell looked like', async () => {
    // Prepare
    const contract = csvContract('type: object\nproperties:\n  x: { type: number }');
    const csv = 'x\n1.50\n-0\n+3\n.5\n1e3\n007\n0.1\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.validText).toBe(
      ['1.5', '0', '3', '0.5', '1000', '7', '0.1'].map((x) => `{"x":${x}}\n`).join(''),
    );
  });

  it('records a row that fails several checks once, with every failure', async () => {
    // Prepare
    const contract = csvContract(
      ORDERS_SCHEMA,
      `- type: expect_column_values_to_match_regex
  kwargs: { column: order_id, regex: "^[A-Z]$" }
- type: expect_column_values_to_be_between
  kwargs: { column: amount, max_value: 100 }`,
    );
    const csv = 'order_id,amount\nlong,-500\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(run.quarantine).toHaveLength(1);
    expect(run.quarantine[0]?.failures.map((f) => [f.expectation, f.column])).toEqual([
      [SCHEMA_EXPECTATION, 'amount'],
      ['expect_column_values_to_match_regex', 'order_id'],
    ]);
    expect(run.quarantine[0]?.record).toEqual({ order_id: 'long', amount: -500 });
  });

  it('quarantines a row with the wrong number of fields, with its text, and reads on', async () => {
    // Prepare
    const csv = 'order_id,amount\nA,1\nB,2,surplus\nC,3\n';
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 3, valid: 2, quarantined: 1 });
    expect(run.quarantine[0]).toEqual({
      row: 3,
      index: 1,
      failures: [
        { column: null, expectation: SCHEMA_EXPECTATION, reason: 'the row has 3 fields, the header has 2' },
      ],
      record: 'B,2,surplus',
    });
  });

  it('quarantines a row with text after a closing quote', async () => {
    // Prepare
    const csv = 'order_id,amount\n"A"x,1\n';
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.quarantine[0]?.failures[0]?.reason).toBe('field 1 has text after its closing quote');
  });

  it('numbers rows by the line they start on when quoted fields hold line breaks', async () => {
    // Prepare
    const csv = 'order_id,amount\n"A\nB",1\n"C",-1\n';
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.quarantine[0]).toMatchObject({ row: 4, index: 1 });
  });

  it('strips a UTF-8 byte order mark before the header', async () => {
    // Prepare
    const csv = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('order_id,amount\nA,1\n')]);
    // Act
    const run = await validate(csv, orders);
    // Assess
    expect(run.valid).toEqual([{ order_id: 'A', amount: 1 }]);
  });

  it('throws MalformedInput naming the source, line and byte offset of invalid UTF-8', async () => {
    // Prepare
    const csv = Buffer.concat([
      Buffer.from('order_id,amount\nA,1\nB'),
      Buffer.from([0xff]),
      Buffer.from(',2\n'),
    ]);
    // Act
    const act = validate(csv, orders, { source: 's3://raw/orders.csv' });
    // Assess
    await expect(act).rejects.toThrow(MalformedInput);
    await expect(act).rejects.toThrow(
      /^s3:\/\/raw\/orders.csv: line 3, byte offset 21: not valid UTF-8 \(0xff/,
    );
  });

  it('throws MalformedInput when a quoted field is never closed', async () => {
    // Prepare
    const csv = 'order_id,amount\nA,1\n"B,2\n';
    // Act
    const act = validate(csv, orders, { source: 'orders.csv' });
    // Assess
    await expect(act).rejects.toThrow(MalformedInput);
    await expect(act).rejects.toThrow(
      'orders.csv: line 3: field 1 opens a quote that is never closed (the file ends inside it)',
    );
  });

  it('throws MalformedInput for an empty CSV file: the header is required', async () => {
    // Prepare
    const csv = '';
    // Act
    const act = validate(csv, orders);
    // Assess
    await expect(act).rejects.toThrow(/no header row/);
  });

  it('throws MalformedInput when the header itself is malformed', async () => {
    // Prepare
    const csv = '"order_id"x,amount\nA,1\n';
    // Act
    const act = validate(csv, orders);
    // Assess
    await expect(act).rejects.toThrow(
      /line 1: the header is malformed: field 1 has text after its closing quote/,
    );
  });

  it('throws MalformedInput when the header names a column twice', async () => {
    // Prepare
    const csv = 'order_id,amount,amount\nA,1,2\n';
    // Act
    const act = validate(csv, orders);
    // Assess
    await expect(act).rejects.toThrow(/line 1: the header names column 'amount' twice/);
  });
});

describe('validateStream: missing required columns', () => {
  it('quotes header names whose spaces would not show', async () => {
    // Prepare
    const csv = 'order_id, amount\nA,1\n';
    // Act
    const run = await validate(csv, orders, { source: 'orders.csv' });
    // Assess
    expect(run.outcome.decision.reasons[0]).toContain('(header found: order_id, " amount")');
  });

  it('stops before the rows and does not promote, naming the missing columns and the header', async () => {
    // Prepare
    const csv = 'order_id,total\nA,1\nB,2\n';
    // Act
    const run = await validate(csv, orders, { source: 'orders.csv' });
    // Assess
    expect(run.outcome.rows).toEqual({ read: 0, valid: 0, quarantined: 0 });
    expect(run.outcome.decision).toEqual({
      warnings: [],
      promote: false,
      reasons: [
        'orders.csv: the header lacks required column amount (header found: order_id, total); no row was validated.',
      ],
    });
  });

  it('reports the missing columns in the schema entry and leaves other expectations unevaluated', async () => {
    // Prepare
    const contract = csvContract(
      ORDERS_SCHEMA,
      '- type: expect_table_row_count_to_be_between\n  kwargs: { min_value: 1 }',
    );
    const csv = 'order_id\nA\n';
    // Act
    const run = await validate(csv, contract);
    // Assess
    expect(resultOf(run, SCHEMA_EXPECTATION)).toMatchObject({
      success: false,
      result: { observed_value: ['order_id'], details: { missing_required_columns: ['amount'] } },
    });
    expect(resultOf(run, 'expect_table_row_count_to_be_between').exception_info).toEqual({
      raised_exception: true,
      exception_message: 'validation stopped: the header lacks required columns',
      exception_traceback: null,
    });
  });
});

describe('validateStream: JSON Lines', () => {
  it('validates each line as a record and writes it back as JSON', async () => {
    // Prepare
    const jsonl = '{"id":1,"kind":"click"}\n\n{"id":2, "kind":"view"}\r\n';
    // Act
    const run = await validate(jsonl, jsonlContract);
    // Assess
    expect(run.validText).toBe('{"id":1,"kind":"click"}\n{"id":2,"kind":"view"}\n');
  });

  it('quarantines a line that is not valid JSON, with the parse error, and reads on', async () => {
    // Prepare
    const jsonl = '{"id":1}\n{"id":2,\n{"id":3}\n';
    // Act
    const run = await validate(jsonl, jsonlContract);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 3, valid: 2, quarantined: 1 });
    expect(run.quarantine[0]).toMatchObject({ row: 2, index: 1, record: '{"id":2,' });
    expect(run.quarantine[0]?.failures[0]?.reason).toMatch(/^not valid JSON: /);
  });

  it('quarantines a line that holds JSON but not an object', async () => {
    // Prepare
    const jsonl = '[1,2]\n';
    // Act
    const run = await validate(jsonl, jsonlContract);
    // Assess
    expect(run.quarantine[0]?.failures[0]?.reason).toBe('not a JSON object: a record must be {…}');
  });

  it.each([
    ['a pretty-printed JSON array', '[\n  {"id": 1},\n  {"id": 2}\n]\n'],
    ['a JSON array on one line', '[{"id":1},{"id":2}]\n'],
    ['an empty JSON array', '  []\n'],
  ])('refuses %s with MalformedInput saying it is not JSON Lines and what to do', async (_what, text) => {
    // Act
    const run = validate(text, jsonlContract);
    // Assess
    await expect(run).rejects.toThrow(MalformedInput);
    await expect(run).rejects.toThrow(
      /^<input>: line 1: this is a JSON array, not JSON Lines .*declare format \{ type: json \}.*jq -c '\.\[\]'/,
    );
  });

  it('reads the records of a JSON document one per line, where a record that is an array is one bad row', async () => {
    // Prepare
    const documents = contractFrom(
      'name: events\nsource: { type: s3-upload, prefix: landing/events/ }\nformat: { type: json }\n' +
        'schema: { type: object, properties: { id: { type: integer } } }\n',
    );
    // Act
    const run = await validate('[{"id":1}]\n{"id":2}\n', documents);
    // Assess
    expect(run.outcome.rows).toEqual({ read: 2, valid: 1, quarantined: 1 });
  });

  it('treats a null value as absent, as an empty CSV cell is, and keeps it in the output', async () => {
    // Prepare
    const jsonl = '{"id":1,"kind":null}\n{"id":null}\n';
    // Act
    const run = await validate(jsonl, jsonlContract);
    // Assess
    expect(run.valid).toEqual([{ id: 1, kind: null }]);
    expect(run.quarantine[0]?.failures[0]).toMatchObject({ column: 'id', expectation: SCHEMA_EXPECTATION });
  });

  it('refuses a line too long to be a record instead of holding it all in memory', async () => {
    // Prepare
    const chunk = `{"id":1,"kind":"${'x'.repeat(1024 * 1024)}`;
    const chunks = Array.from({ length: 65 }, () => chunk);
    // Act
    const act = validate(chunks, jsonlContract, { source: 'events.jsonl' });
    // Assess
    await expect(act).rejects.toThrow(
      /^events.jsonl: line 1: the line starting on this line is already \d+ bytes long, over the limit of 8388608 bytes \(format.max_record_bytes in the contract: raise it/,
    );
  });

  it.each([
    ['csv', 'id,kind\n1,a\n2,"', 'line 3: the record'],
    ['jsonl', '{"id":1}\n{"id":2,"kind":"', 'line 2: the line'],
  ])(
    'stops a %s record at format.max_record_bytes, before the rest of the input is read',
    async (type, head, where) => {
      // Prepare: a 1 MiB limit and a second record of 100 pieces of 64 KiB, counted as they are read.
      const contract = contractFrom(`name: events
source: { type: s3-upload, prefix: landing/events/ }
format: { type: ${type}, max_record_bytes: 1048576 }
schema:
  type: object
  properties:
    id: { type: integer }
    kind: { type: string }
`);
      let pulled = 0;
      const pieces = function* () {
        yield Buffer.from(head);
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield Buffer.from('é'.repeat(32 * 1024));
        }
      };
      // Act
      const act = validateStream(Readable.from(pieces()), contract, {}, { source: `events.${type}` });
      // Assess: 2-byte characters, so the limit is passed in bytes at the 16th piece, not in characters.
      await expect(act).rejects.toThrow(MalformedInput);
      await expect(act).rejects.toThrow(`${where} starting on this line is already 10485`);
      await expect(act).rejects.toThrow('over the limit of 1048576 bytes (format.max_record_bytes');
      expect(pulled).toBeLessThan(20);
    },
  );

  it('does not convert JSON strings to the declared type', async () => {
    // Prepare
    const jsonl = '{"id":"1"}\n';
    // Act
    const run = await validate(jsonl, jsonlContract);
    // Assess
    expect(run.quarantine[0]?.failures[0]?.reason).toBe('must be integer, got "1"');
  });
});

describe('validateStream: streams', () => {
  it('waits for drain when an output is full, and loses nothing', async () => {
    // Prepare: ~1.6 MB of output, more than the engine lets wait in a stream (1 MiB).
    const contract = csvContract('type: object\nproperties:\n  n: { type: integer }');
    const csv = `n\n${Array.from({ length: 150_000 }, (_, i) => i).join('\n')}\n`;
    const received: Buffer[] = [];
    let waits = 0;
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        setImmediate(callback);
      },
    });
    slow.on('drain', () => waits++);
    const quarantine = new Writable({ write: (_c, _e, callback) => callback() });
    // Act
    const outcome = await validateStream(Readable.from([Buffer.from(csv)]), contract, {
      valid: slow,
      quarantine,
    });
    await new Promise((resolve) => slow.end(resolve));
    // Assess
    expect(outcome.rows.valid).toBe(150_000);
    expect(waits).toBeGreaterThan(0);
    expect(Buffer.concat(received).toString().split('\n').length - 1).toBe(150_000);
  });

  it('does not end the output streams', async () => {
    // Prepare
    const valid = new Writable({ write: (_c, _e, callback) => callback() });
    const quarantine = new Writable({ write: (_c, _e, callback) => callback() });
    // Act
    await validateStream(Readable.from([Buffer.from('order_id,amount\nA,1\n')]), orders, {
      valid,
      quarantine,
    });
    // Assess
    expect([valid.writableEnded, quarantine.writableEnded]).toEqual([false, false]);
  });

  it('without outputs writes nothing and finds the same as with them, for CSV and JSON Lines', async () => {
    // Prepare
    const cases = [
      { contract: orders, text: 'order_id,amount\nA,1\nB,-2\nC,x\nD,4\n' },
      { contract: jsonlContract, text: '{"id":1,"kind":"click"}\nnot json\n{"id":2,"kind":"buy"}\n' },
    ];
    for (const { contract, text } of cases) {
      const at = () => new Date('2026-11-25T10:00:00Z');
      // Act
      const withOutputs = await validate(text, contract);
      const without = await validateStream(Readable.from([Buffer.from(text)]), contract, {}, { now: at });
      // Assess
      expect(without.rows).toEqual(withOutputs.outcome.rows);
      expect(without.rows.valid * without.rows.quarantined).toBeGreaterThan(0);
      expect(without.result).toEqual(withOutputs.outcome.result);
      expect(without.decision).toEqual(withOutputs.outcome.decision);
    }
  });

  it('reports progress in bytes and rows', async () => {
    // Prepare
    const progress: Array<{ bytesRead: number; rowsRead: number }> = [];
    // Act
    await validate(['order_id,amount\nA,1\n', 'B,2\n'], orders, { onProgress: (p) => progress.push(p) });
    // Assess
    expect(progress.at(-1)).toEqual({ bytesRead: 24, rowsRead: 2 });
  });
});
