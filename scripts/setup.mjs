#!/usr/bin/env node
// Installs what Sluice needs on this machine, idempotently:
//   - npm packages (npm ci) when package-lock.json changed since the last install;
//   - with --python, a project-local Python environment (.venv) from requirements.txt;
//   - with --chromium, headless Chromium for the data docs' browser tests (scripts/chromium.mjs:
//     Debian's chromium package, installed as root when missing).
// Plain Node with no dependencies, so it runs on a fresh clone before anything is installed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantPython = process.argv.includes('--python');
const wantChromium = process.argv.includes('--chromium');

function hashOf(...files) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex');
}

function run(command, args, what) {
  console.error(`sluice setup: ${what}`);
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    console.error(
      `sluice setup: '${command} ${args.join(' ')}' failed (exit ${result.status ?? result.signal}).`,
    );
    process.exit(1);
  }
}

function upToDate(stamp, hash) {
  const file = join(root, stamp);
  return existsSync(file) && readFileSync(file, 'utf8').trim() === hash;
}

// npm packages
const npmHash = hashOf('package-lock.json');
const npmStamp = 'node_modules/.sluice-installed';
if (!upToDate(npmStamp, npmHash)) {
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], 'installing npm packages (npm ci)');
  writeFileSync(join(root, npmStamp), npmHash);
}

// Python environment for moto (and the dvc CLI)
if (wantPython) {
  const pyHash = hashOf('requirements.txt');
  const pyStamp = '.venv/.sluice-installed';
  if (!upToDate(pyStamp, pyHash)) {
    const python = process.env.PYTHON ?? 'python3';
    if (!existsSync(join(root, '.venv/bin/python'))) {
      run(python, ['-m', 'venv', '.venv'], `creating the Python environment .venv (${python})`);
    }
    run(
      join(root, '.venv/bin/pip'),
      ['install', '--quiet', '--disable-pip-version-check', '-r', 'requirements.txt'],
      'installing Python packages into .venv (requirements.txt)',
    );
    writeFileSync(join(root, pyStamp), pyHash);
  }
}

// Headless Chromium for test/browser/ and the screenshots in docs/img/
if (wantChromium) run(process.execPath, [join(root, 'scripts', 'chromium.mjs')], 'finding headless Chromium');
