import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IssuedDevice } from '#libs/devices';
import type { BenchResult, BenchSection } from '../section.js';
import { openDatabase, registerDevices, stopWorker } from '../support.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 18000);
/** Fresh broker processes per kind whose memory is measured; the figure is their median. */
const MEMORY_RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? 3);
const CONCURRENCY = 500;
const BROKER_KILL_AFTER_MS = 20000;
/** Longer than the bench broker's presence flush (2 s): each broker is measured at rest, its batched writes done. */
const SETTLE_MS = 2500;
const MEMORY_FLOOR = 1.2;
const RATE_FLOOR = 0.5;

type Kind = 'auth' | 'bare';

interface Memory {
  heapUsed: number;
  rss: number;
}

interface Storm {
  connected: number;
  refused: number;
  rate: number;
  /** CPU time of the broker process per accepted connection, in microseconds: unlike connects/s, hardly moved by other work on the machine. */
  cpuPerConnect: number;
}

interface Run {
  first: Storm;
  /** The process's growth per 1,000 connections open and idle after its first storm, at rest (broker-worker.ts memoryAtRest). */
  perThousand: Memory;
  /** Only in the first run of each kind: all drop, then all connect again (a reconnect storm; the cache is warm). */
  second?: Storm;
}

/**
 * 18,000 devices connect at once (a power cut ends), against the real broker
 * with per-device authentication (right after its start, so with a cold
 * cache: every SN is read from PostgreSQL) and against a bare Aedes without
 * authentication. In the first run of each, all drop and connect again (for
 * the real broker: a reconnect storm on a warm cache). Memory is measured in
 * fresh processes, alternating between the two kinds, and reported as the
 * median: what a process grows by while the connections are open and idle,
 * at rest. Each broker and the load generator run in a process of their own,
 * with the open-file limit raised to the hard limit; the clients are raw
 * sockets sending a prepared CONNECT, so the load generator stays light on a
 * small machine.
 */
export const brokerConnectStorm: BenchSection = {
  name: 'broker-connect-storm',
  description: `${DEVICES} authenticating devices connect at once vs bare Aedes without auth; memory the median of ${MEMORY_RUNS} fresh processes each`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('its devices table gets bench rows with BENCH- SNs');
    const clients = (await startProcess('connect-storm-clients.js', [])).child;
    try {
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'BENCH', macPrefix: '02:00' });
      const runs: Record<Kind, Run[]> = { auth: [], bare: [] };
      for (let index = 0; index < MEMORY_RUNS; index += 1) {
        for (const kind of ['auth', 'bare'] as const) {
          runs[kind].push(await brokerRun(kind === 'auth' ? ['auth', database.url] : ['bare'], clients, devices, index === 0));
        }
      }
      const memory = (kind: Kind) => ({
        heapUsed: median(runs[kind].map((run) => run.perThousand.heapUsed)),
        rss: median(runs[kind].map((run) => run.perThousand.rss)),
      });
      const [auth, bare] = [memory('auth'), memory('bare')];
      const [cold, warm] = [runs.auth[0].first, runs.auth[0].second!];
      const [bareFirst, bareSecond] = [runs.bare[0].first, runs.bare[0].second!];
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      const row = (label: string, storm: Storm, perThousand?: Memory) => [
        label,
        String(storm.connected),
        String(storm.refused),
        storm.rate.toFixed(0),
        storm.cpuPerConnect.toFixed(0),
        perThousand ? mib(perThousand.heapUsed) : '',
        perThousand ? mib(perThousand.rss) : '',
      ];
      const rate = Math.min(warm.rate / bareSecond.rate, cold.rate / bareFirst.rate);
      const rss = auth.rss / bare.rss;
      const each = (kind: Kind) => runs[kind].map((run) => mib(run.perThousand.rss)).join(', ');
      const verdict = (ok: boolean) => (ok ? 'OK' : 'BELOW FLOOR');
      return {
        table: [
          ['broker', 'connected', 'refused', 'connects/s', 'broker CPU µs / connect', 'heap MiB / 1,000 idle', 'RSS MiB / 1,000 idle'],
          row('authenticating, cold cache (first storm after start)', cold, auth),
          row('authenticating, warm cache (reconnect storm)', warm),
          row('bare Aedes, no auth (first storm after start)', bareFirst, bare),
          row('bare Aedes, no auth (second storm)', bareSecond),
        ],
        notes: [
          `broker CPU per connect authenticating / bare: ${(cold.cpuPerConnect / bareFirst.cpuPerConnect).toFixed(2)} cold, ${(warm.cpuPerConnect / bareSecond.cpuPerConnect).toFixed(2)} warm`,
          `connects/s authenticating / bare: ${(warm.rate / bareSecond.rate).toFixed(2)} warm, ${(cold.rate / bareFirst.rate).toFixed(2)} cold (floor ${RATE_FLOOR}) ${verdict(rate >= RATE_FLOOR)}`,
          `RSS per idle connection authenticating / bare: ${rss.toFixed(2)} (floor ${MEMORY_FLOOR}) ${verdict(rss <= MEMORY_FLOOR)}; MiB / 1,000 in each run: authenticating ${each('auth')}, bare ${each('bare')}`,
        ],
      };
    } finally {
      await stopWorker(clients, BROKER_KILL_AFTER_MS);
      await database.close();
    }
  },
};

/** One fresh broker process: a storm, its memory at rest; with `again`, all drop and a second storm follows. */
async function brokerRun(args: string[], clients: ChildProcess, devices: IssuedDevice[], again: boolean): Promise<Run> {
  const broker = await startProcess('broker-worker.js', args, ['--expose-gc', '--gc-memory-reducer-start-delay-ms=1000']);
  try {
    const { port } = broker.message as { port: number };
    await settle();
    const idle = await ask<Memory>(broker.child, 'mem');
    const first = await storm(broker.child, port, clients, devices);
    await settle();
    const loaded = await ask<Memory>(broker.child, 'mem');
    await ask(clients, 'close');
    const scale = 1000 / DEVICES;
    const run: Run = { first, perThousand: { heapUsed: (loaded.heapUsed - idle.heapUsed) * scale, rss: (loaded.rss - idle.rss) * scale } };
    if (again) {
      await settle();
      run.second = await storm(broker.child, port, clients, devices);
      await ask(clients, 'close');
    }
    return run;
  } finally {
    await stopWorker(broker.child, BROKER_KILL_AFTER_MS);
  }
}

async function storm(broker: ChildProcess, port: number, clients: ChildProcess, devices: IssuedDevice[]): Promise<Storm> {
  const before = await ask<{ micros: number }>(broker, 'cpu');
  const { connected, refused, seconds } = await ask<{ connected: number; refused: number; seconds: number }>(clients, {
    storm: { port, devices: devices.map(({ sn, deviceSecret }) => ({ sn, deviceSecret })), concurrency: CONCURRENCY },
  });
  const after = await ask<{ micros: number }>(broker, 'cpu');
  return { connected, refused, rate: connected / seconds, cpuPerConnect: (after.micros - before.micros) / Math.max(connected, 1) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/**
 * One of the bench's worker scripts, started through sh so its open-file soft limit can be raised to the hard
 * limit first (18,000 sockets do not fit the common default of 1,024); waits for its first message.
 */
async function startProcess(script: string, args: string[], execArgv: string[] = []): Promise<{ child: ChildProcess; message: unknown }> {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', script);
  const child = spawn(
    '/bin/sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...execArgv, path, ...args],
    {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, NODE_ENV: 'test' },
    },
  );
  const message = await new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, message };
}

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (answer: T) => resolve(answer));
    child.send(message as string);
  });
}
