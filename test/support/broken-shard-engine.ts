// A validateShard for the shard worker tests: each call is logged next to the file it reads
// (`<file>.calls`, one shard start a line), and the shard starting at the offset written in
// `<file>.fail` throws a programming error (a TypeError) instead of validating.
import { appendFileSync, type ReadStream, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { validateShard as engineValidateShard } from '../../lambdas/validate/engine.js';

export const validateShard: typeof engineValidateShard = async (input: Readable, ...rest) => {
  const { path, start } = input as ReadStream & { start?: number };
  appendFileSync(`${String(path)}.calls`, `${start}\n`);
  if (start === Number(readFileSync(`${String(path)}.fail`, 'utf8'))) {
    throw new TypeError("Cannot read properties of undefined (reading 'x')");
  }
  return engineValidateShard(input, ...rest);
};
