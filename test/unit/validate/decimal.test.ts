import { describe, expect, it } from '@jest/globals';
import { decimal } from '../../../lambdas/validate/decimal.js';
import { random } from '../../support/random.js';

/** The grammar `decimal` promises, checked the slow way. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function expected(text: string): number | undefined {
  const number = Number(text);
  return DECIMAL.test(text) && Number.isFinite(number) ? number : undefined;
}

describe('decimal', () => {
  it.each([
    ['12', 12],
    ['-0', -0],
    ['3.50', 3.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+7', 7],
    ['1e3', 1000],
    ['0e5', 0],
    ['0.30000000000000004', 0.30000000000000004],
  ])('reads %j as %p', (text, number) => {
    // Act
    const read = decimal(text);
    // Assess
    expect(read).toBe(number);
  });

  it.each([
    '',
    ' ',
    ' 1',
    '1 ',
    '.',
    '-',
    'Infinity',
    '-Infinity',
    'NaN',
    '0x1F',
    '0b11',
    '0o17',
    '1e999',
    '1_000',
    '1,5',
    '١',
  ])('refuses %j', (text) => {
    // Act
    const read = decimal(text);
    // Assess
    expect(read).toBeUndefined();
  });

  it('gives exactly what Number() gives for every decimal literal, and nothing for the rest', () => {
    // Prepare
    const next = random(3);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
    const texts = Array.from({ length: 20_000 }, () => {
      const sign = ['', '-', '+'][Math.floor(next() * 3)];
      const whole = digits(Math.floor(next() * 18));
      const fraction = next() < 0.6 ? `.${digits(Math.floor(next() * 18))}` : '';
      const exponent = next() < 0.1 ? `e${Math.floor(next() * 40) - 20}` : '';
      return `${sign}${whole}${fraction}${exponent}`;
    });
    // Act
    const mismatches = texts.filter((text) => !Object.is(decimal(text), expected(text)));
    // Assess
    expect(mismatches).toEqual([]);
  });
});
