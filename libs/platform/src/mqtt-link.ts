import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { HealthCheck } from './health.js';

export interface MqttLinkOptions {
  url: string;
  username: string;
  password: string;
  clientId: string;
  logger: Logger;
}

/**
 * A service's own connection to the broker, as a service account. It
 * reconnects by itself; `health` reports it down while it is away.
 */
export class MqttLink {
  readonly client: MqttClient;

  constructor(private readonly options: MqttLinkOptions) {
    const clientOptions: IClientOptions = {
      username: options.username,
      password: options.password,
      clientId: options.clientId,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      clean: true,
    };
    this.client = mqtt.connect(options.url, clientOptions);
    this.client.on('connect', () => options.logger.info({ clientId: options.clientId }, 'MQTT link up'));
    this.client.on('offline', () => options.logger.warn({ clientId: options.clientId }, 'MQTT link down, retrying'));
    this.client.on('error', (error) => options.logger.warn({ err: error }, 'MQTT link error'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get health(): HealthCheck {
    return { name: 'mqtt', isUp: async () => this.client.connected };
  }

  async publish(topic: string, payload: unknown, qos: 0 | 1 = 1, retain = false): Promise<void> {
    await this.client.publishAsync(topic, JSON.stringify(payload), { qos, retain });
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
