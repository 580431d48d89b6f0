import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '#libs/config';
import { dataSourceOptions, runMigrations, startEmbeddedPostgres } from '#libs/database';
import { CredentialHasher, DeviceRegistry, type IssuedDevice } from '#libs/devices';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';

const DEVICES = Number(process.env.BENCH_FAULT_DEVICES ?? 1000);
const REPORTS_PER_DEVICE = Number(process.env.BENCH_FAULT_REPORTS ?? 20);
const FLOOR = 0.25;

interface Run {
  label: string;
  done: number;
  seconds: number;
  latencies: number[];
}

/**
 * Fault ingestion: 1,000 appliances each send 20 QoS 1 fault reports, one
 * at a time (the next once the previous is answered), so 1,000 are in work
 * at once. Half of the owners grant `fault_diagnostics`. Measured end to
 * end: from the device's PUBLISH to the device receiving its
 * `devices/<sn>/faults/ack`, which goes out only after the report is
 * committed. Then the same messages through a bare Aedes (no auth, no ACL,
 * nothing stored) to one QoS 1 subscriber: PUBLISH to delivery. The broker
 * and fault-feedback run in a process each, as in production; the bare Aedes
 * in its own.
 */
export const faultIngestion: BenchSection = {
  name: 'fault-ingestion',
  description: `${DEVICES} devices x ${REPORTS_PER_DEVICE} QoS 1 fault reports, acked after commit, vs bare Aedes pub->sub`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase();
        try {
      const devices = await registerDevices(database.url, DEVICES);
      await createOwners(database.url, devices);
      const payloads = devices.map(() => Array.from({ length: REPORTS_PER_DEVICE }, () => newReport()));

      const broker = await startChild('fault-backend-worker.js', ['broker', database.url]);
      const brokerUrl = `mqtt://127.0.0.1:${(broker.message as { mqtt: number }).mqtt}`;
      let ingestion: Run;
      try {
        const service = await startChild('fault-backend-worker.js', ['faults', database.url, brokerUrl]);
        try {
          ingestion = await closedLoop('fault-feedback', brokerUrl, devices, payloads, 'ack');
        } finally {
          await stopChild(service.child);
        }
      } finally {
        await stopChild(broker.child);
      }
      const stored = await countStored(database.url);

      const bare = await startChild('broker-worker.js', ['bare']);
      let pubsub: Run;
      try {
        pubsub = await closedLoop('bare Aedes', `mqtt://127.0.0.1:${(bare.message as { port: number }).port}`, devices, payloads, 'subscriber');
      } finally {
        await stopChild(bare.child);
      }

      const rate = (run: Run) => run.done / run.seconds;
      const ratio = rate(ingestion) / rate(pubsub);
      const row = (run: Run, what: string) => [run.label, what, String(run.done), rate(run).toFixed(0), pct(run.latencies, 50), pct(run.latencies, 99)];
      return {
        table: [
          ['path', 'measured', 'messages', 'per second', 'p50 ms', 'p99 ms'],
          row(ingestion, 'publish -> faults/ack (after commit)'),
          row(pubsub, 'publish -> delivery to a subscriber'),
        ],
        notes: [
          `stored: ${stored.full} full, ${stored.deidentified} de-identified (of ${DEVICES * REPORTS_PER_DEVICE})`,
          `ratio fault-feedback / bare: ${ratio.toFixed(2)} (floor ${FLOOR}) ${ratio >= FLOOR ? 'OK' : 'BELOW FLOOR'}`,
        ],
      };
    } finally {
      await database.close();
    }
  },
};

function newReport(): string {
  return JSON.stringify({
    reportId: randomUUID(),
    code: `E${Math.floor(Math.random() * 20)}`,
    severity: 'warning',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    firmware: '2.0.1',
    diagnostics: { mac: '02:00:00:00:00:01', routerMac: '02:00:00:00:00:02', wifiName: 'bench-wifi', rssi: -60, ip: '192.168.1.2' },
  });
}

/**
 * Every device sends its reports one after another, all devices at once;
 * `ack` waits for the device's faults/ack, `subscriber` for one QoS 1
 * subscriber to receive the message.
 */
async function closedLoop(label: string, url: string, devices: IssuedDevice[], payloads: string[][], until: 'ack' | 'subscriber'): Promise<Run> {
  const waiting = new Map<string, () => void>();
  const answered = (payload: Buffer) => {
    const reportId = (JSON.parse(payload.toString('utf8')) as { reportId: string }).reportId;
    waiting.get(reportId)?.();
    waiting.delete(reportId);
  };
  const clients: MqttClient[] = [];
  let subscriber: MqttClient | undefined;
  try {
    if (until === 'subscriber') {
      subscriber = await mqtt.connectAsync(url, { clientId: 'bench-subscriber', reconnectPeriod: 0 });
      subscriber.on('message', (_topic, payload) => answered(payload));
      await subscriber.subscribeAsync(topicPatterns.faults, { qos: 1 });
    }
    process.stderr.write(`fault-ingestion: connecting ${devices.length} devices to ${label}\n`);
    await inParallel(devices, 100, async (device) => {
      const client = await mqtt.connectAsync(url, { clientId: device.sn, username: device.sn, password: device.deviceSecret, reconnectPeriod: 0, keepalive: 120 });
      if (until === 'ack') {
        client.on('message', (_topic, payload) => answered(payload));
        await client.subscribeAsync(topics.faultsAck(device.sn), { qos: 1 });
      }
      clients.push(client);
    });
    const bySn = new Map(clients.map((client) => [client.options.clientId!, client]));
    // Not timed: one report from the first device, answered, proves the path is up (the consumer subscribed).
    await answerOf(bySn.get(devices[0].sn)!, devices[0].sn, newReport(), waiting, label);
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      devices.map(async (device, index) => {
        const client = bySn.get(device.sn)!;
        for (const payload of payloads[index]) {
          const begin = performance.now();
          await answerOf(client, device.sn, payload, waiting, label);
          latencies.push(performance.now() - begin);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { label, done: latencies.length, seconds, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    await Promise.all([...clients, ...(subscriber ? [subscriber] : [])].map((client) => client.endAsync().catch(() => undefined)));
  }
}

/** Publishes one report at QoS 1 and resolves when its answer (ack or delivery) is seen. */
function answerOf(client: MqttClient, sn: string, payload: string, waiting: Map<string, () => void>, label: string): Promise<void> {
  const reportId = (JSON.parse(payload) as { reportId: string }).reportId;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no answer for a report in 60 s`)), 60_000);
    waiting.set(reportId, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.publish(topics.faults(sn), payload, { qos: 1 });
  return done;
}

function pct(sorted: number[], p: number): string {
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return value === undefined ? '' : value.toFixed(1);
}

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

async function sql<T = Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * One owner per device; every other owner grants fault_diagnostics. Written
 * straight into a throw-away database (accounts, the consent state the
 * writer reads, bindings): the bench measures ingestion, not sign-up.
 */
async function createOwners(url: string, devices: IssuedDevice[]): Promise<void> {
  const ids = await sql<{ id: string }>(url, `INSERT INTO users (roles) SELECT '{user}' FROM generate_series(1, $1) RETURNING id`, [devices.length]);
  const owners = ids.map((row) => row.id);
  await sql(
    url,
    `INSERT INTO consent_state (subject_id, purpose, granted, policy_version, at, event_seq)
     SELECT id, 'service', true, '2020-01', now(), 1 FROM unnest($1::uuid[]) AS id
     UNION ALL
     SELECT id, 'fault_diagnostics', true, '2020-01', now(), 2 FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, n) WHERE n % 2 = 0`,
    [owners],
  );
  await sql(url, `INSERT INTO device_bindings (sn, owner_id) SELECT * FROM unnest($1::varchar[], $2::uuid[])`, [devices.map((device) => device.sn), owners]);
}

async function countStored(url: string): Promise<{ full: number; deidentified: number }> {
  const rows = await sql<{ stored: 'full' | 'deidentified'; count: number }>(url, 'SELECT stored, count(*)::int AS count FROM fault_reports GROUP BY stored');
  return { full: rows.find((row) => row.stored === 'full')?.count ?? 0, deidentified: rows.find((row) => row.stored === 'deidentified')?.count ?? 0 };
}

async function registerDevices(url: string, count: number): Promise<IssuedDevice[]> {
  const config = loadConfig({ env: { NODE_ENV: 'test' } });
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  try {
    const registry = new DeviceRegistry(dataSource, new CredentialHasher(config.devices.secretKey), { notify: async () => undefined });
    const run = Date.now().toString(36).toUpperCase();
    const rows = Array.from({ length: count }, (_, index) => ({
      sn: `FAULT-${run}-${index}`,
      mac: `02:02:${index.toString(16).padStart(8, '0').toUpperCase().match(/../g)!.join(':')}`,
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
    process.stderr.write('bench: using DATABASE_URL (it gets bench devices with FAULT- SNs, bench accounts and fault reports)\n');
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

async function startChild(script: string, args: string[]): Promise<{ child: ChildProcess; message: unknown }> {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', script);
  const child = fork(path, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'test' } });
  const message = await new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, message };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}
