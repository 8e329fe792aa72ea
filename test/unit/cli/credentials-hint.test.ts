import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../../../lambdas/shared/errors.js';
import { withCredentialsHint } from '../../../src/cli/deployed.js';

function named(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('withCredentialsHint', () => {
  it('turns missing credentials into a ConfigurationError that says what to set', () => {
    // Prepare
    const error = named('CredentialsProviderError', 'Could not load credentials from any providers');
    // Act
    const hinted = withCredentialsHint(error, 'eu-west-1') as Error;
    // Assess
    expect(hinted).toBeInstanceOf(ConfigurationError);
    expect(hinted.message).toMatch(
      /^CredentialsProviderError: Could not load credentials from any providers\. /,
    );
    expect(hinted.message).toContain('AWS_PROFILE=<name>');
    expect(hinted.message).toContain('(eu-west-1)');
    expect(hinted.message).toContain('--outputs-file cdk-outputs.json');
    expect(hinted.cause).toBe(error);
  });

  it('leaves any other error as it is', () => {
    // Prepare
    const error = named('ExecutionDoesNotExist', 'no such execution');
    // Act
    const hinted = withCredentialsHint(error, 'eu-west-1');
    // Assess
    expect(hinted).toBe(error);
  });
});
