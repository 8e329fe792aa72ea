import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { validateStream } from '../../../lambdas/validate/engine.js';
import { csvContract, ORDERS_SCHEMA } from './support.js';

/** A slow output that asks the engine to wait after every write, and drains after `delay` ms. */
function slow(delay: number): Writable {
  return new Writable({
    highWaterMark: 1,
    write(_chunk, _encoding, callback) {
      setTimeout(callback, delay);
    },
  });
}

describe('backpressure on both outputs', () => {
  it('finishes when both outputs are full at once and drain at different times', async () => {
    // Prepare: every other row fails, so both outputs get text from every chunk.
    const rows = Array.from({ length: 4000 }, (_, i) => `A${i},${i % 2 === 0 ? 10 : -1}`);
    const chunks = [];
    for (let i = 0; i < rows.length; i += 200) chunks.push(`${rows.slice(i, i + 200).join('\n')}\n`);
    chunks[0] = `order_id,amount\n${chunks[0]}`;
    // Act
    const outcome = await validateStream(
      Readable.from(chunks.map((c) => Buffer.from(c))),
      csvContract(ORDERS_SCHEMA),
      { valid: slow(5), quarantine: slow(0) },
    );
    // Assess
    expect(outcome.rows).toEqual({ read: 4000, valid: 2000, quarantined: 2000 });
  });

  it('lets up to a mebibyte of output wait in a slow stream, and no more', async () => {
    // Prepare: ~3.5 MB of valid output, in 64 KiB input chunks, to an output that takes its time.
    const text = `order_id,amount\n${Array.from({ length: 100_000 }, (_, i) => `A${i},${i}`).join('\n')}\n`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) chunks.push(bytes.subarray(at, at + 64 * 1024));
    let mostPending = 0;
    const valid = new Writable({
      write(_chunk, _encoding, callback) {
        mostPending = Math.max(mostPending, this.writableLength);
        setTimeout(callback, 1);
      },
    });
    // Act
    const outcome = await validateStream(Readable.from(chunks), csvContract(ORDERS_SCHEMA), {
      valid,
      quarantine: slow(0),
    });
    // Assess: a chunk yields ~190 KB of output; half a mebibyte and more waits, never much over 1 MiB.
    expect([outcome.rows.valid, mostPending > 512 * 1024, mostPending < 1024 * 1024 + 256 * 1024]).toEqual([
      100_000,
      true,
      true,
    ]);
  });
});
