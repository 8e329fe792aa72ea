/**
 * GX's `result_format` levels, least to most detail. The contract's kwargs schema, the validator
 * and `sluice validate --result-format` all read this list; it is a module of its own so that the
 * CLI can name the levels in its help without loading the catalogue.
 */
export const RESULT_FORMAT_LEVELS = ['BOOLEAN_ONLY', 'BASIC', 'SUMMARY', 'COMPLETE'] as const;

export type ResultFormatLevel = (typeof RESULT_FORMAT_LEVELS)[number];

/** The levels as help text reads them: "BOOLEAN_ONLY, BASIC, SUMMARY or COMPLETE". */
export function resultFormatLevelsText(): string {
  return `${RESULT_FORMAT_LEVELS.slice(0, -1).join(', ')} or ${RESULT_FORMAT_LEVELS.at(-1)}`;
}
