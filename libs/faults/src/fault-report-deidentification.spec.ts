import { describe, expect, it } from '@jest/globals';
import { CLEARED_WHEN_DEIDENTIFIED, dayOf, deidentified, keepsNothingWhenDeidentified } from './fault-report-deidentification.js';
import type { FaultReportEntity } from './fault-report.entity.js';

const full: Partial<FaultReportEntity> = {
  reportId: '5f2c0a4e-8b1d-4c3e-9f00-1234567890ab',
  stored: 'full',
  sn: 'PX1-0001',
  mac: 'AA:BB:CC:DD:EE:01',
  diagnostics: { rssi: -61, wifiName: 'home-5G' },
  ownerId: '00000000-0000-4000-8000-000000000001',
  model: 'PX1',
  firmware: '1.2.3',
  code: 'E42',
  severity: 'warning',
  occurredAt: new Date('2026-03-04T23:59:59.999Z'),
  receivedAt: new Date('2026-03-05T00:00:00.001Z'),
};

describe('a fault report de-identified (the JavaScript side; test/medium holds the SQL and the CHECK to it)', () => {
  it('keeps model, firmware, code, severity and the days; nothing that leads to a device or a person', () => {
    expect(deidentified(full)).toEqual({
      reportId: full.reportId,
      stored: 'deidentified',
      sn: null,
      mac: null,
      diagnostics: null,
      ownerId: null,
      model: 'PX1',
      firmware: '1.2.3',
      code: 'E42',
      severity: 'warning',
      occurredAt: new Date('2026-03-04T00:00:00.000Z'),
      receivedAt: new Date('2026-03-05T00:00:00.000Z'),
    });
    expect(keepsNothingWhenDeidentified(deidentified(full))).toBe(true);
    expect(deidentified(deidentified(full))).toEqual(deidentified(full));
  });

  it('cuts times to midnight UTC whatever the local zone', () => {
    expect(dayOf(new Date('2026-12-31T23:30:00-05:00')).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it.each(CLEARED_WHEN_DEIDENTIFIED)('a de-identified row keeping %s breaks the rule; a full one may', (property) => {
    expect(keepsNothingWhenDeidentified({ ...deidentified(full), [property]: full[property] })).toBe(false);
    expect(keepsNothingWhenDeidentified(full)).toBe(true);
  });
});
