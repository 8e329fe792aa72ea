/**
 * globalShardOutputs as streams: a shard's valid output and quarantine (JSON Lines, as
 * validateShard wrote them) read line by line and written as parts of the whole input's outputs,
 * holding one line of each at a time instead of both texts. A shard of 256 MiB writes outputs of
 * several hundred MB; the merge's corrections are few, and `placement` carries them.
 *
 * Both inputs are in record order, and so is the whole input's quarantine: the shard's own
 * quarantine lines (renumbered by globalQuarantineLine) and the valid records the merge fails
 * (a duplicate of an earlier shard's key) are interleaved by record index, as the sort of
 * globalShardOutputs orders them.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { QuarantineEntry } from './engine-types.js';
import { globalQuarantineLine } from './shard-merge.js';
import { inRuns, type ShardPlacement } from './shard-state.js';

export interface ShardOutputCounts {
  valid: number;
  quarantined: number;
}

/** Writes the shard's outputs as the whole input's parts; resolves with the lines written to each (the streams are not ended). */
export async function writeGlobalShardOutputs(
  inputs: { valid: Readable; quarantine: Readable },
  placement: ShardPlacement,
  outputs: { valid: Writable; quarantine: Writable },
): Promise<ShardOutputCounts> {
  const added = new Map<number, ShardPlacement['failures']>();
  for (const f of placement.failures) {
    if (inRuns(placement.quarantinedRuns, f.index)) continue;
    const list = added.get(f.index) ?? [];
    list.push(f);
    added.set(f.index, list);
  }
  const valid = lines(inputs.valid);
  const quarantine = lines(inputs.quarantine);
  const counts: ShardOutputCounts = { valid: 0, quarantined: 0 };
  let pending = await quarantine.next();
  const write = async (stream: Writable, line: string) => {
    if (!stream.write(`${line}\n`)) await once(stream, 'drain');
  };
  /** The shard's quarantine lines up to record `index` (local), renumbered. */
  const quarantineUpTo = async (index: number) => {
    while (!pending.done && localIndex(pending.value) <= index) {
      await write(outputs.quarantine, globalQuarantineLine(pending.value, placement));
      counts.quarantined++;
      pending = await quarantine.next();
    }
  };
  for (let index = 0; index < placement.read; index++) {
    if (inRuns(placement.quarantinedRuns, index)) continue;
    const next = await valid.next();
    if (next.done) break;
    await quarantineUpTo(index);
    const failures = added.get(index);
    if (failures === undefined) {
      await write(outputs.valid, next.value);
      counts.valid++;
    } else {
      const entry: QuarantineEntry = {
        row: failures[0]!.line + placement.line,
        index: index + placement.index,
        failures: failures.map((f) => f.failure),
        record: JSON.parse(next.value),
      };
      await write(outputs.quarantine, JSON.stringify(entry));
      counts.quarantined++;
    }
  }
  await quarantineUpTo(Number.POSITIVE_INFINITY);
  await Promise.all([valid.return?.(undefined), quarantine.return?.(undefined)]);
  return counts;
}

/** The stream's lines without their line breaks; an empty last line (after the final LF) is none. */
function lines(stream: Readable): AsyncIterator<string, undefined> {
  return createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
}

/** The local index of a quarantine line (`{"row":…,"index":N,…`, as the engine writes it). */
function localIndex(text: string): number {
  const found = /^\{"row":\d+,"index":(\d+)/.exec(text);
  return found ? Number(found[1]) : (JSON.parse(text) as QuarantineEntry).index;
}
