import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { loadConfig, type AppConfig } from '#libs/config';
import { dataSourceOptions, runMigrations } from '#libs/database';
import { CredentialHasher, DeviceRegistry, MqttCredentialChangeNotifier, type IssuedDevice } from '#libs/devices';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { createLogger, type RunningApp } from '#libs/platform';
import { closed, connect, connectDevice, eventually, newDeviceRow, nextMessage } from './factories/devices.js';
import { ownRedisDatabase } from './support/redis.js';
import { createTestDatabase } from './support/backend.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) process.stdout.write('broker-redis: REDIS_URL is not set, skipping the two-node scale-out tests\n');
const describeWithRedis = REDIS_URL ? describe : describe.skip;

describeWithRedis('two broker nodes on one Redis', () => {
  let database: { url: string; drop(): Promise<void> };
  let redisUrl: string;
  let redisDatabase: Awaited<ReturnType<typeof ownRedisDatabase>> | undefined;
  let nodeA: RunningApp;
  let nodeB: RunningApp;
  let config: AppConfig;
  let dataSource: DataSource;
  const clients: MqttClient[] = [];
  const url = (node: RunningApp) => `mqtt://127.0.0.1:${node.ports.mqtt}`;

  beforeAll(async () => {
    // A database of its own on the shared Redis, so runs on one machine never see each other's sessions.
    redisDatabase = await ownRedisDatabase(REDIS_URL!);
    redisUrl = redisDatabase.url;
    database = await createTestDatabase();
    await runMigrations(database.url);
    config = loadConfig({
      env: { NODE_ENV: 'test' },
      overrides: { host: '127.0.0.1', database: { url: database.url }, redis: { url: redisUrl } },
    });
    const logger = createLogger('silent');
    nodeA = await startBroker({ config, databaseUrl: database.url, logger });
    nodeB = await startBroker({ config, databaseUrl: database.url, logger });
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await nodeA?.stop();
    await nodeB?.stop();
    await dataSource?.destroy();
    await database?.drop();
  });

  const service = (node: RunningApp, name: 'provisioning' | 'faultFeedback', options: Record<string, unknown> = {}) =>
    connect(url(node), {
      username: config.mqtt.serviceAccounts[name].username,
      password: config.mqtt.serviceAccounts[name].password,
      clientId: `${config.mqtt.serviceAccounts[name].username}-${randomUUID().slice(0, 8)}`,
      ...options,
    }).then((client) => (clients.push(client), client));

  async function register(): Promise<IssuedDevice> {
    const registry = new DeviceRegistry(dataSource, new CredentialHasher(config.devices.secretKey), { notify: async () => undefined });
    const { issued } = await registry.register([{ ...newDeviceRow(), firmware: null }]);
    return issued[0];
  }

  it('delivers a QoS 1 publish from a device on node A to a service on node B', async () => {
    const device = await register();
    const listener = await service(nodeB, 'faultFeedback');
    await listener.subscribeAsync(topicPatterns.faults, { qos: 1 });
    const client = await connectDevice(url(nodeA), device.sn, device.deviceSecret);
    clients.push(client);
    const arrived = nextMessage(listener, (topic) => topic === topics.faults(device.sn));
    const report = { reportId: randomUUID(), code: 'E7', severity: 'critical', occurredAt: new Date().toISOString() };
    await client.publishAsync(topics.faults(device.sn), JSON.stringify(report), { qos: 1 });
    const message = await arrived;
    expect(JSON.parse(message.payload.toString())).toEqual(report);
    expect(message.qos).toBe(1);
  });

  it('keeps a persistent service session across nodes: what was queued while away arrives on the other node', async () => {
    const device = await register();
    const clientId = `${config.mqtt.serviceAccounts.faultFeedback.username}-persist-${randomUUID().slice(0, 8)}`;
    const first = await service(nodeA, 'faultFeedback', { clientId, clean: false });
    await first.subscribeAsync(topicPatterns.faults, { qos: 1 });
    await first.endAsync();
    const client = await connectDevice(url(nodeB), device.sn, device.deviceSecret);
    clients.push(client);
    const report = { reportId: randomUUID(), code: 'E8', severity: 'info', occurredAt: new Date().toISOString() };
    await client.publishAsync(topics.faults(device.sn), JSON.stringify(report), { qos: 1 });
    const back = await service(nodeB, 'faultFeedback', { clientId, clean: false, manualConnect: false });
    const arrived = await nextMessage(back, (topic) => topic === topics.faults(device.sn), 10000);
    expect(JSON.parse(arrived.payload.toString())).toEqual(report);
  });

  it('drops a revoked device on the node holding it when provisioning is connected to the other', async () => {
    const device = await register();
    const client = await connectDevice(url(nodeA), device.sn, device.deviceSecret);
    clients.push(client);
    const provisioning = await service(nodeB, 'provisioning');
    const registry = new DeviceRegistry(
      dataSource,
      new CredentialHasher(config.devices.secretKey),
      new MqttCredentialChangeNotifier({
        publish: async (topic, payload, qos) => void (await provisioning.publishAsync(topic, JSON.stringify(payload), { qos: qos ?? 1 })),
      }),
    );
    const gone = closed(client, 10000);
    await registry.revoke(device.sn);
    await gone;
    await expect(connectDevice(url(nodeA), device.sn, device.deviceSecret)).rejects.toThrow(/Bad username or password/);
  });

  it('shares the password-guessing throttle: wrong secrets on node A refuse the right one on node B for a while', async () => {
    const device = await register();
    for (let attempt = 0; attempt < config.mqtt.authThrottle.maxFailuresPerUsername; attempt += 1) {
      await expect(connectDevice(url(nodeA), device.sn, 'x'.repeat(43))).rejects.toThrow(/Bad username or password/);
    }
    // the block is announced over Redis; node B hears of it within moments
    await eventually(() =>
      connectDevice(url(nodeB), device.sn, device.deviceSecret).then(
        (client) => (client.end(true), false),
        (error: Error) => /Not authorized/.test(error.message),
      ),
    );
    const client = await eventually(
      () =>
        connectDevice(url(nodeB), device.sn, device.deviceSecret).catch(
          () => new Promise<false>((resolve) => setTimeout(() => resolve(false), 250)),
        ),
      20000,
    );
    clients.push(client);
    expect(client.connected).toBe(true);
  });

  afterAll(async () => {
    await redisDatabase?.release();
  });
});
