import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as amqpConnect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { EventBusTopology, FAILURE_HEADER, TOPIC_HEADER } from '#libs/platform';
import { bindDevice } from './factories/bindings.js';
import { setConsent } from './factories/consents.js';
import { eventually, registerDevices } from './factories/devices.js';
import { newFaultReport, reportingDevice, storedReports, type FaultReportInput, type ReportingDevice } from './factories/faults.js';
import { ownedDevice } from './factories/pairing.js';
import { signIn, type SignedIn } from './factories/users.js';
import { call } from './support/http.js';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

/** A RabbitMQ for the suite (CI starts one and sets it); without it the suite says so and skips. */
const BUS_URL = process.env.TEST_EVENT_BUS_URL;
if (!BUS_URL) process.stdout.write('event-bus: TEST_EVENT_BUS_URL is not set, skipping the RabbitMQ suite\n');
const describeWithBus = BUS_URL ? describe : describe.skip;

interface DeadLetter {
  topic: unknown;
  reason: unknown;
  body: string;
}

const ADMIN_PHONE = '+8613700000712';
const PARTITIONS = 4;

/**
 * EVENT_BUS_URL set: device messages go broker → RabbitMQ → services. The
 * device's PUBACK comes only once RabbitMQ confirmed the message; a service
 * acknowledges to RabbitMQ only after its commit; a message it cannot handle
 * is dead-lettered and its partition goes on; RabbitMQ gone means refused
 * publishes and /health 503, and all flows again once it is back.
 */
describeWithBus('event bus (RabbitMQ)', () => {
  const queuePrefix = `t${randomBytes(5).toString('hex')}`;
  const topology = new EventBusTopology({ queuePrefix, partitions: PARTITIONS, deliveryLimit: 3 });
  let backend: TestBackend;
  let proxy: TcpProxy;
  let admin: ChannelModel;
  let channel: ConfirmChannel;
  let operator: SignedIn;
  const appliances: ReportingDevice[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const target = new URL(BUS_URL!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5672) });
    const throughProxy = new URL(BUS_URL!);
    throughProxy.port = String(proxy.port);
    backend = await startTestBackend({
      auth: { adminPhones: [ADMIN_PHONE] },
      eventBus: { url: throughProxy.toString(), queuePrefix, partitions: PARTITIONS, deliveryLimit: 3 },
    });
    admin = await amqpConnect(BUS_URL!);
    channel = await admin.createConfirmChannel();
    operator = await signIn(backend, ADMIN_PHONE);
    const owner = await signIn(backend);
    await setConsent(backend, owner, 'fault_diagnostics', true);
    for (const device of await registerDevices(backend, operator.accessToken, 6)) {
      await bindDevice(backend, device.sn, owner.userId);
      const appliance = await reportingDevice(backend, device);
      appliances.push(appliance);
      clients.push(appliance.client);
    }
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
    await proxy?.close();
    if (channel) await topology.remove(channel);
    await admin?.close();
  });

  async function publishFromAll(count: number): Promise<Array<{ appliance: ReportingDevice; report: FaultReportInput }>> {
    const sent = appliances.flatMap((appliance) => Array.from({ length: count }, () => ({ appliance, report: newFaultReport() })));
    await Promise.all(sent.map(({ appliance, report }) => appliance.send(report)));
    return sent;
  }

  async function expectStoredOnce(ids: string[]): Promise<void> {
    const rows = await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids]);
    expect(rows.map((row) => row.report_id).sort()).toEqual([...ids].sort());
  }

  /** Messages waiting or unacknowledged in fault-feedback's partitions. */
  async function faultsInQueues(): Promise<number> {
    let total = 0;
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      total += (await channel.checkQueue(topology.queue('fault-feedback', partition))).messageCount;
    }
    return total;
  }

  /** Takes every message now in fault-feedback's dead-letter queue. */
  async function takeDeadLetters(): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    for (;;) {
      const message = await channel.get(topology.deadLetterQueue('fault-feedback'), { noAck: true });
      if (!message) return letters;
      const headers = message.properties.headers ?? {};
      letters.push({ topic: headers[TOPIC_HEADER], reason: headers[FAILURE_HEADER], body: message.content.toString('utf8') });
    }
  }

  const health = async (url: string) => (await fetch(`${url}/health`)).status;
  const metricsOf = async (url: string) => (await fetch(`${url}/metrics`)).text();

  it('carries fault reports from the broker through RabbitMQ to fault-feedback: each stored once, acknowledged, nothing left queued', async () => {
    const sent = await publishFromAll(20);
    for (const { appliance, report } of sent) expect((await appliance.ackFor(report.reportId, 1, 30_000)).stored).toBe('full');
    await expectStoredOnce(sent.map(({ report }) => report.reportId));
    // Acknowledged to RabbitMQ after the commit: the partitions drain to nothing.
    await eventually(async () => (await faultsInQueues()) === 0, 10_000);
    expect(await health(backend.brokerHttpUrl)).toBe(200);
    expect(await health(backend.faultsUrl)).toBe(200);
    expect(await health(backend.provisioningUrl)).toBe(200);
    expect((await (await fetch(`${backend.faultsUrl}/health`)).json()) as unknown).toMatchObject({ checks: { eventBus: 'up' } });
  });

  it('carries pairing confirmations and factory resets to provisioning through RabbitMQ', async () => {
    const owner = await signIn(backend);
    const device = await ownedDevice(backend, operator.accessToken, owner);
    clients.push(device.client);
    const devicesOf = async () =>
      (await call('GET', `${backend.provisioningUrl}/v1/devices`, { token: owner.accessToken })).body as unknown[];
    expect(await devicesOf()).toEqual([expect.objectContaining({ sn: device.sn, role: 'owner' })]);
    await device.client.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
    await eventually(async () => (await devicesOf()).length === 0, 10_000);
    let waiting = 0;
    for (let partition = 0; partition < PARTITIONS; partition += 1) {
      waiting += (await channel.checkQueue(topology.queue('provisioning', partition))).messageCount;
    }
    expect(waiting).toBe(0);
  });

  it('dead-letters a message it cannot handle, with the reason, and the partition goes on', async () => {
    const victim = appliances[0];
    const partition = topology.partitionOf(victim.sn);
    // Not a device message (no topic), and a kind fault-feedback does not consume, straight into the victim's partition.
    await publishRaw(`faults.${partition}`, Buffer.from('{"reportId":"x"}'), {});
    await publishRaw(`faults.${partition}`, Buffer.from('{}'), { [TOPIC_HEADER]: topics.telemetry(victim.sn) });
    // A report the database cannot store (a NUL character in text) fails every time it is tried.
    const poison = newFaultReport({ code: 'E\u0000' });
    await victim.send(poison);
    const after = newFaultReport();
    await victim.send(after);
    expect((await victim.ackFor(after.reportId, 1, 30_000)).stored).toBe('full');

    const letters: DeadLetter[] = [];
    await eventually(async () => {
      letters.push(...(await takeDeadLetters()));
      return letters.length >= 3;
    }, 30_000);
    expect(letters.map((letter) => letter.reason)).toEqual(
      expect.arrayContaining(['not a device message', 'telemetry is not consumed here', expect.stringMatching(/.+/)]),
    );
    const poisoned = letters.find((letter) => letter.topic === topics.faults(victim.sn));
    expect(poisoned?.body).toContain(poison.reportId);
    expect(await storedReports(backend, 'report_id = $1', [poison.reportId])).toEqual([]);
    const metrics = await metricsOf(backend.faultsUrl);
    expect(metrics).toMatch(/event_bus_messages_dead_lettered_total\{topic="faults",reason="failed"\} 1/);
    expect(metrics).toMatch(/event_bus_messages_dead_lettered_total\{topic="other",reason="unreadable"\} 1/);
    await eventually(async () => (await faultsInQueues()) === 0, 10_000);
  });

  it('while RabbitMQ is unreachable refuses QoS 1 reports and answers 503; once it is back everything is stored, nothing lost', async () => {
    proxy.cut();
    await eventually(async () => (await health(backend.brokerHttpUrl)) === 503, 15_000);
    await eventually(async () => (await health(backend.faultsUrl)) === 503, 15_000);

    const sent = appliances.flatMap((appliance) => Array.from({ length: 5 }, () => ({ appliance, report: newFaultReport() })));
    let acknowledgedByBroker = 0;
    const publishing = Promise.all(sent.map(({ appliance, report }) => appliance.send(report).then(() => (acknowledgedByBroker += 1))));
    // The broker refuses what it cannot make safe: counted, and not one PUBACK while the bus is gone.
    await eventually(
      async () => /mqtt_messages_dropped_total\{reason="not_handed_on"\} [1-9]/.test(await metricsOf(backend.brokerHttpUrl)),
      15_000,
    );
    expect(acknowledgedByBroker).toBe(0);
    expect(await storedReports(backend, 'report_id = ANY($1::uuid[])', [sent.map(({ report }) => report.reportId)])).toEqual([]);

    proxy.restore();
    await publishing;
    const ids = sent.map(({ report }) => report.reportId);
    await eventually(async () => (await storedReports(backend, 'report_id = ANY($1::uuid[])', [ids])).length === ids.length, 30_000);
    await expectStoredOnce(ids);
    for (const { appliance, report } of sent) {
      // The device's ack goes at QoS 0, so one sent while the device was reconnecting is gone; the device asks again.
      if (!appliance.acks.some((ack) => ack.reportId === report.reportId)) await appliance.send(report);
      expect(['full', 'duplicate']).toContain((await appliance.ackFor(report.reportId, 1, 30_000)).stored);
    }
    await expectStoredOnce(ids);
    await eventually(async () => (await health(backend.brokerHttpUrl)) === 200, 15_000);
    await eventually(async () => (await health(backend.faultsUrl)) === 200, 15_000);
  });

  async function publishRaw(routingKey: string, body: Buffer, headers: Record<string, unknown>): Promise<void> {
    channel.publish(topology.exchange, routingKey, body, { persistent: true, headers });
    await channel.waitForConfirms();
  }
});
