import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { compileLinear, linearRegExp, schemaPatternProblems } from '../../../lambdas/shared/linear-regex.js';

describe('compileLinear', () => {
  it('searches anywhere in the text, as RegExp.test does', () => {
    // Act
    const regex = compileLinear('b+');
    // Assess
    expect(typeof regex !== 'string' && [regex.test('abbc'), regex.test('ac')]).toEqual([true, false]);
  });

  it('completes on nested quantifiers against a text that does not match', () => {
    // Act
    const regex = compileLinear('^(a+)+$');
    // Assess
    expect(typeof regex !== 'string' && regex.test(`${'a'.repeat(5000)}!`)).toBe(false);
  });

  it('reads \\uXXXX and \\u{X} escapes as JavaScript does', () => {
    // Act
    const four = compileLinear('^\\u00e9\\u{1F600}$');
    // Assess
    expect(typeof four !== 'string' && four.test('é😀')).toBe(true);
  });

  it('says why a backreference or a lookaround is refused', () => {
    // Act
    const reasons = ['(a)\\1', 'a(?=b)', '(?<!a)b'].map((source) => compileLinear(source));
    // Assess
    expect(reasons[0]).toContain('a backreference');
    expect(reasons[1]).toContain('lookahead and lookbehind');
    expect(reasons[2]).toContain('lookahead and lookbehind');
  });
});

describe('ajv with the linear engine', () => {
  it('matches pattern and patternProperties each with its own regex', () => {
    // Prepare
    const ajv = new Ajv2020({ code: { regExp: linearRegExp } });
    const validate = ajv.compile({
      type: 'object',
      properties: { a: { type: 'string', pattern: '^x+$' }, b: { type: 'string', pattern: '^y+$' } },
      patternProperties: { '^n_': { type: 'number' } },
    });
    // Act
    const results = [{ a: 'xx', b: 'yy', n_1: 2 }, { a: 'yy' }, { b: 'xx' }, { n_1: 'two' }].map((r) =>
      validate(r),
    );
    // Assess
    expect(results).toEqual([true, false, false, false]);
  });
});

describe('schemaPatternProblems', () => {
  it('finds patterns in nested schemas and escapes patternProperties keys in the pointer', () => {
    // Act
    const problems = schemaPatternProblems({
      properties: { pattern: { type: 'string' }, a: { items: { pattern: '(?=x)' } } },
      patternProperties: { 'a/(?!b)': {} },
      anyOf: [{ pattern: 'ok' }, { pattern: '(x)\\1' }],
    });
    // Assess
    expect(problems.map((p) => p.pointer)).toEqual([
      '/anyOf/1/pattern',
      '/properties/a/items/pattern',
      '/patternProperties/a~1(?!b)',
    ]);
  });
});
