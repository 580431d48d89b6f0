import { describe, expect, it } from '@jest/globals';
import { checkPointValue, pointOf, readModelDefinition, type PointDefinition } from './appliance-model.js';

const heater = {
  name: 'Water heater',
  points: [
    { id: 'power', type: 'boolean', writable: true, history: false },
    { id: 'target_temp', type: 'number', writable: true, history: false, unit: '°C', min: 30, max: 75 },
    { id: 'mode', type: 'enum', writable: true, history: false, values: ['eco', 'boost'] },
    { id: 'label', type: 'string', writable: true, history: false, maxLength: 4 },
    { id: 'cycles', type: 'integer', writable: false, history: true, min: 0 },
  ],
};

const reasonsOf = (body: unknown) => {
  const read = readModelDefinition('HT9', body);
  return read.ok ? [] : read.reasons;
};

describe('model definitions', () => {
  it('reads a definition with every type, keeping only the fields given', () => {
    const read = readModelDefinition('HT9', heater);
    expect(read).toEqual({ ok: true, value: { model: 'HT9', ...heater } });
  });

  it('names the point in each reason, all reasons at once', () => {
    const points = [
      { id: 'power', type: 'boolean', writable: true, history: false },
      { id: 'Bad-Id', type: 'number', writable: true, history: false },
      { id: 'temperature', type: 'number', writable: true, history: false, min: 80, max: 30 },
      { id: 'mode', type: 'enum', writable: true, history: false },
      { id: 'label', type: 'string', writable: true, history: false },
      { id: 'power', type: 'boolean', writable: 'yes', history: false, min: 0 },
      { id: 'speed', type: 'integer', writable: false, history: false, max: 2.5, values: ['a'], colour: 'red' },
      { id: 'x'.repeat(41), type: 'float', writable: false, history: false },
      'power',
    ];
    expect(reasonsOf({ name: 'Heater', points })).toEqual([
      'points[1]: id must match ^[a-z][a-z0-9_]{0,39}$',
      'points[2] (temperature): min must not exceed max',
      'points[3] (mode): an enum point needs values: 1-64 strings',
      'points[4] (label): a string point needs maxLength: a whole number of 1-1024',
      'points[5] (power): writable must be true or false',
      'points[5] (power): min applies only to integer and number points',
      'points[5] (power): id is used by an earlier point',
      'points[6] (speed): unknown field colour',
      'points[6] (speed): max must be a whole number for an integer point',
      'points[6] (speed): values applies only to enum points',
      'points[7]: id must match ^[a-z][a-z0-9_]{0,39}$',
      'points[7]: type must be one of boolean, integer, number, enum, string',
      'points[8]: must be an object',
    ]);
  });

  it('refuses unknown fields, a missing name and no points', () => {
    expect(reasonsOf({ name: 'x', points: heater.points, owner: 'me' })).toEqual(['unknown field owner']);
    expect(reasonsOf({ points: heater.points })).toEqual(['name must be a string of 1-100 characters']);
    expect(reasonsOf({ name: 'x', points: [] })).toEqual(['points must list 1-100 points']);
    expect(reasonsOf({ name: 'x' })).toEqual(['points must be an array']);
    expect(reasonsOf([heater])).toEqual(['the body must be a JSON object']);
    expect(reasonsOf({ name: 'x', points: [{ ...heater.points[2], values: ['eco', 'eco'] }] })).toEqual([
      'points[0] (mode): values must not repeat',
    ]);
  });
});

describe('checkPointValue', () => {
  const definition = {
    model: 'HT9',
    ...(readModelDefinition('HT9', heater) as { value: { name: string; points: PointDefinition[] } }).value,
  };
  const point = (id: string) => pointOf(definition, id)!;

  it.each([
    ['power', true, null],
    ['power', 1, { kind: 'wrong_type', message: 'must be true or false' }],
    ['target_temp', 30, null],
    ['target_temp', 75, null],
    ['target_temp', 52.5, null],
    ['target_temp', 29.9, { kind: 'out_of_range', message: 'must be at least 30' }],
    ['target_temp', 76, { kind: 'out_of_range', message: 'must be at most 75' }],
    ['target_temp', '50', { kind: 'wrong_type', message: 'must be a number' }],
    ['cycles', 3, null],
    ['cycles', 3.5, { kind: 'wrong_type', message: 'must be a whole number' }],
    ['cycles', -1, { kind: 'out_of_range', message: 'must be at least 0' }],
    ['mode', 'eco', null],
    ['mode', 'turbo', { kind: 'out_of_range', message: 'must be one of eco, boost' }],
    ['mode', 2, { kind: 'wrong_type', message: 'must be one of eco, boost' }],
    ['label', 'abcd', null],
    ['label', 'abcde', { kind: 'out_of_range', message: 'must be at most 4 characters' }],
    ['label', null, { kind: 'wrong_type', message: 'must be a string' }],
  ])('%s = %j: %j', (id, value, expected) => {
    expect(checkPointValue(point(id), value)).toEqual(expected);
  });

  it('counts characters, not UTF-16 units, and knows no point it was not given', () => {
    expect(checkPointValue(point('label'), '🔥🔥🔥🔥')).toBeNull();
    expect(pointOf(definition, 'colour')).toBeUndefined();
    expect(pointOf(null, 'power')).toBeUndefined();
  });
});
