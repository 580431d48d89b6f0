import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';
import { inParallel, openDatabase, percentile, registerDevices, signIn, sql, startWorker, stopWorker } from '../support.js';

const PAIRINGS = Number(process.env.BENCH_PAIRINGS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_PAIRING_CONCURRENCY ?? 50);
const ACCOUNTS = 20;
const ADMIN_PHONE = '+8613900009999';

/**
 * A pairing wave: 1,000 appliances, already online, are paired end to end
 * (HTTP POST /v1/pairings with the QR, the appliance confirms the token over
 * MQTT, provisioning binds and answers `bound`), 50 at a time, by 20 accounts.
 * Each pairing's time runs from the HTTP request to the device receiving
 * `bound`. The backend runs in its own process.
 */
export const pairingWave: BenchSection = {
  name: 'pairing-wave',
  description: `${PAIRINGS} pairings end to end (HTTP create, MQTT confirm, bound), ${CONCURRENCY} at a time`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('it gets bench devices with PAIR- SNs, and bench accounts');
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-pairing-'));
    const clients: MqttClient[] = [];
    let worker: ChildProcess | undefined;
    try {
      const devices = await registerDevices(database.url, PAIRINGS, { snPrefix: 'PAIR', macPrefix: '02:01' });
      const started = await startWorker<{ provisioningHttp: number; mqtt: number }>('pairing-backend-worker.js', [
        database.url,
        dataDir,
        ADMIN_PHONE,
      ]);
      worker = started.child;
      const http = `http://127.0.0.1:${started.message.provisioningHttp}`;
      const mqttUrl = `mqtt://127.0.0.1:${started.message.mqtt}`;
      const tokens: string[] = [];
      for (let index = 0; index < ACCOUNTS; index += 1) tokens.push(await signIn(http, dataDir, `+86139${String(index).padStart(8, '0')}`));
      process.stderr.write(`pairing-wave: connecting ${devices.length} appliances\n`);
      await inParallel(devices, 100, async (device) => {
        const client = await mqtt.connectAsync(mqttUrl, {
          clientId: device.sn,
          username: device.sn,
          password: device.deviceSecret,
          reconnectPeriod: 0,
        });
        await client.subscribeAsync(topics.pairingResult(device.sn), { qos: 1 });
        clients.push(client);
      });
      const bySn = new Map(clients.map((client) => [client.options.clientId!, client]));

      const latencies: number[] = [];
      const failures: string[] = [];
      const waveStart = performance.now();
      let index = 0;
      await inParallel(devices, CONCURRENCY, async (device) => {
        const token = tokens[index++ % tokens.length];
        const client = bySn.get(device.sn)!;
        const begin = performance.now();
        const response = await fetch(`${http}/v1/pairings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ qr: device.qr }),
        });
        const body = (await response.json()) as { token?: string };
        if (response.status !== 201 || !body.token) {
          failures.push(`HTTP ${response.status}`);
          return;
        }
        const result = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('timeout'), 30_000);
          client.once('message', (_topic, payload) => {
            clearTimeout(timer);
            resolve((JSON.parse(payload.toString('utf8')) as { status: string }).status);
          });
          void client.publishAsync(topics.pairingConfirm(device.sn), JSON.stringify({ token: body.token }), { qos: 1 });
        });
        if (result !== 'bound') failures.push(result);
        else latencies.push(performance.now() - begin);
      });
      const seconds = (performance.now() - waveStart) / 1000;
      const bound = await countBindings(
        database.url,
        devices.map((device) => device.sn),
      );
      latencies.sort((a, b) => a - b);
      const ms = (p: number) => (percentile(latencies, p) ?? NaN).toFixed(0);
      return {
        table: [
          ['pairings', 'at a time', 'bound (database)', 'failed', 'pairings/s', 'p50 ms', 'p99 ms', 'max ms'],
          [
            String(devices.length),
            String(CONCURRENCY),
            String(bound),
            String(failures.length),
            (latencies.length / seconds).toFixed(0),
            ms(50),
            ms(99),
            (latencies.at(-1) ?? NaN).toFixed(0),
          ],
        ],
        notes: failures.length ? [`failures: ${[...new Set(failures)].join(', ')}`] : [],
      };
    } finally {
      await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
      if (worker) await stopWorker(worker);
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
};

async function countBindings(url: string, sns: string[]): Promise<number> {
  const rows = await sql<{ count: number }>(url, 'SELECT count(*)::int AS count FROM device_bindings WHERE sn = ANY($1)', [sns]);
  return rows[0].count;
}
