import type { DynamicModule } from '@nestjs/common';
import type { MqttAccountConfig } from '#libs/config';
import type { AppContext, RunningApp } from './app-context.js';
import { startHttpApp } from './http-app.js';
import { MqttLink } from './mqtt-link.js';

export interface ServiceAppOptions {
  name: string;
  title: string;
  port: number;
  portVariable: string;
  /** The service account this app uses to reach the broker. */
  account: MqttAccountConfig;
  module(mqtt: MqttLink): DynamicModule;
}

/** An HTTP service that also holds an MQTT link to the broker (provisioning, fault-feedback). */
export async function startServiceApp(context: AppContext, options: ServiceAppOptions): Promise<RunningApp> {
  const { config, logger } = context;
  const mqtt = new MqttLink({
    url: config.mqtt.url,
    username: options.account.username,
    password: options.account.password,
    clientId: `${options.account.username}-${process.pid}`,
    logger: logger.child({ app: options.name }),
  });
  try {
    const http = await startHttpApp(options.module(mqtt), {
      name: options.name,
      title: options.title,
      port: options.port,
      host: config.host,
      portVariable: options.portVariable,
      logger,
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
