/** Helpers for the validation engine tests: inline contracts, and a run that collects both outputs. */
import { Readable, Writable } from 'node:stream';
import { type Contract, parseContract } from '../../../lambdas/shared/contract.js';
import {
  type QuarantineEntry,
  type ValidateOptions,
  type ValidationOutcome,
  validateStream,
} from '../../../lambdas/validate/engine.js';

/** A CSV contract whose schema and expectations are given as YAML (indented two spaces under their keys). */
export function csvContract(schema: string, expectations = '[]', extra = ''): Contract {
  return parseContract(
    `name: orders\nsource: { type: s3-upload, prefix: landing/orders/ }\nformat: { type: csv }\n` +
      `schema:\n${indent(schema)}\nexpectations: ${expectations.includes('\n') ? `\n${indent(expectations)}` : expectations}\n${extra}`,
    '<inline>',
  );
}

/** A contract from its full YAML text. */
export function contractFrom(yaml: string): Contract {
  return parseContract(yaml, '<inline>');
}

/** The orders contract of STYLE.md: order_id string, amount a number >= 0, both required. */
export const ORDERS_SCHEMA = `type: object
required: [order_id, amount]
properties:
  order_id: { type: string }
  amount: { type: number, minimum: 0 }`;

export interface Run {
  outcome: ValidationOutcome;
  valid: Record<string, unknown>[];
  quarantine: QuarantineEntry[];
  validText: string;
  quarantineText: string;
}

/** Validates `input` (text, bytes, or a list of chunks fed one by one) and parses both outputs. */
export async function validate(
  input: string | Uint8Array | Array<string | Uint8Array>,
  contract: Contract,
  options: ValidateOptions = {},
): Promise<Run> {
  const chunks = (Array.isArray(input) ? input : [input]).map((c) =>
    typeof c === 'string' ? Buffer.from(c) : c,
  );
  const valid = collector();
  const quarantine = collector();
  const outcome = await validateStream(
    Readable.from(chunks),
    contract,
    { valid: valid.stream, quarantine: quarantine.stream },
    { now: () => new Date('2026-11-25T10:00:00Z'), ...options },
  );
  return {
    outcome,
    valid: lines(valid.text()) as Record<string, unknown>[],
    quarantine: lines(quarantine.text()) as QuarantineEntry[],
    validText: valid.text(),
    quarantineText: quarantine.text(),
  };
}

/** The result entry of one expectation type (the first one, or the n-th). */
export function resultOf(run: Run, type: string, nth = 0) {
  const found = run.outcome.result.results.filter((r) => r.expectation_config.type === type)[nth];
  if (!found) throw new Error(`no result for ${type}`);
  return found;
}

/** Cuts bytes into pieces of the given sizes, cycling through them. */
export function pieces(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]!);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

function collector() {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

function lines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
