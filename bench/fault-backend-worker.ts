import 'reflect-metadata';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { startFaultFeedback } from '../apps/fault-feedback/src/fault-feedback.app.js';
import { startProvisioning } from '../apps/provisioning/src/provisioning.app.js';
import { loadConfig } from '#libs/config';
import { createLogger, type RunningApp } from '#libs/platform';

// One app of the backend in its own process, as in production (one container each), so the broker
// and the service each get a core. argv: broker <databaseUrl> | faults|provisioning <databaseUrl> <mqttUrl>.
// Sends {mqtt} (broker) or {ready} (the service) once started; 'stop' stops it.
// Optional argv 4 and 5: an event bus URL and its queue prefix (EVENT_BUS_URL, EVENT_BUS_QUEUE_PREFIX).
const [role, databaseUrl, mqttUrl, eventBusUrl, queuePrefix] = process.argv.slice(2);
const config = loadConfig({
  env: { NODE_ENV: 'test' },
  overrides: {
    host: '127.0.0.1',
    database: { url: databaseUrl },
    log: { level: 'silent' },
    ...(mqttUrl ? { mqtt: { url: mqttUrl } } : {}),
    ...(eventBusUrl ? { eventBus: { url: eventBusUrl, queuePrefix } } : {}),
  },
});
const context = { config, databaseUrl, logger: createLogger('silent') };
const start = { broker: startBroker, faults: startFaultFeedback, provisioning: startProvisioning }[
  role as 'broker' | 'faults' | 'provisioning'
];
if (!start) throw new Error(`unknown role ${role}`);
const app: RunningApp = await start(context);
process.on('message', async (message: string) => {
  if (message === 'stop') {
    await app.stop();
    process.exit(0);
  }
});
process.send?.(role === 'broker' ? { mqtt: app.ports.mqtt } : { ready: true });
