import { describe, expect, it } from '@jest/globals';
import type { ModelDefinition } from '#libs/devices';
import { judgeReadings, TELEMETRY_LIMITS } from './reading-rules.js';

const heater: ModelDefinition = {
  model: 'HT1',
  name: 'Water heater',
  points: [
    { id: 'power', type: 'boolean', writable: true, history: false },
    { id: 'water_temp', type: 'number', writable: false, history: true, min: 0, max: 100 },
    { id: 'mode', type: 'enum', writable: true, history: true, values: ['eco', 'boost'] },
  ],
};
const now = Date.parse('2026-11-29T12:00:00.000Z');
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

describe('judgeReadings', () => {
  it('takes fitting readings of known points and names the newest of each point', () => {
    const judged = judgeReadings(
      [
        { point: 'water_temp', at: at(2), value: 40 },
        { point: 'water_temp', at: at(1), value: 41 },
        { point: 'power', at: at(3), value: true },
        { point: 'mode', at: at(3), value: 'eco' },
      ],
      heater,
      now,
    );
    expect(judged.dropped).toEqual({});
    expect(judged.accepted.map((reading) => [reading.point.id, reading.value])).toEqual([
      ['water_temp', 40],
      ['water_temp', 41],
      ['power', true],
      ['mode', 'eco'],
    ]);
    expect(judged.newest).toEqual({
      water_temp: { value: 41, at: new Date(at(1)) },
      power: { value: true, at: new Date(at(3)) },
      mode: { value: 'eco', at: new Date(at(3)) },
    });
  });

  it('drops each bad reading by its reason, whatever else the message holds', () => {
    const judged = judgeReadings(
      [
        { point: 'water_temp', at: at(1), value: 40 },
        'not a reading',
        { point: 'water_temp', at: at(1), value: 40, unit: 'C' },
        { point: 'water_temp', at: 'noon', value: 40 },
        { point: 'colour', at: at(1), value: 'red' },
        { point: 'water_temp', at: at(1), value: '40' },
        { point: 'mode', at: at(1), value: 'turbo' },
        { point: 'water_temp', at: at(1), value: 101 },
        { point: 'water_temp', at: at(TELEMETRY_LIMITS.maxAgeMs / 60_000 + 1), value: 40 },
        { point: 'water_temp', at: at(-6), value: 40 },
      ],
      heater,
      now,
    );
    expect(judged.accepted).toHaveLength(1);
    expect(judged.dropped).toEqual({ malformed: 3, unknown_point: 1, wrong_type: 1, out_of_range: 2, too_old: 1, too_far_ahead: 1 });
  });

  it('judges the first 500 readings of a message and drops the rest', () => {
    const readings = Array.from({ length: 503 }, (_, index) => ({
      point: 'water_temp',
      at: new Date(now - index * 1000).toISOString(),
      value: 50,
    }));
    const judged = judgeReadings(readings, heater, now);
    expect(judged.accepted).toHaveLength(500);
    expect(judged.dropped).toEqual({ over_limit: 3 });
  });

  it('knows no point of a model without a definition', () => {
    expect(judgeReadings([{ point: 'water_temp', at: at(1), value: 40 }], null, now).dropped).toEqual({ unknown_point: 1 });
  });
});
