import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { ConfigurationError, ObjectNotFound } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';

const fresh = () => new FsObjectStore(mkdtempSync(join(tmpdir(), 'sluice-fs-')));

describe('the local lake directory', () => {
  it('creates an object once and refuses to replace it', async () => {
    // Prepare
    const store = fresh();
    // Act
    const first = await store.putIfAbsent('raw', 'd/dt=2026-11-25/run=1/a.csv', 'one', {
      metadata: { sha256: 'x' },
    });
    const second = await store.putIfAbsent('raw', 'd/dt=2026-11-25/run=1/a.csv', 'two');
    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await store.readText('raw', 'd/dt=2026-11-25/run=1/a.csv')).toBe('one');
    expect((await store.head('raw', 'd/dt=2026-11-25/run=1/a.csv'))?.metadata).toEqual({ sha256: 'x' });
  });

  it('lets exactly one of many concurrent conditional writes win', async () => {
    // Prepare
    const store = fresh();
    // Act
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.putIfAbsent('raw', 'race/key', `writer ${i}`)),
    );
    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.readText('raw', 'race/key')).toBe(`writer ${winner}`);
    expect(readdirSync(join(store.root, 'raw', 'race'))).toEqual(['key']);
  });

  it('makes raw objects read-only on disk', async () => {
    const store = fresh();
    await store.putIfAbsent('raw', 'a/b', 'bytes');
    expect(statSync(join(store.root, 'raw', 'a', 'b')).mode & 0o222).toBe(0);
  });

  it('writes streams and lists keys under a prefix in order', async () => {
    // Prepare
    const store = fresh();
    // Act
    await store.put('validated', 'd/dt=2/part.jsonl', Readable.from(['{"a":1}\n', '{"a":2}\n']));
    await store.put('validated', 'd/dt=1/part.jsonl', '{}');
    await store.put('validated', 'e/x', '{}');
    // Assess
    expect(await store.list('validated', 'd/')).toEqual(['d/dt=1/part.jsonl', 'd/dt=2/part.jsonl']);
    expect(await store.readText('validated', 'd/dt=2/part.jsonl')).toBe('{"a":1}\n{"a":2}\n');
  });

  it('names a missing object and refuses keys that escape the lake', async () => {
    const store = fresh();
    await expect(store.read('raw', 'nope')).rejects.toThrow(ObjectNotFound);
    await expect(store.put('raw', '../outside', 'x')).rejects.toThrow(ConfigurationError);
  });

  it('deletes a curated object with its metadata, and an absent one without complaint', async () => {
    // Prepare
    const store = fresh();
    await store.put('curated', 'd/dt=2026-11-25/run=1/part-00000.jsonl', '{}\n', {
      metadata: { 'run-id': '1' },
    });
    // Act
    await store.delete('curated', 'd/dt=2026-11-25/run=1/part-00000.jsonl');
    await store.delete('curated', 'd/dt=2026-11-25/run=1/part-00000.jsonl');
    // Assess
    expect(await store.list('curated', 'd/')).toEqual([]);
    expect(
      readdirSync(join(store.root, '.meta', 'curated'), { recursive: true }).filter((f) =>
        String(f).endsWith('.json'),
      ),
    ).toEqual([]);
  });

  it('refuses to delete from raw, which is write-once', async () => {
    // Prepare
    const store = fresh();
    await store.putIfAbsent('raw', 'd/dt=2026-11-25/run=1/a.csv', 'one');
    // Act
    const act = store.delete('raw', 'd/dt=2026-11-25/run=1/a.csv');
    // Assess
    await expect(act).rejects.toThrow(TypeError);
    expect(await store.readText('raw', 'd/dt=2026-11-25/run=1/a.csv')).toBe('one');
  });
});

describe('temporary files of the local lake', () => {
  const hostTag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
  const place = (store: FsObjectStore, name: string) => {
    const dir = join(store.root, 'validated', 'orders', 'dt=2026-11-25', 'run=r0');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), 'partial rows');
    return join(dir, name);
  };

  it("removes those whose writer is gone, and keeps this process's and a live process's", async () => {
    // Prepare
    const store = fresh();
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = place(store, `.sluice-tmp-${hostTag}-${gone}-aaaaaa`);
    const own = place(store, `.sluice-tmp-${hostTag}-${process.pid}-bbbbbb`);
    const live = place(store, `.sluice-tmp-${hostTag}-${process.ppid}-cccccc`);
    const otherHost = place(store, `.sluice-tmp-00000000-${gone}-dddddd`);
    // Act
    const removed = await store.removeStaleTemps();
    // Assess
    expect(removed).toEqual({ files: [stale], bytes: 'partial rows'.length });
    expect([own, live, otherHost].map((file) => existsSync(file))).toEqual([true, true, true]);
  });

  it('names each temporary file after its writer while it writes', async () => {
    // Prepare
    const store = fresh();
    let seen: string[] = [];
    let reads = 0;
    const body = new Readable({
      read() {
        // Looked at once the first rows were written, before the object is published.
        if (reads++ === 0) return void this.push('row\n');
        seen = readdirSync(join(store.root, 'validated', 'orders'));
        this.push(null);
      },
    });
    // Act
    await store.put('validated', 'orders/part-00000.jsonl', body);
    // Assess
    expect(seen).toEqual([
      expect.stringMatching(new RegExp(`^\\.sluice-tmp-${hostTag}-${process.pid}-[0-9a-f]+$`)),
    ]);
  });
});
