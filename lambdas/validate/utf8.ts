/**
 * Strict UTF-8 decoding of a byte stream, chunk by chunk. A byte order mark at the start is
 * dropped. Invalid input is reported with its byte offset, so the caller can say where it is.
 */
import { isAscii } from 'node:buffer';

/** Thrown by `StrictUtf8Decoder` at the first byte that is not valid UTF-8. */
export class InvalidUtf8 extends Error {
  constructor(
    /** 0-based offset, from the start of the stream, of the first byte of the bad sequence. */
    readonly byteOffset: number,
    /** Newline bytes (0x0A) between the end of the text decoded so far and `byteOffset`. */
    readonly newlinesBefore: number,
    readonly bytes: string,
  ) {
    super(`invalid UTF-8 at byte offset ${byteOffset} (${bytes})`);
  }
}

export class StrictUtf8Decoder {
  /** The byte order mark is dropped here, not by the decoder, which does not see every chunk. */
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** Bytes consumed before the current chunk. */
  private offset = 0;
  /** The last bytes seen (at most 3): where a sequence split across chunks begins. */
  private recent = new Uint8Array(0);
  /** Whether the decoder holds no unfinished sequence (the last chunk it saw ended in ASCII). */
  private settled = true;
  /** Whether the stream's first character (a byte order mark, maybe) is still to come. */
  private atStart = true;

  decode(chunk: Uint8Array): string {
    let text: string;
    if (this.settled && isAscii(chunk)) {
      // ASCII is UTF-8 as it is: such a chunk becomes text without the decoder, about five
      // times faster. Only when nothing unfinished waits in the decoder for the next bytes.
      text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    } else {
      try {
        text = this.decoder.decode(chunk, { stream: true });
      } catch {
        throw this.locate(chunk, false);
      }
      if (chunk.length > 0) this.settled = chunk[chunk.length - 1]! < 0x80;
    }
    this.remember(chunk);
    return this.started(text);
  }

  /** Decodes what is left; a sequence cut short by the end of the stream is an error. */
  end(): string {
    try {
      return this.started(this.decoder.decode());
    } catch {
      throw this.locate(new Uint8Array(0), true);
    }
  }

  /** Drops a byte order mark from the first text of the stream. */
  private started(text: string): string {
    if (!this.atStart || text.length === 0) return text;
    this.atStart = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  private remember(chunk: Uint8Array): void {
    const keep = Math.min(3, this.recent.length + chunk.length);
    const joined = new Uint8Array(keep);
    const fromChunk = Math.min(keep, chunk.length);
    joined.set(this.recent.subarray(this.recent.length - (keep - fromChunk)), 0);
    joined.set(chunk.subarray(chunk.length - fromChunk), keep - fromChunk);
    this.recent = joined;
    this.offset += chunk.length;
  }

  /** Finds the bad sequence again, byte by byte: the decoder only says that there is one. */
  private locate(chunk: Uint8Array, atEnd: boolean): InvalidUtf8 {
    const window = new Uint8Array(this.recent.length + chunk.length);
    window.set(this.recent, 0);
    window.set(chunk, this.recent.length);
    const windowStart = this.offset - this.recent.length;
    // Bytes of `recent` before an unfinished sequence were already decoded: start at that sequence.
    let start = this.recent.length;
    for (let i = this.recent.length - 1; i >= 0; i--) {
      const length = sequenceLength(this.recent[i]!);
      if (length === 0) continue;
      if (length > this.recent.length - i) start = i;
      break;
    }
    const bad = firstInvalid(window, start, atEnd);
    const at = bad === -1 ? start : bad;
    let newlines = 0;
    for (let i = this.recent.length; i < at; i++) if (window[i] === 0x0a) newlines++;
    const shown = Array.from(window.subarray(at, at + 4), (b) => `0x${b.toString(16).padStart(2, '0')}`);
    return new InvalidUtf8(windowStart + at, newlines, shown.join(' ') || 'end of input');
  }
}

/** Length of the sequence a lead byte starts; 0 for a continuation byte; -1 for a byte never valid. */
function sequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte < 0xc2) return byte < 0xc0 ? 0 : -1;
  if (byte < 0xe0) return 2;
  if (byte < 0xf0) return 3;
  if (byte < 0xf5) return 4;
  return -1;
}

/** Index of the first byte of the first invalid (or, at the end, unfinished) sequence, or -1. */
function firstInvalid(bytes: Uint8Array, from: number, atEnd: boolean): number {
  let i = from;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const length = sequenceLength(lead);
    if (length === 1) {
      i++;
      continue;
    }
    if (length <= 0) return i;
    // The second byte has a narrower range for some leads (overlongs, surrogates, > U+10FFFF).
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return atEnd ? i : -1;
      const byte = bytes[i + k]!;
      if (k === 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}
