import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { RetentionService } from '#libs/privacy';
import { openPrivacyContext } from '../apps/provisioning/src/privacy-entities.js';
import { addMember, ownerWithDevice } from './factories/bindings.js';
import { setConsent, setRestriction } from './factories/consents.js';
import { eventually, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { newFaultReport, reportingDevice, storedReports, type ReportingDevice } from './factories/faults.js';
import { signIn, type SignedIn } from './factories/users.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';

const ADMIN_PHONE = '+8613700000601';

describe('fault reports over MQTT, kept by consent', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    admin = await signIn(backend, ADMIN_PHONE);
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
  });

  /** A registered device bound to a fresh owner (with or without fault_diagnostics), online and listening for acks. */
  async function ownedReportingDevice(
    granted: boolean,
  ): Promise<{ owner: SignedIn; device: RegisteredDevice; appliance: ReportingDevice }> {
    const { owner, device } = await ownerWithDevice(backend, admin.accessToken, granted ? ['fault_diagnostics'] : []);
    const appliance = await reportingDevice(backend, device);
    clients.push(appliance.client);
    return { owner, device, appliance };
  }

  const faultsOf = (user: SignedIn, sn: string, query = '') =>
    call('GET', `${backend.faultsUrl}/v1/devices/${sn}/faults${query}`, { token: user.accessToken });

  it('stores a report in full while the owner grants fault_diagnostics, and acks "full"', async () => {
    const { owner, device, appliance } = await ownedReportingDevice(true);
    const report = newFaultReport({ severity: 'critical' });
    await appliance.send(report);
    expect(await appliance.ackFor(report.reportId)).toEqual({ reportId: report.reportId, stored: 'full' });

    const [row] = await storedReports(backend, 'report_id = $1', [report.reportId]);
    expect(row).toMatchObject({
      stored: 'full',
      sn: device.sn,
      owner_id: owner.userId,
      code: 'E42',
      severity: 'critical',
      model: 'PURIFIER-X1',
      firmware: '1.2.3',
    });
    expect(row.mac).toMatch(/^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
    expect(row.diagnostics).toEqual(report.diagnostics);
    expect(row.occurred_at.toISOString()).toBe(report.occurredAt);
  });

  it('keeps only the de-identified form when the owner has not granted fault_diagnostics', async () => {
    const { appliance } = await ownedReportingDevice(false);
    const report = newFaultReport({ occurredAt: '2026-01-15T13:45:12.345Z' });
    await appliance.send(report);
    expect(await appliance.ackFor(report.reportId)).toEqual({ reportId: report.reportId, stored: 'deidentified' });

    const [row] = await storedReports(backend, 'report_id = $1', [report.reportId]);
    expect(row).toMatchObject({
      stored: 'deidentified',
      sn: null,
      mac: null,
      diagnostics: null,
      owner_id: null,
      model: 'PURIFIER-X1',
      firmware: '1.2.3',
      code: 'E42',
      severity: 'warning',
    });
    expect(row.occurred_at.toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(row.received_at.toISOString()).toMatch(/T00:00:00\.000Z$/);
  });

  it('de-identifies while the owner is restricted, although the consent is granted', async () => {
    const { owner, appliance } = await ownedReportingDevice(true);
    await setRestriction(backend, owner, true);
    const report = newFaultReport();
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('deidentified');
    const [row] = await storedReports(backend, 'report_id = $1', [report.reportId]);
    expect(row).toMatchObject({ sn: null, owner_id: null, diagnostics: null });
  });

  it('de-identifies a report from a device nobody owns', async () => {
    const [device] = await registerDevices(backend, admin.accessToken);
    const appliance = await reportingDevice(backend, device);
    clients.push(appliance.client);
    const report = newFaultReport();
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('deidentified');
  });

  it('stores the same reportId once and acks the second "duplicate", also within one burst', async () => {
    const { appliance } = await ownedReportingDevice(true);
    const report = newFaultReport();
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('full');
    await appliance.send({ ...report, code: 'E99' });
    expect(await appliance.ackFor(report.reportId, 2)).toEqual({ reportId: report.reportId, stored: 'duplicate' });

    const burst = newFaultReport();
    await Promise.all([appliance.send(burst), appliance.send(burst), appliance.send(burst)]);
    const answers = [
      await appliance.ackFor(burst.reportId, 1),
      await appliance.ackFor(burst.reportId, 2),
      await appliance.ackFor(burst.reportId, 3),
    ];
    expect(answers.map((ack) => ack.stored).sort()).toEqual(['duplicate', 'duplicate', 'full']);
    const rows = await storedReports(backend, 'report_id = ANY($1::uuid[])', [[report.reportId, burst.reportId]]);
    expect(rows).toHaveLength(2);
    expect(rows.find((row) => row.report_id === report.reportId)?.code).toBe('E42');
  });

  it('refuses bad input with a reason, stores nothing, and keeps consuming', async () => {
    const { device, appliance } = await ownedReportingDevice(true);
    const before = (await storedReports(backend)).length;
    const cases: Array<{ body: string | Record<string, unknown>; reportId: string; reason: RegExp }> = [
      { body: 'this is not json', reportId: 'unknown', reason: /not JSON/ },
      { body: '[1,2]', reportId: 'unknown', reason: /JSON object/ },
      {
        body: { ...newFaultReport({ reportId: 'r-wrong-types' }), reportId: 'r-wrong-types' },
        reportId: 'r-wrong-types',
        reason: /reportId/,
      },
      (() => {
        const report = newFaultReport({ code: 42 as unknown as string });
        return { body: report, reportId: report.reportId, reason: /code must be a string/ };
      })(),
      (() => {
        const report = newFaultReport({ severity: 'catastrophic' });
        return { body: report, reportId: report.reportId, reason: /severity/ };
      })(),
      (() => {
        const report = newFaultReport({ diagnostics: { wifiName: 'x'.repeat(5000) } });
        return { body: report, reportId: report.reportId, reason: /exceeds 4096 bytes/ };
      })(),
      (() => {
        const report = newFaultReport({ diagnostics: { wifiName: 'x'.repeat(200) } });
        return { body: report, reportId: report.reportId, reason: /wifiName/ };
      })(),
      (() => {
        const report = newFaultReport({ diagnostics: { mac: 'AA:BB:CC:DD:EE:01', password: 'hunter2' } });
        return { body: report, reportId: report.reportId, reason: /password/ };
      })(),
      (() => {
        const report = newFaultReport({ occurredAt: new Date(Date.now() + 3 * 86400_000).toISOString() });
        return { body: report, reportId: report.reportId, reason: /future/ };
      })(),
      (() => {
        const report = newFaultReport({ occurredAt: 'yesterday' });
        return { body: report, reportId: report.reportId, reason: /occurredAt/ };
      })(),
      // Shapes Nest's own transport would take for a request needing a reply: still just a bad report.
      (() => {
        const report = newFaultReport({ id: 7, pattern: 'x', data: {} });
        return { body: report, reportId: report.reportId, reason: /id should not exist|unknown|should not exist/ };
      })(),
    ];
    for (const { body, reportId, reason } of cases) {
      const seen = appliance.acks.filter((ack) => ack.reportId === reportId).length;
      await appliance.send(typeof body === 'string' ? body : body);
      const ack = await appliance.ackFor(reportId, seen + 1);
      expect(ack.stored).toBe('rejected');
      expect(ack.reason).toMatch(reason);
    }
    expect(await storedReports(backend)).toHaveLength(before);

    const good = newFaultReport();
    await appliance.send(good);
    expect((await appliance.ackFor(good.reportId)).stored).toBe('full');
    expect(await storedReports(backend, 'sn = $1', [device.sn])).toHaveLength(1);
  });

  it('withdrawing fault_diagnostics de-identifies what is already stored, times cut to the day', async () => {
    const { owner, device, appliance } = await ownedReportingDevice(true);
    const report = newFaultReport({ occurredAt: '2026-02-03T04:05:06.789Z' });
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('full');

    await setConsent(backend, owner, 'fault_diagnostics', false);
    const [row] = await storedReports(backend, 'report_id = $1', [report.reportId]);
    expect(row).toMatchObject({
      stored: 'deidentified',
      sn: null,
      mac: null,
      diagnostics: null,
      owner_id: null,
      code: 'E42',
      model: 'PURIFIER-X1',
    });
    expect(row.occurred_at.toISOString()).toBe('2026-02-03T00:00:00.000Z');
    expect(row.received_at.toISOString()).toMatch(/T00:00:00\.000Z$/);
    expect((await faultsOf(owner, device.sn)).body).toEqual([]);

    const later = newFaultReport();
    await appliance.send(later);
    expect((await appliance.ackFor(later.reportId)).stored).toBe('deidentified');
  });

  it("lists a device's reports to its owner and members only, newest first, page by page", async () => {
    const { owner, device, appliance } = await ownedReportingDevice(true);
    const member = await signIn(backend);
    const stranger = await signIn(backend);
    await addMember(backend, device.sn, member.userId);
    const reports = Array.from({ length: 5 }, (_, index) =>
      newFaultReport({ occurredAt: new Date(Date.UTC(2026, 0, 10, 8, index)).toISOString(), code: `E${index}` }),
    );
    for (const report of reports) await appliance.send(report);
    for (const report of reports) expect((await appliance.ackFor(report.reportId)).stored).toBe('full');

    const first = await faultsOf(owner, device.sn, '?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.map((item: { code: string }) => item.code)).toEqual(['E4', 'E3']);
    expect(first.body[0]).toMatchObject({
      reportId: reports[4].reportId,
      stored: 'full',
      sn: device.sn,
      severity: 'warning',
      diagnostics: reports[4].diagnostics,
    });

    const seen: string[] = [];
    let query = '?limit=2';
    for (let pages = 0; pages < 5; pages += 1) {
      const response = await call('GET', `${backend.faultsUrl}/v1/devices/${device.sn}/faults${query}`, { token: member.accessToken });
      expect(response.status).toBe(200);
      seen.push(...response.body.map((item: { code: string }) => item.code));
      const fetched = await fetch(`${backend.faultsUrl}/v1/devices/${device.sn}/faults${query}`, {
        headers: { authorization: `Bearer ${member.accessToken}` },
      });
      const cursor = fetched.headers.get('x-next-cursor');
      if (!cursor) {
        expect(fetched.headers.get('link')).toBeNull();
        break;
      }
      expect(fetched.headers.get('link')).toContain('rel="next"');
      query = `?limit=2&before=${cursor}`;
    }
    expect(seen).toEqual(['E4', 'E3', 'E2', 'E1', 'E0']);

    for (const path of [device.sn, 'NO-SUCH-DEVICE']) {
      const refused = await faultsOf(stranger, path);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toBe('FORBIDDEN');
    }
    expect((await call('GET', `${backend.faultsUrl}/v1/devices/${device.sn}/faults`)).status).toBe(401);
    expect((await faultsOf(owner, device.sn, '?limit=0')).body.error).toBe('VALIDATION_FAILED');
    expect((await faultsOf(owner, device.sn, '?before=garbage')).body.error).toBe('VALIDATION_FAILED');
    expect((await faultsOf(owner, device.sn, '?page=2')).body.error).toBe('VALIDATION_FAILED');
  });

  it('counts reports by model, firmware, code and day from full and de-identified records alike, without personal data', async () => {
    const full = await ownedReportingDevice(true);
    const plain = await ownedReportingDevice(false);
    const day = '2025-12-24';
    const sent = [
      { appliance: full.appliance, report: newFaultReport({ code: 'STAT-1', occurredAt: `${day}T10:00:00.000Z`, firmware: '9.9.1' }) },
      { appliance: plain.appliance, report: newFaultReport({ code: 'STAT-1', occurredAt: `${day}T11:00:00.000Z`, firmware: '9.9.1' }) },
      { appliance: plain.appliance, report: newFaultReport({ code: 'STAT-2', occurredAt: `${day}T23:59:59.000Z`, firmware: '9.9.2' }) },
    ];
    for (const { appliance, report } of sent) await appliance.send(report);
    for (const { appliance, report } of sent) await appliance.ackFor(report.reportId);

    const stats = await call('GET', `${backend.faultsUrl}/v1/admin/faults/stats?from=${day}&to=${day}`, { token: admin.accessToken });
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(3);
    expect(stats.body.byCode).toEqual(
      expect.arrayContaining([
        { code: 'STAT-1', count: 2 },
        { code: 'STAT-2', count: 1 },
      ]),
    );
    expect(stats.body.byFirmware).toEqual(
      expect.arrayContaining([
        { firmware: '9.9.1', count: 2 },
        { firmware: '9.9.2', count: 1 },
      ]),
    );
    expect(stats.body.byModel).toEqual([{ model: 'PURIFIER-X1', count: 3 }]);
    expect(stats.body.byDay).toEqual([{ day, count: 3 }]);
    expect(stats.body.rows).toEqual(expect.arrayContaining([{ model: 'PURIFIER-X1', firmware: '9.9.1', code: 'STAT-1', day, count: 2 }]));
    const text = JSON.stringify(stats.body);
    for (const secret of [full.device.sn, plain.device.sn, full.owner.userId, 'home-5G', 'AA:BB:CC:DD:EE:01'])
      expect(text).not.toContain(secret);

    expect((await call('GET', `${backend.faultsUrl}/v1/admin/faults/stats`, { token: full.owner.accessToken })).status).toBe(403);
    expect((await call('GET', `${backend.faultsUrl}/v1/admin/faults/stats?from=yesterday`, { token: admin.accessToken })).status).toBe(400);
  });

  it("exports the owner's full reports", async () => {
    const { owner, appliance } = await ownedReportingDevice(true);
    const report = newFaultReport();
    await appliance.send(report);
    await appliance.ackFor(report.reportId);
    const exported = await call('GET', `${backend.provisioningUrl}/v1/me/export`, { token: owner.accessToken });
    expect(exported.status).toBe(200);
    expect(exported.body.faultReports).toEqual([
      expect.objectContaining({ reportId: report.reportId, stored: 'full', diagnostics: report.diagnostics }),
    ]);
    expect(exported.body.repairs).toEqual([]);
  });

  it('account erasure leaves only de-identified reports', async () => {
    const { owner, appliance } = await ownedReportingDevice(true);
    const report = newFaultReport();
    await appliance.send(report);
    await appliance.ackFor(report.reportId);
    expect((await call('DELETE', `${backend.provisioningUrl}/v1/me`, { token: owner.accessToken })).status).toBe(204);
    const [row] = await eventually(async () => {
      const rows = await storedReports(backend, 'report_id = $1', [report.reportId]);
      return rows[0]?.stored === 'deidentified' ? rows : undefined;
    });
    expect(row).toMatchObject({ sn: null, mac: null, diagnostics: null, owner_id: null });
  });

  it('retention: a year after it arrived, a full report keeps only its de-identified form', async () => {
    const { owner, device, appliance } = await ownedReportingDevice(true);
    const report = newFaultReport({ occurredAt: '2026-03-04T05:06:07.890Z' });
    await appliance.send(report);
    expect((await appliance.ackFor(report.reportId)).stored).toBe('full');
    const privacy = await openPrivacyContext(backend.databaseUrl);
    try {
      const retention = privacy.get(RetentionService);
      const daysAhead = (days: number) => new Date(Date.now() + days * 24 * 3600_000);
      await retention.apply(daysAhead(364));
      const [kept] = await storedReports(backend, 'report_id = $1', [report.reportId]);
      expect(kept).toMatchObject({ stored: 'full', sn: device.sn, owner_id: owner.userId, diagnostics: report.diagnostics });
      expect(kept.occurred_at.toISOString()).toBe(report.occurredAt);

      await retention.apply(daysAhead(366));
      const [row] = await storedReports(backend, 'report_id = $1', [report.reportId]);
      expect(row).toMatchObject({
        stored: 'deidentified',
        sn: null,
        mac: null,
        diagnostics: null,
        owner_id: null,
        code: 'E42',
        model: 'PURIFIER-X1',
      });
      expect(row.occurred_at.toISOString()).toBe('2026-03-04T00:00:00.000Z');
      expect(row.received_at.toISOString()).toMatch(/T00:00:00\.000Z$/);
    } finally {
      await privacy.close();
    }
  });
});
