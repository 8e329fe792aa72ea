import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import formatsPlugin from 'ajv-formats';
import { parse } from 'yaml';

// The official ODCS v3.1.0 JSON Schema and the spec's examples (test/fixtures/odcs/README.md says
// where they come from), loaded as the spec's own CI loads them: draft 2019-09 with ajv-formats.

export const odcsFixtures = join(import.meta.dirname, '..', 'fixtures', 'odcs');

const ajv = new Ajv2019({ strict: false, allErrors: true });
(formatsPlugin as unknown as (ajv: Ajv2019) => Ajv2019)(ajv);
const validate = ajv.compile(
  JSON.parse(readFileSync(join(odcsFixtures, 'odcs-json-schema-v3.1.0.json'), 'utf8')),
);

/** What the official schema finds wrong with a document: `<path> <message>` lines, none when it is valid. */
export function odcsSchemaProblems(document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** The spec's examples, by file name, parsed. */
export function odcsExamples(): Array<{ file: string; document: Record<string, unknown> }> {
  const dir = join(odcsFixtures, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.odcs.yaml'))
    .sort()
    .map((file) => ({
      file,
      document: parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>,
    }));
}
