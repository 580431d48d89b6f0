import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { startFaultFeedback } from '../apps/fault-feedback/src/fault-feedback.app.js';
import { startProvisioning } from '../apps/provisioning/src/provisioning.app.js';
import { loadConfig, validateConfig, type AppConfig } from '#libs/config';
import { runMigrations } from '#libs/database';
import { createLogger, type RunningApp } from '#libs/platform';
import { eventually, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { newFaultReport, reportingDevice } from './factories/faults.js';
import { confirmOnDevice, onlineDevice, startedPairing } from './factories/pairing.js';
import { signIn } from './factories/users.js';
import { ownRedisDatabase } from './support/redis.js';
import { createTestDatabase, type TestBackend } from './support/backend.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) process.stdout.write('broker-failover: REDIS_URL is not set, skipping the two-node failover tests\n');
const describeWithRedis = REDIS_URL ? describe : describe.skip;
const ADMIN_PHONE = '+8613700000912';

/**
 * MQTT_URL lists both broker nodes of a cluster: the services use the first,
 * and when it stops they move to the other, so pairing results and fault acks
 * still reach appliances connected there. Each service runs once, as its own
 * app with its MQTT consumer (no EVENT_BUS_URL), the nodes share Redis.
 */
describeWithRedis('services given two broker nodes', () => {
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let nodeA: RunningApp;
  let nodeB: RunningApp;
  let provisioning: RunningApp;
  let faultFeedback: RunningApp;
  let site: TestBackend;
  const clients: MqttClient[] = [];
  let redisDatabase: Awaited<ReturnType<typeof ownRedisDatabase>> | undefined;
  const url = (node: RunningApp) => `mqtt://127.0.0.1:${node.ports.mqtt}`;

  beforeAll(async () => {
    redisDatabase = await ownRedisDatabase(REDIS_URL!);
    const redis = new URL(redisDatabase.url);
    database = await createTestDatabase();
    await runMigrations(database.url);
    dataDir = await mkdtemp(join(tmpdir(), 'appliance-failover-'));
    const outbox = join(dataDir, 'sms-outbox.jsonl');
    const config = loadConfig({
      env: { NODE_ENV: 'test' },
      overrides: {
        host: '127.0.0.1',
        dataDir,
        database: { url: database.url },
        redis: { url: redis.toString() },
        sms: { driver: 'outbox', outbox },
        auth: { adminPhones: [ADMIN_PHONE] },
      },
    });
    const logger = createLogger('silent');
    nodeA = await startBroker({ config, databaseUrl: database.url, logger });
    nodeB = await startBroker({ config, databaseUrl: database.url, logger });
    const services: AppConfig = validateConfig({
      ...structuredClone(config),
      mqtt: { ...config.mqtt, url: `${url(nodeA)},${url(nodeB)}` },
    } as unknown as Record<string, unknown>);
    provisioning = await startProvisioning({ config: services, databaseUrl: database.url, logger });
    faultFeedback = await startFaultFeedback({ config: services, databaseUrl: database.url, logger });
    site = {
      provisioningUrl: `http://127.0.0.1:${provisioning.ports.http}`,
      mqttUrl: url(nodeB),
      async lastCode(phone: string) {
        const lines = (await readFile(outbox, 'utf8')).trim().split('\n');
        return (JSON.parse(lines.reverse().find((line) => line.includes(phone))!) as { code: string }).code;
      },
    } as TestBackend;
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await faultFeedback?.stop();
    await provisioning?.stop();
    await nodeA?.stop();
    await nodeB?.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await redisDatabase?.release();
  });

  /** A device on node B that has a pairing result or a fault ack only if the services' links reach it. */
  async function pairOnNodeB(adminToken: string, device: RegisteredDevice): Promise<string> {
    const owner = await signIn(site);
    const client = await onlineDevice(site, device);
    clients.push(client);
    const pairing = await startedPairing(site, owner, { qr: device.qr });
    return (await confirmOnDevice(client, device.sn, pairing.token)).status;
  }

  it('pairs and acknowledges fault reports on node B before and after node A, where the services were, stops', async () => {
    const admin = await signIn(site, ADMIN_PHONE);
    const [first, second, reporter] = await registerDevices(site, admin.accessToken, 3);
    expect(await pairOnNodeB(admin.accessToken, first)).toBe('bound');
    const appliance = await reportingDevice(site, reporter);
    clients.push(appliance.client);
    const before = newFaultReport();
    await appliance.send(before);
    expect((await appliance.ackFor(before.reportId)).stored).not.toBe('rejected');

    await nodeA.stop();
    const health = (port: number) => fetch(`http://127.0.0.1:${port}/health`).then((response) => response.status);
    await eventually(
      async () => (await health(provisioning.ports.http)) === 200 && (await health(faultFeedback.ports.http)) === 200,
      15_000,
    );

    expect(await pairOnNodeB(admin.accessToken, second)).toBe('bound');
    const after = newFaultReport();
    await appliance.send(after);
    expect((await appliance.ackFor(after.reportId, 1, 15_000)).stored).not.toBe('rejected');
  });
});
