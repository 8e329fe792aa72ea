import { describe, expect, it } from '@jest/globals';
import { COVERED, documentedCommands } from './support/documented.js';

// Every `sluice` and `cdk` command in the documents' sh blocks is run (or, needing AWS, checked)
// by one of the e2e tests: a command added to a document without a test fails here.

describe('the documented commands', () => {
  it('are each run or checked by an e2e test', () => {
    // Prepare
    const commands = documentedCommands().filter((c) => /^(sluice|cdk) /.test(c.text));
    const patterns = Object.values(COVERED);
    // Act
    const uncovered = commands.filter((c) => !patterns.some((p) => p.test(c.text)));
    // Assess
    expect(commands.length).toBeGreaterThan(20);
    expect(uncovered).toEqual([]);
  });

  it('still include each command an e2e test runs', () => {
    // Act
    const runs = Object.entries(COVERED).map(([name, pattern]) => [
      name,
      documentedCommands().some((c) => pattern.test(c.text)),
    ]);
    // Assess
    expect(runs.filter(([, found]) => !found)).toEqual([]);
  });
});
