#!/usr/bin/env node
// The `sluice` command. Sluice runs on Node 22 (the Lambda runtime); when started by an older
// node, it re-runs itself with the project's own Node 22 from node_modules.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const major = Number(process.versions.node.split('.')[0]);
const localNode = join(root, 'node_modules', '.bin', 'node');
if (major < 22 && existsSync(localNode) && !process.env.SLUICE_REEXEC) {
  // The child has a process group of its own, so that Ctrl-C reaches it once: through this
  // process, which passes SIGINT and SIGTERM on and waits for it to stop.
  const child = spawn(localNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SLUICE_REEXEC: '1' },
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  const code = await new Promise((resolve) =>
    child.on('close', (status, signal) => resolve(status ?? 128 + (constants.signals[signal] ?? 0))),
  );
  process.exit(code);
}
process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= 'WHEN_REQUIRED';
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ??= 'WHEN_REQUIRED';
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= '1';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv);
// An interrupted run does not wait for the event loop to drain.
if (code === 130) process.exit(code);
process.exitCode = code;
