// Starts one moto S3 server on loopback for the whole test run; test files create
// their own buckets in it. Workers inherit SLUICE_TEST_S3_ENDPOINT.
// Plain JS (jest loads global setup outside its ESM transform); the TypeScript
// helper is loaded through tsx.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  const root = join(import.meta.dirname, '..', '..');
  const { motoServerPath, startMoto } = await tsImport('../../src/local/moto.ts', import.meta.url);
  if (!existsSync(motoServerPath(root))) return;
  const moto = await startMoto(root);
  process.env.SLUICE_TEST_S3_ENDPOINT = moto.endpoint;
  globalThis.__sluiceMoto = moto;
}
