import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ingest } from '../../lambdas/ingest/core.js';
import { batchStateKey } from '../../lambdas/ingest/partner-batch.js';
import { parseContract } from '../../lambdas/shared/contract.js';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import { FsObjectStore } from '../../lambdas/shared/fs-object-store.js';
import { fileNameOf } from '../../lambdas/shared/keys.js';
import { MemoryStore } from '../support/memory-store.js';
import { tempDir } from './support.js';

// Object keys that come from user input (an uploaded object's key, a partner's batch folder):
// what lands in raw stays inside the dataset's run folder, whatever the name.

const S3_MAX_KEY_BYTES = 1024;
const long = `${'x'.repeat(996)}.csv`; // with landing/orders/, a key of 1,015 bytes
const hostileNames = ['..', '.', '../../etc/passwd', '%2e%2e', '%2e%2e%2fetc', 'ünïcödé 名前 🚀.csv', long];

const orders = parseContract(
  [
    'name: orders',
    'source: { type: s3-upload, prefix: landing/orders/ }',
    'format: { type: csv }',
    'schema: { type: object, properties: { id: { type: string } } }',
  ].join('\n'),
  '<inline>',
);
const acme = parseContract(
  [
    'name: acme',
    'source: { type: partner-drop, prefix: landing/partners/acme/, complete_when: { marker: _SUCCESS }, deadline_minutes: 60 }',
    'format: { type: csv }',
    'schema: { type: object, properties: { id: { type: string } } }',
  ].join('\n'),
  '<inline>',
);

/** A name for a test title: a long one cut short, with its length. */
function shown(name: string): string {
  return name.length > 60
    ? `${JSON.stringify(name.slice(0, 12))}… (${Buffer.byteLength(name)} bytes)`
    : JSON.stringify(name);
}

function inRunFolder(key: string, dataset: string): void {
  expect(key).toMatch(new RegExp(`^${dataset}/dt=\\d{4}-\\d{2}-\\d{2}/run=[0-9a-f]{16}/[A-Za-z0-9._=-]+$`));
  expect(key.split('/')).not.toContain('..');
  expect(key.split('/')).not.toContain('.');
  expect(Buffer.byteLength(key)).toBeLessThanOrEqual(S3_MAX_KEY_BYTES);
}

describe('corpus: raw keys from uploaded object keys', () => {
  it.each(hostileNames.map((name) => [shown(name), name]))(
    'lands an upload named %s inside its run folder',
    async (_shown, name) => {
      // Prepare
      const store = new MemoryStore();
      const key = `landing/orders/${name}`;
      await store.put('landing', key, 'id\n1\n');
      // Act
      const out = await ingest(
        { dataset: 'orders', trigger: { type: 's3-upload', key, time: '2026-11-25T10:00:00Z' } },
        { store, contracts: new Map([['orders', orders]]) },
      );
      // Assess
      inRunFolder(out.rawKey, 'orders');
      expect(store.bytes('raw', out.rawKey).toString()).toBe('id\n1\n');
    },
  );

  it('keeps two long names that differ only in their middle as two files', () => {
    // Act
    const names = [
      fileNameOf(`${'a'.repeat(300)}1${'b'.repeat(300)}.csv`),
      fileNameOf(`${'a'.repeat(300)}2${'b'.repeat(300)}.csv`),
    ];
    // Assess
    expect(names[0]).not.toBe(names[1]);
    for (const name of names) expect(name).toMatch(/^a+-[0-9a-f]{16}\.csv$/);
    expect(names[0]).toHaveLength(255);
  });
});

describe('corpus: raw keys from partner batch folders', () => {
  it.each(['..', '%2e%2e', 'ünïcödé 🚀', 'x'.repeat(900)].map((folder) => [shown(folder), folder]))(
    'lands batch folder %s inside its run folder',
    async (_shown, folder) => {
      // Prepare
      const store = new MemoryStore();
      const batch = `landing/partners/acme/${folder}/`;
      await store.put('landing', `${batch}part ü.csv`, 'id\n1\n');
      await store.put('landing', `${batch}_SUCCESS`, '');
      // Act
      const out = await ingest(
        { dataset: 'acme', trigger: { type: 'partner-drop', key: `${batch}_SUCCESS` } },
        { store, contracts: new Map([['acme', acme]]), clock: () => new Date(5 * 60_000) },
      );
      // Assess
      inRunFolder(out.rawKey, 'acme');
      expect(store.bytes('raw', out.rawKey).toString()).toBe('id\n1\n');
      expect(batchStateKey('acme', folder).split('/')).not.toContain('..');
    },
  );
});

describe('corpus: the local lake refuses keys that leave it', () => {
  it.each(['../outside', 'a/../../outside', '/etc/passwd', 'a//b', ''])(
    'refuses key %j with ConfigurationError',
    async (key) => {
      // Prepare
      const root = tempDir('fs-store');
      const store = new FsObjectStore(join(root, 'lake'));
      // Act
      const put = store.put('raw', key, 'x');
      // Assess
      await expect(put).rejects.toThrow(ConfigurationError);
      await expect(put).rejects.toThrow('not a usable object key in the local lake');
      expect(existsSync(join(root, 'outside'))).toBe(false);
    },
  );

  it('keeps %2e%2e as a literal folder name inside the zone', async () => {
    // Prepare
    const root = tempDir('fs-store');
    const store = new FsObjectStore(root);
    // Act
    await store.put('raw', '%2e%2e/%2e%2e/x', 'x');
    // Assess
    expect(existsSync(join(root, 'raw', '%2e%2e', '%2e%2e', 'x'))).toBe(true);
    expect(await store.readText('raw', '%2e%2e/%2e%2e/x')).toBe('x');
  });
});
