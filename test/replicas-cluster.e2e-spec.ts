import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runMigrations } from '#libs/database';
import { topics } from '#libs/mqtt-contract';
import { EventBusTopology } from '#libs/platform';
import { clusterAppliance, within, type ClusterAppliance } from './factories/appliances.js';
import { setConsent } from './factories/consents.js';
import { eventually, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { newFaultReport, storedReports, type FaultAck, type FaultReportInput } from './factories/faults.js';
import { startedPairing } from './factories/pairing.js';
import { signIn, type SignedIn } from './factories/users.js';
import { removeBusPrefix } from './support/event-bus.js';
import { startAppProcess, type AppName, type AppProcess } from './support/app-process.js';
import { createTestDatabase, sql, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { ownRedisDatabase } from './support/redis.js';

const BUS_URL = process.env.TEST_EVENT_BUS_URL;
const REDIS_URL = process.env.REDIS_URL;
if (!BUS_URL || !REDIS_URL) {
  process.stdout.write('replicas-cluster: TEST_EVENT_BUS_URL or REDIS_URL is not set, skipping the replica cluster suite\n');
}
const describeWithCluster = BUS_URL && REDIS_URL ? describe : describe.skip;

const ADMIN_PHONE = '+8613700000714';
const PARTITIONS = 8;
const DEVICES = 500;
const REPORTS = 20;
/** The report after which an appliance presents its pairing token and, right behind it, a factory reset. */
const PAIR_AFTER = 10;
const TAKEOVER_MS = 10_000;

/** One appliance of the run and what it saw. */
interface Unit {
  device: RegisteredDevice;
  appliance: ClusterAppliance;
  pairingId: string;
  token: string;
  reports: FaultReportInput[];
  acks: Array<FaultAck & { at: number }>;
  /** When each report got its PUBACK. */
  pubackAt: Map<string, number>;
}

/**
 * The whole backend as it is deployed for scale (docker-compose.yml): two
 * broker nodes on one Redis, three fault-feedback and two provisioning
 * replicas, each its own process on RabbitMQ. 500 appliances spread over both
 * nodes stream 20 fault reports each and pair and reset half-way. Mid-stream
 * one fault-feedback replica, one provisioning replica and one broker node
 * are killed with SIGKILL; the appliances of that node reconnect to the other
 * and send again what had no PUBACK. Every report is stored exactly once and
 * acknowledged, every appliance ends paired and then reset (in that order,
 * each once), the survivors take over within 10 s, and no surviving
 * service's links to the broker or to RabbitMQ go down more than the lost
 * node forces.
 */
describeWithCluster('the backend as replicas on RabbitMQ and Redis, one of each kind killed', () => {
  const queuePrefix = `t${randomBytes(5).toString('hex')}`;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let redisDatabase: Awaited<ReturnType<typeof ownRedisDatabase>> | undefined;
  let dataDir: string | undefined;
  let site: TestBackend;
  const brokers: AppProcess[] = [];
  const faultFeedback: AppProcess[] = [];
  const provisioning: AppProcess[] = [];
  const units: Unit[] = [];
  /** Every process started, stopped at the end even when the start of another failed. */
  const started: AppProcess[] = [];
  const launch = (name: AppName, env: Record<string, string>) => startAppProcess(name, env).then((app) => (started.push(app), app));
  /** The node each service's MQTT link tries first (MQTT_URL's first entry). */
  const firstNode = new Map<AppProcess, AppProcess>();
  let owner: SignedIn;
  /** Half the appliances start on the node that will be killed (brokers[0]). */
  const startsOnVictim = (index: number) => index % 2 === 0;

  beforeAll(async () => {
    redisDatabase = await ownRedisDatabase(REDIS_URL!);
    database = await createTestDatabase();
    await runMigrations(database.url);
    dataDir = await mkdtemp(join(tmpdir(), 'appliance-cluster-'));
    const outbox = join(dataDir, 'sms-outbox.jsonl');
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: redisDatabase.url,
      EVENT_BUS_URL: BUS_URL!,
      EVENT_BUS_QUEUE_PREFIX: queuePrefix,
      EVENT_BUS_PARTITIONS: String(PARTITIONS),
      DATA_DIR: dataDir,
      SMS_OUTBOX: outbox,
      ADMIN_PHONES: ADMIN_PHONE,
    };
    brokers.push(...(await Promise.all([launch('broker', shared), launch('broker', shared)])));
    const [first, second] = brokers.map((node) => `mqtt://127.0.0.1:${node.ports.mqtt}`);
    // Services spread over both nodes, as a balancer would spread them.
    const nodesFrom = (index: number) => ({ ...shared, MQTT_URL: index % 2 === 0 ? `${first},${second}` : `${second},${first}` });
    faultFeedback.push(...(await Promise.all([0, 1, 2].map((index) => launch('fault-feedback', nodesFrom(index))))));
    provisioning.push(...(await Promise.all([0, 1].map((index) => launch('provisioning', nodesFrom(index))))));
    for (const group of [faultFeedback, provisioning]) group.forEach((app, index) => firstNode.set(app, brokers[index % 2]));
    site = {
      provisioningUrl: `http://127.0.0.1:${provisioning[0].ports.http}`,
      databaseUrl: database.url,
      async lastCode(phone: string) {
        const lines = (await readFile(outbox, 'utf8')).trim().split('\n');
        return (JSON.parse(lines.reverse().find((line) => line.includes(phone))!) as { code: string }).code;
      },
    } as TestBackend;

    const admin = await signIn(site, ADMIN_PHONE);
    owner = await signIn(site);
    await setConsent(site, owner, 'fault_diagnostics', true);
    const devices: RegisteredDevice[] = [];
    for (let batch = 0; batch < DEVICES / 100; batch += 1) devices.push(...(await registerDevices(site, admin.accessToken, 100)));
    await inBatches(devices, 25, async (device, index) => {
      const pairing = await startedPairing(site, owner, { qr: device.qr });
      // Half the appliances start on each node and know the other.
      const ports = brokers.map((node) => node.ports.mqtt);
      const appliance = await clusterAppliance(device, startsOnVictim(index) ? ports : [...ports].reverse());
      units[index] = { device, appliance, pairingId: pairing.pairingId, token: pairing.token, reports: [], acks: [], pubackAt: new Map() };
    });
    for (const unit of units) {
      unit.appliance.client.on('message', (topic, payload) => {
        if (topic === topics.faultsAck(unit.device.sn))
          unit.acks.push({ ...(JSON.parse(payload.toString('utf8')) as FaultAck), at: Date.now() });
      });
    }
    // Online, listening for answers, and its firmware announced (provisioning's share of the partitions shows in its metrics).
    await inBatches(units, 50, async ({ appliance, device }) => {
      await appliance.client.subscribeAsync(topics.faultsAck(device.sn), { qos: 1 });
      await appliance.client.publishAsync(topics.status(device.sn), JSON.stringify({ online: true, firmware: '1.0.0' }), { qos: 1 });
    });
    await eventually(
      async () => (await Promise.all(provisioning.map((app) => handled(app, 'status')))).reduce((a, b) => a + b) === DEVICES,
      30_000,
    );
  }, 240_000);

  afterAll(async () => {
    for (const unit of units) unit?.appliance.client.end(true);
    await Promise.all(started.filter((app) => app.name !== 'broker').map((app) => app.stop()));
    await Promise.all(started.map((app) => app.stop()));
    await database?.drop();
    await redisDatabase?.release();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (BUS_URL) await removeBusPrefix(BUS_URL, queuePrefix, PARTITIONS);
  });

  const health = (app: AppProcess) => fetch(`http://127.0.0.1:${app.ports.http}/health`).then((response) => response.status);
  const handled = async (app: AppProcess, topic: string) => {
    const text = await (await fetch(`http://127.0.0.1:${app.ports.http}/metrics`)).text();
    return Number(new RegExp(`mqtt_messages_handled_total\\{topic="${topic}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  /** Fault reports one after another, each awaited to its PUBACK; half-way the pairing token and a factory reset back to back. */
  async function stream(unit: Unit): Promise<void> {
    const { client } = unit.appliance;
    const { sn } = unit.device;
    for (let index = 0; index < REPORTS; index += 1) {
      if (index === PAIR_AFTER) {
        await Promise.all([
          client.publishAsync(topics.pairingConfirm(sn), JSON.stringify({ token: unit.token }), { qos: 1 }),
          client.publishAsync(topics.reset(sn), JSON.stringify({}), { qos: 1 }),
        ]);
      }
      const report = newFaultReport();
      unit.reports.push(report);
      await client.publishAsync(topics.faults(sn), JSON.stringify(report), { qos: 1 });
      unit.pubackAt.set(report.reportId, Date.now());
    }
  }

  it('stores every report once, applies every pairing and reset in order, and the survivors take over within 10 s', async () => {
    for (const app of [...brokers, ...faultFeedback, ...provisioning]) expect(await health(app)).toBe(200);
    const startedAt = Date.now();
    const streaming = Promise.all(units.map(stream));
    const sent = () => units.reduce((total, unit) => total + unit.reports.length, 0);
    await eventually(async () => sent() >= (DEVICES * REPORTS) / 3, 120_000);

    // The replicas with work are the ones to kill (single active consumer may have given one of them most partitions).
    const faultVictim = await busiest(faultFeedback, (app) => handled(app, 'faults'));
    const provisioningVictim = await busiest(provisioning, (app) => handled(app, 'status'));
    const [brokerVictim, brokerSurvivor] = brokers;
    await Promise.all([faultVictim.kill(), provisioningVictim.kill(), brokerVictim.kill()]);
    // Gone for good: nothing the killed processes handled is still on its way after this.
    const killedAt = Date.now() + 100;
    const survivors = [...faultFeedback, ...provisioning].filter((app) => app.running);
    const provisioningSurvivor = provisioning.find((app) => app.running)!;
    await within(streaming, 60_000, 'PUBACK for every report, pairing token and reset');
    const streamedMs = Date.now() - startedAt;

    // The appliances of the lost node are all on the other one, having connected there once; the others never moved.
    for (const [index, { appliance }] of units.entries()) {
      expect(appliance.connacks).toEqual(
        startsOnVictim(index) ? [brokerVictim.ports.mqtt, brokerSurvivor.ports.mqtt] : [brokerSurvivor.ports.mqtt],
      );
    }

    // A report whose answer did not come (it went to a connection that was gone) is sent again, as an appliance does.
    for (const unit of units) {
      for (const report of unit.reports) {
        if (unit.acks.some((ack) => ack.reportId === report.reportId)) continue;
        await unit.appliance.client.publishAsync(topics.faults(unit.device.sn), JSON.stringify(report), { qos: 1 });
      }
    }
    await eventually(
      async () => units.every((unit) => unit.reports.every((report) => unit.acks.some((ack) => ack.reportId === report.reportId))),
      60_000,
    );
    for (const unit of units) {
      for (const ack of unit.acks) expect(['full', 'deidentified', 'duplicate']).toContain(ack.stored);
    }

    // Exactly once in the database.
    const ids = units.flatMap((unit) => unit.reports.map((report) => report.reportId));
    expect(ids).toHaveLength(DEVICES * REPORTS);
    const rows = await storedReports(site, 'report_id = ANY($1::uuid[])', [ids]);
    expect(rows).toHaveLength(ids.length);
    expect(new Set(rows.map((row) => row.report_id as string)).size).toBe(ids.length);

    // Paired, then reset: each once, in that order; the pairing reads as bound, the appliance has no owner left.
    const sns = units.map((unit) => unit.device.sn);
    await eventually(
      async () =>
        (await sql<{ count: string }>(site, "SELECT count(*) FROM device_history WHERE event = 'factory_reset' AND sn = ANY($1)", [sns]))[0]
          .count === String(DEVICES),
      30_000,
    );
    const history = await sql<{ sn: string; events: string[] }>(
      site,
      'SELECT sn, array_agg(event ORDER BY id) AS events FROM device_history WHERE sn = ANY($1) GROUP BY sn',
      [sns],
    );
    expect(history).toHaveLength(DEVICES);
    for (const entry of history)
      expect({ sn: entry.sn, events: entry.events }).toEqual({ sn: entry.sn, events: ['bound', 'factory_reset'] });
    expect(await sql(site, 'SELECT sn FROM device_bindings WHERE sn = ANY($1)', [sns])).toEqual([]);
    const statuses = await inBatches(units, 25, async (unit) => {
      const answer = await call('GET', `http://127.0.0.1:${provisioningSurvivor.ports.http}/v1/pairings/${unit.pairingId}`, {
        token: owner.accessToken,
      });
      return answer.body?.status as string;
    });
    expect(new Set(statuses)).toEqual(new Set(['bound']));

    // Taken over within 10 s: every partition of each service is handled again (a report answered, a reset applied) by then.
    const faultsTakeover = takeover(
      units.map((unit) => ({ sn: unit.device.sn, at: unit.acks.find((ack) => ack.at > killedAt)?.at })),
      killedAt,
    );
    const resets = await sql<{ sn: string; at: Date }>(
      site,
      "SELECT sn, at FROM device_history WHERE event = 'factory_reset' AND sn = ANY($1)",
      [sns],
    );
    const provisioningTakeover = takeover(
      resets.map((reset) => ({ sn: reset.sn, at: reset.at.getTime() })),
      killedAt,
    );

    // No flapping: a survivor's RabbitMQ link never dropped; its MQTT link dropped only if it was on the lost node, and then once.
    for (const app of [brokerSurvivor, ...survivors]) {
      expect({ app: app.name, lost: app.logged('event bus connection lost; reconnecting').length }).toEqual({ app: app.name, lost: 0 });
      expect(await health(app)).toBe(200);
    }
    for (const app of survivors) {
      const onLostNode = firstNode.get(app) === brokerVictim;
      expect({ app: app.name, down: app.logged('MQTT link down, retrying').length }).toEqual({ app: app.name, down: onLostNode ? 1 : 0 });
      expect(app.logged('MQTT link up').length).toBe(onLostNode ? 2 : 1);
    }
    // The surviving fault-feedback replicas handled reports (RabbitMQ hands a dead replica's partitions to
    // whichever waiting consumer it picks, so which of the two did is not known).
    const survivingFaults = await Promise.all(
      survivors.filter((app) => app.name === 'fault-feedback').map((app) => handled(app, 'faults')),
    );
    expect(survivingFaults.reduce((total, count) => total + count, 0)).toBeGreaterThan(0);
    process.stdout.write(
      `replicas-cluster: ${sent()} reports streamed in ${streamedMs} ms; partitions handled again ${faultsTakeover} ms (fault-feedback), ` +
        `${provisioningTakeover} ms (provisioning) after the kill\n`,
    );
    expect(faultsTakeover).toBeLessThan(TAKEOVER_MS);
    expect(provisioningTakeover).toBeLessThan(TAKEOVER_MS);
  }, 300_000);
});

const topology = new EventBusTopology({ queuePrefix: 'any', partitions: PARTITIONS, deliveryLimit: 5 });

/** Milliseconds from `since` until every partition had one of `handled` (each the first of its SN after `since`), or Infinity. */
function takeover(handled: Array<{ sn: string; at: number | undefined }>, since: number): number {
  const firstByPartition = new Map<number, number>();
  for (const { sn, at } of handled) {
    if (at === undefined || at <= since) continue;
    const partition = topology.partitionOf(sn);
    firstByPartition.set(partition, Math.min(firstByPartition.get(partition) ?? Infinity, at));
  }
  if (firstByPartition.size < PARTITIONS) return Infinity;
  return Math.max(...firstByPartition.values()) - since;
}

/** The app that handled the most so far; it must have handled some, or killing it would take no work over. */
async function busiest(apps: AppProcess[], work: (app: AppProcess) => Promise<number>): Promise<AppProcess> {
  const counts = await Promise.all(apps.map(work));
  const most = Math.max(...counts);
  expect(most).toBeGreaterThan(0);
  return apps[counts.indexOf(most)];
}

/** Runs `work` over the items, `size` at a time; the results in the items' order. */
async function inBatches<T, R>(items: T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map((item, offset) => work(item, start + offset)))));
  }
  return results;
}
