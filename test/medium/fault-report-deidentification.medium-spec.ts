import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CLEARED_WHEN_DEIDENTIFIED,
  deidentified,
  FAULT_SEVERITY_VALUES,
  FAULTS_ENTITIES,
  FaultReportEntity,
  FaultsPrivacyModule,
  keepsNothingWhenDeidentified,
} from '#libs/faults';
import { IDENTITY_ENTITIES } from '#libs/identity';
import { ConsentService, PrivacyModule, RetentionService } from '#libs/privacy';
import { insertUser, startMedium, type MediumWorld } from '../support/medium.js';

/**
 * A fault report's de-identification is stated three times, side by side in
 * libs/faults/src/fault-report-deidentification.ts: the JavaScript the store
 * applies at write time, the SQL that withdrawal and retention run on stored
 * reports, and the database CHECK that refuses a de-identified row keeping
 * anything. Here the three meet on the real schema: the SQL (run by the
 * privacy services through faults' erasure hook) leaves exactly what the
 * JavaScript gives, and the CHECK refuses precisely the values both clear.
 */
describe('fault report de-identification: the JavaScript, the SQL and the CHECK agree', () => {
  let world: MediumWorld;
  const columnOf = (property: string) => world.dataSource.getMetadata(FaultReportEntity).findColumnWithPropertyName(property)!.databaseName;

  beforeAll(async () => {
    world = await startMedium({ imports: [PrivacyModule, FaultsPrivacyModule], entities: [...IDENTITY_ENTITIES, ...FAULTS_ENTITIES] });
  });

  afterAll(async () => {
    await world?.close();
  });

  const instant = fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true });
  const report = fc.record({
    sn: fc.stringMatching(/^[A-Za-z0-9_-]{4,20}$/),
    mac: fc.constantFrom('AA:BB:CC:DD:EE:01', '00:11:22:33:44:55'),
    diagnostics: fc.option(fc.record({ rssi: fc.integer({ min: -120, max: 0 }), wifiName: fc.string({ maxLength: 8 }) }), { nil: null }),
    model: fc.constantFrom('PX1', 'HT-9'),
    firmware: fc.option(fc.constantFrom('1.0.0', '2.1.3'), { nil: null }),
    code: fc.constantFrom('E1', 'E42'),
    severity: fc.constantFrom(...FAULT_SEVERITY_VALUES),
    occurredAt: instant,
    receivedAt: instant,
  });
  type Report = typeof report extends fc.Arbitrary<infer R> ? R : never;

  const COLUMNS = [
    'report_id',
    'stored',
    'sn',
    'mac',
    'diagnostics',
    'owner_id',
    'model',
    'firmware',
    'code',
    'severity',
    'occurred_at',
    'received_at',
  ];

  async function insertRaw(values: Partial<FaultReportEntity>): Promise<void> {
    const row = COLUMNS.map((column) => {
      const property = world.dataSource.getMetadata(FaultReportEntity).findColumnWithDatabaseName(column)!
        .propertyName as keyof FaultReportEntity;
      const value = values[property];
      return property === 'diagnostics' && value !== null && value !== undefined ? JSON.stringify(value) : (value ?? null);
    });
    await world.sql(
      `INSERT INTO fault_reports (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((_, index) => `$${index + 1}`).join(', ')})`,
      row,
    );
  }

  async function stored(reportId: string): Promise<Record<string, unknown>> {
    const [row] = await world.sql(`SELECT ${COLUMNS.join(', ')} FROM fault_reports WHERE report_id = $1`, [reportId]);
    return row;
  }

  /** The JavaScript form as the database would hold it. */
  function asRow(values: Partial<FaultReportEntity>): Record<string, unknown> {
    return Object.fromEntries(
      COLUMNS.map((column) => {
        const property = world.dataSource.getMetadata(FaultReportEntity).findColumnWithDatabaseName(column)!
          .propertyName as keyof FaultReportEntity;
        return [column, values[property] ?? null];
      }),
    );
  }

  it('the CHECK names exactly the columns the JavaScript clears', async () => {
    const [{ definition }] = await world.sql<{ definition: string }>(
      `SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conname = 'fault_reports_deidentified_keeps_nothing'`,
    );
    const constrained = [...definition.matchAll(/\b([a-z_]+) IS NULL/g)].map((match) => match[1]).sort();
    expect(constrained).toEqual(CLEARED_WHEN_DEIDENTIFIED.map(columnOf).sort());
  });

  it('withdrawing fault_diagnostics leaves in the database exactly what deidentified() gives, and the CHECK accepts both', async () => {
    const consents = world.app.get(ConsentService);
    await fc.assert(
      fc.asyncProperty(fc.array(report, { minLength: 1, maxLength: 3 }), async (reports) => {
        const owner = await insertUser(world);
        await consents.acceptService(undefined, owner, 'login');
        await consents.set(owner, 'fault_diagnostics', true);
        const full = reports.map((values: Report) => ({ ...values, reportId: randomUUID(), ownerId: owner, stored: 'full' as const }));
        for (const values of full) await insertRaw(values);
        // Withdrawal runs faults' erasure hook: the SQL statement of de-identification.
        await consents.set(owner, 'fault_diagnostics', false);
        for (const values of full) {
          const expected = deidentified(values);
          expect(await stored(values.reportId)).toEqual(asRow(expected));
          expect(keepsNothingWhenDeidentified(expected)).toBe(true);
          // The JavaScript form goes in as it is: the CHECK has nothing against it.
          const copy = { ...expected, reportId: randomUUID() };
          await insertRaw(copy);
          expect(await stored(copy.reportId)).toEqual(asRow(copy));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('retention de-identifies a full report that lost its owner link the same way', async () => {
    const owner = await insertUser(world);
    const consents = world.app.get(ConsentService);
    await consents.acceptService(undefined, owner, 'login');
    await consents.set(owner, 'fault_diagnostics', true);
    const values = fc.sample(report, { numRuns: 1, seed: 42 })[0];
    const full = { ...values, reportId: randomUUID(), ownerId: null, stored: 'full' as const };
    await insertRaw(full);
    await world.app.get(RetentionService).apply(new Date());
    expect(await stored(full.reportId)).toEqual(asRow(deidentified(full)));
  });

  it.each(CLEARED_WHEN_DEIDENTIFIED)(
    'the CHECK refuses a de-identified report that keeps %s, as keepsNothingWhenDeidentified says',
    async (property) => {
      const owner = await insertUser(world);
      const values = fc.sample(report, { numRuns: 1, seed: 7 })[0];
      const kept = { ...values, ownerId: owner, diagnostics: { rssi: -50 } };
      const leaky = { ...deidentified({ ...values, reportId: randomUUID() }), [property]: kept[property] };
      expect(keepsNothingWhenDeidentified(leaky)).toBe(false);
      await expect(insertRaw(leaky)).rejects.toMatchObject({
        driverError: { code: '23514', constraint: 'fault_reports_deidentified_keeps_nothing' },
      });
    },
  );
});
