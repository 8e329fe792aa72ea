import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const PYTHON = join(root, '.venv', 'bin', 'python');

/** A Parquet file as pyarrow reads it: Arrow types as pyarrow names them, dates and times as ISO text. */
export interface PyarrowFile {
  columns: Array<{ name: string; type: string; nullable: boolean }>;
  rowGroups: number;
  rows: Array<Record<string, unknown>>;
}

/** Reads Parquet files with pyarrow (the project's .venv), in a Python process of its own. */
export function readWithPyarrow(...files: string[]): PyarrowFile[] {
  if (!existsSync(PYTHON)) {
    throw new Error(`no ${PYTHON}: run the tests through \`npm test\`, which installs .venv with pyarrow`);
  }
  const out = execFileSync(PYTHON, [join(import.meta.dirname, 'read_parquet.py'), ...files], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as PyarrowFile[];
}
