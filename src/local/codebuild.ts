import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError, RunInterrupted } from '../../lambdas/shared/errors.js';

/** The parts of a CodeBuild buildspec (version 0.2) that Sluice uses. */
export interface BuildSpec {
  version: number | string;
  env?: { shell?: string; variables?: Record<string, string>; 'exported-variables'?: string[] };
  phases: Partial<Record<BuildPhase, { commands?: string[] }>>;
}

export const BUILD_PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;
export type BuildPhase = (typeof BUILD_PHASES)[number];

export interface CommandResult {
  phase: BuildPhase;
  command: string;
  output: string;
  status: 'SUCCEEDED' | 'FAILED';
  exitCode?: number;
  durationMs: number;
}

export interface BuildResult {
  status: 'SUCCEEDED' | 'FAILED';
  commands: CommandResult[];
  exported: Record<string, string>;
  durationMs: number;
}

export interface BuildOptions {
  /** Variables of this build (CodeBuild's project environment plus EnvironmentVariablesOverride). */
  env: Record<string, string>;
  /** Phases not run locally (the install phase: the project's .venv already has dvc). */
  skipPhases?: BuildPhase[];
  /** Directories put first on PATH, e.g. the project's .venv/bin. */
  path?: string[];
  onCommand?: (result: CommandResult) => void;
  /**
   * Stops the build: its shell and every command it started (dvc, git) are terminated, and the
   * build rejects with RunInterrupted once they have exited.
   */
  signal?: AbortSignal;
}

export function loadBuildSpec(file: string): BuildSpec {
  const spec = parse(readFileSync(file, 'utf8')) as BuildSpec;
  if (String(spec?.version) !== '0.2' || typeof spec.phases !== 'object') {
    throw new ConfigurationError(`${file}: expected a CodeBuild buildspec of version 0.2 with phases`);
  }
  return spec;
}

const MARK = '::sluice-build::';

/**
 * Runs a buildspec as CodeBuild does with version 0.2: every command of every phase in one bash
 * session, so a `cd` or an `export` carries over; the build stops at the first command that fails.
 * Each command's output is kept apart, and the exported variables are read at the end.
 */
export async function runBuildSpec(spec: BuildSpec, options: BuildOptions): Promise<BuildResult> {
  const work = mkdtempSync(join(tmpdir(), 'sluice-build-'));
  const skipped = new Set(options.skipPhases ?? []);
  const commands: Array<{ phase: BuildPhase; command: string }> = [];
  const script: string[] = ['exec 2>&1'];
  for (const phase of BUILD_PHASES) {
    if (skipped.has(phase)) continue;
    for (const command of spec.phases[phase]?.commands ?? []) {
      const index = commands.length;
      commands.push({ phase, command });
      const file = join(work, `command-${index}.sh`);
      writeFileSync(file, `${command}\n`);
      script.push(
        `printf '\\n${MARK}begin ${index}\\n'`,
        `. '${file}'`,
        `printf '\\n${MARK}end ${index} %s\\n' "$?"`,
      );
    }
  }
  for (const name of spec.env?.['exported-variables'] ?? []) {
    script.push(`printf '\\n${MARK}export ${name}=%s\\n' "\${${name}-}"`);
  }
  const scriptFile = join(work, 'build.sh');
  writeFileSync(scriptFile, `${script.join('\n')}\n`);

  const started = Date.now();
  const env = {
    ...process.env,
    ...spec.env?.variables,
    ...options.env,
    PATH: [...(options.path ?? []), process.env.PATH ?? ''].join(':'),
    CODEBUILD_SRC_DIR: work,
  };
  const results: CommandResult[] = [];
  const exported: Record<string, string> = {};
  let current: { index: number; started: number; output: string[] } | undefined;
  let buffer = '';

  const finish = (exitCode: number) => {
    if (!current) return;
    const { phase, command } = commands[current.index]!;
    const result: CommandResult = {
      phase,
      command,
      output: current.output.join('\n').trim(),
      status: exitCode === 0 ? 'SUCCEEDED' : 'FAILED',
      exitCode,
      durationMs: Date.now() - current.started,
    };
    results.push(result);
    options.onCommand?.(result);
    current = undefined;
  };
  const onLine = (line: string) => {
    if (line.startsWith(`${MARK}begin `)) {
      current = { index: Number(line.slice(MARK.length + 6)), started: Date.now(), output: [] };
    } else if (line.startsWith(`${MARK}end `)) {
      finish(Number(line.split(' ')[2]));
    } else if (line.startsWith(`${MARK}export `)) {
      const assignment = line.slice(MARK.length + 7);
      const at = assignment.indexOf('=');
      exported[assignment.slice(0, at)] = assignment.slice(at + 1);
    } else if (current && (line !== '' || current.output.length > 0)) {
      current.output.push(line);
    }
  };

  options.signal?.throwIfAborted();
  const exitCode = await new Promise<number>((resolve, reject) => {
    // Its own process group, so that stopping the build stops the commands it runs too.
    const child = spawn(spec.env?.shell ?? 'bash', [scriptFile], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stop = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    options.signal?.addEventListener('abort', stop, { once: true });
    child.on('close', () => options.signal?.removeEventListener('abort', stop));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (buffer) onLine(buffer);
      resolve(code ?? 1);
    });
  });
  // A command that ended the shell (set -e, exit) has a begin mark and no end mark.
  if (current) finish(exitCode === 0 ? 1 : exitCode);
  rmSync(work, { recursive: true, force: true });
  if (options.signal?.aborted) {
    throw new RunInterrupted(`the build was stopped (${String(options.signal.reason ?? 'interrupted')})`);
  }

  const failed = results.some((r) => r.status === 'FAILED') || exitCode !== 0;
  return {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    commands: results,
    exported,
    durationMs: Date.now() - started,
  };
}
