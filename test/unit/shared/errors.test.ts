import { describe, expect, it } from '@jest/globals';
import * as errors from '../../../lambdas/shared/errors.js';
import { SLUICE_ERROR_NAMES, SLUICE_ERRORS, SluiceError } from '../../../lambdas/shared/errors.js';

// The state machine matches Retry and Catch on error names: each must be the class's own name,
// whatever a bundler makes of the class, and listed where the ASL tests look for names.

type ErrorClass = new (message: string) => SluiceError;
const errorClasses = (Object.entries(errors) as Array<[string, unknown]>).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof SluiceError,
);

describe('Sluice errors', () => {
  it('name every error after its class', () => {
    // Act
    const names = errorClasses.map(([exported, ErrorClass]) => [exported, new ErrorClass('m').name]);
    // Assess
    expect(names).toEqual(errorClasses.map(([exported]) => [exported, exported]));
  });

  it('keep the name when the class is renamed, as a minifier renames it', () => {
    for (const [exported, ErrorClass] of errorClasses) {
      // Prepare
      Object.defineProperty(ErrorClass, 'name', { value: 'Hn', configurable: true });
      try {
        // Act
        const { name } = new ErrorClass('m');
        // Assess
        expect(name).toBe(exported);
      } finally {
        Object.defineProperty(ErrorClass, 'name', { value: exported, configurable: true });
      }
    }
  });

  it('list every error class in SLUICE_ERROR_NAMES', () => {
    expect([...SLUICE_ERROR_NAMES].sort()).toEqual(errorClasses.map(([exported]) => exported).sort());
  });
});

describe('SLUICE_ERROR_NAMES', () => {
  it('lists every error class the module exports, by the name it throws with', () => {
    // Prepare
    const exported = errorClasses.map(([, ErrorClass]) => ErrorClass);
    // Act
    const thrownNames = exported.map((ErrorClass) => new ErrorClass('x').name);
    // Assess
    expect(new Set<unknown>(SLUICE_ERRORS)).toEqual(new Set<unknown>(exported));
    expect([...SLUICE_ERROR_NAMES].sort()).toEqual(thrownNames.sort());
  });
});
