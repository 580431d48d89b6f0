import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { parseMqttUrls, type MqttBrokerAddress } from '#libs/config';
import type { HealthCheck } from './health.js';

export interface MqttLinkOptions {
  /** MQTT_URL: one broker node, or several comma-separated. */
  url: string;
  username: string;
  password: string;
  clientId: string;
  logger: Logger;
}

/**
 * mqtt.js options that reach the cluster, not a node: the first node of
 * MQTT_URL first, and on every reconnect the next one, so a link whose node
 * dropped moves to another. Config validation refused anything unusable.
 */
export function brokerNodes(url: string): MqttBrokerAddress & { servers: MqttBrokerAddress[] } {
  const nodes = parseMqttUrls(url);
  if (!nodes) throw new Error('MQTT_URL must list mqtt:// or mqtts:// broker URLs');
  const [first] = nodes;
  return { host: first.host, port: first.port, protocol: first.protocol, servers: nodes };
}

/**
 * What a link publishes through: an mqtt.js client reaching the broker over
 * the network, or the broker of this process (`npm start`, in-process.ts).
 * The services' notifiers take it as it is (`publishAsync`).
 */
export interface MqttPublishClient {
  readonly connected: boolean;
  publishAsync(topic: string, message: string | Buffer, options: { qos: 0 | 1; retain?: boolean }): Promise<unknown>;
  endAsync(): Promise<unknown>;
}

/**
 * A service's own way to publish to devices, as a service account. Over the
 * network (`MqttLink.connect`) it reconnects by itself, to the next node of
 * MQTT_URL; QoS 1 publishes made while it is away wait in its queue and go
 * out once it is back, and `health` reports it down meanwhile.
 */
export class MqttLink {
  constructor(readonly client: MqttPublishClient) {}

  static connect(options: MqttLinkOptions): MqttLink {
    const clientOptions: IClientOptions = {
      username: options.username,
      password: options.password,
      clientId: options.clientId,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      clean: true,
    };
    const client: MqttClient = mqtt.connect({ ...clientOptions, ...brokerNodes(options.url) });
    client.on('connect', () => options.logger.info({ clientId: options.clientId }, 'MQTT link up'));
    client.on('offline', () => options.logger.warn({ clientId: options.clientId }, 'MQTT link down, retrying'));
    client.on('error', (error) => options.logger.warn({ err: error }, 'MQTT link error'));
    return new MqttLink(client);
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
