import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// scripts/chromium.mjs, which the setup script and the jest global setup run to find Chromium.

const script = join(import.meta.dirname, '..', '..', 'scripts', 'chromium.mjs');
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('scripts/chromium.mjs', () => {
  it('prints the binary SLUICE_CHROMIUM names', () => {
    // Act
    const result = run({ SLUICE_CHROMIUM: process.execPath });
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${process.execPath}\n`);
  });

  it('fails, saying so, when SLUICE_CHROMIUM names no file, rather than installing another', () => {
    // Act
    const result = run({ SLUICE_CHROMIUM: '/nonexistent/chromium' });
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SLUICE_CHROMIUM is /nonexistent/chromium, and there is no file there');
  });

  it('prints the path of the Chromium it finds on this machine', () => {
    // Act
    const result = run({});
    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\/\S+\n$/);
  });
});
