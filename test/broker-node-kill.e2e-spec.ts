import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { loadConfig } from '#libs/config';
import { dataSourceOptions, runMigrations } from '#libs/database';
import { CredentialHasher, DeviceRegistry, type IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import { clusterAppliance, within, type ClusterAppliance } from './factories/appliances.js';
import { connect, eventually, newDeviceRow, nextMessage } from './factories/devices.js';
import { removeBusPrefix } from './support/event-bus.js';
import { startAppProcess, type AppProcess } from './support/app-process.js';
import { createTestDatabase } from './support/backend.js';
import { ownRedisDatabase } from './support/redis.js';

const REDIS_URL = process.env.REDIS_URL;
const BUS_URL = process.env.TEST_EVENT_BUS_URL;
if (!REDIS_URL || !BUS_URL) {
  process.stdout.write('broker-node-kill: REDIS_URL or TEST_EVENT_BUS_URL is not set, skipping the broker node kill test\n');
}
const describeWithCluster = REDIS_URL && BUS_URL ? describe : describe.skip;
const PARTITIONS = 2;
const DEVICES_PER_NODE = 4;
/** Reports each appliance of the killed node has in flight as it dies. */
const BURST = 200;

/**
 * Two broker nodes as separate processes on one Redis, handing device
 * messages to RabbitMQ. One is killed with SIGKILL (no goodbye to Redis or
 * RabbitMQ) while its appliances have reports in flight, so the kernel resets
 * their connections (ECONNRESET, an error to mqtt.js, not a plain close). They
 * reconnect to the other node and get their CONNACK there, the reports
 * without a PUBACK are sent again and acknowledged, persistent sessions made
 * on the dead node deliver on the other, their wills move with them (the dead
 * node's is deleted, not left to be published while they are online), and
 * the other node's own appliances never stop getting PUBACKs.
 */
describeWithCluster('a broker node killed beside another on one Redis', () => {
  const queuePrefix = `t${randomBytes(5).toString('hex')}`;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let redisDatabase: Awaited<ReturnType<typeof ownRedisDatabase>> | undefined;
  let dataSource: DataSource | undefined;
  const nodes: AppProcess[] = [];
  const appliances: ClusterAppliance[] = [];
  /** Connection errors the appliances saw. */
  const resets: string[] = [];
  const serviceAccount = loadConfig({ env: { NODE_ENV: 'test' } }).mqtt.serviceAccounts.faultFeedback;

  beforeAll(async () => {
    redisDatabase = await ownRedisDatabase(REDIS_URL!);
    database = await createTestDatabase();
    await runMigrations(database.url);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisDatabase.url,
      EVENT_BUS_URL: BUS_URL!,
      EVENT_BUS_QUEUE_PREFIX: queuePrefix,
      EVENT_BUS_PARTITIONS: String(PARTITIONS),
    };
    // Each pushed as soon as it is up, so one that started is stopped even if the other failed to.
    await Promise.all([0, 1].map(() => startAppProcess('broker', env).then((node) => nodes.push(node))));
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
  }, 90_000);

  afterAll(async () => {
    for (const { client } of appliances) client.end(true);
    await Promise.all(nodes.map((node) => node.stop()));
    await dataSource?.destroy();
    await database?.drop();
    await redisDatabase?.release();
    if (BUS_URL) await removeBusPrefix(BUS_URL, queuePrefix, PARTITIONS);
  });

  const port = (node: AppProcess) => node.ports.mqtt;

  async function register(count: number): Promise<IssuedDevice[]> {
    const config = loadConfig({ env: { NODE_ENV: 'test' } });
    const registry = new DeviceRegistry(dataSource!, new CredentialHasher(config.devices.secretKey), { notify: async () => undefined });
    const { issued } = await registry.register(Array.from({ length: count }, () => ({ ...newDeviceRow(), firmware: null })));
    return issued;
  }

  async function online(device: IssuedDevice, nodesInOrder: AppProcess[], clean = true): Promise<ClusterAppliance> {
    // Like firmware: a retained "gone" status as its will.
    const will = {
      topic: topics.status(device.sn),
      payload: Buffer.from(JSON.stringify({ online: false })),
      qos: 1 as const,
      retain: true,
    };
    const appliance = await clusterAppliance(device, nodesInOrder.map(port), { clean, will });
    appliance.client.on('error', (error) => resets.push(`${appliance.sn}: ${error.message}`));
    await appliance.client.subscribeAsync(topics.faultsAck(device.sn), { qos: 1 });
    appliances.push(appliance);
    return appliance;
  }

  function report(appliance: ClusterAppliance): Promise<unknown> {
    const body = JSON.stringify({ reportId: randomUUID(), code: 'E42', severity: 'warning', occurredAt: new Date().toISOString() });
    return appliance.client.publishAsync(topics.faults(appliance.sn), body, { qos: 1 });
  }

  it('moves its appliances to the other node, which keeps acknowledging every report', async () => {
    const [victim, survivor] = nodes;
    const devices = await register(3 * DEVICES_PER_NODE);
    // On the node to be killed: appliances with a clean session and with a persistent one.
    const onVictim = await Promise.all(devices.slice(0, DEVICES_PER_NODE).map((device) => online(device, [victim, survivor])));
    const persistent = await Promise.all(
      devices.slice(DEVICES_PER_NODE, 2 * DEVICES_PER_NODE).map((device) => online(device, [victim, survivor], false)),
    );
    const onSurvivor = await Promise.all(devices.slice(2 * DEVICES_PER_NODE).map((device) => online(device, [survivor, victim])));
    const moving = [...onVictim, ...persistent];
    const redis = new Redis(redisDatabase!.url);
    const willKeys = (sn: string) => redis.keys(`will:*:${sn}`);
    const victimWills = new Map<string, string[]>();
    for (const appliance of moving) victimWills.set(appliance.sn, await willKeys(appliance.sn));
    await within(Promise.all([...moving, ...onSurvivor].map(report)), 10_000, 'PUBACKs before the kill');

    // A burst still being read when the node dies: the kernel answers with a reset, which the appliances see as an error.
    const inFlight = moving.flatMap((appliance) => Array.from({ length: BURST }, () => report(appliance)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await victim.kill();
    const killedAt = Date.now();

    // The other node's own appliances are answered at once, throughout.
    for (let round = 0; round < 5; round += 1) {
      await within(Promise.all(onSurvivor.map(report)), 5_000, `PUBACKs on the surviving node, round ${round}`);
    }
    await eventually(async () => moving.every((appliance) => appliance.connacks.includes(port(survivor))), 10_000);
    await within(Promise.all(inFlight), 20_000, 'PUBACKs of the reports sent again');
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    expect(resets.length).toBeGreaterThan(0);
    for (const appliance of onSurvivor) expect(appliance.connacks).toEqual([port(survivor)]);
    for (const appliance of moving) expect(appliance.connacks).toEqual([port(victim), port(survivor)]);

    // Each moved appliance's will is now the other node's alone: the dead node's is gone, so the live
    // node will not publish that "gone" status once the dead node's heartbeat is old.
    try {
      for (const appliance of moving) {
        const before = victimWills.get(appliance.sn)!;
        const after = await willKeys(appliance.sn);
        expect(before).toHaveLength(1);
        expect(after).toHaveLength(1);
        expect(after).not.toEqual(before);
      }
    } finally {
      redis.disconnect();
    }

    // A persistent session survives its node: the subscription made on the dead node still delivers on the other.
    const service = await connect(`mqtt://127.0.0.1:${port(survivor)}`, {
      username: serviceAccount.username,
      password: serviceAccount.password,
      clientId: `${serviceAccount.username}-${randomUUID().slice(0, 8)}`,
    });
    try {
      for (const appliance of [...persistent, ...onVictim]) {
        const answer = nextMessage(appliance.client, (topic) => topic === topics.faultsAck(appliance.sn), 5_000);
        await service.publishAsync(topics.faultsAck(appliance.sn), JSON.stringify({ reportId: randomUUID(), stored: 'full' }), { qos: 1 });
        await answer;
      }
    } finally {
      service.end(true);
    }
  }, 90_000);
});
