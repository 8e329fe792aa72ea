import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { addFormats } from '../../lambdas/shared/ajv-formats.js';

/**
 * Validates OpenLineage events against the official JSON Schemas in test/fixtures/openlineage/
 * (SOURCE.md names their commit): the RunEvent against OpenLineage.json, and each facet against
 * its own facet schema. A facet no fixture describes is an error, so that nothing Sluice emits
 * goes unchecked.
 */

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'openlineage');

type Where = 'run' | 'job' | 'dataset' | 'inputDataset';

/** Which facet schema checks a facet, by where it sits and its key. */
const FACET_SCHEMAS: Record<Where, Record<string, string>> = {
  run: { parent: 'ParentRunFacet.json', errorMessage: 'ErrorMessageRunFacet.json' },
  job: { jobType: 'JobTypeJobFacet.json' },
  dataset: { schema: 'SchemaDatasetFacet.json', version: 'DatasetVersionDatasetFacet.json' },
  inputDataset: {
    dataQualityMetrics: 'DataQualityMetricsInputDatasetFacet.json',
    dataQualityAssertions: 'DataQualityAssertionsDatasetFacet.json',
  },
};

function compile(): { event: ValidateFunction; facets: Map<string, ValidateFunction> } {
  // The facet schemas point at OpenLineage.json by its $id; formats (uuid, uri, date-time) are checked.
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  for (const file of files) ajv.addSchema(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')), file);
  const facets = new Map<string, ValidateFunction>();
  for (const file of files) if (file !== 'OpenLineage.json') facets.set(file, ajv.getSchema(file)!);
  return { event: ajv.getSchema('OpenLineage.json')!, facets };
}

let compiled: ReturnType<typeof compile> | undefined;

/** Every problem of one event: the schema's errors, each with where it is; empty when it is valid. */
export function openLineageProblems(event: unknown): string[] {
  compiled ??= compile();
  const problems: string[] = [];
  const check = (validate: ValidateFunction, value: unknown, where: string) => {
    if (validate(value)) return;
    for (const error of validate.errors ?? []) {
      problems.push(`${where}${error.instancePath}: ${error.message} (${error.schemaPath})`);
    }
  };
  check(compiled.event, event, 'event');
  const e = event as {
    run?: { facets?: Record<string, unknown> };
    job?: { facets?: Record<string, unknown> };
    inputs?: Array<{ facets?: Record<string, unknown>; inputFacets?: Record<string, unknown> }>;
    outputs?: Array<{ facets?: Record<string, unknown>; outputFacets?: Record<string, unknown> }>;
  };
  const facets = (where: Where, found: Record<string, unknown> | undefined, path: string) => {
    for (const [key, value] of Object.entries(found ?? {})) {
      const file = FACET_SCHEMAS[where][key];
      if (!file) {
        problems.push(`${path}/${key}: no facet schema in test/fixtures/openlineage checks this facet`);
        continue;
      }
      check(compiled!.facets.get(file)!, { [key]: value }, path);
    }
  };
  facets('run', e.run?.facets, 'run/facets');
  facets('job', e.job?.facets, 'job/facets');
  e.inputs?.forEach((input, i) => {
    facets('dataset', input.facets, `inputs/${i}/facets`);
    facets('inputDataset', input.inputFacets, `inputs/${i}/inputFacets`);
  });
  e.outputs?.forEach((output, i) => {
    facets('dataset', output.facets, `outputs/${i}/facets`);
    facets('dataset', output.outputFacets, `outputs/${i}/outputFacets`);
  });
  return problems;
}
