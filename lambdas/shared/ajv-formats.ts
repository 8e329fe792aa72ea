import type { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';

/**
 * ajv-formats is CommonJS with a default export that NodeNext types as a namespace;
 * this gives it one typed name for every compiler in Sluice.
 */
export function addFormats<T extends Ajv2020>(ajv: T): T {
  (formatsPlugin as unknown as (ajv: T) => T)(ajv);
  return ajv;
}
