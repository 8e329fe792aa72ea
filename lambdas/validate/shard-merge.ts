/**
 * The merge of shards validated apart (engine.ts validateShard) into the outcome of the whole
 * input: the same result, summaries and decision that validateStream gives reading it in one pass.
 * Each evaluator adds the shards' states in input order (its `absorb`); what only the whole input
 * shows (a duplicate whose first occurrence is in an earlier shard, an order broken where two
 * shards meet) comes out as row corrections, which move records from a shard's valid output to the
 * quarantine (globalShardOutputs) and count in the rows.
 */
import type { Contract } from '../shared/contract.js';
import { MalformedInput } from '../shared/errors.js';
import { findings } from './engine.js';
import type { QuarantineEntry, ValidateOptions } from './engine-types.js';
import { createEvaluator, type Evaluator } from './expectations.js';
import { Profiler } from './profile.js';
import { type RowFailure, SchemaConformance } from './record-schema.js';
import {
  type BatchLines,
  fileLine,
  globalText,
  inRuns,
  lineName,
  linesBefore,
  type RowCorrection,
  type ShardOutcome,
  type ShardPlace,
  type ShardPlacement,
  type SpillResults,
} from './shard-state.js';
import { type ValidationOutcome, validationOutcome } from './validation-outcome.js';

export type { ShardOutcome, ShardPlacement } from './shard-state.js';

export type MergeOptions = Pick<ValidateOptions, 'source' | 'now' | 'scope'> & {
  /**
   * What resolveSpill found in the spill, when the shards were validated with one: required then
   * (the outcomes hold no keys or values), ignored otherwise.
   */
  spilled?: SpillResults;
  /**
   * For a batch of several objects, each shard's object (its name in the batch, as quarantined rows
   * and messages give it) and whether the shard is the object's first: rows are then numbered
   * within their object, as a pass over the objects joined numbers them.
   */
  files?: readonly ShardFile[];
};

/** A shard's object in a batch of several. */
export interface ShardFile {
  readonly file: string;
  /** How the shard named its object in its messages (ObjectStore.describe). */
  readonly source: string;
  /** The shard starts the object (its first shard). */
  readonly first: boolean;
}

/** The whole input's outcome from its shards' outcomes, in input order. */
export function mergeShardOutcomes(
  contract: Contract,
  outcomes: readonly ShardOutcome[],
  options: MergeOptions = {},
): ValidationOutcome {
  return merge(contract, outcomes, options).outcome;
}

/** Where each shard's outputs go in the whole input's (for globalQuarantineLine and globalShardOutputs). */
export function shardPlacements(
  contract: Contract,
  outcomes: readonly ShardOutcome[],
  options: MergeOptions = {},
): ShardPlacement[] {
  return merge(contract, outcomes, options).placements;
}

/**
 * By evaluator position (-1 the schema entry): the values (as countKey gives them) the whole
 * input's partial_unexpected_counts counts. They do not depend on the counts past the shards'
 * caps, which the merge may be given as empty lists here.
 */
export function countedValues(
  contract: Contract,
  outcomes: readonly ShardOutcome[],
  options: MergeOptions = {},
): Map<number, ReadonlySet<unknown>> {
  const { evaluators, schema } = merge(contract, outcomes, options);
  const counted = new Map<number, ReadonlySet<unknown>>([[-1, schema.countedValues()]]);
  evaluators.forEach((evaluator, e) => {
    const values = evaluator.countedValues?.();
    if (values !== undefined) counted.set(e, values);
  });
  return counted;
}

function merge(
  contract: Contract,
  outcomes: readonly ShardOutcome[],
  options: MergeOptions,
): {
  outcome: ValidationOutcome;
  placements: ShardPlacement[];
  evaluators: Evaluator[];
  schema: SchemaConformance;
} {
  if (outcomes.length === 0) {
    throw new MalformedInput(
      `${options.source ?? '<input>'}: no shard outcomes to merge (expected at least one)`,
    );
  }
  const snapshot = options.scope === 'snapshot';
  const evaluators = contract.expectations
    .filter((expectation) => (expectation.scope === 'snapshot') === snapshot)
    .map(createEvaluator);
  const schema = new SchemaConformance(contract);
  const order = evaluators.map((e): [string, string | null] => [e.config.type, e.column]);
  const quarantines = evaluators.map((e) => e.observe !== undefined && e.config.severity !== 'warning');
  const rows = { read: 0, valid: 0, quarantined: 0 };
  let keys: Set<string> | undefined;
  let header: string[] | undefined;
  let stopped: string | undefined;
  const before = linesBefore(
    outcomes,
    options.files?.map((file) => file.first),
  );
  const placements: ShardPlacement[] = [];
  // Profiles merge when every shard profiled; one that did not (validated without) leaves none.
  const profiler = outcomes.every((o) => o.profile !== undefined)
    ? new Profiler(contract.schema.properties)
    : undefined;
  if (options.files !== undefined && options.files.length !== outcomes.length) {
    throw new MalformedInput(
      `${options.source ?? '<input>'}: ${options.files.length} shard objects given for ${outcomes.length} shard outcomes`,
    );
  }
  const files: BatchLines | undefined = options.files && { starts: [], names: [] };
  if (files !== undefined) {
    for (const evaluator of evaluators) evaluator.nameRows?.((line) => lineName(files, line));
  }
  const spilledShards = outcomes.filter((o) => o.spill !== undefined).length;
  if (spilledShards > 0 && (spilledShards < outcomes.length || options.spilled === undefined)) {
    throw new MalformedInput(
      `${options.source ?? '<input>'}: ${spilledShards} of ${outcomes.length} shard outcomes were spilled; ` +
        'every shard must be validated with the spill, and the merge given resolveSpill’s results',
    );
  }
  for (const [position, shard] of outcomes.entries()) {
    if (shard.evaluators.length !== evaluators.length) {
      throw new MalformedInput(
        `${options.source ?? '<input>'}: a shard outcome has ${shard.evaluators.length} expectation states, the contract ${evaluators.length}`,
      );
    }
    const file = options.files?.[position];
    if (files !== undefined && file !== undefined && (file.first || position === 0)) {
      files.starts.push(before[position]!);
      files.names.push(file.file);
    }
    const placement: ShardPlacement = {
      index: rows.read,
      line: before[position]! - shard.headerLines,
      read: shard.rows.read,
      quarantinedRuns: shard.quarantinedRuns,
      firstLines: {},
      failures: [],
      order,
      ...(files !== undefined ? { files } : {}),
    };
    const place = (e: number): ShardPlace => ({
      shard: position,
      spilled: options.spilled?.evaluators[e],
      pastCap: options.spilled?.pastCap?.[e]?.[position],
      index: placement.index,
      line: placement.line,
      text: (message) => globalText(message, placement),
      fail: (correction: RowCorrection) => {
        if (quarantines[e]) placement.failures.push(failureOf(evaluators[e]!, e, correction));
      },
      renameLine: (line, globalLine) => {
        placement.firstLines[`${e}.${line}`] = globalLine;
      },
    });
    schema.absorb(shard.schema, place(-1));
    evaluators.forEach((evaluator, e) => {
      evaluator.absorb(shard.evaluators[e], place(e));
    });
    if (contract.format.type === 'csv') header ??= shard.columns;
    else if (shard.columns) {
      keys ??= new Set();
      for (const key of shard.columns) keys.add(key);
    }
    stopped ??= batchStop(shard.stopped, file?.source, options.source);
    if (shard.profile) profiler?.absorb(shard.profile);
    const moved = new Set(
      placement.failures.map((f) => f.index).filter((index) => !inRuns(shard.quarantinedRuns, index)),
    ).size;
    rows.read += shard.rows.read;
    rows.valid += shard.rows.valid - moved;
    rows.quarantined += shard.rows.quarantined + moved;
    placement.failures.sort((a, b) => a.index - b.index || a.evaluator - b.evaluator);
    placements.push(placement);
  }
  const columns = header ?? (keys ? [...keys] : undefined);
  const evaluated = findings(schema, evaluators, { rowCount: rows.read, columns }, stopped);
  const validated = validationOutcome(contract, evaluated, {
    rows,
    columns,
    stopped,
    source: options.source,
    validationTime: options.now?.() ?? new Date(),
  });
  const outcome = profiler ? { ...validated, profile: profiler.finish() } : validated;
  return { outcome, placements, evaluators, schema };
}

/**
 * Why validation stopped, naming the batch as one pass over the objects joined does: a shard of a
 * batch of several objects stopped at its own object's header, and its message starts with that
 * object (`<object>: the header lacks …`).
 */
function batchStop(
  stopped: string | undefined,
  object: string | undefined,
  batch: string | undefined,
): string | undefined {
  if (stopped === undefined || object === undefined || batch === undefined) return stopped;
  return stopped.startsWith(`${object}: `) ? `${batch}${stopped.slice(object.length)}` : stopped;
}

function failureOf(
  evaluator: { column: string | null; config: { type: string } },
  e: number,
  correction: RowCorrection,
): ShardPlacement['failures'][number] {
  const failure: RowFailure = {
    column: evaluator.column,
    expectation: evaluator.config.type,
    reason: correction.reason,
  };
  if (evaluator.column !== null) failure.value = correction.value ?? null;
  return { index: correction.index, line: correction.line, evaluator: e, failure };
}

/**
 * One line of a shard's quarantine as the whole input's quarantine has it: its row and index
 * moved, the rows its messages name moved, and the failures only the whole input shows added in
 * their place among the row's failures. The result is the line one pass writes.
 */
export function globalQuarantineLine(text: string, placement: ShardPlacement): string {
  const shardEntry = JSON.parse(text) as QuarantineEntry;
  const local = shardEntry.index;
  const entry = located(shardEntry.row + placement.line, shardEntry.index + placement.index, placement, {
    failures: shardEntry.failures,
    record: shardEntry.record,
  });
  for (const failure of entry.failures) failure.reason = globalText(failure.reason, placement);
  const added = placement.failures.filter((f) => f.index === local);
  for (const { evaluator, failure } of added) {
    // After the failures of the schema and of the evaluators before this one.
    let at = entry.failures.length;
    while (at > 0 && rank(entry.failures[at - 1]!, placement) > evaluator) at--;
    entry.failures.splice(at, 0, failure);
  }
  return JSON.stringify(entry);
}

/** Where a row's failure came from among the evaluators: -1 for the schema's. */
function rank(failure: RowFailure, placement: ShardPlacement): number {
  return placement.order.findIndex(
    ([type, column]) => type === failure.expectation && column === failure.column,
  );
}

/**
 * A shard's outputs (JSON Lines text) as parts of the whole input's: the quarantine with global
 * rows and indexes, and the records the whole input quarantines moved there from the valid output.
 * Concatenated in shard order, the parts are what one pass writes.
 */
export function globalShardOutputs(
  outputs: { valid: string; quarantine: string },
  placement: ShardPlacement,
): { valid: string; quarantine: string } {
  const quarantined = splitLines(outputs.quarantine);
  const valid = splitLines(outputs.valid);
  const added = new Map<number, ShardPlacement['failures']>();
  for (const f of placement.failures) {
    if (inRuns(placement.quarantinedRuns, f.index)) continue;
    const list = added.get(f.index) ?? [];
    list.push(f);
    added.set(f.index, list);
  }
  const kept: string[] = [];
  const moved: Array<{ index: number; text: string }> = [];
  let v = 0;
  for (let index = 0; index < placement.read; index++) {
    if (inRuns(placement.quarantinedRuns, index)) continue;
    const line = valid[v++];
    if (line === undefined) break;
    const failures = added.get(index);
    if (failures === undefined) kept.push(line);
    else {
      const entry = located(failures[0]!.line + placement.line, index + placement.index, placement, {
        failures: failures.map((f) => f.failure),
        record: JSON.parse(line),
      });
      moved.push({ index, text: JSON.stringify(entry) });
    }
  }
  const entries = quarantined.map((text) => ({
    index: localIndex(text),
    text: globalQuarantineLine(text, placement),
  }));
  const all = [...entries, ...moved].sort((a, b) => a.index - b.index);
  return {
    valid: kept.map((line) => `${line}\n`).join(''),
    quarantine: all.map((e) => `${e.text}\n`).join(''),
  };
}

/**
 * A quarantined row at a line of the whole input: for a batch of several objects, its object and
 * line there (`file` first, as a joined pass writes it).
 */
function located(
  line: number,
  index: number,
  placement: Pick<ShardPlacement, 'files'>,
  rest: Pick<QuarantineEntry, 'failures' | 'record'>,
): QuarantineEntry {
  if (placement.files === undefined) return { row: line, index, ...rest };
  const at = fileLine(placement.files, line);
  return { file: at.file, row: at.line, index, ...rest };
}

/** The local index of a quarantine line (`{"row":…,"index":N,…`). */
function localIndex(text: string): number {
  return (JSON.parse(text) as QuarantineEntry).index;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
