import 'reflect-metadata';
import { startBackend } from '../scripts/backend.js';
import { createLogger } from '#libs/platform';
import { benchBackendConfig } from './support.js';

// The whole backend (broker, provisioning, fault-feedback) in its own process, so the wave's
// clients do not share its CPU time. argv: <databaseUrl> <dataDir> <adminPhone>. Sends its ports.
const [databaseUrl, dataDir, adminPhone] = process.argv.slice(2);
const config = benchBackendConfig(databaseUrl, dataDir, adminPhone);
const backend = await startBackend(config, createLogger('silent'));
process.on('message', async (message: string) => {
  if (message === 'stop') {
    await backend.stop();
    process.exit(0);
  }
});
process.send?.({ provisioningHttp: backend.provisioning.ports.http, mqtt: backend.broker.ports.mqtt });
