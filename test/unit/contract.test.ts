import { describe, expect, it } from '@jest/globals';
import { loadContractFile, parseContract } from '../../lambdas/shared/contract.js';
import { ContractInvalid } from '../../lambdas/shared/errors.js';

describe('smoke', () => {
  it('parses', () => {
    expect(() => parseContract('name: x', '<inline>')).toThrow(ContractInvalid);
    expect(loadContractFile).toBeDefined();
  });
});
