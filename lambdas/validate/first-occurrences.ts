/**
 * A hash set of values, each with the first record that held it: what uniqueness needs over
 * millions of values. Keys are copied into typed arrays rather than kept as JS strings in a Map:
 * at a million distinct values that is about three times faster (no runtime call to hash each
 * new string, nothing for the garbage collector to trace or promote), and a kept key never
 * shares memory with the piece of the file it was cut from.
 */

const STRING = 0;
const NUMBER = 1;
const BOOLEAN = 2;
/** An object or array, compared by its JSON text. */
const JSON_TEXT = 3;

export class FirstOccurrences {
  /**
   * Open addressing, linear probing, a power-of-two number of slots, at most 70% full. A slot
   * holds entry + 1 (0 when free); its hash is read from `hashes`. (Keeping the hash beside the
   * entry saved a memory access per probe but doubled the table: 128 MB at 5M values.)
   */
  private slots = new Int32Array(1024);
  private count = 0;
  // One element per entry.
  private hashes = new Int32Array(512);
  private kinds = new Uint8Array(512);
  /** A number key itself; for a text key, where its characters start in `chars`. */
  private numbers = new Float64Array(512);
  private lengths = new Int32Array(512);
  /** Record index and line as unsigned 32-bit: up to 4,294,967,295 rows. */
  private indices = new Uint32Array(512);
  private lines = new Uint32Array(512);
  private repeated = new Uint8Array(512);
  /** Key characters: one byte each while every one is below 256, two once one is not. */
  private chars: Uint8Array | Uint16Array = new Uint8Array(1 << 16);
  private wide = false;
  private charsUsed = 0;
  private readonly bits = new Float64Array(1);
  private readonly bitWords = new Int32Array(this.bits.buffer);

  get size(): number {
    return this.count;
  }

  /**
   * The entry of the earliest record holding `value`; when there is none, records this one
   * (its index and line) and returns -1.
   */
  findOrAdd(value: unknown, index: number, line: number): number {
    let kind: number;
    let text = '';
    let number = 0;
    if (typeof value === 'string') {
      kind = STRING;
      text = value;
    } else if (typeof value === 'number') {
      kind = NUMBER;
      number = value === 0 ? 0 : value; // -0 and 0 are the same value (SameValueZero)
    } else if (typeof value === 'boolean') {
      kind = BOOLEAN;
      number = value ? 1 : 0;
    } else {
      kind = JSON_TEXT;
      text = JSON.stringify(value) ?? String(value);
    }
    const hash = kind === STRING || kind === JSON_TEXT ? hashText(text, kind) : this.hashNumber(number, kind);
    const slots = this.slots;
    const mask = slots.length - 1;
    const hashes = this.hashes;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const occupant = slots[slot]!;
      if (occupant === 0) {
        this.add(slot, hash, kind, text, number, index, line);
        return -1;
      }
      const entry = occupant - 1;
      if (hashes[entry] === hash && this.kinds[entry] === kind && this.equals(entry, kind, text, number)) {
        return entry;
      }
    }
  }

  firstIndex(entry: number): number {
    return this.indices[entry]!;
  }

  firstLine(entry: number): number {
    return this.lines[entry]!;
  }

  /** Marks an entry as seen more than once; true the first time. */
  markRepeated(entry: number): boolean {
    if (this.repeated[entry] === 1) return false;
    this.repeated[entry] = 1;
    return true;
  }

  private equals(entry: number, kind: number, text: string, number: number): boolean {
    if (kind === NUMBER || kind === BOOLEAN) return this.numbers[entry] === number;
    const length = this.lengths[entry]!;
    if (length !== text.length) return false;
    const start = this.numbers[entry]!;
    const chars = this.chars;
    for (let i = 0; i < length; i++) if (chars[start + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  private add(
    slot: number,
    hash: number,
    kind: number,
    text: string,
    number: number,
    index: number,
    line: number,
  ): void {
    const entry = this.count++;
    if (entry === this.hashes.length) this.growEntries();
    this.hashes[entry] = hash;
    this.kinds[entry] = kind;
    this.indices[entry] = index;
    this.lines[entry] = line;
    if (kind === STRING || kind === JSON_TEXT) {
      if (this.charsUsed + text.length > this.chars.length) {
        this.chars = grown(
          this.chars,
          Math.max(Math.ceil(this.chars.length * 1.5), this.charsUsed + text.length),
        );
      }
      let chars = this.chars;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code > 255 && !this.wide) {
          const wider = new Uint16Array(chars.length);
          wider.set(chars);
          this.chars = chars = wider;
          this.wide = true;
        }
        chars[this.charsUsed + i] = code;
      }
      this.numbers[entry] = this.charsUsed;
      this.lengths[entry] = text.length;
      this.charsUsed += text.length;
    } else {
      this.numbers[entry] = number;
    }
    this.slots[slot] = entry + 1;
    if (this.count * 10 > this.slots.length * 7) this.rehash();
  }

  private growEntries(): void {
    // Grown by half rather than doubled: less room unused (and copied) at millions of entries.
    const length = Math.ceil(this.hashes.length * 1.5);
    this.hashes = grown(this.hashes, length);
    this.kinds = grown(this.kinds, length);
    this.numbers = grown(this.numbers, length);
    this.lengths = grown(this.lengths, length);
    this.indices = grown(this.indices, length);
    this.lines = grown(this.lines, length);
    this.repeated = grown(this.repeated, length);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.count; entry++) {
      let slot = this.hashes[entry]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }

  private hashNumber(number: number, kind: number): number {
    this.bits[0] = number;
    return mix(Math.imul(this.bitWords[0]! ^ kind, 0x9e3779b1) ^ this.bitWords[1]!);
  }
}

/** FNV-1a over UTF-16 code units, finished with a mix so that linear probing sees spread-out slots. */
function hashText(text: string, kind: number): number {
  let hash = 0x811c9dc5 ^ kind;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return mix(hash);
}

function mix(hash: number): number {
  let h = hash ^ (hash >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

type TypedArray = Int32Array | Uint32Array | Uint8Array | Uint16Array | Float64Array;

function grown<T extends TypedArray>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
