import { describe, expect, it } from '@jest/globals';
import * as errors from '../../../lambdas/shared/errors.js';
import { SLUICE_ERROR_NAMES, SLUICE_ERRORS, SluiceError } from '../../../lambdas/shared/errors.js';

describe('SLUICE_ERROR_NAMES', () => {
  it('lists every error class the module exports, by the name it throws with', () => {
    // Prepare
    const exported = Object.values(errors).filter(
      (value): value is typeof SluiceError =>
        typeof value === 'function' && value.prototype instanceof SluiceError,
    );
    // Act
    const thrownNames = exported.map((errorClass) => new errorClass('x').name);
    // Assess
    expect([...SLUICE_ERRORS].sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      exported.sort((a, b) => a.name.localeCompare(b.name)),
    );
    expect([...SLUICE_ERROR_NAMES].sort()).toEqual(thrownNames.sort());
  });
});
