import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeObject } from './decode.js';
import { TelemetryReading } from './payloads.js';
import { readTelemetryReading } from './telemetry-reading.js';

/**
 * readTelemetryReading is the consumer's quick reading of TelemetryReading; the class with its
 * class-validator decorators is the rule. On random readings (mostly near-valid: good and bad
 * times, points, values, extra fields) the verdicts must agree, and an accepted time must be the
 * instant Date.parse gives.
 */
const digits = (length: number, max: number) => fc.integer({ min: 0, max }).map((value) => String(value).padStart(length, '0'));
const time = fc.oneof(
  fc.date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
  fc
    .record({
      year: fc.oneof(digits(4, 9999), fc.constantFrom('0099', '2024', '2100', '1900', '2000')),
      month: digits(2, 13),
      day: digits(2, 32),
      hour: digits(2, 25),
      minute: digits(2, 60),
      second: digits(2, 60),
      fraction: fc.oneof(
        fc.constant(''),
        digits(3, 999).map((value) => `.${value}`),
        fc.constantFrom('.5', '.123456789', '.1234567890'),
      ),
      zone: fc.constantFrom('Z', 'z', '+08:00', '-05:30', '+24:00', '+05:60', '+0800', '', '+08'),
      separator: fc.constantFrom('T', 'T', 'T', ' ', 't'),
    })
    .map(
      (parts) =>
        `${parts.year}-${parts.month}-${parts.day}${parts.separator}${parts.hour}:${parts.minute}:${parts.second}${parts.fraction}${parts.zone}`,
    ),
  fc.constantFrom(
    '2026-11-29',
    '2026-W48-1',
    '2026-333',
    '2026-11-29T08:00',
    '20261129T080000Z',
    'yesterday',
    '',
    '2026-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
  ),
  fc.string({ maxLength: 30 }),
);
const value = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 20 }),
  fc.constant('x'.repeat(1025)),
  fc.constant(null),
  fc.constant([1]),
  fc.constant({}),
);
const point = fc.oneof(
  fc.constantFrom('water_temp', 'tds', 'a', 'x'.repeat(40)),
  fc.constantFrom('Water', '1tds', 'x'.repeat(41), '', 'a-b'),
  fc.string({ maxLength: 8 }),
  fc.integer(),
);
const validPoint = fc.constantFrom('water_temp', 'tds', 'a', 'x'.repeat(40));
const validValue = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.string({ maxLength: 20 }));
const reading = fc.oneof(
  { weight: 4, arbitrary: fc.record({ point: validPoint, at: time, value: validValue }) },
  fc.record({ point, at: time, value }),
  fc.record({ point, at: time, value }, { requiredKeys: [] }),
  fc
    .tuple(fc.record({ point, at: time, value }), fc.constantFrom('extra', '__proto__', 'constructor', 'unit'), value)
    .map(([base, key, extra]) => ({ ...base, [key]: extra })),
  fc.constantFrom(null, 3, 'reading', [], [{ point: 'tds' }]),
);

describe('readTelemetryReading', () => {
  it('gives TelemetryReading’s verdict on random readings, and the instant Date.parse gives', () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(reading, (plain) => {
        const json = JSON.stringify(plain);
        if (json === undefined) return;
        const reference = decodeObject(TelemetryReading, JSON.parse(json));
        const quick = readTelemetryReading(JSON.parse(json));
        expect(quick !== null).toBe(reference.ok);
        seen[reference.ok ? 'accepted' : 'refused'] += 1;
        if (quick) {
          const parsed = Date.parse(quick.at);
          expect(Number.isNaN(quick.atMs) ? 'NaN' : quick.atMs).toBe(Number.isNaN(parsed) ? 'NaN' : parsed);
        }
      }),
      { numRuns: 20_000 },
    );
    expect(seen.accepted).toBeGreaterThan(2000);
    expect(seen.refused).toBeGreaterThan(2000);
  });
});
