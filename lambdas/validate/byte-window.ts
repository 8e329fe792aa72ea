/**
 * Reading an object forward from an offset, one window of bytes at a time, through a ranged read:
 * what the shard planner reads around each cut instead of the whole object.
 */

/**
 * Reads bytes [start, end) of one object (end exclusive, within its size): a ranged GetObject
 * for S3, a positioned read for a file.
 */
export type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

/** `next()` returns this when the window is used up: `await refill()`, then call again. */
export const REFILL = -2;
/** `next()` returns this at the end of the object. */
export const END = -1;

export class ByteWindow {
  private bytes: Uint8Array = new Uint8Array(0);
  /** Object offset of bytes[0]. */
  private base: number;
  private index = 0;

  constructor(
    private readonly read: RangeReader,
    private readonly size: number,
    from: number,
    private windowBytes: number,
    /** Largest window a refill asks for; windows double up to it. */
    private readonly maxWindowBytes = 1024 * 1024,
  ) {
    this.base = from;
  }

  /** The object offset of the next byte `next()` returns. */
  get position(): number {
    return this.base + this.index;
  }

  /** The next byte, END at the end of the object, or REFILL when the window must be read on. */
  next(): number {
    if (this.index < this.bytes.length) {
      return this.bytes[this.index++]!;
    }
    return this.position >= this.size ? END : REFILL;
  }

  /** The unread bytes of the current window, bytes[from, to); bytes[from] is at object offset `position`. */
  unread(): { bytes: Uint8Array; from: number; to: number } {
    return { bytes: this.bytes, from: this.index, to: this.bytes.length };
  }

  /** Consumes `n` of the unread bytes. */
  skip(n: number): void {
    this.index += n;
  }

  /** Reads the next window. */
  async refill(): Promise<void> {
    const start = this.position;
    const end = Math.min(this.size, start + this.windowBytes);
    const bytes = await this.read(start, end);
    if (bytes.length !== end - start) {
      throw new Error(`a ranged read of bytes ${start}-${end} returned ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.base = start;
    this.index = 0;
    this.windowBytes = Math.min(this.maxWindowBytes, this.windowBytes * 2);
  }
}
