import 'reflect-metadata';
import { loadConfigOrExit } from '#libs/config';
import { createLogger, PortInUseError, stopWhenNpmIsGone } from '#libs/platform';
import { startBackend } from './backend.js';
import { commandLine } from './cli.js';

// `npm start`: the whole backend in one process; Ctrl-C stops all of it, PostgreSQL included.
commandLine('usage: npm start   (settings come from config/ and the environment; see README, "Configuration")', {});
const config = loadConfigOrExit();
const logger = createLogger(config.log.level, 'backend');
const backend = await startBackend(config, logger).catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof PortInUseError ? error.message : `Start-up failed: ${String(error instanceof Error ? error.message : error)}`}\n`,
  );
  process.exit(1);
});
logger.info(
  {
    mqtt: backend.broker.ports.mqtt,
    broker: backend.broker.ports.http,
    provisioning: backend.provisioning.ports.http,
    faultFeedback: backend.faultFeedback.ports.http,
  },
  `ready: MQTT ${backend.broker.ports.mqtt}, provisioning http://localhost:${backend.provisioning.ports.http}/docs, ` +
    `fault-feedback http://localhost:${backend.faultFeedback.ports.http}/docs, broker http://localhost:${backend.broker.ports.http}/health`,
);
let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await backend.stop();
  logger.info('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
stopWhenNpmIsGone(() => void shutdown('npm exited'));
