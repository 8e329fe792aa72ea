import { describe, expect, it } from '@jest/globals';
import { InvalidUtf8, StrictUtf8Decoder } from '../../../lambdas/validate/utf8.js';

/** Decodes the pieces in order; returns the text, or the InvalidUtf8 thrown. */
function decode(pieces: number[][]): string | InvalidUtf8 {
  const decoder = new StrictUtf8Decoder();
  let text = '';
  try {
    for (const piece of pieces) text += decoder.decode(Uint8Array.from(piece));
    return text + decoder.end();
  } catch (error) {
    if (error instanceof InvalidUtf8) return error;
    throw error;
  }
}

const bytes = (text: string) => [...Buffer.from(text, 'utf8')];

describe('StrictUtf8Decoder', () => {
  it('decodes multi-byte characters split across pieces', () => {
    // Prepare
    const all = bytes('é€😀');
    // Act
    const text = decode(all.map((b) => [b]));
    // Assess
    expect(text).toBe('é€😀');
  });

  it('drops a byte order mark at the start, even one cut into pieces', () => {
    // Prepare
    const all = [0xef, 0xbb, 0xbf, ...bytes('a,b')];
    // Act
    const text = decode([[0xef], [0xbb], [0xbf, ...all.slice(3)]]);
    // Assess
    expect(text).toBe('a,b');
  });

  it('keeps U+FEFF that is not the first character, after pieces of ASCII or not', () => {
    // Prepare
    const mark = [0xef, 0xbb, 0xbf];
    // Act
    const texts = [
      decode([bytes('a,b\n'), [...mark, ...bytes('c')]]),
      decode([bytes('a'), mark]),
      decode([[0xc3, 0xa9], mark]),
      decode([[], mark, mark, bytes('x')]),
    ];
    // Assess
    expect(texts).toEqual(['a,b\n\ufeffc', 'a\ufeff', 'é\ufeff', '\ufeffx']);
  });

  it('decodes pieces of ASCII between multi-byte ones, and one cut after a lead byte', () => {
    // Prepare
    const all = bytes('ab€cd😀ef é');
    // Act
    const whole = decode([all]);
    const cut = [1, 2, 3, 5, 8, 11].map((at) => decode([all.slice(0, at), all.slice(at)]));
    // Assess
    expect(whole).toBe('ab€cd😀ef é');
    expect(cut).toEqual(Array(6).fill('ab€cd😀ef é'));
  });

  it('reports the byte offset of an invalid byte and the line breaks before it in its piece', () => {
    // Prepare
    const pieces = [bytes('ab\n'), [...bytes('cd\nef'), 0xff, ...bytes('gh')]];
    // Act
    const error = decode(pieces);
    // Assess
    expect(error).toBeInstanceOf(InvalidUtf8);
    expect(error).toMatchObject({ byteOffset: 8, newlinesBefore: 1 });
  });

  it('reports a sequence broken across pieces at the offset where it starts', () => {
    // Prepare: é is C3 A9; here C3 is followed by an ASCII byte in the next piece.
    const pieces = [[...bytes('abc'), 0xc3], bytes('x')];
    // Act
    const error = decode(pieces);
    // Assess
    expect(error).toMatchObject({ byteOffset: 3 });
  });

  it('reports a sequence cut short by the end of the input', () => {
    // Prepare
    const pieces = [[...bytes('ok'), 0xe2, 0x82]];
    // Act
    const error = decode(pieces);
    // Assess
    expect(error).toMatchObject({ byteOffset: 2, bytes: '0xe2 0x82' });
  });

  it.each([
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a lone continuation byte', [0x80]],
  ])('refuses %s', (_name, sequence) => {
    // Prepare
    const pieces = [[0x61, ...sequence, 0x62]];
    // Act
    const error = decode(pieces);
    // Assess
    expect(error).toMatchObject({ byteOffset: 1 });
  });
});
