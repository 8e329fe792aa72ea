/**
 * A hash set of values, each with the first record that held it: what uniqueness needs over
 * millions of values. Keys are copied into typed arrays rather than kept as JS strings in a Map:
 * at a million distinct values that is about three times faster (no runtime call to hash each
 * new string, nothing for the garbage collector to trace or promote), a kept key never shares
 * memory with the piece of the file it was cut from, and an entry costs 4 bytes (8 once keys
 * differ in length, 9 once a key is not a string) plus its key's characters (one byte each while
 * all are below 256) plus about 6 bytes of table: at 5M distinct 13-character keys, about 120 MB
 * where a Map of strings takes over 400.
 *
 * Keys that arrive in increasing order (the id column of an export sorted by it, an
 * auto-increment key, a timestamp) need no table at all: while every key is greater than the one
 * before, a key can only equal the last, so one comparison tells a new key from a repeat. The
 * table is built from the kept keys, once, at the first key out of order; until then it takes no
 * memory, and a key costs a comparison and a copy instead of a hash and a probe that misses the
 * cache (about a fifth of the time at a million keys).
 */

const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
/** An object or array, compared by its JSON text. */
const JSON_TEXT = 3;

/** The table is grown when more than this share of its slots are taken. */
const LOAD = 0.8;

export class FirstOccurrences {
  /**
   * Open addressing with linear probing; a value's first slot is its hash scaled to the table
   * (any size, not only powers of two, so the table is as large as needed). `tags` holds the low
   * byte of each taken slot's hash (never 0; 0 marks a free slot), so that a probe reads one
   * byte per slot, mostly within one cache line, and looks at the entry (`slots`: entry + 1)
   * only when the byte matches: about one in 128 strangers gets that far.
   */
  private tags = EMPTY_TAGS;
  private slots = EMPTY_SLOTS;
  /** Whether every key so far came in increasing order and the table has not been built. */
  private ordered = true;
  /**
   * In order: the last key's kind, and a number key as a number (other keys compare as text,
   * against the last entry's kept characters).
   */
  private lastKind = -1;
  private lastNumber = 0;
  /** Slots the table should have when it is built (what `reserve` asked for). */
  private reservedSlots = 1024;
  private count = 0;
  /**
   * While every key has the same number of characters, that number (−1 before the first key):
   * entry e's characters start at e × width and `starts` is not needed (ids, codes and
   * timestamps of one format are all as long). −2 once keys differ in length.
   */
  private width = -1;
  // One element per entry (`starts` one more). Every key is kept as text: numbers as String(n),
  // which tells every double apart and makes -0 and 0, and NaN and NaN, the same (SameValueZero).
  /** Each entry's kind; allocated at the first key that is not a string (until then all are). */
  private kinds: Uint8Array | undefined;
  private capacity = 512;
  /** Where each entry's characters start in `chars`; entry e's end where entry e + 1's start. */
  private starts = EMPTY_STARTS;
  /** Record index as unsigned 32-bit: up to 4,294,967,295 rows. */
  private indices = new Uint32Array(512);
  /** One bit per entry: seen more than once. */
  private repeated = new Uint8Array(64);
  /**
   * Lines are not kept per entry: line − index changes only at a record spanning lines, a blank
   * line or a new file, so it is kept at the entries where it changes (entry, line − index).
   */
  private readonly lineChangeEntries: number[] = [];
  private readonly lineChangeOffsets: number[] = [];
  /** Key characters: one byte each while every one is below 256, two once one is not. */
  private chars: Uint8Array | Uint16Array = new Uint8Array(1 << 16);
  private wide = false;

  get size(): number {
    return this.count;
  }

  /**
   * Makes room for about `entries` distinct values of `averageLength` characters (by default
   * the average of the values kept so far) up front, so that the arrays are not grown (and
   * copied) on the way there. A guess that is too small only means growing later; one that is
   * too large holds memory unused.
   */
  reserve(entries: number, averageLength = this.count > 0 ? this.start(this.count) / this.count : 16): void {
    const wanted = Math.ceil(entries);
    if (wanted > this.capacity) this.growEntries(wanted);
    const chars = Math.ceil(wanted * averageLength);
    if (chars > this.chars.length) this.chars = grown(this.chars, chars);
    const slots = Math.ceil(wanted / LOAD) + 1;
    if (this.ordered) this.reservedSlots = Math.max(this.reservedSlots, slots);
    else if (slots > this.tags.length) this.rehash(slots);
  }

  /**
   * The entry of the earliest record holding `value`; when there is none, records this one
   * (its index and line) and returns -1.
   */
  findOrAdd(value: unknown, index: number, line: number): number {
    let kind: number;
    let text: string;
    if (typeof value === 'string') {
      kind = STRING;
      text = value;
    } else if (typeof value === 'number') {
      kind = NUMBER;
      text = String(value);
    } else if (typeof value === 'boolean') {
      kind = BOOLEAN;
      text = value ? 'true' : 'false';
    } else {
      kind = JSON_TEXT;
      text = JSON.stringify(value) ?? String(value);
    }
    if (this.ordered) {
      const count = this.count;
      if (count === 0 || kind === this.lastKind) {
        // Text is copied in place first and compared with the last key's characters as it goes:
        // one pass, and no comparison of strings cut from the file (which V8 does slowly).
        const order =
          count === 0
            ? 1
            : kind === NUMBER
              ? compareNumbers(value as number, this.lastNumber)
              : this.stage(text);
        if (order > 0) {
          if (kind === NUMBER || count === 0) this.append(kind, text, index, line);
          else this.commit(kind, text.length, index, line);
          this.lastKind = kind;
          if (kind === NUMBER) this.lastNumber = value as number;
          return -1;
        }
        // Equal to the last key (for numbers, 0 and -0 too): every earlier key is smaller.
        if (order === 0) return count - 1;
      }
      // Out of order (or NaN, or another kind): from here on the table finds keys.
      this.ordered = false;
      this.rehash(Math.max(this.reservedSlots, Math.ceil(this.count / LOAD) + 1));
    }
    const hash = hashText(text, kind);
    const tag = (hash & 0xff) | 1;
    const tags = this.tags;
    const size = tags.length;
    for (let slot = home(hash, size); ; slot = slot + 1 === size ? 0 : slot + 1) {
      const found = tags[slot]!;
      if (found === 0) {
        const entry = this.append(kind, text, index, line);
        tags[slot] = tag;
        this.slots[slot] = entry + 1;
        if (this.count > size * LOAD) this.rehash(Math.ceil(size * 1.5));
        return -1;
      }
      if (found === tag) {
        const entry = this.slots[slot]! - 1;
        if ((this.kinds?.[entry] ?? STRING) === kind && this.equals(entry, text)) return entry;
      }
    }
  }

  firstIndex(entry: number): number {
    return this.indices[entry]!;
  }

  firstLine(entry: number): number {
    const entries = this.lineChangeEntries;
    // The last change at or before this entry (binary search; there is nearly always one).
    let low = 0;
    let high = entries.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (entries[middle]! <= entry) low = middle;
      else high = middle - 1;
    }
    return this.indices[entry]! + this.lineChangeOffsets[low]!;
  }

  /** Whether an entry has been seen more than once. */
  isRepeated(entry: number): boolean {
    return (this.repeated[entry >>> 3]! & (1 << (entry & 7))) !== 0;
  }

  /**
   * An entry's key as text that tells it apart from every other entry's: its kind (s, n, b, j)
   * then its characters. keyValue reads it back.
   */
  key(entry: number): string {
    let text = '';
    const end = this.start(entry + 1);
    for (let i = this.start(entry); i < end; i++) text += String.fromCharCode(this.chars[i]!);
    return `${'snbj'[this.kinds?.[entry] ?? STRING]}${text}`;
  }

  /** Marks an entry as seen more than once; true the first time. */
  markRepeated(entry: number): boolean {
    const byte = entry >>> 3;
    const bit = 1 << (entry & 7);
    if ((this.repeated[byte]! & bit) !== 0) return false;
    this.repeated[byte]! |= bit;
    return true;
  }

  private equals(entry: number, text: string): boolean {
    const start = this.start(entry);
    const length = text.length;
    if (this.start(entry + 1) - start !== length) return false;
    const chars = this.chars;
    for (let i = 0; i < length; i++) if (chars[start + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  /**
   * Copies `text` to where the next entry's characters go, without keeping it, and compares it
   * with the last entry's characters as JS compares strings (by UTF-16 code unit): positive when
   * it is greater, 0 when equal, negative when smaller. `commit` then keeps it as an entry.
   */
  private stage(text: string): number {
    const start = this.start(this.count);
    const previous = this.start(this.count - 1);
    const previousLength = start - previous;
    const length = text.length;
    let chars = this.charsUpTo(start + length);
    let order = 0;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 255 && !this.wide) chars = this.widen();
      chars[start + i] = code;
      if (order === 0 && i < previousLength) order = code - chars[previous + i]!;
    }
    return order !== 0 ? order : length - previousLength;
  }

  /** Keeps a new key and its record; returns its entry. The table (if built) is the caller's. */
  private append(kind: number, text: string, index: number, line: number): number {
    const start = this.start(this.count);
    let chars = this.charsUpTo(start + text.length);
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 255 && !this.wide) chars = this.widen();
      chars[start + i] = code;
    }
    return this.commit(kind, text.length, index, line);
  }

  /** The key characters' array, grown (by half, or to `end`) when it ends before `end`. */
  private charsUpTo(end: number): Uint8Array | Uint16Array {
    if (end > this.chars.length) {
      this.chars = grown(this.chars, Math.max(Math.ceil(this.chars.length * 1.5), end));
    }
    return this.chars;
  }

  /** Two bytes a character from here on: the first key character over 255 needs them. */
  private widen(): Uint16Array {
    const wider = new Uint16Array(this.chars.length);
    wider.set(this.chars);
    this.chars = wider;
    this.wide = true;
    return wider;
  }

  /** Keeps the key of `length` characters already copied to the next entry's place, and its record. */
  private commit(kind: number, length: number, index: number, line: number): number {
    const entry = this.count++;
    if (entry === this.capacity) this.growEntries(Math.ceil(entry * 1.5));
    if (kind !== STRING && this.kinds === undefined) this.kinds = new Uint8Array(this.capacity);
    if (this.kinds !== undefined) this.kinds[entry] = kind;
    this.indices[entry] = index;
    const offset = line - index;
    const changes = this.lineChangeOffsets;
    if (changes.length === 0 || changes[changes.length - 1] !== offset) {
      this.lineChangeEntries.push(entry);
      changes.push(offset);
    }
    if (this.width === -1) this.width = length;
    else if (this.width >= 0 && length !== this.width) {
      // The first key of another length: from here on each entry's start is kept.
      const starts = new Uint32Array(this.capacity + 1);
      for (let e = 0; e <= entry; e++) starts[e] = e * this.width;
      this.starts = starts;
      this.width = -2;
    }
    if (this.width === -2) this.starts[entry + 1] = this.starts[entry]! + length;
    return entry;
  }

  /** Where entry e's characters start (for e = count, where the next key's will). */
  private start(entry: number): number {
    const width = this.width;
    if (width >= 0) return entry * width;
    return width === -1 ? 0 : this.starts[entry]!;
  }

  private growEntries(length: number): void {
    // Grown by half rather than doubled: less room unused (and copied) at millions of entries.
    this.capacity = length;
    if (this.kinds !== undefined) this.kinds = grown(this.kinds, length);
    if (this.width === -2) this.starts = grown(this.starts, length + 1);
    this.indices = grown(this.indices, length);
    this.repeated = grown(this.repeated, Math.ceil(length / 8));
  }

  /** Rebuilds the table with `size` slots; the hashes are computed again from the kept keys. */
  private rehash(size: number): void {
    const tags = new Uint8Array(size);
    const slots = new Uint32Array(size);
    const { chars, kinds } = this;
    for (let entry = 0; entry < this.count; entry++) {
      let hash = 0x811c9dc5 ^ (kinds?.[entry] ?? STRING);
      for (let i = this.start(entry), end = this.start(entry + 1); i < end; i++) {
        hash = Math.imul(hash ^ chars[i]!, 0x01000193);
      }
      hash = mix(hash);
      let slot = home(hash, size);
      while (tags[slot] !== 0) slot = slot + 1 === size ? 0 : slot + 1;
      tags[slot] = (hash & 0xff) | 1;
      slots[slot] = entry + 1;
    }
    this.tags = tags;
    this.slots = slots;
  }
}

/** The value a key of `FirstOccurrences.key` stands for (a number key as its number). */
export function keyValue(key: string): unknown {
  const text = key.slice(1);
  switch (key[0]) {
    case 'n':
      return Number(text);
    case 'b':
      return text === 'true';
    case 'j':
      return JSON.parse(text);
    default:
      return text;
  }
}

/** Numbers as keys in order compare: positive when `a` is greater, 0 when equal (0 and -0 too), negative otherwise (or NaN). */
function compareNumbers(a: number, b: number): number {
  return a > b ? 1 : a === b ? 0 : -1;
}

/** `starts` while every key has the same length: not needed. */
const EMPTY_STARTS = new Uint32Array(0);

/** The table before it is built: no slots. */
const EMPTY_TAGS = new Uint8Array(0);
const EMPTY_SLOTS = new Uint32Array(0);

/** FNV-1a over UTF-16 code units, finished with a mix so that linear probing sees spread-out slots. */
function hashText(text: string, kind: number): number {
  let hash = 0x811c9dc5 ^ kind;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return mix(hash);
}

/** The slot a hash starts probing at: its high bits scaled to the table's size. */
function home(hash: number, size: number): number {
  return Math.floor(((hash >>> 0) / 4294967296) * size);
}

function mix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

type TypedArray = Uint32Array | Uint8Array | Uint16Array;

function grown<T extends TypedArray>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
