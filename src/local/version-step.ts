import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '../../lambdas/shared/errors.js';
import type { TaskContext } from './asl-runner.js';
import { type BuildResult, loadBuildSpec, runBuildSpec } from './codebuild.js';
import { withLock } from './lock.js';

/** The buildspec CodeBuild runs for the Version step, and that runs locally. */
export const VERSION_BUILDSPEC = join(import.meta.dirname, '..', '..', 'buildspec', 'version.yml');

/** Where a local run keeps what the deployed stack keeps in CodeBuild's project environment. */
export interface LocalVersioning {
  /** The dataset git repository: a bare repository, created when missing. */
  gitRemote: string;
  /** The DVC remote: a directory or s3:// URL. */
  dvcRemote: string;
  /** The curated zone: a directory or s3://bucket. */
  curatedRoot: string;
  /** An S3 API endpoint for s3:// locations (moto, LocalStack). */
  s3Endpoint?: string;
  /** Directory holding the `dvc` command (the project's .venv/bin). */
  toolsBin: string;
  /**
   * A DVC cache directory kept between builds (`sluice run`: `<lake>/dvc-cache` or
   * SLUICE_DVC_CACHE, chosen by openLake): dvc add then copies in only files no earlier version
   * had. Unset, each build's clone has a cache of its own.
   */
  dvcCache?: string;
  /**
   * A directory where the build keeps its clone of the dataset repository between builds, with
   * the snapshot's hard links: a build then links only what changed, and DVC does not hash again
   * the files it has seen. Unset, each build clones afresh, as a deployed build does.
   */
  workspace?: string;
}

interface StartBuildInput {
  ProjectName: string;
  EnvironmentVariablesOverride?: Array<{ Name: string; Value: string; Type?: string }>;
}

/** A failed build as `codebuild:startBuild.sync` reports it: States.TaskFailed, the build as cause. */
class BuildFailed extends Error {
  constructor(cause: unknown) {
    super(JSON.stringify(cause));
    this.name = 'States.TaskFailed';
  }
}

export interface VersionTaskOptions {
  /** Stops the build (and the wait for the lock), as Ctrl-C does; the lock is released first. */
  signal?: AbortSignal;
  /** Told when the build waits for another build's lock, or takes over a stale one. */
  onWait?: (message: string) => void;
}

/**
 * The `codebuild:startBuild.sync` Task, run locally: the Version buildspec's commands with the real
 * dvc and git, each command and its output added to the execution history. Builds on the same git
 * repository are serialised, as the deployed project's concurrent-build limit of one does, by a
 * lock beside the repository that names its holder; a lock whose holder is gone is taken over.
 */
export function localVersionTask(versioning: LocalVersioning, options: VersionTaskOptions = {}) {
  return async (input: unknown, context: TaskContext): Promise<unknown> => {
    const { ProjectName, EnvironmentVariablesOverride = [] } = input as StartBuildInput;
    if (!existsSync(join(versioning.toolsBin, 'dvc'))) {
      throw new ConfigurationError(
        `dvc not found in ${versioning.toolsBin}; run 'node scripts/setup.mjs --python' (npm run demo does) to install it`,
      );
    }
    // The lock sits beside the repository; the repository itself is created under the lock, since
    // two `git init` of one path at once fail (each finds the other's config.lock or hooks).
    mkdirSync(dirname(versioning.gitRemote), { recursive: true });
    const env: Record<string, string> = {
      SLUICE_GIT_REMOTE: versioning.gitRemote,
      SLUICE_DVC_REMOTE: versioning.dvcRemote,
      SLUICE_CURATED_ROOT: versioning.curatedRoot,
      ...(versioning.dvcCache ? { SLUICE_DVC_CACHE: versioning.dvcCache } : {}),
      ...(versioning.workspace ? { SLUICE_WORKSPACE: versioning.workspace } : {}),
      ...(versioning.s3Endpoint
        ? { SLUICE_S3_ENDPOINT: versioning.s3Endpoint, AWS_ENDPOINT_URL_S3: versioning.s3Endpoint }
        : {}),
      GIT_TERMINAL_PROMPT: '0',
      ...Object.fromEntries(EnvironmentVariablesOverride.map((v) => [v.Name, v.Value])),
    };
    const id = `${ProjectName}:${randomUUID()}`;
    const result = await withLock(
      `${versioning.gitRemote}.sluice-lock`,
      () => {
        ensureBareRepository(versioning.gitRemote);
        return runBuildSpec(loadBuildSpec(VERSION_BUILDSPEC), {
          env,
          skipPhases: ['install'],
          path: [versioning.toolsBin],
          signal: options.signal,
          onCommand: (command) =>
            context.emit({
              type: command.status === 'SUCCEEDED' ? 'BuildCommandSucceeded' : 'BuildCommandFailed',
              detail: `[${command.phase}] ${command.command.trim()}\n${command.output}`.trim(),
            }),
        });
      },
      {
        purpose: `versioning ${env.SLUICE_DATASET ?? 'a dataset'} run ${env.SLUICE_RUN_ID ?? ''}`.trim(),
        signal: options.signal,
        onWait: options.onWait,
      },
    );
    const build = asBuild(id, result);
    if (result.status === 'FAILED') {
      const failed = result.commands.find((c) => c.status === 'FAILED');
      throw new BuildFailed({
        ...build,
        FailedPhase: failed?.phase,
        FailedCommand: failed?.command
          .trim()
          .split('\n')
          .find((line) => line.trim() && !line.trim().startsWith('#')),
        Output: failed?.output.split('\n').slice(-20).join('\n'),
      });
    }
    return { Build: build };
  };
}

function asBuild(id: string, result: BuildResult) {
  return {
    Id: id,
    BuildStatus: result.status,
    ExportedEnvironmentVariables: Object.entries(result.exported).map(([Name, Value]) => ({ Name, Value })),
    Phases: [...new Set(result.commands.map((c) => c.phase))].map((phase) => {
      const commands = result.commands.filter((c) => c.phase === phase);
      return {
        PhaseType: phase.toUpperCase(),
        PhaseStatus: commands.some((c) => c.status === 'FAILED') ? 'FAILED' : 'SUCCEEDED',
        DurationInMillis: commands.reduce((sum, c) => sum + c.durationMs, 0),
      };
    }),
  };
}

/** Creates the dataset repository on first use; called holding the repository's lock. */
function ensureBareRepository(path: string): void {
  if (existsSync(join(path, 'HEAD'))) return;
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', path]);
}
