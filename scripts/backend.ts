import 'reflect-metadata';
import type { Logger } from 'pino';
import { startBroker } from '../apps/broker/src/broker.app.js';
import { startFaultFeedback } from '../apps/fault-feedback/src/fault-feedback.app.js';
import { startProvisioning } from '../apps/provisioning/src/provisioning.app.js';
import { validateConfig, type AppConfig } from '#libs/config';
import { openBackendDatabase } from '#libs/database';
import { InProcessDeviceMessages, type RunningApp } from '#libs/platform';

export interface RunningBackend {
  config: AppConfig;
  databaseUrl: string;
  broker: RunningApp;
  provisioning: RunningApp;
  faultFeedback: RunningApp;
  /** How the broker hands device messages to the services of this process (none with EVENT_BUS_URL: RabbitMQ carries them). */
  deviceMessages: InProcessDeviceMessages | undefined;
  stop(): Promise<void>;
}

/**
 * The whole backend in one process: PostgreSQL (embedded under <dataDir>/pg
 * unless DATABASE_URL is set), migrations, then broker, provisioning and
 * fault-feedback. `npm start` and the end-to-end suites both start it here.
 */
export async function startBackend(config: AppConfig, logger: Logger): Promise<RunningBackend> {
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop().catch((error) => logger.error({ err: error }, 'stop failed'));
    started.length = 0;
  };
  try {
    const database = await openBackendDatabase(config, (line) => logger.debug({ component: 'postgres' }, line));
    started.push({ stop: () => database.release() });
    const databaseUrl = database.url;
    if (database.startedEmbedded) {
      const { port, dir } = database.startedEmbedded;
      logger.info({ port, dir }, `embedded PostgreSQL on 127.0.0.1:${port} (data in ${dir})`);
    }
    logger.info(
      { applied: database.applied },
      database.applied.length ? `applied ${database.applied.length} migration(s)` : 'database schema up to date',
    );
    // One process: the broker hands device messages to the services in memory (no second MQTT hop), unless RabbitMQ carries them.
    const deviceMessages = config.eventBus.url ? undefined : new InProcessDeviceMessages();
    const broker = await startBroker({ config, databaseUrl, logger, deviceMessages });
    started.push(broker);
    if (deviceMessages) started.push({ stop: () => deviceMessages.close() });
    // The services reach the broker of this process, wherever it landed.
    const serviceConfig = validateConfig({
      ...structuredClone(config),
      mqtt: { ...config.mqtt, url: `mqtt://127.0.0.1:${broker.ports.mqtt}` },
    } as unknown as Record<string, unknown>);
    const provisioning = await startProvisioning({ config: serviceConfig, databaseUrl, logger, deviceMessages });
    started.push(provisioning);
    // The console served by fault-feedback sends browsers to the provisioning port actually bound.
    const faultsConfig = validateConfig({
      ...structuredClone(serviceConfig),
      ports: { ...serviceConfig.ports, provisioningHttp: provisioning.ports.http },
    } as unknown as Record<string, unknown>);
    const faultFeedback = await startFaultFeedback({ config: faultsConfig, databaseUrl, logger, deviceMessages });
    started.push(faultFeedback);
    deviceMessages?.allConsumersStarted();
    return { config: serviceConfig, databaseUrl, broker, provisioning, faultFeedback, deviceMessages, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
