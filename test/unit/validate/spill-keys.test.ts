import { describe, expect, it } from '@jest/globals';
import { FirstOccurrences } from '../../../lambdas/validate/first-occurrences.js';
import { partitionOf, spillKeys } from '../../../lambdas/validate/shard-uniqueness.js';

/** A shard's distinct keys, `count` of them. */
function keys(count: number): FirstOccurrences {
  const seen = new FirstOccurrences();
  for (let i = 0; i < count; i++) seen.findOrAdd(`K-${i}`, i, i + 2);
  return seen;
}

/** The keys a spilled key blob holds: after the shard number, per key 13 bytes of head and its text. */
function keysIn(blob: Uint8Array): string[] {
  const bytes = Buffer.from(blob);
  const found: string[] = [];
  for (let at = 4; at < bytes.length; ) {
    const length = bytes.readUInt32LE(at + 9);
    found.push(bytes.toString('utf8', at + 13, at + 13 + length));
    at += 13 + length;
  }
  return found;
}

describe('spillKeys', () => {
  it('makes each partition’s blob only when it is written, so that a shard never holds all of them at once', () => {
    // Prepare
    const seen = keys(1_000);
    const written: Array<[string, Uint8Array | (() => Uint8Array)]> = [];
    // Act
    spillKeys(seen, {
      shard: 3,
      partitions: 16,
      put: (name, bytes) => {
        written.push([name, bytes]);
        return name;
      },
    });
    // Assess
    expect(written).toHaveLength(16);
    expect(written.every(([, bytes]) => typeof bytes === 'function')).toBe(true);
    const [name, make] = written.find(([n]) => n === 'keys/p5/s3')!;
    const blob = (make as () => Uint8Array)();
    expect(name).toBe('keys/p5/s3');
    expect(Buffer.from(blob).readUInt32LE(0)).toBe(3);
    const expected = Array.from({ length: seen.size }, (_, e) => seen.key(e)).filter(
      (key) => partitionOf(key, 16) === 5,
    );
    expect(keysIn(blob)).toEqual(expected);
  });
});
