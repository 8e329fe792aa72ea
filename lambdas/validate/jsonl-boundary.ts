/**
 * Where JSON Lines records start, found from a byte offset in the middle of an object: just after
 * an LF. Reading forward from a cut finds the first LF, then skips blank lines (spaces, tabs, CR),
 * which hold no record, so that a shard starting there holds at least one.
 */
import { ByteWindow, END, type RangeReader, REFILL } from './byte-window.js';
import { RecordTooLongAt } from './csv-boundary.js';

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** The first window read after a cut; windows double while no LF is found. */
const FIRST_WINDOW = 16 * 1024;

export class JsonlBoundaries {
  constructor(
    private readonly read: RangeReader,
    private readonly size: number,
    private readonly maxRecordBytes: number,
  ) {}

  /**
   * The start of the first non-blank line at or after `cut`, or undefined if none follows.
   * Throws RecordTooLong when the line holding the cut runs past format.max_record_bytes.
   */
  async boundary(cut: number): Promise<number | undefined> {
    // Reading from the byte before the cut: a cut just after an LF is a boundary itself.
    const from = Math.max(0, cut - 1);
    const window = new ByteWindow(this.read, this.size, from, FIRST_WINDOW, 8 * 1024 * 1024);
    let candidate = -1;
    let lineBytes = 0;
    for (;;) {
      const byte = window.next();
      if (byte === REFILL) {
        await window.refill();
        continue;
      }
      if (byte === END) return undefined;
      if (byte === LF) {
        candidate = window.position;
        lineBytes = 0;
        continue;
      }
      if (candidate !== -1 && byte !== SPACE && byte !== TAB && byte !== CR) {
        return candidate;
      }
      if (++lineBytes > this.maxRecordBytes) {
        throw new RecordTooLongAt(window.position - 1, this.maxRecordBytes, 'line', 'is this JSON Lines?');
      }
    }
  }
}
