import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { ClassConstructor } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import fc from 'fast-check';
import { decodePayload, decodeWithClassValidator } from './decode.js';
import * as payloads from './payloads.js';

/**
 * decodePayload walks compiled constraints where it can; class-transformer +
 * validateSync is the reference. On random payloads (valid ones, wrong types,
 * missing and unknown fields, odd nested shapes) both must give the same
 * verdict, the same reasons in the same order, and the same decoded value.
 */
const classes = Object.values(payloads).filter(
  (value): value is ClassConstructor<object> =>
    typeof value === 'function' && getMetadataStorage().getTargetValidationMetadatas(value, '', true, false).length > 0,
);

const propertiesOf = (type: ClassConstructor<object>) => [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(type, '', true, false)
      .map((metadata) => metadata.propertyName),
  ),
];

// Values that satisfy some contract rule, so the valid paths are exercised, mixed with anything at all.
const interesting = fc.oneof(
  fc.constant(randomUUID()),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom(
    'AA:BB:CC:DD:EE:FF',
    'aa-bb-cc-dd-ee-ff',
    'AABBCCDDEEFF',
    'AA:BB-CC:DD:EE:FF',
    'SN-0001',
    'E42',
    'home-5G',
    '192.168.1.2',
  ),
  fc.constantFrom(
    ...payloads.FAULT_SEVERITIES,
    ...payloads.PAIRING_STATUSES,
    ...payloads.FAULT_STORED,
    ...payloads.CREDENTIAL_CHANGES,
    ...payloads.OTA_PROGRESS_STATES,
  ),
  fc.integer({ min: -200, max: 50 }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 70 }),
);
const anything = fc.oneof(interesting, fc.jsonValue({ maxDepth: 2 }));

/** A valid payload of each class, to mutate from: random fields alone seldom make a valid report. */
const VALID: Record<string, Record<string, unknown>> = {
  PairingConfirmPayload: { token: 'tok-12345678' },
  PairingResultPayload: { pairingId: randomUUID(), status: 'bound' },
  StatusPayload: { online: true, firmware: '1.2.3' },
  FaultDiagnostics: { mac: 'AA:BB:CC:DD:EE:FF', routerMac: 'aa-bb-cc-dd-ee-ff', wifiName: 'home', rssi: -60, ip: '10.0.0.2' },
  FaultReportPayload: {
    reportId: randomUUID(),
    code: 'E42',
    severity: 'critical',
    occurredAt: '2026-11-29T04:05:06.789Z',
    firmware: '1.0.0',
    diagnostics: { mac: 'AA:BB:CC:DD:EE:FF', rssi: -40 },
  },
  FaultAckPayload: { reportId: randomUUID(), stored: 'rejected', reason: 'bad' },
  DeviceCredentialsChangedPayload: { sn: 'SN-0001', change: 'revoked' },
  OtaJobPayload: {
    jobId: randomUUID(),
    version: '1.2.3',
    url: 'http://127.0.0.1:3000/v1/firmware/jobs/x/image?token=t',
    size: 1024,
    sha256: 'ab'.repeat(32),
    signature: 'c2lnbmF0dXJl',
    keyId: 'maker-2025',
  },
  OtaProgressPayload: { jobId: randomUUID(), state: 'installing', progress: 50 },
};

/** The valid payload with up to two fields replaced, removed or added. */
function mutatedFor(type: ClassConstructor<object>): fc.Arbitrary<Record<string, unknown>> {
  const seed = VALID[type.name];
  const keys = [...propertiesOf(type), 'extra'];
  const change = fc.record({ key: fc.constantFrom(...keys), remove: fc.boolean(), value: anything });
  return fc.array(change, { maxLength: 2 }).map((changes) => {
    const object: Record<string, unknown> = structuredClone(seed);
    for (const { key, remove, value } of changes) {
      if (remove) delete object[key];
      else object[key] = value;
    }
    return object;
  });
}

function objectFor(type: ClassConstructor<object>, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const nested = depth === 0 ? objectFor(payloads.FaultDiagnostics, 1) : fc.constant({});
  const value = fc.oneof(
    { weight: 6, arbitrary: interesting },
    { weight: 1, arbitrary: anything },
    { weight: 2, arbitrary: nested },
    { weight: 1, arbitrary: fc.array(nested, { maxLength: 2 }) },
  );
  const known = fc.record(Object.fromEntries(propertiesOf(type).map((name) => [name, value])), { requiredKeys: [] });
  const unknown = fc.dictionary(fc.constantFrom('extra', 'id', 'pattern', 'data', '__proto__', 'constructor'), anything, { maxKeys: 1 });
  return fc.tuple(known, fc.option(unknown, { freq: 5 })).map(([fields, extra]) => ({ ...fields, ...(extra ?? {}) }));
}

const outcomes: Record<string, { valid: number; refused: number }> = {};

describe('decodePayload', () => {
  afterAll(() => {
    // Both verdicts must have been compared for every class, or the agreement says little.
    for (const type of classes) {
      expect([type.name, (outcomes[type.name]?.valid ?? 0) > 100, (outcomes[type.name]?.refused ?? 0) > 100]).toEqual([
        type.name,
        true,
        true,
      ]);
    }
  });

  it.each(classes.map((type) => [type.name, type] as const))('agrees with class-validator on random %s payloads', (_name, type) => {
    fc.assert(
      fc.property(fc.oneof(objectFor(type), mutatedFor(type)), (object) => {
        const json = JSON.stringify(object);
        const fast = decodePayload(type, json);
        const reference = decodeWithClassValidator(type, JSON.parse(json));
        const counts = (outcomes[type.name] ??= { valid: 0, refused: 0 });
        counts[reference.ok ? 'valid' : 'refused'] += 1;
        expect(fast.ok).toBe(reference.ok);
        if (!fast.ok && !reference.ok) expect(fast.reason).toBe(reference.reason);
        if (fast.ok && reference.ok) {
          expect(fast.value).toBeInstanceOf(type);
          expect(JSON.parse(JSON.stringify(fast.value))).toEqual(JSON.parse(JSON.stringify(reference.value)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not a JSON object', () => {
    expect(decodePayload(payloads.StatusPayload, 'not json')).toEqual({ ok: false, reason: 'payload is not JSON' });
    expect(decodePayload(payloads.StatusPayload, '[1]')).toEqual({ ok: false, reason: 'payload must be a JSON object' });
  });
});
