import 'reflect-metadata';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { loadConfig } from '#libs/config';
import { createLogger } from '#libs/platform';

// A broker in its own process, so the storm's client sockets do not count in its memory.
// argv: auth <databaseUrl> | bare. Answers 'mem' messages with heap and RSS after a full GC.
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
    gc?.();
    gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    process.send?.({ heapUsed, rss });
  } else if (message === 'stop') {
    await stop();
    process.exit(0);
  }
});
process.send?.({ port });
