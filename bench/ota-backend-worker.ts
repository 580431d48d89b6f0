import 'reflect-metadata';
import pg from 'pg';
import { startBackend } from '../scripts/backend.js';
import { createLogger } from '#libs/platform';
import { benchBackendConfig } from './support.js';

// The whole backend in its own process, counting every statement it sends to PostgreSQL (each
// pg query, BEGIN and COMMIT included). argv: <databaseUrl> <dataDir> <adminPhone> <signingKeysJson>.
// Sends its ports; answers 'statements' with the count so far.
const [databaseUrl, dataDir, adminPhone, signingKeys] = process.argv.slice(2);
let statements = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
  statements += 1;
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const config = benchBackendConfig(databaseUrl, dataDir, adminPhone, { firmware: { signingKeys: JSON.parse(signingKeys) } });
const backend = await startBackend(config, createLogger('silent'));
process.on('message', async (message: string) => {
  if (message === 'statements') process.send?.({ statements });
  if (message === 'stop') {
    await backend.stop();
    process.exit(0);
  }
});
process.send?.({ provisioningHttp: backend.provisioning.ports.http, mqtt: backend.broker.ports.mqtt });
