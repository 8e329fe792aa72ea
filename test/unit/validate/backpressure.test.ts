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
});
