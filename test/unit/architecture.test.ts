import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

// The rooms of the code and what each may import, stated once here and mirrored in
// docs/architecture.md (whose rules block this test compares with RULES).

const ROOT = join(import.meta.dirname, '..', '..');
const SCANNED = ['lambdas', 'src', 'infra', 'bin'];
const DOC = join(ROOT, 'docs', 'architecture.md');

/**
 * What each room may import besides itself, first matching rule wins. `lambdas/*` is any room
 * under lambdas/ (shared, ingest, validate, promote, record-run). Every room may also import
 * datasets/ (the contract schema, data rather than code). A room no rule names may import nothing,
 * which is reported, so a new room needs a rule here and in the doc.
 */
const RULES: ReadonlyArray<{ from: string; may: readonly string[] }> = [
  { from: 'lambdas/shared', may: [] },
  { from: 'lambdas/*', may: ['lambdas/shared'] },
  { from: 'infra', may: ['lambdas/shared'] },
  { from: 'src/local', may: ['lambdas/*'] },
  { from: 'src/cli', may: ['src/local', 'lambdas/*'] },
  { from: 'bin', may: ['src/cli'] },
];

/** Imports the rules would refuse that are allowed file to file, each with its reason. */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: string; why: string }> = [
  {
    from: 'src/cli/doctor.ts',
    to: 'infra/app.ts',
    why: 'sluice doctor reads the dataset repository from the CDK context with the parser synth uses (parseDatasetRepository)',
  },
];

/**
 * Files of lambdas/ allowed to import each other in a cycle: ingest's entry (core.ts) dispatches
 * to each ingest path, and the paths import their input and output types back from core.ts. A
 * cycle found in lambdas/ passes only when every file in it is listed here.
 */

type Edge = { from: string; to: string };

/** The room of a repository path: lambdas/<dir>, src/<dir>, infra, bin or datasets; else undefined. */
function roomOf(path: string): string | undefined {
  const [top, second] = path.split('/');
  if ((top === 'lambdas' || top === 'src') && second !== undefined) return `${top}/${second}`;
  if (top === 'infra' || top === 'bin' || top === 'datasets') return top;
  return undefined;
}

function matches(pattern: string, room: string): boolean {
  return pattern.endsWith('/*') ? room.startsWith(pattern.slice(0, -1)) : pattern === room;
}

/** Each import the rules and exceptions refuse, as `from -> to: why`. */
function forbiddenImports(edges: readonly Edge[]): string[] {
  const refused: string[] = [];
  for (const { from, to } of edges) {
    const fromRoom = roomOf(from)!;
    const toRoom = roomOf(to);
    if (toRoom === fromRoom || toRoom === 'datasets') continue;
    if (EXCEPTIONS.some((e) => e.from === from && e.to === to)) continue;
    const rule = RULES.find((r) => matches(r.from, fromRoom));
    if (!rule) {
      refused.push(`${from} -> ${to}: no rule names the room ${fromRoom}`);
    } else if (!toRoom || !rule.may.some((pattern) => matches(pattern, toRoom))) {
      const allowed = rule.may.length > 0 ? rule.may.join(', ') : 'nothing outside itself';
      refused.push(`${from} -> ${to}: ${fromRoom} may import ${allowed}`);
    }
  }
  return refused;
}

/** The import cycles among `files`: each strongly connected component of two or more files, or a file importing itself. */
function importCycles(edges: readonly Edge[], files: ReadonlySet<string>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (files.has(from) && files.has(to)) next.set(from, [...(next.get(from) ?? []), to]);
  }
  // Tarjan's algorithm.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || next.get(file)?.includes(file)) cycles.push(component.sort());
  };
  for (const file of [...files].sort()) if (!index.has(file)) visit(file);
  return cycles;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Every relative import of a file, static or dynamic, type-only included: `import`, `export … from`,
 * `import()` and `require()`, as the TypeScript compiler finds them. An import of `x.js` that
 * names a TypeScript source resolves to `x.ts`, as NodeNext resolves it.
 */
function importsOf(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter(({ fileName }) => fileName.startsWith('.'))
    .map(({ fileName }) => {
      let to = relative(ROOT, resolve(join(ROOT, dirname(file)), fileName))
        .split('\\')
        .join('/');
      if (to.endsWith('.js') && existsSync(join(ROOT, `${to.slice(0, -3)}.ts`))) to = `${to.slice(0, -3)}.ts`;
      return { from: file, to };
    });
}

/** The rules as the doc shows them, one room a line. */
function rulesText(): string {
  const lines = RULES.map(
    ({ from, may }) =>
      `${from.padEnd(17)} may import ${may.length > 0 ? may.join(', ') : 'nothing outside itself'}`,
  );
  const exceptions = EXCEPTIONS.map(({ from, to }) => `${from.padEnd(17)} may also import ${to}`);
  return [...lines, ...exceptions].join('\n');
}

const files = SCANNED.flatMap(sourceFiles);
const edges = files.flatMap(importsOf);
const doc = readFileSync(DOC, 'utf8');

describe('import rules', () => {
  it('are checked against imports found in the code', () => {
    // Assess: the scan sees a static import, a dynamic one and one from an .mjs file, or the rules below check nothing.
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: 'lambdas/validate/core.ts', to: 'lambdas/shared/keys.ts' },
        { from: 'src/local/pipeline.ts', to: 'lambdas/promote/handler.ts' },
        { from: 'bin/sluice.mjs', to: 'src/cli/main.ts' },
      ]),
    );
  });

  it('refuse an import the rules forbid, and allow the ones they name', () => {
    // Prepare
    const planted: Edge[] = [
      { from: 'lambdas/shared/keys.ts', to: 'lambdas/ingest/core.ts' },
      { from: 'lambdas/validate/core.ts', to: 'lambdas/ingest/core.ts' },
      { from: 'lambdas/promote/core.ts', to: 'src/local/pipeline.ts' },
      { from: 'infra/constructs/lake.ts', to: 'lambdas/validate/engine.ts' },
      { from: 'src/local/pipeline.ts', to: 'src/cli/main.ts' },
      { from: 'src/cli/run.ts', to: 'infra/app.ts' },
      { from: 'src/cli/run.ts', to: 'test/support/lake.ts' },
      { from: 'src/tools/x.ts', to: 'src/local/pipeline.ts' },
      { from: 'lambdas/ingest/core.ts', to: 'lambdas/shared/keys.ts' },
      { from: 'src/cli/doctor.ts', to: 'infra/app.ts' },
      { from: 'src/cli/suggest.ts', to: 'datasets/contract.schema.json' },
    ];
    // Act
    const refused = forbiddenImports(planted);
    // Assess
    expect(refused.map((line) => line.split(':')[0])).toEqual(
      planted.slice(0, 8).map((e) => `${e.from} -> ${e.to}`),
    );
  });

  it('hold for every import in lambdas/, src/, infra/ and bin/', () => {
    // Act
    const refused = forbiddenImports(edges);
    // Assess
    expect(refused).toEqual([]);
  });

  it('allow each exception only where it is still used', () => {
    for (const exception of EXCEPTIONS) {
      expect(edges).toContainEqual({ from: exception.from, to: exception.to });
    }
  });

  it('are the rules docs/architecture.md shows', () => {
    expect(doc).toContain(rulesText());
  });
});

describe('import cycles in lambdas/', () => {
  it('are found by the cycle check', () => {
    // Prepare
    const planted: Edge[] = [
      { from: 'a.ts', to: 'b.ts' },
      { from: 'b.ts', to: 'c.ts' },
      { from: 'c.ts', to: 'a.ts' },
      { from: 'c.ts', to: 'd.ts' },
      { from: 'e.ts', to: 'e.ts' },
    ];
    // Act
    const cycles = importCycles(planted, new Set(['a.ts', 'b.ts', 'c.ts', 'd.ts', 'e.ts']));
    // Assess
    expect(cycles).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  });

  it('do not occur among the files of lambdas/', () => {
    // Act
    const cycles = importCycles(edges, new Set(files.filter((file) => file.startsWith('lambdas/'))));
    // Assess
    expect(cycles).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const table = doc
    .slice(doc.indexOf('## Where things live'))
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Question') && !line.startsWith('|---'));
  const paths = table.flatMap((row) =>
    [...row.matchAll(/`([^`\s]+)`/g)]
      .map((m) => m[1]!)
      .filter((token) => /^[\w.-]+(\/[\w.-]+)+$/.test(token)),
  );

  it('answers at least 15 questions, each with a file', () => {
    expect(table.length).toBeGreaterThanOrEqual(15);
    for (const row of table) expect([row, /`[\w.-]+(\/[\w.-]+)+`/.test(row)]).toEqual([row, true]);
  });

  it('names only files that exist', () => {
    expect(paths.filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
  });
});
