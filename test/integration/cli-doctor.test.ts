import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';

// `sluice doctor` as a user runs it on a machine with no AWS credentials (no account is reachable here).

const root = join(import.meta.dirname, '..', '..');

describe('sluice doctor without credentials', () => {
  it('exits 1 and says how to name an account and a region', () => {
    // Prepare: no credentials anywhere the SDK looks.
    const home = mkdtempSync(join(tmpdir(), 'sluice-doctor-home-'));
    const {
      AWS_PROFILE: _p,
      AWS_ACCESS_KEY_ID: _a,
      AWS_SECRET_ACCESS_KEY: _s,
      AWS_SESSION_TOKEN: _t,
      ...env
    } = process.env;
    // Act
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'bin', 'sluice.mjs'),
        'doctor',
        '--region',
        'eu-west-1',
        '-c',
        'datasetsRepository=codecommit',
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          ...env,
          HOME: home,
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    // Assess
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+credentials\s+no AWS credentials found/);
    expect(result.stdout).toMatch(/--profile <name> or AWS_PROFILE=<name>/);
  });
});
