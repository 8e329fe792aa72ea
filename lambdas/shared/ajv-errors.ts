/**
 * How ajv's errors read to a person: the ones worth acting on, each in a sentence. Shared by the
 * contract's own schema and each expectation's kwargs schema.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';

/** ajv reports every failed branch of if/then and oneOf; keep the ones a person can act on. */
export function relevantErrors(errors: ErrorObject[]): ErrorObject[] {
  const useful = errors.filter((e) => !['if', 'oneOf', 'anyOf', 'allOf'].includes(e.keyword));
  const chosen = useful.length > 0 ? useful : errors;
  const seen = new Set<string>();
  return chosen.filter((e) => {
    const key = `${e.instancePath}|${describeAjvError(e)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** One ajv error in a sentence; a pattern error quotes the value and an example from the schema. */
export function describeAjvError(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unexpected property '${String(params.additionalProperty)}'`;
    case 'required':
      return `missing required property '${String(params.missingProperty)}'`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    case 'pattern': {
      const examples = (error.parentSchema as { examples?: unknown[] } | undefined)?.examples;
      if (!examples?.length) return error.message ?? error.keyword;
      return `expected a value like ${JSON.stringify(examples[0])}, got ${JSON.stringify(error.data)}`;
    }
    default:
      return error.message ?? error.keyword;
  }
}
