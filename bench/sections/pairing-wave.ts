import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '#libs/config';
import { dataSourceOptions, runMigrations, startEmbeddedPostgres } from '#libs/database';
import { CredentialHasher, DeviceRegistry, type IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';

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
    const database = await openDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-pairing-'));
    const clients: MqttClient[] = [];
    let worker: ChildProcess | undefined;
    try {
      const devices = await registerDevices(database.url, PAIRINGS);
      const started = await startWorker([database.url, dataDir, ADMIN_PHONE]);
      worker = started.child;
      const http = `http://127.0.0.1:${started.ports.provisioningHttp}`;
      const mqttUrl = `mqtt://127.0.0.1:${started.ports.mqtt}`;
      const tokens: string[] = [];
      for (let index = 0; index < ACCOUNTS; index += 1) tokens.push(await signIn(http, dataDir, `+86139${String(index).padStart(8, '0')}`));
      process.stderr.write(`pairing-wave: connecting ${devices.length} appliances\n`);
      await inParallel(devices, 100, async (device) => {
        const client = await mqtt.connectAsync(mqttUrl, { clientId: device.sn, username: device.sn, password: device.deviceSecret, reconnectPeriod: 0 });
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
      const bound = await countBindings(database.url, devices.map((device) => device.sn));
      latencies.sort((a, b) => a - b);
      const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
      return {
        table: [
          ['pairings', 'at a time', 'bound (database)', 'failed', 'pairings/s', 'p50 ms', 'p99 ms', 'max ms'],
          [
            String(devices.length),
            String(CONCURRENCY),
            String(bound),
            String(failures.length),
            (latencies.length / seconds).toFixed(0),
            percentile(50).toFixed(0),
            percentile(99).toFixed(0),
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

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function signIn(http: string, dataDir: string, phone: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${http}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post('/v1/auth/otp', { phone });
  const lines = (await readFile(join(dataDir, 'sms-outbox.jsonl'), 'utf8')).trim().split('\n');
  const code = lines.map((line) => JSON.parse(line) as { to: string; code: string }).reverse().find((message) => message.to === phone)!.code;
  const login = (await (await post('/v1/auth/login', { phone, code })).json()) as { accessToken: string };
  return login.accessToken;
}

async function countBindings(url: string, sns: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM device_bindings WHERE sn = ANY($1)', [sns]);
    return rows[0].count;
  } finally {
    await client.end();
  }
}

async function registerDevices(url: string, count: number): Promise<IssuedDevice[]> {
  const config = loadConfig({ env: { NODE_ENV: 'test' } });
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  try {
    const registry = new DeviceRegistry(dataSource, new CredentialHasher(config.devices.secretKey), { notify: async () => undefined });
    const run = Date.now().toString(36).toUpperCase();
    const rows = Array.from({ length: count }, (_, index) => ({
      sn: `PAIR-${run}-${index}`,
      mac: `02:01:${index.toString(16).padStart(8, '0').toUpperCase().match(/../g)!.join(':')}`,
      model: 'BENCH',
      firmware: null,
    }));
    return (await registry.register(rows, { chunkSize: 2000 })).issued;
  } finally {
    await dataSource.destroy();
  }
}

async function openDatabase(): Promise<{ url: string; close(): Promise<void> }> {
  const configured = process.env.DATABASE_URL;
  if (configured) {
    process.stderr.write('bench: using DATABASE_URL (it gets bench devices with PAIR- SNs, and bench accounts)\n');
    await runMigrations(configured);
    return { url: configured, close: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-pg-'));
  const { chmod } = await import('node:fs/promises');
  await chmod(dir, 0o755);
  const embedded = await startEmbeddedPostgres({ dir: join(dir, 'pg'), database: 'bench' });
  await runMigrations(embedded.url);
  return {
    url: embedded.url,
    close: async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startWorker(args: string[]): Promise<{ child: ChildProcess; ports: { provisioningHttp: number; mqtt: number } }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'pairing-backend-worker.js');
  const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'test' } });
  const ports = await new Promise<{ provisioningHttp: number; mqtt: number }>((resolve, reject) => {
    child.once('message', (message: { provisioningHttp: number; mqtt: number }) => resolve(message));
    child.once('exit', (code) => reject(new Error(`backend worker exited with ${code}`)));
  });
  return { child, ports };
}

function stopWorker(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}
