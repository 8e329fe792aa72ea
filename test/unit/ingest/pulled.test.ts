import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  type ExtractContext,
  type Extraction,
  ingestPulled,
  intervalOfTrigger,
  type PulledSource,
} from '../../../lambdas/ingest/pulled.js';
import type { ScheduleTrigger } from '../../../lambdas/ingest/types.js';
import { parseContract } from '../../../lambdas/shared/contract.js';
import { IntervalNotAllowed, IntervalNotClosed, WatermarkConflict } from '../../../lambdas/shared/errors.js';
import { intervalKey, runRecordKey, watermarkKey } from '../../../lambdas/shared/keys.js';
import { readBatchKeys } from '../../../lambdas/shared/raw-manifest.js';
import { readWatermark } from '../../../lambdas/shared/watermark.js';
import { MemoryStore } from '../../support/memory-store.js';

const contract = parseContract(
  [
    'name: ticks',
    'source: { type: postgres, connection: PG, table: ticks, watermark_column: id }',
    'format: { type: jsonl }',
    'schedule: rate(1 hour)',
    'schema: { type: object, properties: { id: { type: integer } } }',
  ].join('\n'),
  '<inline>',
);
const hour = (n: number): ScheduleTrigger => ({
  type: 'schedule',
  time: new Date(Date.UTC(2026, 10, 25, n + 1)).toISOString(),
  interval: {
    start: new Date(Date.UTC(2026, 10, 25, n)).toISOString(),
    end: new Date(Date.UTC(2026, 10, 25, n + 1)).toISOString(),
  },
});

/** A source over a growing list of ids, extracting those above the watermark. */
class FakeSource implements PulledSource {
  readonly type = 'postgres';
  readonly incremental = true;
  ids: number[] = [];
  extractions = 0;
  /** Runs between reading the watermark and returning, e.g. to let another run commit first. */
  during?: () => Promise<void>;
  describe() {
    return { type: 'postgres', table: 'ticks' };
  }
  async extract(context: ExtractContext): Promise<Extraction> {
    this.extractions += 1;
    const above = Number(context.watermark?.value ?? 0);
    const ids = this.ids.filter((id) => id > above);
    const high = String(Math.max(above, ...ids));
    await this.during?.();
    if (ids.length === 0) return { files: [], records: 0, watermark: { value: high }, details: {} };
    const text = ids.map((id) => `{"id":${id}}\n`).join('');
    const path = join(context.dir, 'extract.jsonl');
    await writeFile(path, text);
    return {
      files: [
        {
          name: 'extract.jsonl',
          path,
          size: Buffer.byteLength(text),
          sha256: createHash('sha256').update(text).digest('hex'),
          records: ids.length,
        },
      ],
      records: ids.length,
      watermark: { column: 'id', kind: 'number', value: high },
      details: { above },
    };
  }
}

/** The clock of these runs: after every interval they take. */
const now = new Date('2026-11-26T00:00:00Z');
const run = (store: MemoryStore, source: PulledSource, trigger: ScheduleTrigger) =>
  ingestPulled({ input: { dataset: 'ticks', trigger }, trigger, contract, source, store, now });

describe('ingest of a pulled source', () => {
  it('lands the extraction in raw, moves the watermark and records the run and its interval', async () => {
    // Prepare
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1, 2, 3];
    // Act
    const out = await run(store, source, hour(10));
    // Assess
    expect(out).toMatchObject({ dt: '2026-11-25', records: 3, empty: false, duplicate: false });
    expect(await readBatchKeys(store, out.manifestKey)).toEqual([
      `ticks/dt=2026-11-25/run=${out.runId}/extract.jsonl`,
    ]);
    expect(store.bytes('raw', out.rawKey).toString()).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    expect(JSON.parse(store.bytes('raw', out.manifestKey).toString())).toMatchObject({
      source: { type: 'postgres', table: 'ticks' },
      interval: hour(10).interval,
      watermark: { column: 'id', to: '3' },
      files: [{ name: 'extract.jsonl', records: 3 }],
    });
    expect((await readWatermark(store, 'ticks')).state).toMatchObject({ value: '3', column: 'id' });
    expect(JSON.parse(store.bytes('reports', intervalKey('ticks', hour(10).interval!)).toString())).toEqual(
      out,
    );
    expect(JSON.parse(store.bytes('reports', runRecordKey('ticks', out.runId)).toString())).toMatchObject({
      status: 'RUNNING',
      pulled: { type: 'postgres', interval: hour(10).interval, records: 3, watermark: { to: '3' } },
    });
  });

  it('extracts only what is above the watermark on the next interval', async () => {
    // Prepare
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1, 2];
    await run(store, source, hour(10));
    source.ids.push(3, 4);
    // Act
    const next = await run(store, source, hour(11));
    // Assess
    expect(store.bytes('raw', next.rawKey).toString()).toBe('{"id":3}\n{"id":4}\n');
  });

  it('does no new work for an interval ingested before, and is a no-op once its run succeeded', async () => {
    // Prepare
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1];
    const first = await run(store, source, hour(10));
    source.ids.push(2);
    // Act
    const again = await run(store, source, hour(10));
    await store.put(
      'reports',
      runRecordKey('ticks', first.runId),
      JSON.stringify({ status: 'SUCCEEDED', runId: first.runId }),
    );
    const afterSuccess = await run(store, source, hour(10));
    // Assess
    expect(source.extractions).toBe(1);
    expect(again).toMatchObject({ runId: first.runId, duplicate: true, alreadyProcessed: false });
    expect(afterSuccess).toMatchObject({ runId: first.runId, alreadyProcessed: true });
  });

  it('starts again from the new watermark when another run moved it first, so no row is committed twice', async () => {
    // Prepare: while run A extracts, run B (another interval) extracts and commits the same rows
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1, 2, 3];
    let b: Promise<unknown> | undefined;
    source.during = async () => {
      if (b) return;
      source.during = undefined;
      b = run(store, source, hour(11));
      await b;
      source.ids.push(4);
    };
    // Act
    const a = await run(store, source, hour(10));
    const bOut = (await b) as Awaited<ReturnType<typeof run>>;
    // Assess
    expect(store.bytes('raw', bOut.rawKey).toString()).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    expect(store.bytes('raw', a.rawKey).toString()).toBe('{"id":4}\n');
    const { state } = await readWatermark(store, 'ticks');
    expect(state?.history.map((h) => [h.from, h.to])).toEqual([
      [undefined, '3'],
      ['3', '4'],
    ]);
    // A's first extraction of 1-3 stays in raw, under a run no manifest or watermark refers to.
    const runs = new Set((await store.list('raw', 'ticks/')).map((k) => k.split('/')[2]));
    expect(runs.size).toBe(3);
  });

  it('fails with WatermarkConflict when it loses the race on every attempt, and commits nothing', async () => {
    // Prepare: somebody else moves the watermark during every extraction
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1];
    let moves = 0;
    source.during = async () => {
      moves += 1;
      await store.put(
        'reports',
        watermarkKey('ticks'),
        JSON.stringify({ history: [], value: String(100 + moves) }),
      );
    };
    // Act
    const error = await run(store, source, hour(10)).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(WatermarkConflict);
    expect((error as Error).message).toMatch(/moved by another run during each of 4 extractions/);
    expect(await store.head('reports', intervalKey('ticks', hour(10).interval!))).toBeUndefined();
  });

  it('repairs a run that moved the watermark and stopped before recording its interval', async () => {
    // Prepare: the interval's result is lost, only the watermark knows the run
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1, 2];
    const first = await run(store, source, hour(10));
    store.objects.delete(`reports/${intervalKey('ticks', hour(10).interval!)}`);
    source.ids.push(3);
    // Act
    const retried = await run(store, source, hour(10));
    // Assess
    expect(source.extractions).toBe(1);
    expect(retried).toMatchObject({ runId: first.runId, rawKey: first.rawKey, duplicate: true });
    expect(await store.head('reports', intervalKey('ticks', hour(10).interval!))).toBeDefined();
  });

  it('records a pull that found nothing new as empty, without raw objects', async () => {
    // Prepare
    const store = new MemoryStore();
    const source = new FakeSource();
    // Act
    const out = await run(store, source, hour(10));
    // Assess
    expect(out).toMatchObject({ empty: true, rawKey: '', files: 0, records: 0 });
    expect(await store.list('raw', '')).toEqual([]);
  });

  it('derives the interval from the schedule when the deployed rule names none', () => {
    expect(
      intervalOfTrigger(
        contract,
        { type: 'schedule', time: '2026-11-25T13:00:02Z' },
        new Date('2026-11-25T13:00:02Z'),
      ),
    ).toEqual({
      start: '2026-11-25T12:00:00.000Z',
      end: '2026-11-25T13:00:00.000Z',
    });
  });

  it('refuses, before extracting, an interval that has not ended or is off the grid', async () => {
    // Prepare: the deployed `sluice start` sends the interval as it was given
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1];
    const future: ScheduleTrigger = {
      type: 'schedule',
      time: '2030-01-01T01:00:00Z',
      interval: { start: '2030-01-01T00:00:00Z', end: '2030-01-01T01:00:00Z' },
    };
    const offGrid: ScheduleTrigger = {
      type: 'schedule',
      time: '2026-11-25T22:17:00Z',
      interval: { start: '2026-11-25T22:00:00Z', end: '2026-11-25T22:17:00Z' },
    };
    // Act
    const early = await run(store, source, future).catch((error: unknown) => error);
    const overlapping = await run(store, source, offGrid).catch((error: unknown) => error);
    // Assess
    expect(early).toBeInstanceOf(IntervalNotClosed);
    expect(overlapping).toBeInstanceOf(IntervalNotAllowed);
    expect((overlapping as Error).message).toMatch(
      /the nearest are 2026-11-25T21:00:00.000Z – 2026-11-25T22:00:00.000Z and 2026-11-25T22:00:00.000Z – 2026-11-25T23:00:00.000Z/,
    );
    expect(source.extractions).toBe(0);
    expect(await store.list('raw', '')).toEqual([]);
  });

  it('takes an interval off the grid when the trigger is forced', async () => {
    // Prepare
    const store = new MemoryStore();
    const source = new FakeSource();
    source.ids = [1, 2];
    const forced: ScheduleTrigger = {
      type: 'schedule',
      time: '2026-11-25T22:17:00Z',
      interval: { start: '2026-11-25T22:00:00Z', end: '2026-11-25T22:17:00Z' },
      force: true,
    };
    // Act
    const out = await run(store, source, forced);
    // Assess
    expect(out).toMatchObject({ empty: false, records: 2 });
  });
});
