import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { IssuedDevice } from '#libs/devices';
import type { BenchResult, BenchSection } from '../section.js';
import { connectPacket, openDatabase, registerDevices, startWorker, stopWorker } from '../support.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 5000);
const CONCURRENCY = 500;
const BROKER_KILL_AFTER_MS = 10000;

interface Memory {
  heapUsed: number;
  rss: number;
}

/**
 * 5,000 devices connect at once (a power cut ends), first against the real
 * broker with per-device authentication (cold cache, then warm), then against
 * a bare Aedes without authentication, each broker in its own process. The
 * clients are raw sockets sending a prepared CONNECT, so the load generator
 * stays light next to the broker on a small machine.
 */
export const brokerConnectStorm: BenchSection = {
  name: 'broker-connect-storm',
  description: `${DEVICES} authenticating devices connect at once, vs bare Aedes without auth`,
  async run(): Promise<BenchResult> {
    const database = await openDatabase('its devices table gets bench rows with BENCH- SNs');
    try {
      const devices = await registerDevices(database.url, DEVICES, { snPrefix: 'BENCH', macPrefix: '02:00' });
      const auth = await startBroker(['auth', database.url]);
      const authRuns = await (async () => {
        try {
          const idle = await memoryOf(auth.child);
          const cold = await storm(auth.port, devices);
          const loaded = await memoryOf(auth.child);
          closeAll(cold.sockets);
          await settle();
          const warm = await storm(auth.port, devices);
          closeAll(warm.sockets);
          return { cold, warm, perThousand: perThousand(idle, loaded) };
        } finally {
          await stopWorker(auth.child, BROKER_KILL_AFTER_MS);
        }
      })();
      const bare = await startBroker(['bare']);
      const bareRun = await (async () => {
        try {
          const idle = await memoryOf(bare.child);
          const run = await storm(bare.port, devices);
          const loaded = await memoryOf(bare.child);
          closeAll(run.sockets);
          return { run, perThousand: perThousand(idle, loaded) };
        } finally {
          await stopWorker(bare.child, BROKER_KILL_AFTER_MS);
        }
      })();
      const ratio = authRuns.warm.rate / bareRun.run.rate;
      const coldRatio = authRuns.cold.rate / bareRun.run.rate;
      const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      const row = (label: string, run: StormResult, memory?: Memory) => [
        label,
        String(run.connected),
        String(run.refused),
        run.rate.toFixed(0),
        memory ? mib(memory.heapUsed) : '',
        memory ? mib(memory.rss) : '',
      ];
      return {
        table: [
          ['broker', 'connected', 'refused', 'connects/s', 'heap MiB / 1,000 idle', 'RSS MiB / 1,000 idle'],
          row('authenticating, cold cache (after a restart)', authRuns.cold, authRuns.perThousand),
          row('authenticating, warm cache (reconnect storm)', authRuns.warm),
          row('bare Aedes, no auth', bareRun.run, bareRun.perThousand),
        ],
        notes: [
          `ratio authenticating / bare: ${ratio.toFixed(2)} warm, ${coldRatio.toFixed(2)} cold (floor 0.5) ${ratio >= 0.5 ? 'OK' : 'BELOW FLOOR'}`,
        ],
      };
    } finally {
      await database.close();
    }
  },
};

interface StormResult {
  connected: number;
  refused: number;
  rate: number;
  sockets: Socket[];
}

/** Opens one connection per device, CONCURRENCY at a time, until each got its CONNACK; keeps them open. */
async function storm(port: number, devices: IssuedDevice[]): Promise<StormResult> {
  const packets = devices.map(connectPacket);
  const sockets: Socket[] = [];
  let next = 0;
  let connected = 0;
  let refused = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < packets.length) {
      const packet = packets[next++];
      const accepted = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(packet));
        socket.once('data', (data) => {
          resolve(data[0] === 0x20 && data[3] === 0);
        });
        socket.once('error', () => resolve(false));
        socket.once('close', () => resolve(false));
        sockets.push(socket);
      });
      if (accepted) connected += 1;
      else refused += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { connected, refused, rate: connected / seconds, sockets };
}

function closeAll(sockets: Socket[]): void {
  for (const socket of sockets) socket.destroy();
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

function perThousand(idle: Memory, loaded: Memory): Memory {
  const scale = 1000 / DEVICES;
  return { heapUsed: (loaded.heapUsed - idle.heapUsed) * scale, rss: (loaded.rss - idle.rss) * scale };
}

/** A broker in its own process, with --expose-gc so memoryOf() can collect before measuring. */
async function startBroker(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const { child, message } = await startWorker<{ port: number }>('broker-worker.js', args, { execArgv: ['--expose-gc'] });
  return { child, port: message.port };
}

function memoryOf(child: ChildProcess): Promise<Memory> {
  return new Promise((resolve) => {
    child.once('message', (message: Memory) => resolve(message));
    child.send('mem');
  });
}
