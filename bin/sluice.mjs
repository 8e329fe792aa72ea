#!/usr/bin/env node
// The `sluice` command. Sluice runs on Node 22 (the Lambda runtime); when started by an older
// node, it re-runs itself with the project's own Node 22 from node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
const localNode = join(root, 'node_modules', '.bin', 'node');
if (major < 22 && existsSync(localNode) && !process.env.SLUICE_REEXEC) {
  const result = spawnSync(localNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SLUICE_REEXEC: '1' },
  });
  process.exit(result.status ?? 1);
}
process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= 'WHEN_REQUIRED';
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ??= 'WHEN_REQUIRED';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
