import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';
import { inParallel, openDatabase, percentile, registerDevices, signIn, sql, startWorker, stopWorker } from '../support.js';

const DEVICES = Number(process.env.BENCH_STATE_DEVICES ?? 1000);
const RATE = Number(process.env.BENCH_STATE_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_STATE_SECONDS ?? 10);
const POLL_MS = 10;
const FLOOR_P99_MS = 300;
const OWNER_PHONE = '+8613900009997';

/**
 * State round trip: 1,000 HT1 heaters connected, each applying its desired
 * state at once and reporting the version (as `npm run device:sim -- --state
 * apply` does); 100 control requests a second from the HTTP side for 10 s,
 * each to another heater, each timed from the PUT until GET
 * /v1/devices/:sn/state shows that version applied (polled every 10 ms).
 * The whole backend runs in one process beside this one.
 */
export const stateRoundTrip: BenchSection = {
  name: 'state-round-trip',
  description: `${DEVICES} connected heaters, ${RATE} control requests/s for ${SECONDS} s, PUT desired -> GET shows it applied`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('it gets bench devices with ST- SNs, a bench account and its control requests');
    const dataDir = await mkdtemp(join(tmpdir(), 'bench-state-'));
    try {
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'ST', macPrefix: '02:05', model: 'HT1' });
      const started = await startWorker<{ provisioningHttp: number; mqtt: number }>('ota-backend-worker.js', [
        database.url,
        dataDir,
        OWNER_PHONE,
        '[]',
      ]);
      const clients: MqttClient[] = [];
      try {
        const http = `http://127.0.0.1:${started.message.provisioningHttp}`;
        const token = await signIn(http, dataDir, OWNER_PHONE);
        const owner = { id: (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { sub: string }).sub };
        await sql(database.url, `INSERT INTO device_bindings (sn, owner_id) SELECT sn, $2 FROM unnest($1::varchar[]) AS sn`, [
          devices.map((device) => device.sn),
          owner.id,
        ]);
        process.stderr.write(`state-round-trip: connecting ${devices.length} heaters\n`);
        await inParallel(devices, 100, async (device) => {
          clients.push(await heater(`mqtt://127.0.0.1:${started.message.mqtt}`, device));
        });
        const latencies: number[] = [];
        let failed = 0;
        const total = RATE * SECONDS;
        const begin = Date.now();
        const requests: Array<Promise<void>> = [];
        for (let index = 0; index < total; index += 1) {
          const due = begin + (index * 1000) / RATE;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          const sn = devices[index % devices.length].sn;
          requests.push(
            roundTrip(http, token, sn, index).then(
              (ms) => void latencies.push(ms),
              () => void (failed += 1),
            ),
          );
        }
        await Promise.all(requests);
        const seconds = (Date.now() - begin) / 1000;
        latencies.sort((a, b) => a - b);
        const p = (q: number) => percentile(latencies, q)?.toFixed(0) ?? '';
        const p99 = percentile(latencies, 99) ?? Infinity;
        return {
          table: [
            ['heaters connected', 'requests', 'requests/s sent', 'applied', 'p50 ms PUT -> GET applied', 'p99 ms', 'max ms'],
            [
              String(clients.length),
              String(total),
              (total / seconds).toFixed(0),
              String(latencies.length),
              p(50),
              p(99),
              latencies.length ? latencies[latencies.length - 1].toFixed(0) : '',
            ],
          ],
          notes: [
            `p99 ${p99.toFixed(0)} ms (floor: under ${FLOOR_P99_MS} ms) ${p99 < FLOOR_P99_MS && failed === 0 ? 'OK' : 'BELOW FLOOR'}; failed ${failed}`,
          ],
        };
      } finally {
        await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
        await stopWorker(started.child);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await database.close();
    }
  },
};

/** A heater that applies each desired state at once and reports the version. */
async function heater(url: string, device: IssuedDevice): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    clientId: device.sn,
    username: device.sn,
    password: device.deviceSecret,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
  });
  client.on('message', (topic, payload) => {
    if (topic !== topics.stateDesired(device.sn) || payload.length === 0) return;
    const desired = JSON.parse(payload.toString()) as { version: number; values: Record<string, unknown> };
    void client
      .publishAsync(topics.stateReported(device.sn), JSON.stringify({ values: desired.values, version: desired.version }), { qos: 1 })
      .catch(() => undefined);
  });
  await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
  return client;
}

async function roundTrip(http: string, token: string, sn: string, index: number): Promise<number> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const start = performance.now();
  const put = await fetch(`${http}/v1/devices/${sn}/state/desired`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ values: { power: index % 2 === 0, target_temp: 30 + (index % 46) } }),
  });
  if (put.status !== 202) throw new Error(`PUT answered ${put.status}`);
  const { version } = (await put.json()) as { version: number };
  for (;;) {
    const state = (await (await fetch(`${http}/v1/devices/${sn}/state`, { headers })).json()) as {
      desired: { version: number; status: string } | null;
    };
    if (state.desired && state.desired.version >= version && state.desired.status === 'applied') return performance.now() - start;
    if (performance.now() - start > 30_000) throw new Error('not applied in 30 s');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
