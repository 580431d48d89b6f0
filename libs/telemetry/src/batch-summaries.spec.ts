import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { summarise } from './batch-summaries.js';
import { ContributorKeys } from './contributor-key.js';
import type { SeriesInput } from './telemetry-ingest.repository.js';

const HOUR = 3600_000;
const base = Date.parse('2026-11-29T00:00:00.000Z');
const keys = new ContributorKeys('k'.repeat(32));

/** The batch's sums, restated the slow way: every reading into every bucket it belongs to. */
function naive(series: SeriesInput[]) {
  const rollups = new Map<string, { count: number; sum: number; min: number; max: number }>();
  for (const [index, entry] of series.entries()) {
    for (const reading of entry.readings) {
      for (const [bucket, size] of [
        ['hour', HOUR],
        ['day', 24 * HOUR],
      ] as const) {
        const key = `${index}|${bucket}|${Math.floor(reading.at / size) * size}`;
        const value = reading.value as number;
        const known = rollups.get(key) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity };
        rollups.set(key, {
          count: known.count + 1,
          sum: known.sum + value,
          min: Math.min(known.min, value),
          max: Math.max(known.max, value),
        });
      }
    }
  }
  return rollups;
}

describe('summarise', () => {
  it('sums each series per UTC hour and day as the slow way does, and counts contributors once per device and bucket', () => {
    // A batch holds each (device, point) once, as groupBySeries makes it.
    const seriesArb = fc.uniqueArray(
      fc.record({
        sn: fc.constantFrom('A-0001', 'B-0002', 'C-0003'),
        point: fc.constantFrom('water_temp', 'energy'),
        contributes: fc.boolean(),
        readings: fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 50 * HOUR }).map((offset) => base + offset),
            value: fc.integer({ min: -50, max: 500 }),
          }),
          {
            maxLength: 30,
          },
        ),
      }),
      { maxLength: 6, selector: (entry) => `${entry.sn}|${entry.point}` },
    );
    fc.assert(
      fc.property(seriesArb, (drawn) => {
        const series: SeriesInput[] = drawn.map((entry) => ({ ...entry, ownerId: 'o', model: 'HT1', lastAt: new Date(0) }));
        const result = summarise(
          series,
          series.map(() => true),
          keys,
        );
        const made = new Map(
          result.rollups.map((row) => [
            `${row.series}|${row.bucket}|${row.at}`,
            { count: row.count, sum: row.sum, min: row.min, max: row.max },
          ]),
        );
        expect(made).toEqual(naive(series));
        const counted = new Set(
          result.contributors.map((entry) => `${entry.bucket}|${entry.at}|${entry.deviceKey.toString('hex')}|${entry.point}`),
        );
        expect(counted.size).toBe(result.contributors.length);
        const contributing = result.rollups.filter((row) => series[row.series].contributes);
        expect(result.statistics.reduce((total, row) => total + row.count, 0)).toBe(
          contributing.reduce((total, row) => total + row.count, 0),
        );
      }),
    );
  });

  it('sums nothing for a point that is not numeric', () => {
    const series: SeriesInput[] = [
      {
        ownerId: 'o',
        sn: 'A-0001',
        point: 'mode',
        model: 'HT1',
        contributes: true,
        lastAt: new Date(0),
        readings: [{ at: base, value: 'eco' }],
      },
    ];
    expect(summarise(series, [false], keys)).toEqual({ rollups: [], statistics: [], contributors: [] });
  });
});
