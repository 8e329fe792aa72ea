/**
 * Drift: how each column of a run compares with the same column in the previous promoted run's
 * profile. Null rate, mean and distinct count side by side, and the population stability index
 * (PSI) of the distributions: over the previous run's histogram bins (with a bin below and one
 * above them) for numbers and dates, over the previous run's listed values (and one bin for all
 * others) for categories. A shift past a threshold below is flagged.
 *
 * The current run's counts per previous bin come from its own histogram, each of its bins spread
 * over the previous bins it overlaps in proportion to the overlap (values taken as uniform within a
 * bin): exact when the bins line up, an approximation when they do not.
 */
import type { ColumnProfile, Profile } from './profile.js';

/** When a shift is flagged. PSI: < 0.1 no shift, 0.1–0.25 moderate, > 0.25 large (the usual reading). */
export const DRIFT_THRESHOLDS = {
  /** Change of the null rate, in percentage points / 100. */
  nullRate: 0.05,
  /** Change of the mean, in standard deviations of the previous run's values. */
  meanShift: 0.5,
  /** Change of the distinct count, relative to the previous run's (0.5: 50% more or fewer). */
  distinct: 0.5,
  psiModerate: 0.1,
  psiLarge: 0.25,
} as const;

/** A share floor in PSI's logarithm: a bin empty on one side would otherwise make it infinite. */
const EPSILON = 1e-4;

export interface ColumnDrift {
  column: string;
  null_rate: { previous: number; current: number };
  mean?: { previous: number; current: number; shift: number | null };
  distinct: { previous: number; current: number };
  /** Population stability index over the previous run's bins or values; absent when neither side has a distribution. */
  psi?: number;
  /** What moved past its threshold, in words. */
  flags: string[];
}

export interface ProfileDrift {
  previous: { runId: string; dt: string };
  columns: ColumnDrift[];
  /** Columns the run has and the previous one had not, and the reverse. */
  added: string[];
  removed: string[];
  thresholds: typeof DRIFT_THRESHOLDS;
}

/** Compares `current` with `previous`, column by column (by name). */
export function compareProfiles(
  previous: Profile,
  current: Profile,
  previousRun: { runId: string; dt: string },
): ProfileDrift {
  const before = new Map(previous.columns.map((c) => [c.name, c]));
  const names = new Set(current.columns.map((c) => c.name));
  const columns: ColumnDrift[] = [];
  for (const column of current.columns) {
    const old = before.get(column.name);
    if (old) columns.push(columnDrift(old, column));
  }
  return {
    previous: previousRun,
    columns,
    added: current.columns.filter((c) => !before.has(c.name)).map((c) => c.name),
    removed: previous.columns.filter((c) => !names.has(c.name)).map((c) => c.name),
    thresholds: DRIFT_THRESHOLDS,
  };
}

function columnDrift(previous: ColumnProfile, current: ColumnProfile): ColumnDrift {
  const flags: string[] = [];
  const nulls = { previous: previous.null_rate, current: current.null_rate };
  if (Math.abs(nulls.current - nulls.previous) > DRIFT_THRESHOLDS.nullRate) {
    flags.push(`null rate moved by ${points(nulls.current - nulls.previous)} points`);
  }
  let mean: ColumnDrift['mean'];
  if (previous.numeric && current.numeric) {
    const stdev = previous.numeric.stdev;
    const delta = current.numeric.mean - previous.numeric.mean;
    const shift = stdev !== null && stdev > 0 ? delta / stdev : null;
    mean = { previous: previous.numeric.mean, current: current.numeric.mean, shift };
    if (shift !== null && Math.abs(shift) > DRIFT_THRESHOLDS.meanShift) {
      flags.push(`mean moved by ${Math.abs(shift).toFixed(2)} standard deviations`);
    }
  }
  const distinct = { previous: previous.distinct.count, current: current.distinct.count };
  const ratio =
    distinct.previous === 0 ? (distinct.current === 0 ? 1 : Infinity) : distinct.current / distinct.previous;
  if (Math.abs(ratio - 1) > DRIFT_THRESHOLDS.distinct) {
    flags.push(`distinct count went from ${distinct.previous} to ${distinct.current}`);
  }
  const psi = stabilityIndex(previous, current);
  if (psi !== undefined && psi > DRIFT_THRESHOLDS.psiLarge)
    flags.push(`distribution shifted (PSI ${psi.toFixed(3)})`);
  return {
    column: current.name,
    null_rate: nulls,
    ...(mean ? { mean } : {}),
    distinct,
    ...(psi === undefined ? {} : { psi }),
    flags,
  };
}

function points(delta: number): string {
  return `${delta > 0 ? '+' : ''}${(delta * 100).toFixed(1)}`;
}

/** PSI = Σ (c − p) · ln(c / p) over the bins, each share floored at EPSILON. */
export function psi(previous: readonly number[], current: readonly number[]): number {
  const p = shares(previous);
  const c = shares(current);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const a = Math.max(p[i]!, EPSILON);
    const b = Math.max(c[i]!, EPSILON);
    sum += (b - a) * Math.log(b / a);
  }
  return sum;
}

function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

function stabilityIndex(previous: ColumnProfile, current: ColumnProfile): number | undefined {
  if (previous.histogram && current.histogram) {
    const { edges } = previous.histogram;
    return psi([0, ...previous.histogram.counts, 0], rebin(current.histogram, edges));
  }
  if (previous.top && current.top && !previous.histogram && !current.histogram) {
    const listed = previous.top.values;
    const keys = new Map(listed.map((v, i) => [JSON.stringify(v.value), i]));
    const before = [...listed.map((v) => v.count), 0];
    const previousTotal =
      previous.types.number + previous.types.string + previous.types.boolean + previous.types.other;
    before[listed.length] = Math.max(0, previousTotal - listed.reduce((a, v) => a + v.count, 0));
    const now = new Array<number>(listed.length + 1).fill(0);
    const currentTotal =
      current.types.number + current.types.string + current.types.boolean + current.types.other;
    let placed = 0;
    for (const v of current.top.values) {
      const i = keys.get(JSON.stringify(v.value));
      if (i !== undefined) {
        now[i]! += v.count;
        placed += v.count;
      }
    }
    now[listed.length] = Math.max(0, currentTotal - placed);
    return psi(before, now);
  }
  return undefined;
}

/**
 * The current histogram's counts over `edges` plus a bin below and one above them: each current
 * bin's count spread over the bins it overlaps, in proportion.
 */
export function rebin(current: { edges: number[]; counts: number[] }, edges: readonly number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  const first = edges[0]!;
  const last = edges[edges.length - 1]!;
  current.counts.forEach((count, i) => {
    if (count === 0) return;
    const lo = current.edges[i]!;
    const hi = current.edges[i + 1]!;
    const width = hi - lo;
    const part = (a: number, b: number) => {
      const overlap = Math.min(hi, b) - Math.max(lo, a);
      return width > 0 ? Math.max(0, overlap) / width : lo >= a && lo < b ? 1 : 0;
    };
    out[0]! += count * part(-Infinity, first);
    for (let j = 0; j + 1 < edges.length; j++) out[j + 1]! += count * part(edges[j]!, edges[j + 1]!);
    out[edges.length]! += count * part(last, Infinity);
  });
  return out;
}
