import 'reflect-metadata';
import { startBackend } from '../scripts/backend.js';
import { loadConfig } from '#libs/config';
import { createLogger } from '#libs/platform';

// The whole backend (broker, provisioning, fault-feedback) in its own process, so the wave's
// clients do not share its CPU time. argv: <databaseUrl> <dataDir> <adminPhone>. Sends its ports.
const [databaseUrl, dataDir, adminPhone] = process.argv.slice(2);
const config = loadConfig({
  env: { NODE_ENV: 'test' },
  overrides: {
    host: '127.0.0.1',
    dataDir,
    database: { url: databaseUrl },
    log: { level: 'silent' },
    sms: { driver: 'outbox', outbox: `${dataDir}/sms-outbox.jsonl` },
    auth: { adminPhones: [adminPhone], otp: { perIpPerHour: 100000 } },
  },
});
const backend = await startBackend(config, createLogger('silent'));
process.on('message', async (message: string) => {
  if (message === 'stop') {
    await backend.stop();
    process.exit(0);
  }
});
process.send?.({ provisioningHttp: backend.provisioning.ports.http, mqtt: backend.broker.ports.mqtt });
