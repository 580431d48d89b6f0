import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import fc from 'fast-check';
import { FAULT_SEVERITY_VALUES, type FaultDiagnosticsValue } from '#libs/faults';
import { modelLive } from '../model.js';
import { count } from '../stats.js';
import { counters, pickFrom, step, type Step } from '../world.js';
import { macArb } from './devices.js';

export const diagnosticsArb: fc.Arbitrary<FaultDiagnosticsValue> = fc.record(
  { mac: macArb, routerMac: macArb, wifiName: fc.string({ maxLength: 32 }), rssi: fc.integer({ min: -150, max: 0 }), ip: fc.ipV4() },
  { requiredKeys: [] },
);

export const midnight = (instant: Date) => `${instant.toISOString().slice(0, 10)}T00:00:00.000Z`;

/**
 * A device reports a fault through the ingestion (batcher, store, writer),
 * the use-case fault-feedback's MQTT handler calls: a new report, a resend
 * of one already stored, or one from an SN nobody registered.
 */
export const reportFault: fc.Arbitrary<Step> = fc
  .record({
    device: fc.nat(),
    // Mostly a bound device (when there is one), so full reports and their later erasure are common.
    boundDevice: fc.boolean(),
    kind: fc.constantFrom('new', 'new', 'new', 'new', 'new', 'new', 'new', 'new', 'resend', 'unknownDevice'),
    code: fc.constantFrom('E1', 'E42', 'F07'),
    severity: fc.constantFrom(...FAULT_SEVERITY_VALUES),
    firmware: fc.option(fc.constantFrom('1.0.1', '9.9.9'), { nil: undefined }),
    diagnostics: fc.option(diagnosticsArb, { nil: undefined }),
    minutesAgo: fc.integer({ min: 0, max: 3 * 24 * 60 }),
  })
  .map(({ device, boundDevice, kind, code, severity, firmware, diagnostics, minutesAgo }) =>
    step('reportFault', { device, boundDevice, kind, code, severity, firmware, diagnostics, minutesAgo }, async (world) => {
      const resent = kind === 'resend' ? world.reports.get(pickFrom(world.runReports, device) ?? '') : undefined;
      const bound = world.runDevices.filter((candidate) => world.owners.has(candidate));
      const sn =
        kind === 'unknownDevice'
          ? `NOPE-${process.pid % 1000}-${counters.sn}`
          : (resent?.sn ?? pickFrom(boundDevice && bound.length ? bound : world.runDevices, device));
      if (!sn) return;
      const occurredAt = new Date(Date.now() - minutesAgo * 60_000);
      const report = {
        reportId: resent?.reportId ?? randomUUID(),
        code,
        severity,
        occurredAt: occurredAt.toISOString(),
        firmware,
        diagnostics,
      };
      const answer = await world.ingestion.receive(sn, Buffer.from(JSON.stringify(report)));
      const rows = (await world.dataSource.query(
        'SELECT stored, sn, mac, diagnostics, owner_id, model, firmware, code, severity, occurred_at, received_at FROM fault_reports WHERE report_id = $1',
        [report.reportId],
      )) as Array<Record<string, unknown>>;
      if (kind === 'unknownDevice') {
        expect(answer).toEqual({ reportId: report.reportId, stored: 'rejected', reason: 'unknown device' });
        expect(rows).toEqual([]);
        return count('report from an unknown device');
      }
      if (resent) {
        expect(answer).toEqual({ reportId: report.reportId, stored: 'duplicate' });
        return count('report resent');
      }
      const facts = world.devices.get(sn)!;
      const owner = world.owners.get(sn)?.userId ?? null;
      // Full only while the device's owner keeps fault_diagnostics live; otherwise nothing points at a device or a person.
      const full = owner !== null && modelLive(world.model.get(owner), 'fault_diagnostics');
      expect(answer).toEqual({ reportId: report.reportId, stored: full ? 'full' : 'deidentified' });
      expect(rows).toHaveLength(1);
      const row = rows[0];
      const receivedAt = row.received_at as Date;
      const common = { model: facts.model, firmware: firmware ?? facts.firmware, code, severity };
      expect({ ...row, occurred_at: (row.occurred_at as Date).toISOString(), received_at: receivedAt.toISOString() }).toEqual(
        full
          ? {
              stored: 'full',
              sn,
              mac: facts.mac,
              diagnostics: diagnostics ?? null,
              owner_id: owner,
              ...common,
              occurred_at: occurredAt.toISOString(),
              received_at: receivedAt.toISOString(),
            }
          : {
              stored: 'deidentified',
              sn: null,
              mac: null,
              diagnostics: null,
              owner_id: null,
              ...common,
              occurred_at: midnight(occurredAt),
              received_at: midnight(receivedAt),
            },
      );
      world.reports.set(report.reportId, {
        reportId: report.reportId,
        sn,
        mac: facts.mac,
        ownerId: full ? owner : null,
        stored: full ? 'full' : 'deidentified',
        diagnostics: diagnostics ?? null,
        receivedAt: receivedAt.getTime(),
      });
      world.runReports.push(report.reportId);
      count(
        full
          ? 'report stored full'
          : owner
            ? 'report de-identified (owner without fault_diagnostics)'
            : 'report de-identified (unbound device)',
      );
    }),
  );
