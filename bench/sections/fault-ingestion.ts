import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '#libs/config';
import type { IssuedDevice } from '#libs/devices';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { EventBusTopology } from '#libs/platform';
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

const DEVICES = Number(process.env.BENCH_FAULT_DEVICES ?? 1000);
const REPORTS_PER_DEVICE = Number(process.env.BENCH_FAULT_REPORTS ?? 20);
const FLOOR = 0.5;
const P99_CEILING_MS = 250;
/** RabbitMQ for the layouts with the event bus; without it they are left out, with a note. */
const EVENT_BUS_URL = process.env.BENCH_EVENT_BUS_URL ?? process.env.TEST_EVENT_BUS_URL;
const BUS_FLOOR = 0.35;
/** The event bus settings the workers load (fault-backend-worker.ts): the partitions, and their queues to delete. */
const BUS = loadConfig({ env: { NODE_ENV: 'test' } }).eventBus;

/** The reports of each device for the two timed passes: from a process that has done next to nothing, then warm. */
interface Passes {
  cold: string[][];
  warm: string[][];
}

/** One layout's two timed passes, in one process and over the same connections. */
interface Timed {
  cold: Run;
  warm: Run;
}

interface Run {
  label: string;
  done: number;
  /** Reports sent before the timing started (the check that the path is up, warm-up rounds). */
  untimed: number;
  seconds: number;
  latencies: number[];
  /** CPU microseconds per message, by process. */
  cpu: Array<[string, number]>;
}

/**
 * Fault ingestion: 1,000 appliances each send 20 QoS 1 fault reports, one
 * at a time (the next once the previous is answered), so 1,000 are in work
 * at once. Half of the owners grant `fault_diagnostics`. Measured end to
 * end: from the device's PUBLISH to the device receiving its
 * `devices/<sn>/faults/ack`, which goes out only after the report is
 * committed. Then the same messages through a bare Aedes (no auth, no ACL,
 * nothing stored) to one QoS 1 subscriber: PUBLISH to delivery. Layout (a)
 * is `npm start`'s: the broker and fault-feedback in one process, each report
 * handed from the broker's authorizePublish to the handler in memory (the
 * device's PUBACK waits for the commit); the bare Aedes runs in its own.
 * Each layout, the bare Aedes included, is timed twice over the same
 * connections: first from a process that has handled one report, then warm
 * with fresh reports; the floors are judged warm, the cold figures beside.
 */
export const faultIngestion: BenchSection = {
  name: 'fault-ingestion',
  description: `${DEVICES} devices x ${REPORTS_PER_DEVICE} QoS 1 fault reports, acked after commit, vs bare Aedes pub->sub`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('it gets bench devices with FAULT- SNs, bench accounts and fault reports');
    try {
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'FAULT', macPrefix: '02:02' });
      await createOwners(database.url, devices, 'fault_diagnostics');
      const payloads = newPasses(devices);

      // Layout (a), `npm start`: broker and fault-feedback in one process, device messages handed over in memory.
      const profile = process.env.BENCH_CPU_PROF;
      const backend = await startWorker<{ mqtt: number }>('fault-backend-worker.js', ['in-process', database.url], profiledInto(profile));
      let ingestion: Timed;
      try {
        ingestion = await closedLoop('(a) in-process', `mqtt://127.0.0.1:${backend.message.mqtt}`, devices, payloads, 'ack', {
          backend: backend.child,
        });
      } finally {
        await stopWorker(backend.child);
      }
      const viaBus: Timed[] = [];
      if (EVENT_BUS_URL) {
        for (const replicas of [1, 2]) viaBus.push(await busLayout(database.url, devices, newPasses(devices), replicas));
      }
      const stored = await countStored(database.url);

      const bare = await startWorker<{ port: number }>('broker-worker.js', ['bare']);
      let pubsub: Timed;
      try {
        pubsub = await closedLoop('bare Aedes', `mqtt://127.0.0.1:${bare.message.port}`, devices, payloads, 'subscriber', {
          'bare Aedes': bare.child,
        });
      } finally {
        await stopWorker(bare.child);
      }

      const rate = (run: Run) => run.done / run.seconds;
      const ratio = (of: Timed, pass: keyof Timed) => rate(of[pass]) / rate(pubsub[pass]);
      const p99 = (run: Run) => percentile(run.latencies, 99) ?? Infinity;
      const ms = (run: Run, p: number) => percentile(run.latencies, p)?.toFixed(1) ?? '';
      const row = (run: Run, what: string) => [run.label, what, String(run.done), rate(run).toFixed(0), ms(run, 50), ms(run, 99)];
      const rows = (timed: Timed, what: string) => [row(timed.cold, what), row(timed.warm, what)];
      const verdict = (met: boolean, failed: string) => (met ? 'OK' : failed);
      const all = [ingestion, ...viaBus];
      return {
        table: [
          ['path', 'measured', 'messages', 'per second', 'p50 ms', 'p99 ms'],
          ...rows(ingestion, 'publish -> faults/ack (after commit)'),
          ...viaBus.flatMap((timed) => rows(timed, 'publish -> RabbitMQ -> faults/ack (after commit)')),
          ...rows(pubsub, 'publish -> delivery to a subscriber'),
        ],
        notes: [
          `stored: ${stored.full} full, ${stored.deidentified} de-identified (of ${all.reduce((sum, { cold, warm }) => sum + cold.done + cold.untimed + warm.done, 0)}, the untimed ones included)`,
          'floors are judged on the warm passes (each layout and the bare Aedes timed twice in one process, the second time warm), the cold passes beside them',
          `ratio (a) in-process / bare, warm: ${ratio(ingestion, 'warm').toFixed(2)} (floor ${FLOOR}) ${verdict(ratio(ingestion, 'warm') >= FLOOR, 'BELOW FLOOR')}; from cold: ${ratio(ingestion, 'cold').toFixed(2)}`,
          `p99 (a) in-process, warm: ${ms(ingestion.warm, 99)} ms (ceiling ${P99_CEILING_MS}) ${verdict(p99(ingestion.warm) < P99_CEILING_MS, 'ABOVE CEILING')}; from cold: ${ms(ingestion.cold, 99)} ms`,
          ...viaBus.map((timed, index) => {
            const floor = index === 0 ? ` (floor ${BUS_FLOOR}) ${verdict(ratio(timed, 'warm') >= BUS_FLOOR, 'BELOW FLOOR')}` : '';
            return `ratio ${timed.warm.label} / bare: ${ratio(timed, 'warm').toFixed(2)}${floor}; from cold: ${ratio(timed, 'cold').toFixed(2)}`;
          }),
          `CPU per message in the warm passes, microseconds (from /proc; PostgreSQL is its server and backends): ` +
            [...all, pubsub]
              .map(({ warm }) => warm)
              .filter((run) => run.cpu.length > 0)
              .map((run) => `${run.label}: ${run.cpu.map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')}`)
              .join('; '),
          ...(EVENT_BUS_URL ? [] : ['event bus layouts left out: set BENCH_EVENT_BUS_URL (amqp://...) to run them']),
        ],
      };
    } finally {
      await database.close();
    }
  },
};

/**
 * Broker and fault-feedback replicas in processes of their own, with RabbitMQ
 * between them (EVENT_BUS_URL), on queues of a prefix of this run that are
 * deleted afterwards. The replicas start together, so single active consumer
 * spreads the partitions over them.
 */
async function busLayout(databaseUrl: string, devices: IssuedDevice[], payloads: Passes, replicas: number): Promise<Timed> {
  const queuePrefix = `bench${randomBytes(4).toString('hex')}`;
  const bus = [EVENT_BUS_URL!, queuePrefix];
  const label = `fault-feedback x${replicas}, RabbitMQ`;
  try {
    const broker = await startWorker<{ mqtt: number }>('fault-backend-worker.js', ['broker', databaseUrl, '', ...bus]);
    const brokerUrl = `mqtt://127.0.0.1:${broker.message.mqtt}`;
    try {
      const services = await Promise.all(
        Array.from({ length: replicas }, () =>
          startWorker<{ http: number }>('fault-backend-worker.js', ['faults', databaseUrl, brokerUrl, ...bus]),
        ),
      );
      try {
        const workers = {
          broker: broker.child,
          ...Object.fromEntries(services.map((service, index) => [`fault-feedback ${index + 1}`, service.child])),
        };
        // Timed once the replicas share the partitions evenly (they hand partitions on only after some seconds of work).
        const shared = async () => {
          const active = await Promise.all(services.map((service) => partitionsActive(service.message.http)));
          return active.every((count) => count === BUS.partitions / replicas);
        };
        return await closedLoop(label, brokerUrl, devices, payloads, 'ack', workers, {
          warmUntil: replicas > 1 ? shared : undefined,
          rabbitMq: true,
        });
      } finally {
        await Promise.all(services.map((service) => stopWorker(service.child)));
      }
    } finally {
      await stopWorker(broker.child);
    }
  } finally {
    await deleteQueues(queuePrefix);
  }
}

/** A fault-feedback replica's event_bus_partitions_active, from its /metrics. */
async function partitionsActive(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return Number(/^event_bus_partitions_active (\d+)$/m.exec(text)?.[1] ?? 0);
}

async function deleteQueues(queuePrefix: string): Promise<void> {
  const connection = await amqpConnect(EVENT_BUS_URL!);
  try {
    await new EventBusTopology({ ...BUS, queuePrefix }).remove(await connection.createChannel());
  } finally {
    await connection.close();
  }
}

function newPasses(devices: IssuedDevice[]): Passes {
  const reports = () => devices.map(() => Array.from({ length: REPORTS_PER_DEVICE }, () => newReport()));
  return { cold: reports(), warm: reports() };
}

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
async function closedLoop(
  label: string,
  url: string,
  devices: IssuedDevice[],
  payloads: Passes,
  until: 'ack' | 'subscriber',
  workers: Record<string, ChildProcess>,
  options: {
    /** Untimed rounds of one report per device first, until this says the layout is settled (at most 60 s). */
    warmUntil?: () => Promise<boolean>;
    /** The layout goes through the machine's RabbitMQ: count its CPU too. */
    rabbitMq?: boolean;
  } = {},
): Promise<Timed> {
  const { warmUntil, rabbitMq = false } = options;
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
      const client = await mqtt.connectAsync(url, {
        clientId: device.sn,
        username: device.sn,
        password: device.deviceSecret,
        reconnectPeriod: 0,
        keepalive: 120,
      });
      if (until === 'ack') {
        client.on('message', (_topic, payload) => answered(payload));
        await client.subscribeAsync(topics.faultsAck(device.sn), { qos: 1 });
      }
      clients.push(client);
    });
    const bySn = new Map(clients.map((client) => [client.options.clientId!, client]));
    // Not timed: one report from the first device, answered, proves the path is up (the consumer subscribed).
    await answerOf(bySn.get(devices[0].sn)!, devices[0].sn, newReport(), waiting, label);
    let untimed = 1;
    if (warmUntil) {
      const deadline = Date.now() + 60_000;
      process.stderr.write(`fault-ingestion: ${label}: warming up until the replicas share the partitions\n`);
      while (!(await warmUntil())) {
        if (Date.now() > deadline) throw new Error(`${label}: the replicas did not share the partitions within 60 s`);
        await Promise.all(devices.map((device) => answerOf(bySn.get(device.sn)!, device.sn, newReport(), waiting, label)));
        untimed += devices.length;
      }
    }
    const pass = async (reports: string[][], which: string): Promise<Run> => {
      const latencies: number[] = [];
      const cpuBefore = cpuSample(workers, { rabbitMq });
      const started = performance.now();
      await Promise.all(
        devices.map(async (device, index) => {
          const client = bySn.get(device.sn)!;
          for (const payload of reports[index]) {
            const begin = performance.now();
            await answerOf(client, device.sn, payload, waiting, label);
            latencies.push(performance.now() - begin);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuPerUnit(cpuBefore, cpuSample(workers, { rabbitMq }), latencies.length);
      return { label: `${label}, ${which}`, done: latencies.length, untimed: 0, seconds, latencies: latencies.sort((a, b) => a - b), cpu };
    };
    const cold = { ...(await pass(payloads.cold, 'from cold')), untimed };
    return { cold, warm: await pass(payloads.warm, 'warm') };
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

async function countStored(url: string): Promise<{ full: number; deidentified: number }> {
  const rows = await sql<{ stored: 'full' | 'deidentified'; count: number }>(
    url,
    'SELECT stored, count(*)::int AS count FROM fault_reports GROUP BY stored',
  );
  return {
    full: rows.find((row) => row.stored === 'full')?.count ?? 0,
    deidentified: rows.find((row) => row.stored === 'deidentified')?.count ?? 0,
  };
}
