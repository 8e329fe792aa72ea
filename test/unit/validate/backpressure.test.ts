import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { validateStream } from '../../../lambdas/validate/engine.js';
import { csvContract, ORDERS_SCHEMA } from './support.js';

/**
 * An output that completes no write until the engine waits for it ('drain'), then lets writes
 * through until `release` says so. What waits in it depends only on what the engine wrote before
 * it stopped, never on how fast timers or the machine are.
 */
function heldOutput() {
  let held: (() => void) | undefined;
  let open = false;
  const state = { mostPending: 0, waitedFor: 0 };
  const stream = new Writable({
    write(_chunk, _encoding, callback) {
      state.mostPending = Math.max(state.mostPending, this.writableLength);
      if (open) process.nextTick(callback);
      else held = callback;
    },
  });
  stream.on('drain', () => {
    open = false;
  });
  const release = () => {
    open = true;
    const callback = held;
    held = undefined;
    callback?.();
  };
  return { stream, state, release };
}

/** Releases an output as soon as the engine waits for it. */
function releasedWhenWaited(output: ReturnType<typeof heldOutput>) {
  output.stream.on('newListener', (event) => {
    if (event !== 'drain') return;
    output.state.waitedFor += 1;
    process.nextTick(output.release);
  });
  return output;
}

describe('backpressure on both outputs', () => {
  it('finishes when both outputs are full at once and drain at different times', async () => {
    // Prepare: the first input chunk alone yields more than a mebibyte for each output (every other
    // row fails), so the engine waits for both at once. The quarantine drains first and the valid
    // output only after it: a wait for the valid output that began after the quarantine drained
    // would never end.
    const rows = Array.from({ length: 120_000 }, (_, i) => `A${i},${i % 2 === 0 ? 10 : -1}`);
    const chunks = [
      `order_id,amount\n${rows.slice(0, 100_000).join('\n')}\n`,
      `${rows.slice(100_000).join('\n')}\n`,
    ];
    const valid = heldOutput();
    const quarantine = heldOutput();
    quarantine.stream.on('drain', () => process.nextTick(valid.release));
    // Listeners added from here on are the engine's waits.
    const waiting = { valid: false, quarantine: false };
    let waitedForBoth = false;
    for (const [name, output] of [
      ['valid', valid],
      ['quarantine', quarantine],
    ] as const) {
      output.stream.on('drain', () => {
        waiting[name] = false;
      });
      output.stream.on('newListener', (event) => {
        if (event !== 'drain') return;
        waiting[name] = true;
        if (waiting.valid && waiting.quarantine) waitedForBoth = true;
      });
    }
    quarantine.stream.on('newListener', (event) => {
      if (event === 'drain') process.nextTick(quarantine.release);
    });
    // Act
    const outcome = await validateStream(
      Readable.from(chunks.map((c) => Buffer.from(c))),
      csvContract(ORDERS_SCHEMA),
      { valid: valid.stream, quarantine: quarantine.stream },
    );
    // Assess
    expect(outcome.rows).toEqual({ read: 120_000, valid: 60_000, quarantined: 60_000 });
    expect(waitedForBoth).toBe(true);
  });

  it('lets up to a mebibyte of output wait in a slow stream, and no more', async () => {
    // Prepare: ~3.5 MB of valid output, in 64 KiB input chunks, to an output that writes nothing
    // until the engine waits for it.
    const text = `order_id,amount\n${Array.from({ length: 100_000 }, (_, i) => `A${i},${i}`).join('\n')}\n`;
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 64 * 1024) chunks.push(bytes.subarray(at, at + 64 * 1024));
    const valid = releasedWhenWaited(heldOutput());
    const quarantine = releasedWhenWaited(heldOutput());
    // Act
    const outcome = await validateStream(Readable.from(chunks), csvContract(ORDERS_SCHEMA), {
      valid: valid.stream,
      quarantine: quarantine.stream,
    });
    // Assess: a chunk yields ~190 KB of output; half a mebibyte and more waits, never much over 1 MiB.
    const { mostPending, waitedFor } = valid.state;
    expect([outcome.rows.valid, mostPending > 512 * 1024, mostPending < 1024 * 1024 + 256 * 1024]).toEqual([
      100_000,
      true,
      true,
    ]);
    expect(waitedFor).toBeGreaterThan(0);
  });
});
