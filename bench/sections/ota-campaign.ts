import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { generate, parser } from 'mqtt-packet';
import { loadConfig } from '#libs/config';
import type { IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';
import { connectPacket, inParallel, openDatabase, registerDevices, signIn, startWorker, stopWorker } from '../support.js';

const DEVICES = Number(process.env.BENCH_OTA_DEVICES ?? 10_000);
const IMAGE_BYTES = 64 * 1024;
const ADMIN_PHONE = '+8613900009998';
const NOTIFY_TIMEOUT_MS = 120_000;

/**
 * One campaign at a single 100% step over 10,000 registered devices, all
 * connected and subscribed to their `ota/job`: the time to create it (HTTP
 * request to 201), the time until every device has received its job, and
 * the database statements the backend sent meanwhile, per device. Baseline in
 * the same run: the same 10,000 job messages published straight to the same
 * devices by a plain MQTT client with provisioning's account (no database,
 * no rules). The backend runs in its own process; the devices are raw sockets.
 */
export const otaCampaign: BenchSection = {
  name: 'ota-campaign',
  description: `a campaign over ${DEVICES} connected devices at one 100% step: create, notify all, statements per device`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('it gets bench devices with OTA- SNs of a model of their own, an image and a campaign');
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-ota-'));
    let worker: ChildProcess | undefined;
    const sockets: Socket[] = [];
    try {
      const model = `BENCH-OTA-${Date.now().toString(36).toUpperCase()}`;
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'OTA', macPrefix: '02:03', model, firmware: '1.0.0' });
      const key = generateKeyPairSync('ed25519');
      const keys = [{ id: 'bench', publicKey: key.publicKey.export({ type: 'spki', format: 'pem' }).toString() }];
      const started = await startWorker<{ provisioningHttp: number; mqtt: number }>('ota-backend-worker.js', [
        database.url,
        dataDir,
        ADMIN_PHONE,
        JSON.stringify(keys),
      ]);
      worker = started.child;
      const http = `http://127.0.0.1:${started.message.provisioningHttp}`;
      const admin = await signIn(http, dataDir, ADMIN_PHONE);

      process.stderr.write(`ota-campaign: connecting ${devices.length} devices\n`);
      const fleet = new Fleet(started.message.mqtt);
      await inParallel(devices, 200, (device) => fleet.add(device, sockets));

      const image = randomBytes(IMAGE_BYTES);
      const query = new URLSearchParams({
        model,
        version: '2.0.0',
        keyId: 'bench',
        signature: sign(null, image, key.privateKey).toString('base64'),
      });
      const upload = await fetch(`${http}/v1/admin/firmware?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream' },
        body: new Uint8Array(image),
      });
      const firmwareId = ((await upload.json()) as { id: string }).id;

      const statements = () => countStatements(worker!);
      const before = await statements();
      fleet.expectJobs();
      const begin = performance.now();
      const created = await fetch(`${http}/v1/admin/campaigns`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ firmwareId }),
      });
      const answered = performance.now();
      const campaign = (await created.json()) as { targeted: number };
      const atAnswer = await statements();
      const notified = await fleet.allReceived(NOTIFY_TIMEOUT_MS);
      const allNotified = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const afterNotify = await statements();

      const baseline = await bareNotify(`mqtt://127.0.0.1:${started.message.mqtt}`, devices, fleet, fleet.lastPayloadBytes);
      const seconds = (ms: number) => (ms / 1000).toFixed(2);
      const notifySeconds = (allNotified - begin) / 1000;
      // The counts include the request's own sign-in checks and the backend's background work of those seconds (presence flushes).
      const createStatements = atAnswer - before;
      const totalStatements = afterNotify - before;
      return {
        table: [
          [
            'devices',
            'targeted',
            'notified',
            'create (HTTP 201) s',
            'all notified s',
            'jobs/s',
            'statements: create / +notify',
            'statements per device',
            'bare publish s',
            'ratio bare / campaign',
          ],
          [
            String(devices.length),
            String(campaign.targeted),
            String(notified),
            seconds(answered - begin),
            notifySeconds.toFixed(2),
            (notified / notifySeconds).toFixed(0),
            `${createStatements} / ${totalStatements}`,
            (totalStatements / devices.length).toFixed(4),
            baseline.toFixed(2),
            (baseline / notifySeconds).toFixed(2),
          ],
        ],
      };
    } finally {
      // The backend stops first, so its broker closes the devices' connections itself: 10,000 devices dropping at once
      // while provisioning's consumer is going away overflows the stack of the broker's emitter (see the README).
      if (worker) await stopWorker(worker);
      for (const socket of sockets) socket.destroy();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

/** Raw MQTT devices: CONNECT, SUBSCRIBE to their own ota/job, PUBACK what arrives, and note when a job came. */
class Fleet {
  private received = new Set<string>();
  private waiting: (() => void) | undefined;
  private expected = 0;
  lastPayloadBytes = 0;

  constructor(private readonly port: number) {}

  add(device: IssuedDevice, sockets: Socket[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1');
      sockets.push(socket);
      const incoming = parser({ protocolVersion: 4 });
      incoming.on('packet', (packet) => {
        if (packet.cmd === 'connack') {
          if (packet.returnCode !== 0) return reject(new Error(`CONNACK ${packet.returnCode}`));
          socket.write(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: topics.otaJob(device.sn), qos: 1 }] }));
        } else if (packet.cmd === 'suback') {
          resolve();
        } else if (packet.cmd === 'publish') {
          if (packet.qos === 1) socket.write(generate({ cmd: 'puback', messageId: packet.messageId! }));
          const payload = packet.payload as Buffer;
          if (payload.length === 0) return;
          this.lastPayloadBytes = payload.length;
          this.received.add(device.sn);
          if (this.received.size >= this.expected) this.waiting?.();
        }
      });
      socket.on('data', (data) => incoming.parse(data));
      socket.once('error', reject);
      socket.write(connectPacket(device));
    });
  }

  expectJobs(count = DEVICES): void {
    this.received = new Set();
    this.expected = count;
  }

  /** Resolves with how many devices got a job, once all have or the time is up. */
  allReceived(timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.received.size), timeoutMs);
      this.waiting = () => {
        clearTimeout(timer);
        resolve(this.received.size);
      };
      if (this.received.size >= this.expected) this.waiting();
    });
  }
}

/** The baseline: the same number of job-sized retained QoS 1 messages, published by a plain client of provisioning's account. */
async function bareNotify(url: string, devices: IssuedDevice[], fleet: Fleet, payloadBytes: number): Promise<number> {
  const account = loadConfig({ env: { NODE_ENV: 'test' } }).mqtt.serviceAccounts.provisioning;
  const client = await mqtt.connectAsync(url, {
    username: account.username,
    password: account.password,
    clientId: `${account.username}-bench`,
  });
  try {
    const payload = JSON.stringify({ filler: 'x'.repeat(Math.max(0, payloadBytes - 13)) });
    fleet.expectJobs(devices.length);
    const begin = performance.now();
    for (let start = 0; start < devices.length; start += 500) {
      await Promise.all(
        devices.slice(start, start + 500).map((device) => client.publishAsync(topics.otaJob(device.sn), payload, { qos: 1, retain: true })),
      );
    }
    await fleet.allReceived(NOTIFY_TIMEOUT_MS);
    return (performance.now() - begin) / 1000;
  } finally {
    await client.endAsync();
  }
}

function countStatements(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (message: { statements: number }) => resolve(message.statements));
    child.send('statements');
  });
}
