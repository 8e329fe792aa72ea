import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ConfigurationError } from '../../lambdas/shared/errors.js';

export interface MotoServer {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The moto_server of the project's Python environment (`npm run setup -- --python` makes it). */
export function motoServerPath(projectRoot: string): string {
  return join(projectRoot, '.venv', 'bin', 'moto_server');
}

/**
 * Starts moto's S3 API on 127.0.0.1 on a free port and waits until it answers.
 * Everything it holds is in memory and gone when it stops.
 */
export async function startMoto(
  projectRoot: string,
  options: { timeoutMs?: number } = {},
): Promise<MotoServer> {
  const binary = motoServerPath(projectRoot);
  if (!existsSync(binary)) {
    throw new ConfigurationError(
      `moto_server not found at ${binary}; run 'node scripts/setup.mjs --python' (npm test does this) to install it`,
    );
  }
  const port = await freePort();
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new ConfigurationError(`moto_server exited (${child.exitCode}) before it answered:\n${stderr}`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new ConfigurationError(`moto_server did not answer on ${endpoint} in time:\n${stderr}`);
  }
  return {
    endpoint,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
