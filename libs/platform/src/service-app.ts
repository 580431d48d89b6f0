import { randomBytes } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import type { MqttAccountConfig } from '#libs/config';
import type { AppContext, RunningApp } from './app-context.js';
import { startHttpApp } from './http-app.js';
import { MqttLink } from './mqtt-link.js';
import { ReliableMqttServer } from './reliable-mqtt.server.js';
import { ServiceMetrics, ServiceMetricsModule } from './service-metrics.js';

/** The app's own module beside /metrics. */
@Module({})
class ServiceRootModule {}

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
  const consumer = options.consumerClientId
    ? new ReliableMqttServer({
        url: config.mqtt.url,
        username: options.account.username,
        password: options.account.password,
        clientId: options.consumerClientId,
        clean: false,
        reconnectPeriod: 1000,
        subscribeOptions: { qos: 1 },
      })
    : undefined;
  const metrics = new ServiceMetrics();
  if (consumer) consumer.onSettled = (channel, outcome) => metrics.messageSettled(channel, outcome);
  try {
    const root: DynamicModule = { module: ServiceRootModule, imports: [options.module(mqtt), ServiceMetricsModule.forRoot(metrics)] };
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
