import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { threadBundle } from '../../../src/local/thread-bundle.js';

/** Two TypeScript entries sharing a module, in a folder of their own. */
function sources(): { dir: string; entries: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-thread-sources-'));
  writeFileSync(join(dir, 'shared.ts'), 'export const greeting: string = "hello";\n');
  writeFileSync(
    join(dir, 'a.ts'),
    'import { greeting } from "./shared.js";\nexport const a: string = greeting + " a";\n',
  );
  writeFileSync(
    join(dir, 'b.ts'),
    'import { greeting } from "./shared.js";\nexport const b: string = greeting + " b";\n',
  );
  return { dir, entries: { a: join(dir, 'a.ts'), b: join(dir, 'b.ts') } };
}

describe('threadBundle', () => {
  it('bundles TypeScript entries into JavaScript modules that import as the sources would', async () => {
    // Prepare
    const { entries } = sources();
    const parent = mkdtempSync(join(tmpdir(), 'sluice-thread-bundles-'));
    // Act
    const bundle = await threadBundle(entries, parent);
    // Assess
    expect(bundle?.a).toMatch(/\.mjs$/);
    expect(((await import(bundle!.a!)) as { a: string }).a).toBe('hello a');
    expect(((await import(bundle!.b!)) as { b: string }).b).toBe('hello b');
  });

  it('keeps the bundle while its sources are unchanged, and builds it again after one changes', async () => {
    // Prepare
    const { dir, entries } = sources();
    const parent = mkdtempSync(join(tmpdir(), 'sluice-thread-bundles-'));
    const first = await threadBundle(entries, parent);
    const kept = readdirSync(parent).filter((name) => !name.includes('-build-'));
    // Act: as another process would (the same parent, spelt otherwise), then after a change
    const again = await threadBundle(entries, `${parent}/`);
    writeFileSync(join(dir, 'shared.ts'), 'export const greeting: string = "bye";\n');
    utimesSync(join(dir, 'shared.ts'), new Date(), new Date(Date.now() + 5_000));
    const rebuilt = await threadBundle(entries, `${parent}//`);
    // Assess
    expect(kept).toHaveLength(1);
    expect(fileURLToPath(again!.a!)).toBe(fileURLToPath(first!.a!));
    const directory = dirname(fileURLToPath(rebuilt!.a!));
    const code = readdirSync(directory)
      .filter((name) => name.endsWith('.mjs'))
      .map((name) => readFileSync(join(directory, name), 'utf8'))
      .join('');
    expect(code).toContain('bye');
    expect(code).not.toContain('hello');
  });
});
