/**
 * Where CSV records start, found from a byte offset in the middle of an object without reading
 * what comes before it: the boundary search of the shard planner (shard-plan.ts).
 *
 * The reader (csv-reader.ts) is, byte for byte, a small automaton over the delimiter, the quote,
 * LF and any other byte: at a field start a quote opens a quoted field, anywhere else in an
 * unquoted field it is text; in a quoted field only a quote matters; after a quote in a quoted
 * field a second quote is a doubled quote and anything else closes the field (text that follows
 * is kept, the row flagged as malformed, as RFC 4180 readers that do not give up do). CR needs no
 * state: CR LF ends a line as LF does. A record starts after an LF read outside quotes. Because the
 * delimiter, the quote and LF are ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
 * character, the automaton run over bytes takes the same steps as the reader run over text.
 *
 * Speculation (Ge et al., "Speculative Distributed CSV Data Parsing for Big Data Analytics",
 * SIGMOD 2019): at a cut, the state the reader is in is unknown, but it is one of four (field
 * start, unquoted, quoted, quote seen). The automaton is run forward from the cut once for each;
 * being deterministic, two runs that reach the same state at the same byte agree from there on.
 * Once every run that is still possible has reached the same state, the reader's true state at
 * that byte is known whatever it was at the cut, and the first record start after it is a real
 * record start. The paper rules out an "inside quotes" guess when it meets a quote followed by a
 * character that cannot follow a closing quote; Sluice's reader accepts such text (it flags the
 * row), so here that guess is not dropped but steps into the unquoted state, and merges with the
 * other runs at the next delimiter or line break: the same decision on well-formed CSV, and still
 * right on malformed CSV. A run is ruled out when it cannot be the reader's: when it holds one
 * record for more than format.max_record_bytes (the readers refuse such a record), or when the
 * object ends inside its quoted field (the reader fails there). The first rule is what decides a
 * stretch with no quote at all, where "inside a quoted field" stays possible until then.
 *
 * Ambiguity: runs that keep disagreeing while each keeps starting short records (text such as
 * `x\n"x\n"x\n"…`, where every other line could be inside quotes) cannot be told apart by reading
 * further. The search then gives up, and the planner scans the quote state serially from the
 * previous boundary, which it knows to be a record start, up to the cut: exact for any input.
 *
 * The plan is exact for every object whose records are within format.max_record_bytes. An object
 * with a longer record may be cut inside it; its shards then fail with the readers' errors
 * (RecordTooLong, or a quote never closed), as reading the whole object refuses that record.
 */
import { ByteWindow, END, type RangeReader, REFILL } from './byte-window.js';
import { RecordTooLong } from './csv-reader.js';

/** The reader's states. A record start behaves as a field start; it is kept apart to find boundaries. */
const RECORD = 0;
const FIELD = 1;
const UNQUOTED = 2;
const QUOTED = 3;
const QUOTE_SEEN = 4;
const STATES = 5;

/** Byte classes. */
const QUOTE = 0;
const DELIMITER = 1;
const NEWLINE = 2;
const OTHER = 3;
const CLASSES = 4;

/** NEXT[state * CLASSES + class] is the state after reading a byte of that class. */
const NEXT = new Uint8Array(STATES * CLASSES);
for (const start of [RECORD, FIELD]) setRow(start, QUOTED, FIELD, RECORD, UNQUOTED);
setRow(UNQUOTED, UNQUOTED, FIELD, RECORD, UNQUOTED);
setRow(QUOTED, QUOTE_SEEN, QUOTED, QUOTED, QUOTED);
setRow(QUOTE_SEEN, QUOTED, FIELD, RECORD, UNQUOTED);

function setRow(state: number, quote: number, delimiter: number, newline: number, other: number): void {
  NEXT.set([quote, delimiter, newline, other], state * CLASSES);
}

const LF = 10;
const CR = 13;

/** The contract's CSV syntax. Delimiter and quote must be ASCII (see `isAsciiSyntax`). */
export interface CsvSyntax {
  readonly delimiter: string;
  readonly quote: string;
  /** format.max_record_bytes: the longest record the readers accept. */
  readonly maxRecordBytes: number;
}

/**
 * Whether the byte automaton applies: a delimiter and a quote of one ASCII character each, apart,
 * and neither a line break.
 */
export function isAsciiSyntax(syntax: CsvSyntax): boolean {
  const plain = (c: string) => c.length === 1 && c.charCodeAt(0) < 128 && c !== '\n' && c !== '\r';
  return plain(syntax.delimiter) && plain(syntax.quote) && syntax.delimiter !== syntax.quote;
}

/** What the speculation at one cut found. */
export type Speculation =
  | { readonly kind: 'boundary'; readonly at: number }
  /** No record start follows the cut: the rest of the object belongs to the shard before it. */
  | { readonly kind: 'none' }
  /** The quote state could not be told from the text after the cut. */
  | { readonly kind: 'ambiguous' };

/** A known state, and how long its current record is (counted from where reading began). */
interface Run {
  state: number;
  recordBytes: number;
}

/** The first speculation window; reading goes on, in doubling windows, while a guess holds one long record. */
const FIRST_WINDOW = 16 * 1024;

/**
 * The guesses still possible, as parallel arrays without allocation per byte: the search reads up
 * to max_record_bytes after a cut in a file without quotes.
 */
class Guesses {
  readonly states = new Uint8Array(4);
  readonly lengths = new Float64Array(4);
  count = 4;

  constructor() {
    this.states.set([FIELD, UNQUOTED, QUOTED, QUOTE_SEEN]);
  }

  /** Steps every guess over a byte of class `byteClass`, merging guesses that meet, dropping those over `limit`. */
  step(byteClass: number, limit: number): void {
    const { states, lengths } = this;
    let kept = 0;
    for (let g = 0; g < this.count; g++) {
      const state = NEXT[states[g]! * CLASSES + byteClass]!;
      const length = state === RECORD ? 0 : lengths[g]! + 1;
      if (length > limit) continue;
      let same = 0;
      while (same < kept && states[same] !== state) same++;
      if (same < kept) {
        lengths[same] = Math.min(lengths[same]!, length);
        continue;
      }
      states[kept] = state;
      lengths[kept++] = length;
    }
    this.count = kept;
  }

  longest(): number {
    let longest = 0;
    for (let g = 0; g < this.count; g++) longest = Math.max(longest, this.lengths[g]!);
    return longest;
  }
}

export class CsvBoundaries {
  private readonly classOf = new Uint8Array(256).fill(OTHER);

  constructor(
    private readonly read: RangeReader,
    private readonly size: number,
    private readonly syntax: CsvSyntax,
  ) {
    if (!isAsciiSyntax(syntax)) throw new TypeError('CsvBoundaries needs an ASCII delimiter and quote');
    this.classOf[LF] = NEWLINE;
    this.classOf[syntax.delimiter.charCodeAt(0)] = DELIMITER;
    this.classOf[syntax.quote.charCodeAt(0)] = QUOTE;
  }

  /** The first record start after `cut` that every possible reading of the text after it agrees on. */
  async speculate(cut: number): Promise<Speculation> {
    const window = new ByteWindow(this.read, this.size, cut, FIRST_WINDOW);
    const guesses = new Guesses();
    const limit = this.syntax.maxRecordBytes;
    let scanned = 0;
    let nextCheck = FIRST_WINDOW;
    while (guesses.count > 1) {
      const byte = window.next();
      if (byte === REFILL) {
        await window.refill();
        continue;
      }
      if (byte === END) return this.atEnd(cut);
      guesses.step(this.classOf[byte]!, limit);
      if (guesses.count === 0) throw this.tooLong(window.position - 1);
      if (++scanned < nextCheck || guesses.count === 1) continue;
      // Reading on only helps while a guess holds one record long enough to be ruled out.
      if (guesses.longest() < scanned / 2 || scanned > limit) return { kind: 'ambiguous' };
      nextCheck *= 2;
    }
    const run = { state: guesses.states[0]!, recordBytes: guesses.lengths[0]! };
    const at = await this.nextRecordStart(window, run, true);
    return at === undefined ? { kind: 'none' } : { kind: 'boundary', at };
  }

  /**
   * The object ended before the guesses met: a guess that ends inside a quoted field (the reader
   * fails there) or holds too long a record is not the reader's. The text from the cut to the end
   * is read again under each start state; the record start the others agree on is the boundary.
   */
  private async atEnd(cut: number): Promise<Speculation> {
    const found = new Set<number | undefined>();
    for (const state of [FIELD, UNQUOTED, QUOTED, QUOTE_SEEN]) {
      const window = new ByteWindow(this.read, this.size, cut, FIRST_WINDOW);
      const run: Run = { state, recordBytes: 0 };
      try {
        const at = await this.nextRecordStart(window, run, false);
        if (await this.endsOutsideQuotes(window, run)) found.add(at);
      } catch (error) {
        if (!(error instanceof RecordTooLong)) throw error;
      }
    }
    const [at, ...others] = found;
    return at === undefined || others.length > 0 ? { kind: 'none' } : { kind: 'boundary', at };
  }

  /** Reads `run` on to the end of the object: whether it ends outside a quoted field. */
  private async endsOutsideQuotes(window: ByteWindow, run: Run): Promise<boolean> {
    for (;;) {
      const byte = window.next();
      if (byte === REFILL) await window.refill();
      else if (byte === END) return run.state !== QUOTED;
      else this.advance(run, byte, window.position - 1);
    }
  }

  /**
   * The first record start at or after `cut`, found by reading serially from `from`, a record
   * start: exact for any input, and what speculation falls back to.
   */
  async serial(from: number, cut: number): Promise<number | undefined> {
    const window = new ByteWindow(this.read, this.size, from, FIRST_WINDOW);
    const run: Run = { state: RECORD, recordBytes: 0 };
    while (window.position < cut) {
      const byte = window.next();
      if (byte === REFILL) await window.refill();
      else if (byte === END) return undefined;
      else this.advance(run, byte, window.position - 1);
    }
    return this.nextRecordStart(window, run, true);
  }

  /** Where the first non-empty record (the header) ends, reading from the start of the object. */
  async headerEnd(): Promise<number> {
    const window = new ByteWindow(this.read, this.size, 0, FIRST_WINDOW);
    const run: Run = { state: RECORD, recordBytes: 0 };
    const start = await this.nextRecordStart(window, run, true);
    if (start === undefined) return this.size;
    const end = await this.nextRecordStart(window, run, false);
    return end ?? this.size;
  }

  /** Steps one known run over the byte at `offset`, refusing a record over the limit. */
  private advance(run: Run, byte: number, offset: number): void {
    run.state = NEXT[run.state * CLASSES + this.classOf[byte]!]!;
    run.recordBytes = run.state === RECORD ? 0 : run.recordBytes + 1;
    if (run.recordBytes > this.syntax.maxRecordBytes) throw this.tooLong(offset);
  }

  /**
   * Reading on with a known state, the start of the first record that is not an empty line (an
   * empty line is no record: a shard starting there could hold none). With `here`, the window's
   * position counts if the run is at a record start.
   */
  private async nextRecordStart(window: ByteWindow, run: Run, here: boolean): Promise<number | undefined> {
    let candidate = here && run.state === RECORD ? window.position : -1;
    let afterCr = false;
    for (;;) {
      const byte = window.next();
      if (byte === REFILL) {
        await window.refill();
        continue;
      }
      if (byte === END) return undefined;
      this.advance(run, byte, window.position - 1);
      if (candidate !== -1) {
        // LF or CR LF right at a record start is an empty line; anything else starts a record.
        if (byte === LF) candidate = -1;
        else if (byte === CR && !afterCr) afterCr = true;
        else return candidate;
      }
      if (run.state === RECORD) {
        candidate = window.position;
        afterCr = false;
      }
    }
  }

  private tooLong(offset: number): RecordTooLong {
    return new RecordTooLongAt(
      offset,
      this.syntax.maxRecordBytes,
      'record',
      'a quote left open, or no line breaks?',
    );
  }
}

/**
 * RecordTooLong found by the planner, which knows a byte offset rather than a line: the same
 * error class as the readers', so callers report it as they report theirs.
 */
export class RecordTooLongAt extends RecordTooLong {
  constructor(offset: number, limit: number, what: string, hint: string) {
    super(0, limit + 1, limit, what, hint);
    this.message =
      `byte offset ${offset}: the ${what} holding this byte is over the limit of ${limit} bytes ` +
      `(format.max_record_bytes in the contract: raise it if records are this long; ${hint})`;
  }
}
