import 'reflect-metadata';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { startFaultFeedback } from '../apps/fault-feedback/src/fault-feedback.app.js';
import { startProvisioning } from '../apps/provisioning/src/provisioning.app.js';
import { loadConfig, validateConfig } from '#libs/config';
import { createLogger, InProcessDeviceMessages, type RunningApp } from '#libs/platform';

// One app of the backend in its own process, as in production (one container each), so the broker
// and the service each get a core. argv: broker <databaseUrl> | faults|provisioning <databaseUrl> <mqttUrl>
// | in-process <databaseUrl> (the broker and fault-feedback in one process, as `npm start` runs them).
// Sends {mqtt} (broker) or {ready, http} (the service) once started; 'stop' stops it.
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
/** `npm start`'s layout for fault reports: the broker and fault-feedback in this one process, messages handed over in memory. */
async function startInProcess(): Promise<RunningApp> {
  const deviceMessages = new InProcessDeviceMessages();
  const broker = await startBroker({ ...context, deviceMessages });
  const serviceConfig = validateConfig({
    ...structuredClone(config),
    mqtt: { ...config.mqtt, url: `mqtt://127.0.0.1:${broker.ports.mqtt}` },
  } as unknown as Record<string, unknown>);
  const faults = await startFaultFeedback({ ...context, config: serviceConfig, deviceMessages });
  deviceMessages.allConsumersStarted();
  return {
    name: 'in-process',
    ports: broker.ports,
    async stop() {
      await faults.stop();
      await deviceMessages.close();
      await broker.stop();
    },
  };
}
const start = { broker: startBroker, faults: startFaultFeedback, provisioning: startProvisioning, 'in-process': startInProcess }[
  role as 'broker' | 'faults' | 'provisioning' | 'in-process'
];
if (!start) throw new Error(`unknown role ${role}`);
const app: RunningApp = await start(context);
process.on('message', async (message: string) => {
  if (message === 'stop') {
    await app.stop();
    process.exit(0);
  }
});
process.send?.(role === 'broker' || role === 'in-process' ? { mqtt: app.ports.mqtt } : { ready: true, http: app.ports.http });
