#!/usr/bin/env node
// Headless Chromium for the browser tests of Sluice's data docs (test/browser/) and for the
// screenshots in docs/img/:
//   node scripts/chromium.mjs    # prints the path of a Chromium binary; installs Debian's
//                                # `chromium` package first when none is found (as root)
// SLUICE_CHROMIUM names a binary to use instead (any Chromium or Chrome that puppeteer-core drives).
// Plain Node with no dependencies, so scripts/setup.mjs can run it on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const isRoot = process.getuid?.() === 0;

function log(message) {
  process.stderr.write(`sluice chromium: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(1);
}

function found() {
  const fromEnv = process.env.SLUICE_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) fail(`SLUICE_CHROMIUM is ${fromEnv}, and there is no file there`);
    return fromEnv;
  }
  return candidates.find((path) => existsSync(path));
}

function run(command, args) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    fail(
      `'${command} ${args.join(' ')}' failed (exit ${result.status ?? result.signal}):\n${result.stderr || result.stdout}`,
    );
  }
}

function install() {
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    fail(
      'Chromium is not installed, and this is not root on Debian/Ubuntu, so it cannot be installed here. ' +
        'Install it (Debian: apt-get install chromium), or set SLUICE_CHROMIUM to a Chromium or Chrome binary.',
    );
  }
  log("installing Debian's chromium package (apt-get); this takes a minute once");
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']);
}

let path = found();
if (!path) {
  install();
  path = found();
  if (!path) fail(`apt-get installed chromium, but none of ${candidates.join(', ')} exists`);
}
process.stdout.write(`${path}\n`);
