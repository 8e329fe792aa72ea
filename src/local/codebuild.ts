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
  const { scriptFile, commands } = writeBuildScript(spec, work, new Set(options.skipPhases ?? []));

  const started = Date.now();
  const env = {
    ...process.env,
    ...spec.env?.variables,
    ...options.env,
    PATH: [...(options.path ?? []), process.env.PATH ?? ''].join(':'),
    CODEBUILD_SRC_DIR: work,
  };
  const output = new BuildOutput(commands, options.onCommand);

  options.signal?.throwIfAborted();
  const exitCode = await runScript(
    spec.env?.shell ?? 'bash',
    scriptFile,
    { cwd: work, env },
    options.signal,
    (line) => output.line(line),
  );
  // A command that ended the shell (set -e, exit) has a begin mark and no end mark.
  output.endOpenCommand(exitCode === 0 ? 1 : exitCode);
  rmSync(work, { recursive: true, force: true });
  if (options.signal?.aborted) {
    throw new RunInterrupted(`the build was stopped (${String(options.signal.reason ?? 'interrupted')})`);
  }

  const failed = output.results.some((r) => r.status === 'FAILED') || exitCode !== 0;
  return {
    status: failed ? 'FAILED' : 'SUCCEEDED',
    commands: output.results,
    exported: output.exported,
    durationMs: Date.now() - started,
  };
}

/**
 * Writes the build's bash script into `work`: each command in a file of its own, sourced between
 * marks that say where its output begins and ends and how it exited, then the exported variables.
 */
function writeBuildScript(
  spec: BuildSpec,
  work: string,
  skipped: ReadonlySet<BuildPhase>,
): { scriptFile: string; commands: Array<{ phase: BuildPhase; command: string }> } {
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
  return { scriptFile, commands };
}

/** Reads the build's output line by line: each command's output and result, and the exported variables. */
class BuildOutput {
  readonly results: CommandResult[] = [];
  readonly exported: Record<string, string> = {};
  private current: { index: number; started: number; output: string[] } | undefined;

  constructor(
    private readonly commands: ReadonlyArray<{ phase: BuildPhase; command: string }>,
    private readonly onCommand: ((result: CommandResult) => void) | undefined,
  ) {}

  line(line: string): void {
    if (line.startsWith(`${MARK}begin `)) {
      this.current = { index: Number(line.slice(MARK.length + 6)), started: Date.now(), output: [] };
    } else if (line.startsWith(`${MARK}end `)) {
      this.endOpenCommand(Number(line.split(' ')[2]));
    } else if (line.startsWith(`${MARK}export `)) {
      const assignment = line.slice(MARK.length + 7);
      const at = assignment.indexOf('=');
      this.exported[assignment.slice(0, at)] = assignment.slice(at + 1);
    } else if (this.current && (line !== '' || this.current.output.length > 0)) {
      this.current.output.push(line);
    }
  }

  /** Ends the command whose output is being read, if one is, with this exit code. */
  endOpenCommand(exitCode: number): void {
    const current = this.current;
    if (!current) return;
    const { phase, command } = this.commands[current.index]!;
    const result: CommandResult = {
      phase,
      command,
      output: current.output.join('\n').trim(),
      status: exitCode === 0 ? 'SUCCEEDED' : 'FAILED',
      exitCode,
      durationMs: Date.now() - current.started,
    };
    this.results.push(result);
    this.onCommand?.(result);
    this.current = undefined;
  }
}

/**
 * Runs the script in its own process group, so that `signal` stops the commands it runs too,
 * and hands each line of its output to `onLine`; resolves with the shell's exit code.
 */
function runScript(
  shell: string,
  scriptFile: string,
  spawnOptions: { cwd: string; env: NodeJS.ProcessEnv },
  signal: AbortSignal | undefined,
  onLine: (line: string) => void,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(shell, [scriptFile], {
      ...spawnOptions,
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
    signal?.addEventListener('abort', stop, { once: true });
    child.on('close', () => signal?.removeEventListener('abort', stop));
    let buffer = '';
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
}
