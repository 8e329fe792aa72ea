/**
 * The CSV reader (csv-reader.ts) as an automaton over bytes, for finding record starts without
 * parsing fields: see csv-boundary.ts for why this is the reader, and how it is used.
 */

/**
 * The reader's states. A record start behaves as a field start; it is kept apart to find boundaries.
 * The states outside quotes come first (`<= UNQUOTED`).
 */
export const RECORD = 0;
export const FIELD = 1;
export const UNQUOTED = 2;
export const QUOTED = 3;
export const QUOTE_SEEN = 4;
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

/** A known state, and how long its current record is (counted from where reading began). */
export interface Run {
  state: number;
  recordBytes: number;
}

export class CsvAutomaton {
  private readonly classOf = new Uint8Array(256).fill(OTHER);
  readonly quote: number;

  constructor(delimiter: number, quote: number) {
    this.classOf[LF] = NEWLINE;
    this.classOf[delimiter] = DELIMITER;
    this.classOf[quote] = QUOTE;
    this.quote = quote;
  }

  /** The state after reading `byte` in `state`. */
  next(state: number, byte: number): number {
    return NEXT[state * CLASSES + this.classOf[byte]!]!;
  }

  /**
   * Moves `run` over bytes [from, to) holding no quote, at once: in a quoted field they change
   * nothing; outside one, the state after them depends only on the last byte (no quote, so no
   * field opens). Returns the index just after the first LF read outside quotes, or -1.
   * Runs in QUOTE_SEEN are stepped byte by byte instead (their next byte decides). A record
   * that ends in the stretch over `limit` shows in `recordBytes`; one wholly inside it is not
   * measured (missing it only keeps a guess the limit could have ruled out).
   */
  skipQuoteFree(run: Run, bytes: Uint8Array, from: number, to: number, limit: number): number {
    if (to <= from) return -1;
    if (run.state === QUOTED) {
      run.recordBytes += to - from;
      return -1;
    }
    const firstLf = bytes.indexOf(LF, from);
    if (firstLf === -1 || firstLf >= to) {
      run.recordBytes += to - from;
      run.state = this.next(FIELD, bytes[to - 1]!);
      return -1;
    }
    const lastLf = bytes.lastIndexOf(LF, to - 1);
    const head = run.recordBytes + (firstLf - from);
    run.recordBytes = head > limit ? head : to - 1 - lastLf;
    run.state = this.next(FIELD, bytes[to - 1]!);
    return firstLf + 1;
  }
}

/**
 * The guesses at the reader's state still possible after a cut, as parallel arrays (no
 * allocation per byte). `since` is, per guess, the first record start after the guesses it
 * stands for became one: a record start for each of them.
 */
export class Guesses {
  readonly states = new Uint8Array(4);
  readonly lengths = new Float64Array(4);
  readonly since = new Float64Array(4).fill(-1);
  count = 4;

  constructor(private readonly automaton: CsvAutomaton) {
    this.states.set([FIELD, UNQUOTED, QUOTED, QUOTE_SEEN]);
  }

  /**
   * Steps every guess over the byte at object offset `offset`, merging guesses that reach the same
   * state, dropping those whose record passes `limit`.
   */
  step(byte: number, offset: number, limit: number): void {
    const { states, lengths, since } = this;
    let kept = 0;
    for (let g = 0; g < this.count; g++) {
      const state = this.automaton.next(states[g]!, byte);
      const length = state === RECORD ? 0 : lengths[g]! + 1;
      if (length > limit) continue;
      const start = state === RECORD && since[g] === -1 ? offset + 1 : since[g]!;
      let same = 0;
      while (same < kept && states[same] !== state) same++;
      if (same < kept) {
        // Met another guess: from here on they are one; a record start before is not shared.
        lengths[same] = Math.min(lengths[same]!, length);
        since[same] = state === RECORD ? offset + 1 : -1;
        continue;
      }
      states[kept] = state;
      lengths[kept] = length;
      since[kept++] = start;
    }
    this.count = kept;
  }

  /** Whether the guesses are one in a quoted field and one outside: what a stretch without quotes leaves. */
  insideAndOutside(): boolean {
    if (this.count !== 2) return false;
    const a = this.states[0]!;
    const b = this.states[1]!;
    return (a === QUOTED && b <= UNQUOTED) || (b === QUOTED && a <= UNQUOTED);
  }

  /** Moves both guesses over quote-free bytes [from, to) of `bytes`, whose first is at object offset `offset`. */
  skipQuoteFree(bytes: Uint8Array, from: number, to: number, offset: number, limit: number): void {
    let kept = 0;
    for (let g = 0; g < this.count; g++) {
      const run = { state: this.states[g]!, recordBytes: this.lengths[g]! };
      const first = this.automaton.skipQuoteFree(run, bytes, from, to, limit);
      if (run.recordBytes > limit) continue;
      this.states[kept] = run.state;
      this.lengths[kept] = run.recordBytes;
      this.since[kept++] = this.since[g] === -1 && first !== -1 ? offset + (first - from) : this.since[g]!;
    }
    this.count = kept;
  }

  longest(): number {
    let longest = 0;
    for (let g = 0; g < this.count; g++) longest = Math.max(longest, this.lengths[g]!);
    return longest;
  }
}
