import { randomBytes } from 'node:crypto';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import type { MqttAccountConfig } from '#libs/config';
import type { AppContext, RunningApp } from './app-context.js';
import { RabbitMqServer } from './event-bus/rabbitmq.server.js';
import { CONSUMER_HEALTH_CHECKS, type HealthCheck } from './health.js';
import { startHttpApp } from './http-app.js';
import { brokerNodes, MqttLink } from './mqtt-link.js';
import { ReliableMqttServer } from './reliable-mqtt.server.js';
import { ServiceMetrics, ServiceMetricsModule } from './service-metrics.js';
import { SingleConsumerLockRepository } from './single-consumer.repository.js';

/** The app's own module beside /metrics. */
@Module({})
class ServiceRootModule {}

/** The consumer's /health check, for every module's HealthController. */
@Global()
@Module({})
class ConsumerHealthModule {
  static forRoot(checks: HealthCheck[]): DynamicModule {
    return {
      module: ConsumerHealthModule,
      providers: [{ provide: CONSUMER_HEALTH_CHECKS, useValue: checks }],
      exports: [CONSUMER_HEALTH_CHECKS],
    };
  }
}

export interface ServiceAppOptions {
  name: string;
  title: string;
  port: number;
  portVariable: string;
  /** The service account this app uses to reach the broker. */
  account: MqttAccountConfig;
  /**
   * Consume MQTT messages as a Nest microservice (@EventPattern handlers) with
   * this fixed client id: a persistent session at QoS 1, so what is published
   * while the service is down is delivered when it returns. With EVENT_BUS_URL
   * the same handlers get them from RabbitMQ, and under `npm start` in-process.
   */
  consumerClientId?: string;
  module(mqtt: MqttLink): DynamicModule;
}

/** A second replica started without EVENT_BUS_URL: it would take the first one's MQTT session, over and over. */
export class ConsumerAlreadyRunningError extends Error {
  override name = 'ConsumerAlreadyRunningError';
}

interface DeviceMessageConsumer {
  strategy?: CustomTransportStrategy;
  /** In /health as `consumer`: the in-process hand-off attached, or the MQTT consumer connected and alone. */
  health?: HealthCheck;
  onSettled(callback: (channel: string, outcome: 'handled' | 'failed') => void): void;
  release(): Promise<void>;
}

/** An HTTP service that also holds an MQTT link to the broker (provisioning, fault-feedback). */
export async function startServiceApp(context: AppContext, options: ServiceAppOptions): Promise<RunningApp> {
  const { config, logger } = context;
  const metrics = new ServiceMetrics();
  const consumer = await openConsumer(context, options, metrics);
  // Random, not the pid: in containers every replica is pid 1, and equal client ids take each other's connection.
  const clientId = `${options.account.username}-${randomBytes(4).toString('hex')}`;
  // Under `npm start` the broker is in this process: publish through it, not over a connection to it.
  const mqtt = context.deviceMessages
    ? new MqttLink(context.deviceMessages.link(options.account, clientId))
    : MqttLink.connect({
        url: config.mqtt.url,
        username: options.account.username,
        password: options.account.password,
        clientId,
        logger: logger.child({ app: options.name }),
      });
  consumer.onSettled((channel, outcome) => metrics.messageSettled(channel, outcome));
  try {
    const root: DynamicModule = {
      module: ServiceRootModule,
      imports: [
        options.module(mqtt),
        ServiceMetricsModule.forRoot(metrics),
        ConsumerHealthModule.forRoot(consumer.health ? [consumer.health] : []),
      ],
    };
    const http = await startHttpApp(root, {
      metrics,
      microservice: consumer.strategy,
      name: options.name,
      title: options.title,
      port: options.port,
      host: config.host,
      portVariable: options.portVariable,
      logger,
      corsOrigins: config.cors.origins,
    });
    return {
      name: options.name,
      ports: { http: http.port },
      async stop() {
        await http.close();
        await mqtt.close();
        await consumer.release();
      },
    };
  } catch (error) {
    await mqtt.close();
    await consumer.release();
    throw error;
  }
}

/**
 * Where this app's device messages come from: the broker of this process
 * (`npm start`); RabbitMQ when EVENT_BUS_URL is set (any number of replicas
 * share the partitions); or the broker over MQTT with a fixed client id, for
 * one process per service only (held by a lock; a second one is refused).
 */
async function openConsumer(context: AppContext, options: ServiceAppOptions, metrics: ServiceMetrics): Promise<DeviceMessageConsumer> {
  const { config, logger } = context;
  if (context.deviceMessages) {
    const strategy = context.deviceMessages.consumer(options.name);
    return {
      strategy,
      health: { name: 'consumer', isUp: async () => strategy.ready },
      onSettled: (callback) => (strategy.onSettled = callback),
      release: async () => undefined,
    };
  }
  if (!options.consumerClientId) {
    return { onSettled: () => undefined, release: async () => undefined };
  }
  if (config.eventBus.url) {
    const strategy = new RabbitMqServer({ config: config.eventBus, group: options.name, log: logger.child({ app: options.name }) });
    strategy.onDeadLettered = (kind, why) => metrics.deadLettered(kind, why);
    metrics.watchPartitions(() => strategy.activePartitions);
    return {
      strategy,
      health: strategy.health,
      onSettled: (callback) => (strategy.onSettled = callback),
      release: async () => undefined,
    };
  }
  const lock = await SingleConsumerLockRepository.acquire(context.databaseUrl, options.consumerClientId);
  if (!lock) {
    throw new ConsumerAlreadyRunningError(
      `another ${options.name} is already consuming device messages; set EVENT_BUS_URL to run several replicas`,
    );
  }
  const nodes = brokerNodes(config.mqtt.url);
  const strategy = new ReliableMqttServer({
    ...nodes,
    url: `${nodes.protocol}://${nodes.host}:${nodes.port}`,
    username: options.account.username,
    password: options.account.password,
    clientId: options.consumerClientId,
    clean: false,
    reconnectPeriod: 1000,
    subscribeOptions: { qos: 1 },
  });
  return {
    strategy,
    health: { name: 'consumer', isUp: async () => lock.isHeld && strategy.connected },
    onSettled: (callback) => (strategy.onSettled = callback),
    release: () => lock.release(),
  };
}
