import type { ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { cpus } from 'node:os';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import type { BenchResult, BenchSection } from '../section.js';
import {
  cpuPerUnit,
  cpuSample,
  createOwners,
  inParallel,
  openDatabase,
  percentile,
  profiledInto,
  registerDevices,
  sql,
  startWorker,
  stopWorker,
} from '../support.js';

const DEVICES = Number(process.env.BENCH_TELEMETRY_DEVICES ?? 2000);
const MESSAGES = Number(process.env.BENCH_TELEMETRY_MESSAGES ?? 10);
const READINGS_PER_MESSAGE = Number(process.env.BENCH_TELEMETRY_BATCH ?? 50);
/** The second, smaller run: the same devices reporting a few readings a message, as appliances reporting once a minute would. */
const SMALL_BATCH = 4;
const SMALL_MESSAGES = Math.max(1, Math.round((MESSAGES * READINGS_PER_MESSAGE) / SMALL_BATCH / 5));
const POLL_MS = 20;
const FLOOR_RATIO = 0.5;
const FLOOR_RATE = 50_000;

interface Run {
  label: string;
  readings: number;
  messages: number;
  seconds: number;
  /** Publish to queryable, ms, ascending. */
  latencies: number[];
  /** CPU microseconds per reading, by process. */
  cpu: Array<[string, number]>;
}

/**
 * Telemetry ingestion: 2,000 HT1 water heaters, each owned (half the owners
 * grant product_improvement, so half the readings also enter the maker's
 * statistics), send 10 messages of 50 readings (water_temp and energy) at
 * QoS 1, one after another: the next once the previous is queryable, so
 * 2,000 messages (100,000 readings) are in work at once. "Queryable" is
 * seen by polling the series' newest reading time every 20 ms (it commits
 * with the readings, rollups and statistics). The broker and provisioning run
 * in a process each, as in production (BENCH_CPU_PROF=<dir> profiles
 * provisioning). Then, in the same run, the baseline: the rows of the
 * 50-reading run (the same count, the same partitions and indexes, emptied
 * by TRUNCATE), COPYed back in the same binary format: one plain COPY (the
 * floor's baseline), and two at once (what both cores take).
 */
export const telemetryIngestion: BenchSection = {
  name: 'telemetry-ingestion',
  description: `${DEVICES} devices x ${MESSAGES} messages of ${READINGS_PER_MESSAGE} readings (QoS 1), publish -> queryable, vs COPY of the same rows`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('it gets bench devices with TEL- SNs, bench accounts and their readings');
    try {
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'TEL', macPrefix: '02:03', model: 'HT1' });
      await createOwners(database.url, devices, 'product_improvement');
      const broker = await startWorker<{ mqtt: number }>('fault-backend-worker.js', ['broker', database.url]);
      const brokerUrl = `mqtt://127.0.0.1:${broker.message.mqtt}`;
      let large: Run;
      /** The first reading's time: the measured run's readings are in the hour after it, the smaller run's in the next. */
      let start: number;
      let small: Run;
      try {
        const profile = process.env.BENCH_CPU_PROF;
        const service = await startWorker('fault-backend-worker.js', ['provisioning', database.url, brokerUrl], profiledInto(profile));
        try {
          const clients = await connectAll(brokerUrl, devices);
          try {
            start = Date.now() - 6 * 3600_000;
            const workers = { broker: broker.child, provisioning: service.child };
            large = await closedLoop(
              '50 readings a message',
              database.url,
              clients,
              devices,
              MESSAGES,
              READINGS_PER_MESSAGE,
              start,
              workers,
            );
            small = await closedLoop(
              `${SMALL_BATCH} readings a message`,
              database.url,
              clients,
              devices,
              SMALL_MESSAGES,
              SMALL_BATCH,
              start + 3600_000,
              workers,
            );
          } finally {
            await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
          }
        } finally {
          await stopWorker(service.child);
        }
      } finally {
        await stopWorker(broker.child);
      }
      const stored = await storedFigures(database.url);
      const copy = await copyBaseline(database.url, start + 3600_000);
      const rate = (run: Run) => run.readings / run.seconds;
      const ratio = rate(large) / copy.oneStream;
      const perMillion = (bytes: number) => ((bytes / stored.readings) * 1e6) / 1048576;
      const ms = (run: Run, p: number) => percentile(run.latencies, p)?.toFixed(0) ?? '';
      const row = (run: Run) => [
        run.label,
        String(run.readings),
        rate(run).toFixed(0),
        (run.messages / run.seconds).toFixed(0),
        ms(run, 50),
        ms(run, 99),
      ];
      const verdict = (met: boolean) => (met ? 'OK' : 'BELOW FLOOR');
      return {
        table: [
          ['path', 'readings', 'readings/s', 'messages/s', 'p50 ms publish -> queryable', 'p99 ms'],
          row(large),
          row(small),
          [`baseline: COPY, 1 stream`, String(copy.rows), copy.oneStream.toFixed(0), '', '', ''],
          [`baseline: COPY, 2 streams`, String(copy.rows), copy.twoStreams.toFixed(0), '', '', ''],
        ],
        notes: [
          `stored: ${stored.readings} readings, ${stored.rollups} rollup rows, ${stored.aggregates} statistics buckets (of ${DEVICES * (MESSAGES * READINGS_PER_MESSAGE + SMALL_MESSAGES * SMALL_BATCH)} sent)`,
          `size per million readings: ${perMillion(stored.bytes).toFixed(1)} MiB (table ${perMillion(stored.heapBytes).toFixed(1)} MiB, indexes ${perMillion(stored.bytes - stored.heapBytes).toFixed(1)} MiB); rollups ${perMillion(stored.rollupBytes).toFixed(1)} MiB`,
          `ratio ingestion / plain COPY (one stream): ${ratio.toFixed(2)} (floor ${FLOOR_RATIO}) ${verdict(ratio >= FLOOR_RATIO)}; ` +
            `against two COPY streams at once: ${(rate(large) / copy.twoStreams).toFixed(2)}; ` +
            `${rate(large).toFixed(0)} readings/s (floor ${FLOOR_RATE}) ${verdict(rate(large) >= FLOOR_RATE)}`,
          cpuNote(large, copy.cpu, copy.oneStream),
          paperNote(rate(large), small.messages / small.seconds, perMillion(stored.bytes)),
        ],
      };
    } finally {
      await database.close();
    }
  },
};

async function connectAll(url: string, devices: IssuedDevice[]): Promise<MqttClient[]> {
  process.stderr.write(`telemetry-ingestion: connecting ${devices.length} devices\n`);
  const clients: MqttClient[] = [];
  await inParallel(devices, 100, async (device) => {
    clients.push(
      await mqtt.connectAsync(url, {
        clientId: device.sn,
        username: device.sn,
        password: device.deviceSecret,
        reconnectPeriod: 0,
        keepalive: 300,
      }),
    );
  });
  const bySn = new Map(clients.map((client) => [client.options.clientId!, client]));
  return devices.map((device) => bySn.get(device.sn)!);
}

/** Message `k` of a device: `size` readings one second apart, alternating the heater's two history points. */
function message(k: number, size: number, start: number): { payload: string; newest: number } {
  const readings = Array.from({ length: size }, (_, index) => {
    const at = start + (k * size + index) * 1000;
    return index % 2 === 0
      ? { point: 'water_temp', at: new Date(at).toISOString(), value: Math.round((30 + Math.random() * 40) * 10) / 10 }
      : { point: 'energy', at: new Date(at).toISOString(), value: k * size + index };
  });
  return { payload: JSON.stringify({ readings }), newest: start + (k * size + size - 1) * 1000 };
}

/**
 * Every device publishes its messages one after another, the next once the previous is queryable
 * (its series' newest time has reached the message's newest reading), all devices at once.
 */
async function closedLoop(
  label: string,
  url: string,
  clients: MqttClient[],
  devices: IssuedDevice[],
  messages: number,
  size: number,
  start: number,
  workers: Record<string, ChildProcess>,
): Promise<Run> {
  process.stderr.write(`telemetry-ingestion: ${label}\n`);
  /** Per device, its messages not yet queryable, oldest first. */
  const waiting = new Map<string, Array<{ newest: number; done: () => void }>>();
  const poller = new pg.Client({ connectionString: url });
  await poller.connect();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const begun = Date.now();
      if (waiting.size > 0) {
        // Only series that may satisfy a waiter, their time as a number: what polling costs this process and
        // PostgreSQL is taken from the ingestion it measures, so it is kept small.
        let oldest = Infinity;
        for (const waits of waiting.values()) oldest = Math.min(oldest, waits[0].newest);
        const rows = (
          await poller.query(
            `SELECT sn, (extract(epoch FROM max(last_at)) * 1000)::float8 AS newest FROM telemetry_series
              WHERE last_at >= to_timestamp($1::float8 / 1000) GROUP BY sn`,
            [oldest],
          )
        ).rows as Array<{ sn: string; newest: number }>;
        for (const row of rows) {
          const waits = waiting.get(row.sn);
          while (waits && waits.length > 0 && row.newest >= waits[0].newest) waits.shift()!.done();
          if (waits?.length === 0) waiting.delete(row.sn);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_MS - (Date.now() - begun))));
    }
  })();
  const queryable = (sn: string, newest: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`telemetry-ingestion: ${sn} not queryable in 120 s`)), 120_000);
      const waits = waiting.get(sn) ?? [];
      waiting.set(sn, waits);
      waits.push({
        newest,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  try {
    // Not timed: one message of the first device, queryable, proves the path is up (the consumer subscribed).
    const warm = message(messages + 1000, 2, start);
    const first = queryable(devices[0].sn, warm.newest);
    clients[0].publish(topics.telemetry(devices[0].sn), warm.payload, { qos: 1 });
    await first;
    // Payloads are made before the clock starts: what an appliance spends building them is not the backend's time.
    const payloads = devices.map(() => Array.from({ length: messages }, (_, k) => message(k, size, start)));
    const latencies: number[] = [];
    const cpuBefore = cpuSample(workers);
    const began = performance.now();
    await Promise.all(
      devices.map(async (device, index) => {
        for (let k = 0; k < messages; k += 1) {
          const next = payloads[index][k];
          const sent = performance.now();
          const done = queryable(device.sn, next.newest);
          clients[index].publish(topics.telemetry(device.sn), next.payload, { qos: 1 });
          await done;
          latencies.push(performance.now() - sent);
        }
      }),
    );
    const seconds = (performance.now() - began) / 1000;
    const cpu = cpuPerUnit(cpuBefore, cpuSample(workers), devices.length * messages * size);
    return {
      cpu,
      label,
      readings: devices.length * messages * size,
      messages: devices.length * messages,
      seconds,
      latencies: latencies.sort((a, b) => a - b),
    };
  } finally {
    polling = false;
    await poll;
    await poller.end();
  }
}

async function storedFigures(url: string) {
  const [row] = await sql<Record<string, string>>(
    url,
    `SELECT (SELECT count(*) FROM telemetry_readings) AS readings,
            (SELECT COALESCE(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'telemetry_readings'::regclass) AS bytes,
            (SELECT COALESCE(sum(pg_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'telemetry_readings'::regclass) AS heap,
            (SELECT count(*) FROM telemetry_rollups) AS rollups,
            pg_total_relation_size('telemetry_rollups') AS rollup_bytes,
            (SELECT count(*) FROM telemetry_aggregates) AS aggregates`,
  );
  return {
    readings: Number(row.readings),
    bytes: Number(row.bytes),
    heapBytes: Number(row.heap),
    rollups: Number(row.rollups),
    rollupBytes: Number(row.rollup_bytes),
    aggregates: Number(row.aggregates),
  };
}

/**
 * The baseline: the rows the measured run stored (readings before `until`), read out, the table emptied
 * (TRUNCATE keeps its partitions and indexes), and the same rows COPYed back in, in the binary format the
 * ingestion writes: one stream, then the same rows split in two streams at once.
 */
async function copyBaseline(
  url: string,
  until: number,
): Promise<{ rows: number; oneStream: number; twoStreams: number; cpu: Array<[string, number]> }> {
  const columns = 'series_id, at, owner_id, value_num, value_text, value_bool';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const read = async (where: string) => {
      const chunks: Buffer[] = [];
      const out = client.query(
        copyTo(
          `COPY (SELECT ${columns} FROM telemetry_readings WHERE at < '${new Date(until).toISOString()}' AND ${where}) TO STDOUT (FORMAT binary)`,
        ),
      );
      for await (const chunk of out) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const [row] = (await client.query(`SELECT count(*)::int AS rows FROM telemetry_readings WHERE at < $1`, [new Date(until)]))
      .rows as Array<{
      rows: number;
    }>;
    const all = await read('true');
    const halves = [await read('series_id % 2 = 0'), await read('series_id % 2 = 1')];
    const copyInto = async (connection: pg.Client, body: Buffer) => {
      const stream = connection.query(copyFrom(`COPY telemetry_readings (${columns}) FROM STDIN (FORMAT binary)`));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.end(body);
      });
    };
    const timed = async (work: () => Promise<void>) => {
      await client.query('TRUNCATE telemetry_readings');
      await client.query('CHECKPOINT');
      const began = performance.now();
      await work();
      return row.rows / ((performance.now() - began) / 1000);
    };
    process.stderr.write(`telemetry-ingestion: COPY baseline, ${row.rows} rows\n`);
    const cpuBefore = cpuSample({});
    const oneStream = await timed(() => copyInto(client, all));
    const cpu = cpuPerUnit(cpuBefore, cpuSample({}), row.rows);
    const second = new pg.Client({ connectionString: url });
    await second.connect();
    let twoStreams: number;
    try {
      twoStreams = await timed(async () => {
        await Promise.all([copyInto(client, halves[0]), copyInto(second, halves[1])]);
      });
    } finally {
      await second.end();
    }
    return { rows: row.rows, oneStream, twoStreams, cpu };
  } finally {
    await client.end();
  }
}

/**
 * Where the CPU went, per reading, beside what the floor allows: every process here shares the
 * machine's cores, so at half the COPY rate all of them together may spend at most
 * cores / (0.5 x COPY rate) per reading.
 */
function cpuNote(run: Run, copyCpu: Array<[string, number]>, copyRate: number): string {
  if (run.cpu.length === 0) return 'CPU per reading: not measured (no /proc here)';
  const total = run.cpu.reduce((sum, [, us]) => sum + us, 0);
  const budget = (cpus().length * 1e6) / (FLOOR_RATIO * copyRate);
  const copyPostgres = copyCpu.find(([name]) => name === 'PostgreSQL')?.[1];
  return (
    `CPU per reading (${run.label}), microseconds: ${run.cpu.map(([name, us]) => `${name} ${us.toFixed(1)}`).join(', ')}; ` +
    `${total.toFixed(1)} in all. The floor's rate on ${cpus().length} cores leaves ${budget.toFixed(1)} for all of them together` +
    (copyPostgres === undefined ? '.' : `; the plain COPY took PostgreSQL ${copyPostgres.toFixed(1)} per row.`)
  );
}

/** A million appliances reporting once a minute, on paper, from this run's figures. */
function paperNote(readingsPerSecond: number, smallMessagesPerSecond: number, mibPerMillion: number): string {
  const appliances = 1_000_000;
  const points = 4;
  const messagesPerSecond = appliances / 60;
  const readingsPerSecondNeeded = messagesPerSecond * points;
  const perDay = (appliances * points * 1440) / 1e6;
  const rawTiB = (perDay * 30 * mibPerMillion) / 1048576;
  return (
    `On paper, 1,000,000 appliances sending ${points} readings once a minute: ${messagesPerSecond.toFixed(0)} messages/s, ${readingsPerSecondNeeded.toFixed(0)} readings/s ` +
    `(${((100 * readingsPerSecondNeeded) / readingsPerSecond).toFixed(0)}% of what this run stored in 50-reading messages). ` +
    `${SMALL_BATCH}-reading messages ran at ${smallMessagesPerSecond.toFixed(0)}/s, so the message rate needs about ${Math.ceil(messagesPerSecond / smallMessagesPerSecond)} ` +
    `such machines' worth of broker and provisioning, split by SN. Raw readings: ${perDay.toFixed(0)} million a day, ${rawTiB.toFixed(1)} TiB for 30 days ` +
    `at ${mibPerMillion.toFixed(0)} MiB per million, each day's partition dropped whole.`
  );
}
