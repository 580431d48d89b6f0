import { describe, expect, it } from '@jest/globals';
import type { ModelDefinition } from './appliance-model.js';
import { judgeReportedValues, mergeDesired, readDesiredRequest, settlementOf } from './desired-state.js';

const heater: ModelDefinition = {
  model: 'HT1',
  name: 'Water heater HT1',
  points: [
    { id: 'power', type: 'boolean', writable: true, history: false },
    { id: 'target_temp', type: 'number', writable: true, history: false, unit: '°C', min: 30, max: 75 },
    { id: 'mode', type: 'enum', writable: true, history: false, values: ['eco', 'boost'] },
    { id: 'water_temp', type: 'number', writable: false, history: true, unit: '°C', min: 0, max: 100 },
  ],
};

describe('a control request against its model', () => {
  it('accepts writable points with fitting values, ttlSeconds defaulting to an hour', () => {
    expect(readDesiredRequest(heater, { values: { power: true, target_temp: 55 } })).toEqual({
      ok: true,
      value: { values: { power: true, target_temp: 55 }, ttlSeconds: 3600 },
    });
    expect(readDesiredRequest(heater, { values: { mode: 'eco' }, ttlSeconds: 60, ifVersion: 0 })).toEqual({
      ok: true,
      value: { values: { mode: 'eco' }, ttlSeconds: 60, ifVersion: 0 },
    });
  });

  it.each([
    [{ values: { bogus: 1 } }, 'values.bogus: no such point in model HT1'],
    [{ values: { power: 'on' } }, 'values.power: must be true or false'],
    [{ values: { target_temp: 80 } }, 'values.target_temp: must be at most 75'],
    [{ values: { mode: 'turbo' } }, 'values.mode:'],
    [{ values: { water_temp: 40 } }, 'values.water_temp: not writable'],
    [{ values: {} }, 'values must name at least one point'],
    [{}, 'values must be an object'],
    [{ values: [true] }, 'values must be an object'],
    [{ values: { power: true }, ttlSeconds: 59 }, 'ttlSeconds must be a whole number from 60 to 86400'],
    [{ values: { power: true }, ttlSeconds: 86_401 }, 'ttlSeconds'],
    [{ values: { power: true }, ifVersion: -1 }, 'ifVersion'],
    [{ values: { power: true }, colour: 'red' }, 'property colour should not exist'],
  ])('refuses %j, naming what is wrong', (body, reason) => {
    const judged = readDesiredRequest(heater, body);
    expect(judged.ok).toBe(false);
    expect(judged.ok ? '' : judged.reasons.join('; ')).toContain(reason);
  });

  it('gives every reason at once', () => {
    const judged = readDesiredRequest(heater, { values: { power: 1, water_temp: 3, bogus: true } });
    expect(judged).toEqual({
      ok: false,
      reasons: ['values.power: must be true or false', 'values.water_temp: not writable', 'values.bogus: no such point in model HT1'],
    });
  });

  it('knows no point of a device whose model has no definition', () => {
    expect(readDesiredRequest(null, { values: { power: true } })).toEqual({
      ok: false,
      reasons: ["values.power: no such point in the device's model"],
    });
  });
});

describe('merging while pending', () => {
  it('keeps the pending values and overwrites them point by point', () => {
    expect(mergeDesired({ power: true, target_temp: 50 }, { target_temp: 60 })).toEqual({ power: true, target_temp: 60 });
    expect(mergeDesired(null, { power: false })).toEqual({ power: false });
  });
});

describe('a state report', () => {
  it('keeps the points the model accepts and counts the others by reason', () => {
    expect(judgeReportedValues(heater, { power: true, water_temp: 48.5, bogus: 1, target_temp: 'hot', mode: 'turbo' })).toEqual({
      accepted: { power: true, water_temp: 48.5 },
      ignored: { unknown_point: 1, wrong_type: 1, out_of_range: 1 },
    });
    expect(judgeReportedValues(null, { power: true })).toEqual({ accepted: {}, ignored: { unknown_point: 1 } });
    expect(judgeReportedValues(heater, undefined)).toEqual({ accepted: {}, ignored: {} });
  });

  it('settles: a version is applied, rejected reasons reject it (or the newest pending), nothing else settles anything', () => {
    expect(settlementOf({ version: 3 })).toEqual({ status: 'applied', upTo: 3 });
    expect(settlementOf({ version: 3, rejected: { power: 'child lock' } })).toEqual({
      status: 'rejected',
      upTo: 3,
      reasons: { power: 'child lock' },
    });
    expect(settlementOf({ rejected: { power: 'child lock' } })).toEqual({
      status: 'rejected',
      upTo: 'newest',
      reasons: { power: 'child lock' },
    });
    expect(settlementOf({ version: 3, rejected: {} })).toEqual({ status: 'applied', upTo: 3 });
    expect(settlementOf({})).toBeNull();
  });
});
