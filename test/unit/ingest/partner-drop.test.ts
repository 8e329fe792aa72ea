import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../../lambdas/ingest/core.js';
import { batchStateKey, parseManifest } from '../../../lambdas/ingest/partner-batch.js';
import type { IngestOutput, Trigger } from '../../../lambdas/ingest/types.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import {
  ChecksumMismatch,
  IncompleteBatch,
  MalformedInput,
  UnsupportedSource,
} from '../../../lambdas/shared/errors.js';
import { runRecordKey } from '../../../lambdas/shared/keys.js';
import { readBatchKeys } from '../../../lambdas/shared/raw-manifest.js';
import type { RunRecord } from '../../../lambdas/shared/run-record.js';
import { MemoryStore } from '../../support/memory-store.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const contractWith = (completeWhen: string) =>
  parseContract(
    [
      'name: acme',
      `source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: ${completeWhen}, deadline_minutes: 60 }`,
      'format: { type: csv }',
      'schema: { type: object, properties: { id: { type: integer } } }',
    ].join('\n'),
    '<inline>',
  );
const withMarker = contractWith('{ marker: _SUCCESS }');
const withManifest = contractWith('{ manifest: manifest.json }');
const batch = 'landing/partners/acme/2026-11-25/';
/** The memory store dates every object at the epoch: "now" is measured from there. */
const minutes = (n: number) => new Date(n * 60_000);

async function drop(store: MemoryStore, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await store.put('landing', `${batch}${name}`, text);
}

function run(
  store: MemoryStore,
  contract = withMarker,
  options: { key?: string; now?: Date; trigger?: Trigger } = {},
): Promise<IngestOutput> {
  const trigger: Trigger = options.trigger ?? { type: 'partner-drop', key: options.key ?? `${batch}a.csv` };
  return ingest(
    { dataset: 'acme', trigger },
    { store, contracts: new Map([['acme', contract]]), clock: () => options.now ?? minutes(5) },
  );
}

describe('partner drops', () => {
  it('waits, landing and recording nothing, while the batch has no marker', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n' });
    // Act
    const out = await run(store);
    // Assess
    expect(out).toMatchObject({ waiting: true, empty: true, files: 0 });
    expect(await store.list('raw', '')).toEqual([]);
    expect(await store.list('reports', '')).toEqual([]);
  });

  it('lands every file of a batch completed by its marker, byte for byte, in name order', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, { 'b.csv': 'id\n2\n', 'a.csv': 'id\n1\n', _SUCCESS: '' });
    // Act
    const out = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    // Assess
    expect(out).toMatchObject({ waiting: false, empty: false, dt: '1970-01-01' });
    const rawKeys = await readBatchKeys(store, out.manifestKey);
    expect(rawKeys.map((k) => k.split('/').at(-1))).toEqual(['a.csv', 'b.csv']);
    expect(store.bytes('raw', rawKeys[1]!).toString()).toBe('id\n2\n');
    expect(JSON.parse(store.bytes('raw', out.manifestKey).toString())).toMatchObject({
      source: { type: 'partner-drop', batch: '2026-11-25', completedBy: `${batch}_SUCCESS` },
      files: [{ name: 'a.csv', sha256: sha('id\n1\n') }, { name: 'b.csv' }],
      checksums: { verified: false, mismatches: [] },
    });
    expect(JSON.parse(store.bytes('reports', batchStateKey('acme', '2026-11-25')).toString())).toMatchObject({
      status: 'landed',
      runId: out.runId,
    });
  });

  it('lands a batch whose raw files an earlier attempt wrote without sha256 metadata, as a duplicate', async () => {
    // Prepare
    const files = { 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n', _SUCCESS: '' };
    const first = new MemoryStore();
    await drop(first, files);
    const rawKeys = await readBatchKeys(
      first,
      (await run(first, withMarker, { key: `${batch}_SUCCESS` })).manifestKey,
    );
    const store = new MemoryStore();
    await drop(store, files);
    for (const key of rawKeys) await store.put('raw', key, first.bytes('raw', key));
    // Act
    const out = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    // Assess
    expect(out).toMatchObject({ waiting: false, duplicate: true });
    expect(await readBatchKeys(store, out.manifestKey)).toEqual(rawKeys);
  });

  it('verifies the checksums a manifest lists, takes its files in its order and leaves other files out', async () => {
    // Prepare
    const store = new MemoryStore();
    const manifest = JSON.stringify({
      files: [
        { name: 'z.csv', sha256: sha('id\n26\n'), size: 6 },
        { name: 'a.csv', sha256: sha('id\n1\n') },
      ],
    });
    await drop(store, {
      'a.csv': 'id\n1\n',
      'z.csv': 'id\n26\n',
      'notes.txt': 'hello',
      'manifest.json': manifest,
    });
    // Act
    const out = await run(store, withManifest, { key: `${batch}manifest.json` });
    // Assess
    expect((await readBatchKeys(store, out.manifestKey)).map((k) => k.split('/').at(-1))).toEqual([
      'z.csv',
      'a.csv',
    ]);
    expect(JSON.parse(store.bytes('raw', out.manifestKey).toString()).checksums).toEqual({
      verified: true,
      mismatches: [],
    });
  });

  it('waits for a file the manifest lists that has not arrived', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, {
      'a.csv': 'id\n1\n',
      'manifest.json': JSON.stringify({
        files: [
          { name: 'a.csv', sha256: sha('id\n1\n') },
          { name: 'b.csv', sha256: sha('x') },
        ],
      }),
    });
    // Act
    const out = await run(store, withManifest);
    // Assess
    expect(out.waiting).toBe(true);
  });

  it('fails with ChecksumMismatch naming the file, keeps in raw what arrived and records the run', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, {
      'a.csv': 'id\n1\n',
      'b.csv': 'id\n2 truncated',
      'manifest.json': JSON.stringify({
        files: [
          { name: 'a.csv', sha256: sha('id\n1\n') },
          { name: 'b.csv', sha256: sha('id\n2\n') },
        ],
      }),
    });
    // Act
    const error = await run(store, withManifest).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ChecksumMismatch);
    expect((error as Error).message).toMatch(
      new RegExp(
        `b\\.csv \\(expected ${sha('id\n2\n')}, found ${sha('id\n2 truncated')}\\).*Nothing was promoted`,
      ),
    );
    const raw = await store.list('raw', 'acme/');
    expect(raw.filter((k) => k.endsWith('.csv'))).toHaveLength(2);
    const manifest = raw.find((k) => k.endsWith('_manifest.json'))!;
    expect(JSON.parse(store.bytes('raw', manifest).toString()).checksums.verified).toBe(false);
    const records = (await store.list('reports', 'acme/runs/')).map(
      (k) => JSON.parse(store.bytes('reports', k).toString()) as RunRecord,
    );
    expect(records).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        error: expect.objectContaining({ name: 'ChecksumMismatch' }),
      }),
    ]);
  });

  it('fails an incomplete batch with IncompleteBatch once its deadline has passed, once', async () => {
    // Prepare: the first file arrived 61 minutes ago; the deadline is 60
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n' });
    // Act
    const error = await run(store, withMarker, { now: minutes(61) }).catch((e: unknown) => e);
    const later = await run(store, withMarker, { now: minutes(62) });
    // Assess
    expect(error).toBeInstanceOf(IncompleteBatch);
    expect((error as Error).message).toMatch(
      /incomplete 61 min after its first file arrived \(deadline_minutes 60\): missing _SUCCESS; 1 file\(s\) arrived/,
    );
    const [key] = await store.list('reports', 'acme/runs/');
    expect(JSON.parse(store.bytes('reports', key!).toString())).toMatchObject({
      status: 'FAILED',
      error: { name: 'IncompleteBatch' },
    });
    expect(later.waiting).toBe(true);
  });

  it('finds an overdue batch on a scheduled run although no file arrived since', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n' });
    // Act
    const error = await run(store, withMarker, {
      now: minutes(90),
      trigger: { type: 'schedule', time: minutes(90).toISOString() },
    }).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(IncompleteBatch);
  });

  it('does nothing more for a batch whose run succeeded', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n', _SUCCESS: '' });
    const first = await run(store);
    await store.put('reports', runRecordKey('acme', first.runId), JSON.stringify({ status: 'SUCCEEDED' }));
    // Act
    const again = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    // Assess
    expect(again).toMatchObject({ runId: first.runId, alreadyProcessed: true });
  });

  it('refuses a file outside a batch folder', async () => {
    const store = new MemoryStore();
    await expect(run(store, withMarker, { key: 'landing/partners/acme/loose.csv' })).rejects.toThrow(
      UnsupportedSource,
    );
  });

  it('reads sha256sum output as a manifest, and names a line it cannot read', () => {
    expect(parseManifest(`${sha('a')}  a.csv\n${sha('b')} *b.csv\n`, 'm')).toEqual([
      { name: 'a.csv', sha256: sha('a') },
      { name: 'b.csv', sha256: sha('b') },
    ]);
    expect(() => parseManifest('a.csv 123', 'landing/x/manifest.txt')).toThrow(MalformedInput);
    expect(() => parseManifest('a.csv 123', 'landing/x/manifest.txt')).toThrow(
      /landing\/x\/manifest\.txt: line 1/,
    );
  });

  it('takes, from a folder used again, only the files delivered since its last landed batch', async () => {
    // Prepare: a first batch a.csv + b.csv is landed; then a.csv and the marker are delivered again
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n', _SUCCESS: '' });
    const first = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    await drop(store, { 'a.csv': 'id\n3\n', _SUCCESS: '' });
    // Act
    const second = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    // Assess
    expect(second.runId).not.toBe(first.runId);
    expect(second.files).toBe(1);
    const [only] = await readBatchKeys(store, second.manifestKey);
    expect(store.bytes('raw', only!).toString()).toBe('id\n3\n');
  });

  it('gives another event of a landed batch that batch, when nothing was delivered since', async () => {
    // Prepare
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n', _SUCCESS: '' });
    const first = await run(store, withMarker, { key: `${batch}_SUCCESS` });
    // Act
    const again = await run(store, withMarker, { key: `${batch}a.csv` });
    // Assess
    expect(again).toMatchObject({
      runId: first.runId,
      manifestKey: first.manifestKey,
      files: 1,
      duplicate: true,
      waiting: false,
    });
  });

  it('counts a file its manifest lists as missing when only an earlier delivery brought it', async () => {
    // Prepare: the second manifest lists b.csv, which was not delivered again
    const store = new MemoryStore();
    const manifest = (files: Record<string, string>) =>
      JSON.stringify({ files: Object.entries(files).map(([name, text]) => ({ name, sha256: sha(text) })) });
    await drop(store, {
      'a.csv': 'id\n1\n',
      'b.csv': 'id\n2\n',
      'manifest.json': manifest({ 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n' }),
    });
    await run(store, withManifest, { key: `${batch}manifest.json` });
    await drop(store, {
      'a.csv': 'id\n3\n',
      'manifest.json': manifest({ 'a.csv': 'id\n3\n', 'b.csv': 'id\n2\n' }),
    });
    // Act
    const out = await run(store, withManifest, { key: `${batch}manifest.json` });
    // Assess
    expect(out).toMatchObject({ waiting: true, waitingFor: 'b.csv (1 file arrived)' });
  });

  it('says what a waiting batch lacks, naming at most ten files', async () => {
    // Prepare: the manifest lists 12 files, none of which arrived
    const store = new MemoryStore();
    const names = Array.from({ length: 12 }, (_, i) => `p${String(i).padStart(2, '0')}.csv`);
    await drop(store, {
      'manifest.json': JSON.stringify({ files: names.map((name) => ({ name, sha256: sha(name) })) }),
    });
    // Act
    const out = await run(store, withManifest, { key: `${batch}manifest.json` });
    // Assess
    expect(out.waitingFor).toBe(`${names.slice(0, 10).join(', ')} and 2 more (0 files arrived)`);
  });

  it('finds on a scheduled run an overdue batch in a folder that had a batch landed before', async () => {
    // Prepare: a first batch is landed; a second delivery has no marker
    const store = new MemoryStore();
    await drop(store, { 'a.csv': 'id\n1\n', _SUCCESS: '' });
    await run(store, withMarker, { key: `${batch}_SUCCESS` });
    await drop(store, { 'b.csv': 'id\n2\n' });
    const schedule: Trigger = { type: 'schedule', time: minutes(90).toISOString() };
    // Act
    const error = await run(store, withMarker, { now: minutes(90), trigger: schedule }).catch((e) => e);
    const again = await run(store, withMarker, { now: minutes(91), trigger: schedule });
    // Assess
    expect(error).toBeInstanceOf(IncompleteBatch);
    expect((error as Error).message).toMatch(/missing _SUCCESS; 1 file\(s\) arrived/);
    expect(again).toMatchObject({ waiting: true });
  });

  it('reads the ./ names that sha256sum writes for `find .` as the files of the folder', () => {
    expect(parseManifest(`${sha('a')}  ./part-1.csv\n`, 'm')).toEqual([
      { name: 'part-1.csv', sha256: sha('a') },
    ]);
    expect(parseManifest(JSON.stringify({ files: [{ name: './b.csv', sha256: sha('b') }] }), 'm')).toEqual([
      { name: 'b.csv', sha256: sha('b'), size: undefined },
    ]);
  });
});
