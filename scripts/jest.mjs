#!/usr/bin/env node
// Runs jest in ES-module mode (middy and the AWS SDK are ES modules), with the
// checksum settings a local S3 API needs. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning']
    .filter(Boolean)
    .join(' '),
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
};
const args = [join(root, 'node_modules/jest/bin/jest.js'), ...process.argv.slice(2)];
if (process.env.CI) args.push('--ci');
// The project's own Node 22 (the Lambda runtime) when installed, whichever node started this script.
const localNode = join(root, 'node_modules', '.bin', 'node');
const node = existsSync(localNode) ? localNode : process.execPath;
const result = spawnSync(node, args, { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
