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
 * stretch with no quote at all, where "inside a quoted field" stays possible until then: such a
 * file costs max_record_bytes of reading per cut (stretches without a quote are skipped with
 * `indexOf`, not stepped byte by byte). The boundary is the first record start after the point
 * where the runs still possible became one (a record start for each of them), not after the
 * point where the last other run was ruled out.
 *
 * Ambiguity: runs that keep disagreeing while each keeps starting short records (text such as
 * `x\n"x\n"x\n"…`, where every other line could be inside quotes) cannot be told apart by reading
 * further. At 16 KiB after the cut, and at each doubling after that, the search gives up unless
 * some run holds a record at least half as long as what was read (one the limit may soon rule
 * out), and it never reads past the limit. The planner then scans the quote state serially from
 * the previous boundary, which it knows to be a record start, up to the cut: exact for any input.
 * When the object ends before the runs meet, each start state is read again to the end, those
 * ending inside quotes are dropped, and the cut is kept only if the others agree on its boundary.
 *
 * The plan is exact for every object whose records are within format.max_record_bytes. An object
 * with a longer record may be cut inside it; its shards then fail with the readers' errors
 * (RecordTooLong, or a quote never closed), as reading the whole object refuses that record.
 */
import { ByteWindow, END, type RangeReader, REFILL } from './byte-window.js';
import {
  CsvAutomaton,
  FIELD,
  Guesses,
  QUOTE_SEEN,
  QUOTED,
  RECORD,
  type Run,
  UNQUOTED,
} from './csv-automaton.js';
import { RecordTooLong } from './csv-reader.js';

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

/** The first window read after a cut; windows double (up to 1 MiB) while the guesses disagree. */
const FIRST_WINDOW = 16 * 1024;

export class CsvBoundaries {
  private readonly automaton: CsvAutomaton;
  private readonly limit: number;

  constructor(
    private readonly read: RangeReader,
    private readonly size: number,
    syntax: CsvSyntax,
  ) {
    if (!isAsciiSyntax(syntax)) throw new TypeError('CsvBoundaries needs an ASCII delimiter and quote');
    this.automaton = new CsvAutomaton(syntax.delimiter.charCodeAt(0), syntax.quote.charCodeAt(0));
    this.limit = syntax.maxRecordBytes;
  }

  /** The first record start after `cut` that every possible reading of the text after it agrees on. */
  async speculate(cut: number): Promise<Speculation> {
    // Reading past the record limit decides nothing the limit does not: check there at the latest.
    let nextCheck = Math.min(FIRST_WINDOW, this.limit + 1);
    const window = this.window(cut, nextCheck);
    const guesses = new Guesses(this.automaton);
    let scanned = 0;
    while (guesses.count > 1) {
      // One guess in a quoted field, one outside: only the next quote can change that.
      const stretch = guesses.insideAndOutside() ? this.quoteFree(window, this.size) : 0;
      if (stretch > 0) {
        const { bytes, from } = window.unread();
        guesses.skipQuoteFree(bytes, from, from + stretch, window.position, this.limit);
        window.skip(stretch);
        scanned += stretch;
      } else {
        const byte = window.next();
        if (byte === REFILL) {
          await window.refill();
          continue;
        }
        if (byte === END) return this.atEnd(cut);
        guesses.step(byte, window.position - 1, this.limit);
        scanned++;
      }
      if (guesses.count === 0) throw this.tooLong(window.position - 1);
      if (scanned < nextCheck || guesses.count === 1) continue;
      // Reading on only helps while a guess holds one record long enough to be ruled out.
      if (guesses.longest() < scanned / 2 || scanned > this.limit) return { kind: 'ambiguous' };
      while (nextCheck <= scanned) nextCheck *= 2;
    }
    const since = guesses.since[0]!;
    const at =
      since !== -1
        ? await this.nextRecordStart(this.window(since, 1024), { state: RECORD, recordBytes: 0 }, true)
        : await this.nextRecordStart(
            window,
            { state: guesses.states[0]!, recordBytes: guesses.lengths[0]! },
            true,
          );
    return at === undefined ? { kind: 'none' } : { kind: 'boundary', at };
  }

  /**
   * The first record start at or after `cut`, found by reading serially from `from`, a record
   * start: exact for any input, and what speculation falls back to.
   */
  async serial(from: number, cut: number): Promise<number | undefined> {
    const window = this.window(from, Math.max(1024, Math.min(FIRST_WINDOW, cut - from)));
    const run: Run = { state: RECORD, recordBytes: 0 };
    if (!(await this.walk(window, run, cut))) return undefined;
    return this.nextRecordStart(window, run, true);
  }

  /** Where the first non-empty record (the header) ends, reading from the start of the object. */
  async headerEnd(): Promise<number> {
    // The reader drops a byte order mark before it skips empty lines: a BOM alone on the first
    // line leaves an empty line, not a record.
    const head = await this.read(0, Math.min(3, this.size));
    const bom = head.length === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    const window = this.window(bom ? 3 : 0);
    const run: Run = { state: RECORD, recordBytes: 0 };
    const start = await this.nextRecordStart(window, run, true);
    if (start === undefined) return this.size;
    return (await this.nextRecordStart(window, run, false)) ?? this.size;
  }

  /**
   * The object ended before the guesses met: a guess that ends inside a quoted field (the reader
   * fails there) or holds too long a record is not the reader's. The text from the cut to the end
   * is read again under each start state; the record start the others agree on is the boundary.
   */
  private async atEnd(cut: number): Promise<Speculation> {
    const found = new Set<number | undefined>();
    for (const state of [FIELD, UNQUOTED, QUOTED, QUOTE_SEEN]) {
      const window = this.window(cut);
      const run: Run = { state, recordBytes: 0 };
      try {
        const at = await this.nextRecordStart(window, run, false);
        await this.walk(window, run, this.size);
        if (run.state !== QUOTED) found.add(at);
      } catch (error) {
        if (!(error instanceof RecordTooLong)) throw error;
      }
    }
    const [at, ...others] = found;
    return at === undefined || others.length > 0 ? { kind: 'none' } : { kind: 'boundary', at };
  }

  /** Moves `run` on to object offset `to` (false if the object ends first), quote-free stretches at once. */
  private async walk(window: ByteWindow, run: Run, to: number): Promise<boolean> {
    while (window.position < to) {
      const stretch = run.state === QUOTE_SEEN ? 0 : this.quoteFree(window, to);
      if (stretch > 0) {
        const { bytes, from } = window.unread();
        this.automaton.skipQuoteFree(run, bytes, from, from + stretch, this.limit);
        window.skip(stretch);
        if (run.recordBytes > this.limit) throw this.tooLong(window.position - 1);
        continue;
      }
      const byte = window.next();
      if (byte === REFILL) await window.refill();
      else if (byte === END) return false;
      else this.advance(run, byte, window.position - 1);
    }
    return true;
  }

  /** How many unread bytes of the window, before object offset `to`, come before the next quote. */
  private quoteFree(window: ByteWindow, to: number): number {
    const { bytes, from, to: end } = window.unread();
    const stop = Math.min(end, from + (to - window.position));
    const quote = bytes.indexOf(this.automaton.quote, from);
    return (quote === -1 || quote > stop ? stop : quote) - from;
  }

  /** Steps one known run over the byte at `offset`, refusing a record over the limit. */
  private advance(run: Run, byte: number, offset: number): void {
    run.state = this.automaton.next(run.state, byte);
    run.recordBytes = run.state === RECORD ? 0 : run.recordBytes + 1;
    if (run.recordBytes > this.limit) throw this.tooLong(offset);
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

  private window(from: number, first = FIRST_WINDOW): ByteWindow {
    return new ByteWindow(this.read, this.size, from, first);
  }

  private tooLong(offset: number): RecordTooLong {
    return new RecordTooLongAt(offset, this.limit, 'record', 'a quote left open, or no line breaks?');
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
