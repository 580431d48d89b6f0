import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '#libs/config';
import { listenOn, startHttpApp, type HealthCheck, type RunningHttpApp } from '#libs/platform';
import type { BrokerMetrics } from './broker-metrics.js';
import { BrokerHttpModule } from './broker.module.js';

export interface MqttListeners {
  /** mqtt, and mqtts when TLS is configured. */
  ports: Record<string, number>;
  /** Stops accepting connections (the drain begins); open ones stay. */
  stopAccepting(): void;
  /** Resolves once every listener is closed. */
  close(): Promise<void>;
  isListening(): boolean;
}

/**
 * MQTT over TCP on ports.mqtt and, with mqtt.tls.cert and mqtt.tls.key (PEM
 * paths), MQTT over TLS on ports.mqtts. Each accepted socket goes to `handle`
 * (the broker's).
 */
export async function startMqttListeners(
  handle: (socket: Socket) => unknown,
  config: AppConfig,
  metrics: BrokerMetrics,
  log: Logger,
): Promise<MqttListeners> {
  const servers: Server[] = [];
  const close = () => Promise.all(servers.map(closeServer)).then(() => undefined);
  try {
    const tcp = createServer(handle);
    servers.push(tcp);
    const ports: Record<string, number> = { mqtt: await listenOn(tcp, config.ports.mqtt, config.host, 'MQTT_PORT') };
    tcp.on('error', (error) => log.error({ err: error }, 'MQTT listener error'));
    log.info({ port: ports.mqtt }, `broker MQTT listening on mqtt://${config.host}:${ports.mqtt}`);
    const { cert, key } = config.mqtt.tls;
    if (cert && key) {
      const tls = createTlsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handle);
      servers.push(tls);
      tls.on('tlsClientError', () => metrics.clientErrors.inc());
      ports.mqtts = await listenOn(tls, config.ports.mqtts, config.host, 'MQTTS_PORT');
      log.info({ port: ports.mqtts }, `broker MQTTS listening on mqtts://${config.host}:${ports.mqtts}`);
    }
    return {
      ports,
      stopAccepting: () => servers.forEach((server) => server.listening && server.close()),
      close,
      isListening: () => tcp.listening,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The broker's HTTP side on ports.brokerHttp: /health (database and MQTT listener) and /metrics; /docs like every app. */
export function startBrokerHttp(
  config: AppConfig,
  dataSource: DataSource,
  links: HealthCheck[],
  metrics: BrokerMetrics,
  logger: Logger,
): Promise<RunningHttpApp> {
  return startHttpApp(BrokerHttpModule.forRoot(config, dataSource, links, metrics), {
    name: 'broker',
    title: 'Broker',
    port: config.ports.brokerHttp,
    host: config.host,
    portVariable: 'BROKER_HTTP_PORT',
    logger,
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
