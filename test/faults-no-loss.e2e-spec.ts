import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { bindDevice } from './factories/bindings.js';
import { setConsent } from './factories/consents.js';
import { eventually, registerDevices } from './factories/devices.js';
import {
  newFaultReport,
  reportingDevice,
  storedReports,
  type FaultAck,
  type FaultReportInput,
  type ReportingDevice,
} from './factories/faults.js';
import { signIn } from './factories/users.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const ADMIN_PHONE = '+8613700000602';

/**
 * Nothing lost: a report is acknowledged (the broker's PUBACK and faults/ack
 * to the device) only once committed. Reports published while fault-feedback is
 * down, or while its database is unreachable, are all stored once it is back.
 */
describe('fault reports: nothing lost', () => {
  let backend: TestBackend;
  let proxy: TcpProxy | undefined;
  const appliances: ReportingDevice[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] }, faults: { retryMaxDelayMs: 200 } });
    const admin = await signIn(backend, ADMIN_PHONE);
    const owner = await signIn(backend);
    await setConsent(backend, owner, 'fault_diagnostics', true);
    for (const device of await registerDevices(backend, admin.accessToken, 3)) {
      await bindDevice(backend, device.sn, owner.userId);
      const appliance = await reportingDevice(backend, device);
      appliances.push(appliance);
      clients.push(appliance.client);
    }
    // The consumer's session exists and works before anything is cut.
    const warmUp = newFaultReport();
    await appliances[0].send(warmUp);
    expect((await appliances[0].ackFor(warmUp.reportId)).stored).toBe('full');
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
    await proxy?.close();
  });

  interface Burst {
    sent: Array<{ appliance: ReportingDevice; report: FaultReportInput }>;
    /** Resolves once the broker has acknowledged (PUBACK) every report of the burst. */
    published: Promise<void>;
    /** Resolves once the broker has acknowledged the first of them. */
    first: Promise<void>;
    /** How many the broker has acknowledged so far. */
    pubacked(): number;
  }

  /** Each appliance publishes `count` reports at QoS 1; the PUBACK comes only once a report is committed. */
  function publishFromAll(count: number): Burst {
    const sent = appliances.flatMap((appliance) => Array.from({ length: count }, () => ({ appliance, report: newFaultReport() })));
    let pubacked = 0;
    const each = sent.map(({ appliance, report }) => appliance.send(report).then(() => void (pubacked += 1)));
    return { sent, published: Promise.all(each).then(() => undefined), first: Promise.race(each), pubacked: () => pubacked };
  }

  const allAcks = (): FaultAck[] => appliances.flatMap((appliance) => appliance.acks);
  const idsOf = (sent: Array<{ report: FaultReportInput }>) => sent.map(({ report }) => report.reportId);

  async function expectStoredOnce(ids: string[]): Promise<void> {
    const rows = await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids]);
    expect(rows.map((row) => row.report_id).sort()).toEqual([...ids].sort());
    expect(rows.every((row) => row.stored === 'full')).toBe(true);
  }

  /** Every report a device was told is stored is in the database. */
  async function expectEveryAckStored(): Promise<void> {
    const acked = allAcks()
      .filter((ack) => ack.stored !== 'rejected')
      .map((ack) => ack.reportId);
    const rows = await storedReports(backend, 'report_id = ANY($1::uuid[])', [acked]);
    expect(new Set(rows.map((row) => row.report_id))).toEqual(new Set(acked));
  }

  it('stores every report published while fault-feedback was stopped, exactly once, when it starts again', async () => {
    await backend.stopFaultFeedback();
    const burst = publishFromAll(20);
    const { sent } = burst;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Nobody has stored them, so the broker has acknowledged none (no PUBACK) and no device was told anything.
    expect(burst.pubacked()).toBe(0);
    const acksWhileDown = allAcks().filter((ack) => idsOf(sent).includes(ack.reportId));
    expect(acksWhileDown).toEqual([]);
    expect(await storedReports(backend, 'report_id = ANY($1::uuid[])', [idsOf(sent)])).toEqual([]);

    await backend.startFaultFeedback();
    await burst.published;
    for (const { appliance, report } of sent) expect((await appliance.ackFor(report.reportId, 1, 30_000)).stored).toBe('full');
    await expectStoredOnce(idsOf(sent));
    await expectEveryAckStored();
  });

  it('while PostgreSQL is unreachable acknowledges nothing, and stores what was sent meanwhile once it is back', async () => {
    const target = new URL(backend.databaseUrl);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const throughProxy = new URL(backend.databaseUrl);
    throughProxy.port = String(proxy.port);
    await backend.stopFaultFeedback();
    await backend.startFaultFeedback({ databaseUrl: throughProxy.toString() });

    const beforeBurst = publishFromAll(5);
    await beforeBurst.published;
    const before = beforeBurst.sent;
    for (const { appliance, report } of before) expect((await appliance.ackFor(report.reportId, 1, 30_000)).stored).toBe('full');

    // Cut while a burst is still being stored: some of it may commit, the rest waits.
    const inFlight = publishFromAll(10);
    await inFlight.first;
    proxy.cut();
    const during = inFlight.sent;
    const meanwhileBurst = publishFromAll(10);
    const meanwhile = meanwhileBurst.sent;
    await eventually(async () => (await fetch(`${backend.faultsUrl}/health`)).status === 503, 10_000);
    // Nothing can commit now, so nothing sent after the cut may be acknowledged, by PUBACK or by faults/ack.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(meanwhileBurst.pubacked()).toBe(0);
    expect(allAcks().filter((ack) => idsOf(meanwhile).includes(ack.reportId))).toEqual([]);
    await expectEveryAckStored();

    proxy.restore();
    await Promise.all([inFlight.published, meanwhileBurst.published]);
    for (const { appliance, report } of meanwhile) expect((await appliance.ackFor(report.reportId, 1, 30_000)).stored).toBe('full');
    for (const { appliance, report } of during) {
      // A commit cut before its answer came back looks like a duplicate on the retry: stored either way.
      expect(['full', 'duplicate']).toContain((await appliance.ackFor(report.reportId, 1, 30_000)).stored);
    }
    await expectStoredOnce([...idsOf(before), ...idsOf(during), ...idsOf(meanwhile)]);
    await expectEveryAckStored();
  });
});
