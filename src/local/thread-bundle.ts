/**
 * Worker threads from bundled JavaScript. A thread started under tsx compiles every TypeScript
 * module it loads, on its own (about 0.45 s a thread for the validation engine). Bundled with
 * esbuild, as the Lambda assets are, every thread loads plain JavaScript instead. The bundle is
 * kept in the system's temporary directory and used again while none of the files it was built
 * from has changed (their sizes and modification times, as esbuild's metafile lists them), so a
 * process pays for bundling only after a change. esbuild is a development dependency: where it is
 * not installed, or cannot bundle, `threadBundle` gives undefined and the threads load the
 * TypeScript through tsx.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The bundled entries by the name given, as file URLs a Worker or `import()` takes. */
export type ThreadBundle = Record<string, string>;

/** What a kept bundle was built from: each input's size and modification time. */
type Inputs = Record<string, [number, number]>;

const INPUTS_FILE = 'inputs.json';

const built = new Map<string, Promise<ThreadBundle | undefined>>();

/**
 * Bundles `entries` (name → TypeScript file) with their dependencies into one directory, the
 * modules they share in common chunks: the kept bundle when it is still current, else a new one
 * (once a process for the same entries).
 */
export function threadBundle(
  entries: Record<string, string>,
  parent = tmpdir(),
): Promise<ThreadBundle | undefined> {
  const key = JSON.stringify([parent, ...Object.entries(entries).sort()]);
  let bundle = built.get(key);
  if (bundle === undefined) {
    bundle = kept(entries, parent);
    built.set(key, bundle);
  }
  return bundle;
}

async function kept(entries: Record<string, string>, parent: string): Promise<ThreadBundle | undefined> {
  const name = createHash('sha256')
    .update(JSON.stringify([process.version, entries]))
    .digest('hex')
    .slice(0, 16);
  const directory = join(parent, `sluice-threads-${name}`);
  if (isCurrent(directory)) return urls(directory, entries);
  const fresh = await build(entries, parent);
  if (fresh === undefined) return undefined;
  // Another process may have kept one meanwhile: either is current, and a directory is only ever
  // replaced whole, so no thread loads half of one.
  try {
    rmSync(directory, { recursive: true, force: true });
    renameSync(fresh, directory);
    return urls(directory, entries);
  } catch {
    return urls(fresh, entries);
  }
}

function isCurrent(directory: string): boolean {
  try {
    const inputs = JSON.parse(readFileSync(join(directory, INPUTS_FILE), 'utf8')) as Inputs;
    return Object.entries(inputs).every(([file, [size, mtime]]) => {
      const stat = statSync(file);
      return stat.size === size && stat.mtimeMs === mtime;
    });
  } catch {
    return false;
  }
}

async function build(entries: Record<string, string>, parent: string): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const outdir = mkdtempSync(join(parent, 'sluice-threads-build-'));
  try {
    const { metafile } = await esbuild.build({
      entryPoints: Object.entries(entries).map(([entry, file]) => ({ in: file, out: entry })),
      outdir,
      bundle: true,
      splitting: true,
      metafile: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // Error names are what messages and the state machine show; keep them as written.
      keepNames: true,
      mainFields: ['module', 'main'],
      // Some dependencies still call require(); an ES module has none of its own.
      banner: {
        js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    const inputs: Inputs = {};
    for (const input of Object.keys(metafile.inputs)) {
      const file = resolve(input);
      if (!existsSync(file)) continue;
      const stat = statSync(file);
      inputs[file] = [stat.size, stat.mtimeMs];
    }
    writeFileSync(join(outdir, INPUTS_FILE), JSON.stringify(inputs));
    return outdir;
  } catch {
    rmSync(outdir, { recursive: true, force: true });
    return undefined;
  }
}

function urls(directory: string, entries: Record<string, string>): ThreadBundle {
  const bundle: ThreadBundle = {};
  for (const entry of Object.keys(entries))
    bundle[entry] = pathToFileURL(join(directory, `${entry}.mjs`)).href;
  return bundle;
}
