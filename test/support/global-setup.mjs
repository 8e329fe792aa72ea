// Starts one moto S3 server on loopback for the whole test run; test files create
// their own buckets in it. Workers inherit SLUICE_TEST_S3_ENDPOINT.
// Starts (or finds running) the checkout's PostgreSQL on loopback (scripts/postgres.mjs);
// workers inherit SLUICE_TEST_POSTGRES_URL, and create their own schemas in it.
// Finds headless Chromium for the browser tests (scripts/chromium.mjs installs Debian's package
// when missing, as root); workers inherit SLUICE_TEST_CHROMIUM.
// Plain JS (jest loads global setup outside its ESM transform); the TypeScript
// helper is loaded through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const root = join(import.meta.dirname, '..', '..');
  startPostgres(root);
  findChromium(root);
  const { motoServerPath, startMoto } = await tsImport('../../src/local/moto.ts', import.meta.url);
  if (!existsSync(motoServerPath(root))) return;
  const moto = await startMoto(root);
  process.env.SLUICE_TEST_S3_ENDPOINT = moto.endpoint;
  globalThis.__sluiceMoto = moto;
}

function startPostgres(root) {
  if (process.env.SLUICE_TEST_POSTGRES_URL) return;
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'postgres.mjs'), 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status === 0) process.env.SLUICE_TEST_POSTGRES_URL = result.stdout.trim();
  else process.env.SLUICE_TEST_POSTGRES_ERROR = result.stderr.trim() || `exit ${result.status}`;
}

function findChromium(root) {
  if (process.env.SLUICE_TEST_CHROMIUM) return;
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'chromium.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status === 0) process.env.SLUICE_TEST_CHROMIUM = result.stdout.trim();
  else process.env.SLUICE_TEST_CHROMIUM_ERROR = result.stderr.trim() || `exit ${result.status}`;
}
