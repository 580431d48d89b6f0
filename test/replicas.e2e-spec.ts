import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { bindDevice } from './factories/bindings.js';
import { setConsent } from './factories/consents.js';
import { eventually, registerDevices } from './factories/devices.js';
import { newFaultReport, reportingDevice, storedReports, type FaultReportInput, type ReportingDevice } from './factories/faults.js';
import { signIn } from './factories/users.js';
import { startAppProcess, type AppProcess } from './support/app-process.js';
import { removeBusPrefix } from './support/event-bus.js';
import { startTestBackend, type TestBackend } from './support/backend.js';

const BUS_URL = process.env.TEST_EVENT_BUS_URL;
if (!BUS_URL) process.stdout.write('replicas: TEST_EVENT_BUS_URL is not set, skipping the replica suite\n');
const describeWithBus = BUS_URL ? describe : describe.skip;

const ADMIN_PHONE = '+8613700000713';
const PARTITIONS = 8;
const DEVICES = 60;
const REPORTS = 10;

/**
 * fault-feedback as separate processes (`npm run start:fault-feedback`, the
 * compiled app) sharing RabbitMQ's partitions: one replica is killed with
 * SIGKILL while reports stream in, and the other takes its partitions over;
 * every report is stored exactly once and answered.
 */
describeWithBus('fault-feedback replicas on the event bus', () => {
  const queuePrefix = `t${randomBytes(5).toString('hex')}`;
  let backend: TestBackend;
  const replicas: AppProcess[] = [];
  const appliances: ReportingDevice[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({
      auth: { adminPhones: [ADMIN_PHONE] },
      eventBus: { url: BUS_URL!, queuePrefix, partitions: PARTITIONS },
    });
    const operator = await signIn(backend, ADMIN_PHONE);
    const owner = await signIn(backend);
    await setConsent(backend, owner, 'fault_diagnostics', true);
    for (const device of await registerDevices(backend, operator.accessToken, DEVICES)) {
      await bindDevice(backend, device.sn, owner.userId);
      const appliance = await reportingDevice(backend, device);
      appliances.push(appliance);
      clients.push(appliance.client);
    }
    // Only the separate processes consume from here on.
    await backend.stopFaultFeedback();
    replicas.push(...(await Promise.all([startReplica(), startReplica()])));
  }, 120_000);

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await Promise.all(replicas.map((replica) => replica.kill()));
    await backend?.stop();
    if (BUS_URL) await removeBusPrefix(BUS_URL, queuePrefix, PARTITIONS);
  });

  function startReplica(): Promise<AppProcess> {
    return startAppProcess('fault-feedback', {
      DATABASE_URL: backend.databaseUrl,
      MQTT_URL: backend.mqttUrl,
      EVENT_BUS_URL: BUS_URL!,
      EVENT_BUS_QUEUE_PREFIX: queuePrefix,
      EVENT_BUS_PARTITIONS: String(PARTITIONS),
      DATA_DIR: backend.dataDir,
    });
  }

  const url = (replica: AppProcess) => `http://127.0.0.1:${replica.ports.http}`;

  async function handledBy(replica: AppProcess): Promise<number> {
    const text = await (await fetch(`${url(replica)}/metrics`)).text();
    return Number(/mqtt_messages_handled_total\{topic="faults"\} (\d+)/.exec(text)?.[1] ?? 0);
  }

  it('another replica takes over the partitions of one killed mid-stream: every report stored once and answered', async () => {
    const warmUp = appliances.map((appliance) => ({ appliance, report: newFaultReport() }));
    await Promise.all(warmUp.map(({ appliance, report }) => appliance.send(report)));
    for (const { appliance, report } of warmUp) expect((await appliance.ackFor(report.reportId, 1, 30_000)).stored).toBe('full');
    for (const replica of replicas) expect((await fetch(`${url(replica)}/health`)).status).toBe(200);
    // The replica with work is the one to kill (single active consumer may have given it every partition).
    const counts = await Promise.all(replicas.map(handledBy));
    const victim = counts[0] >= counts[1] ? replicas[0] : replicas[1];
    const survivor = victim === replicas[0] ? replicas[1] : replicas[0];

    const sent: Array<{ appliance: ReportingDevice; report: FaultReportInput }> = [];
    const streaming = Promise.all(
      appliances.map(async (appliance) => {
        for (let index = 0; index < REPORTS; index += 1) {
          const report = newFaultReport();
          sent.push({ appliance, report });
          await appliance.send(report);
        }
      }),
    );
    await eventually(async () => sent.length >= (DEVICES * REPORTS) / 4, 30_000);
    await victim.kill();
    await streaming;

    const ids = [...warmUp, ...sent].map(({ report }) => report.reportId);
    await eventually(async () => (await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids])).length === ids.length, 60_000);
    const rows = await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids]);
    expect(rows.map((row) => row.report_id).sort()).toEqual([...ids].sort());
    for (const { appliance, report } of sent) {
      // An answer the killed replica never sent is asked for again, as a device does: stored once either way.
      if (!appliance.acks.some((ack) => ack.reportId === report.reportId)) await appliance.send(report);
      expect(['full', 'duplicate']).toContain((await appliance.ackFor(report.reportId, 1, 30_000)).stored);
    }
    expect(await handledBy(survivor)).toBeGreaterThan(0);
    expect((await fetch(`${url(survivor)}/health`)).status).toBe(200);
    expect(await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids])).toHaveLength(ids.length);
  });
});
