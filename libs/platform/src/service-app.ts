import { randomBytes } from 'node:crypto';
import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { MqttAccountConfig } from '#libs/config';
import type { AppContext, RunningApp } from './app-context.js';
import { RabbitMqServer } from './event-bus/rabbitmq.server.js';
import { CONSUMER_HEALTH_CHECKS, type HealthCheck } from './health.js';
import { startHttpApp } from './http-app.js';
import { MqttLink } from './mqtt-link.js';
import { ReliableMqttServer } from './reliable-mqtt.server.js';
import { ServiceMetrics, ServiceMetricsModule } from './service-metrics.js';

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
   * while the service is down is delivered when it returns.
   */
  consumerClientId?: string;
  module(mqtt: MqttLink): DynamicModule;
}

/** An HTTP service that also holds an MQTT link to the broker (provisioning, fault-feedback). */
export async function startServiceApp(context: AppContext, options: ServiceAppOptions): Promise<RunningApp> {
  const { config, logger } = context;
  const mqtt = new MqttLink({
    url: config.mqtt.url,
    username: options.account.username,
    password: options.account.password,
    // Random, not the pid: in containers every replica is pid 1, and equal client ids take each other's connection.
    clientId: `${options.account.username}-${randomBytes(4).toString('hex')}`,
    logger: logger.child({ app: options.name }),
  });
  const metrics = new ServiceMetrics();
  const consumer = options.consumerClientId ? deviceMessageConsumer(context, options, metrics) : undefined;
  const consumerHealth = consumer instanceof RabbitMqServer ? [consumer.health] : [];
  try {
    const root: DynamicModule = {
      module: ServiceRootModule,
      imports: [options.module(mqtt), ServiceMetricsModule.forRoot(metrics), ConsumerHealthModule.forRoot(consumerHealth)],
    };
    const http = await startHttpApp(root, {
      metrics,
      microservice: consumer,
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
      },
    };
  } catch (error) {
    await mqtt.close();
    throw error;
  }
}

/**
 * Where the service's device messages come from: RabbitMQ when EVENT_BUS_URL
 * is set (any number of replicas share the partitions), else the broker over
 * MQTT in a persistent session with the fixed client id.
 */
function deviceMessageConsumer(
  context: AppContext,
  options: ServiceAppOptions,
  metrics: ServiceMetrics,
): RabbitMqServer | ReliableMqttServer {
  const { config, logger } = context;
  if (config.eventBus.url) {
    const server = new RabbitMqServer({ config: config.eventBus, group: options.name, log: logger.child({ app: options.name }) });
    server.onSettled = (topic, outcome) => metrics.messageSettled(topic, outcome);
    server.onDeadLettered = (kind, why) => metrics.deadLettered(kind, why);
    return server;
  }
  const server = new ReliableMqttServer({
    url: config.mqtt.url,
    username: options.account.username,
    password: options.account.password,
    clientId: options.consumerClientId,
    clean: false,
    reconnectPeriod: 1000,
    subscribeOptions: { qos: 1 },
  });
  server.onSettled = (channel, outcome) => metrics.messageSettled(channel, outcome);
  return server;
}
