import 'reflect-metadata';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { loadConfig } from '#libs/config';
import { createLogger } from '#libs/platform';

// A broker in its own process, so the storm's client sockets do not count in its memory.
// argv: auth <databaseUrl> | bare. Answers 'mem' with heap and RSS at rest (memoryAtRest), 'cpu' with the CPU time used so far.
const [mode, databaseUrl] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
let stop: () => Promise<void>;
let port: number;
if (mode === 'auth') {
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: { host: '127.0.0.1', database: { url: databaseUrl }, log: { level: 'silent' }, mqtt: { presenceFlushMs: 2000 } },
  });
  const broker = await startBroker({ config, databaseUrl, logger: createLogger('silent') });
  port = broker.ports.mqtt;
  stop = () => broker.stop();
} else {
  const broker = await Aedes.createBroker({ maxClientsIdLength: 128 });
  const server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  stop = () => new Promise((resolve) => server.close(() => broker.close(() => resolve())));
}
process.on('message', async (message: string) => {
  if (message === 'mem') {
    process.send?.(await memoryAtRest());
  } else if (message === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send?.({ micros: user + system });
  } else if (message === 'stop') {
    await stop();
    process.exit(0);
  }
});
process.send?.({ port });

/**
 * Heap and RSS at rest: V8 hands freed pages back to the OS only after a
 * while (its memory reducer, whose start --gc-memory-reducer-start-delay-ms
 * brings forward), so one reading right after a GC depends on when that
 * happened to run. A full GC every 1.5 s until RSS holds within 1 MiB for
 * four readings in a row (at most 16).
 */
async function memoryAtRest(): Promise<{ heapUsed: number; rss: number }> {
  const readings: number[] = [];
  const settled = () => readings.length >= 6 && Math.max(...readings.slice(-4)) - Math.min(...readings.slice(-4)) < 1024 * 1024;
  while (readings.length < 16 && !settled()) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    readings.push(process.memoryUsage().rss);
  }
  return { heapUsed: process.memoryUsage().heapUsed, rss: readings[readings.length - 1] };
}
