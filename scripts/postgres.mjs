#!/usr/bin/env node
// A PostgreSQL server for Sluice's tests and local runs, on 127.0.0.1 only:
//   node scripts/postgres.mjs start   # installs Debian's postgresql if missing (as root), initdb once,
//                                     # starts it if it is not running; prints its connection URL
//   node scripts/postgres.mjs url     # the URL of the running server (exit 1 if none)
//   node scripts/postgres.mjs stop
// The cluster lives in /tmp/sluice-postgres-<hash of this checkout>/, so each checkout has its own,
// and it keeps running between test runs (the jest global setup starts it when it is not running).
// As root, initdb and the server run as the `postgres` user, which Debian's package creates.
// Plain Node with no dependencies; no systemd, no Docker.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const id = createHash('sha256').update(root).digest('hex').slice(0, 8);
const home = process.env.SLUICE_POSTGRES_DIR ?? `/tmp/sluice-postgres-${id}`;
const data = join(home, 'data');
const socketDir = join(home, 'socket');
const portFile = join(home, 'port');
const urlFile = join(home, 'url');
const lockDir = `${home}.lock`;
const isRoot = process.getuid?.() === 0;

function log(message) {
  process.stderr.write(`sluice postgres: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(1);
}

function run(command, args, options = {}) {
  const asPostgres = isRoot && options.asPostgres;
  const [cmd, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  const result = spawnSync(cmd, argv, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
    cwd: '/tmp',
  });
  if (options.check !== false && result.status !== 0) {
    fail(
      `'${cmd} ${argv.join(' ')}' failed (exit ${result.status ?? result.signal}):\n${result.stderr || result.stdout}`,
    );
  }
  return result;
}

/** The directory of pg_ctl/initdb/postgres: pg_config, then Debian's versioned directories, then PATH. */
function binDir() {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0 && existsSync(join(fromConfig.stdout.trim(), 'pg_ctl')))
    return fromConfig.stdout.trim();
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'pg_ctl')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(debian, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return dirname(which.stdout.trim());
  return undefined;
}

function install() {
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    fail(
      'PostgreSQL is not installed. Install it (Debian/Ubuntu: apt-get install postgresql), or set ' +
        'SLUICE_TEST_POSTGRES_URL to a server the tests may create tables in.',
    );
  }
  log("installing Debian's postgresql package (apt-get)");
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { env });
}

function ensureUser() {
  if (!isRoot) return;
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) {
    fail("there is no 'postgres' user to run the server as (Debian's postgresql package creates it)");
  }
}

function idsOfPostgres() {
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

function ownDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isRoot) {
    const { uid, gid } = idsOfPostgres();
    chownSync(dir, uid, gid);
  }
}

function isRunning(bin) {
  if (!existsSync(join(data, 'PG_VERSION'))) return false;
  return run(join(bin, 'pg_ctl'), ['status', '-D', data], { asPostgres: true, check: false }).status === 0;
}

function urlOf(port) {
  return `postgres://sluice@127.0.0.1:${port}/postgres`;
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function choosePort() {
  const first = 55000 + (Number.parseInt(id, 16) % 900);
  for (let port = first; port < first + 50; port++) if (await portFree(port)) return port;
  fail(`no free port on 127.0.0.1 between ${first} and ${first + 49}`);
}

async function withLock(action) {
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // Another `start` is initialising the same cluster; a lock older than two minutes is stale.
      if (Date.now() - statSync(lockDir).mtimeMs > 120_000) rmSync(lockDir, { recursive: true, force: true });
      if (attempt > 1200) fail(`waited too long for ${lockDir}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await action();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function start() {
  let bin = binDir();
  if (!bin) {
    install();
    bin = binDir();
    if (!bin) fail('postgresql was installed but pg_ctl was not found');
  }
  ensureUser();
  return withLock(async () => {
    if (isRunning(bin) && existsSync(portFile)) return urlOf(readFileSync(portFile, 'utf8').trim());
    if (isRoot) {
      // /tmp must let the postgres user reach the cluster directory.
      mkdirSync(home, { recursive: true, mode: 0o755 });
    }
    ownDir(home);
    if (!existsSync(join(data, 'PG_VERSION'))) {
      log(`initdb ${data}`);
      rmSync(data, { recursive: true, force: true });
      ownDir(data);
      run(
        join(bin, 'initdb'),
        ['-D', data, '-U', 'sluice', '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'],
        { asPostgres: true },
      );
    }
    ownDir(socketDir);
    const port = await choosePort();
    const settings = [
      `-c listen_addresses=127.0.0.1`,
      `-c port=${port}`,
      `-c unix_socket_directories=${socketDir}`,
      // A throwaway test server: durability traded for speed.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c max_prepared_transactions=20',
    ].join(' ');
    log(`starting PostgreSQL on 127.0.0.1:${port}`);
    run(
      join(bin, 'pg_ctl'),
      ['start', '-w', '-t', '60', '-D', data, '-l', join(home, 'postgres.log'), '-o', settings],
      {
        asPostgres: true,
      },
    );
    writeFileSync(portFile, String(port));
    writeFileSync(urlFile, urlOf(port));
    return urlOf(port);
  });
}

function stop() {
  const bin = binDir();
  if (!bin || !isRunning(bin)) return log('not running');
  run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w'], { asPostgres: true });
  log('stopped');
}

const command = process.argv[2] ?? 'start';
if (command === 'start') process.stdout.write(`${await start()}\n`);
else if (command === 'stop') stop();
else if (command === 'url') {
  const bin = binDir();
  if (!bin || !isRunning(bin) || !existsSync(urlFile)) fail('not running');
  process.stdout.write(`${readFileSync(urlFile, 'utf8').trim()}\n`);
} else fail(`unknown command '${command}'; expected start, stop or url`);
