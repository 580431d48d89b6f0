import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '#libs/database';
import { CredentialHasher } from '#libs/devices';
import { RabbitMqSink, type AppContext, type HealthCheck, type RunningApp } from '#libs/platform';
import { aedesHooks } from './aedes-hooks.js';
import { boundEmitterDrain, emitterBacklog } from './aedes-workarounds.js';
import { openAuthThrottle } from './auth-throttle.stores.js';
import { observeBrokerEvents } from './broker-events.js';
import { BrokerMetrics } from './broker-metrics.js';
import { ClientIdentities } from './client-identities.js';
import { listenForCredentialChanges } from './credential-change.listener.js';
import { openDeviceRegistry } from './device-registry.js';
import { inProcessPublisher } from './in-process-publisher.js';
import { drain, InflightDeliveries } from './drain.js';
import { startBrokerHttp, startMqttListeners } from './listeners.js';
import { trackPresence } from './presence.js';
import { scaleOut } from './scale-out.js';
import { ServiceAccountDirectory } from './service-accounts.js';

/** Starts one broker node: MQTT over TCP (and TLS when configured) plus its HTTP side (/health, /metrics, /docs). */
export async function startBroker(context: AppContext): Promise<RunningApp> {
  const log = context.logger.child({ app: 'broker' });
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => log.error({ err: error }, 'broker cleanup step failed'));
  };
  try {
    return await start(context, log, cleanups, cleanup);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function start(
  context: AppContext,
  log: Logger,
  cleanups: Array<() => Promise<void>>,
  cleanup: () => Promise<void>,
): Promise<RunningApp> {
  const { config } = context;
  const dataSource = new DataSource(dataSourceOptions(context.databaseUrl, [], config.database.logQueries));
  await dataSource.initialize();
  cleanups.push(() => dataSource.destroy());

  const { credentials, presence } = openDeviceRegistry(dataSource, config, log);
  presence.start();
  cleanups.push(() => presence.stop());

  const shared = await scaleOut(config.redis.url, log);
  cleanups.push(shared.close);

  const throttle = await openAuthThrottle(config.mqtt.authThrottle, config.devices.secretKey, shared.redis, log);
  cleanups.push(throttle.close);

  // Opened before the node and closed after it, so the last messages a closing node takes still reach RabbitMQ.
  const sink = config.eventBus.url ? new RabbitMqSink(config.eventBus, log) : undefined;
  if (sink) {
    await sink.start();
    cleanups.push(() => sink.close());
  }

  const identities = new ClientIdentities();
  const inflight = new InflightDeliveries();
  let broker: Aedes | undefined;
  const metrics = new BrokerMetrics({
    connectedClients: () => (broker?.closed === false ? broker.connectedClients : 0),
    cacheEntries: () => credentials.size,
    cacheHits: () => credentials.hits,
    cacheMisses: () => credentials.misses,
  });

  const accounts = new ServiceAccountDirectory(config);
  const hooks = aedesHooks({
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    accounts,
    credentials,
    hasher: new CredentialHasher(config.devices.secretKey),
    throttle: throttle.throttle,
    identities,
    presence,
    inflight,
    metrics,
    log,
    sink: sink ?? context.deviceMessages?.sink,
  });
  const node = await Aedes.createBroker({ ...shared.options, ...hooks, maxClientsIdLength: 128 });
  boundEmitterDrain(node);
  broker = node;
  let closed: Promise<void> | undefined;
  cleanups.push(async () => {
    await (closed ??= new Promise<void>((resolve) => node.close(() => resolve())));
    await shared.destroyPersistence(node);
  });

  observeBrokerEvents(node, { identities, metrics, inflight, log });
  trackPresence(node, identities, presence, log);
  await listenForCredentialChanges(node, { cache: credentials, identities, metrics, log });
  context.deviceMessages?.attachBroker(inProcessPublisher(node, { maxPayloadBytes: config.mqtt.maxPayloadBytes, accounts, metrics, log }));

  const mqtt = await startMqttListeners(node.handle, config, metrics, log);
  cleanups.push(mqtt.close);
  const mqttListener = { name: 'mqtt', isUp: async () => mqtt.isListening() && !node.closed };
  const links: HealthCheck[] = [mqttListener];
  if (sink) links.push({ name: 'eventBus', isUp: async () => sink.ready });
  const http = await startBrokerHttp(config, dataSource, links, metrics, context.logger);
  cleanups.push(() => http.close());

  let stopping: Promise<void> | undefined;
  return {
    name: 'broker',
    ports: { ...mqtt.ports, http: http.port },
    /**
     * Graceful: stop accepting connections, give in-flight QoS 1 deliveries
     * (and messages still on their way through the emitter) up to
     * mqtt.shutdownGraceMs to be acknowledged, then close clients, the
     * emitter and persistence, flush presence, and close the database.
     */
    stop() {
      stopping ??= (async () => {
        mqtt.stopAccepting();
        await drain(inflight, () => emitterBacklog(node), config.mqtt.shutdownGraceMs);
        await cleanup();
      })();
      return stopping;
    },
  };
}
