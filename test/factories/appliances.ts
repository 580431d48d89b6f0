import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { firstConnack } from './devices.js';

/** An appliance given several broker nodes, as firmware behind a balancer sees them. */
export interface ClusterAppliance {
  sn: string;
  client: MqttClient;
  /** The MQTT port of the node behind every accepting CONNACK this appliance got, in order. */
  connacks: number[];
}

/**
 * Connects like firmware does: the first port first and, whenever the
 * connection drops, the next (mqtt.js `servers`); QoS 1 publishes without a
 * PUBACK are sent again on the new connection. Resolves once connected.
 */
export function clusterAppliance(
  device: { sn: string; deviceSecret: string },
  ports: number[],
  options: IClientOptions = {},
): Promise<ClusterAppliance> {
  const client = mqtt.connect({
    host: '127.0.0.1',
    port: ports[0],
    servers: ports.map((port) => ({ host: '127.0.0.1', port })),
    clientId: device.sn,
    username: device.sn,
    password: device.deviceSecret,
    reconnectPeriod: 250,
    connectTimeout: 5000,
    ...options,
  });
  const appliance: ClusterAppliance = { sn: device.sn, client, connacks: [] };
  client.on('packetreceive', (packet) => {
    if (packet.cmd === 'connack' && packet.returnCode === 0) appliance.connacks.push((client.stream as Socket).remotePort ?? 0);
  });
  return firstConnack(client).then(() => appliance);
}

/** Rejects when the promise has not settled in `ms`, naming what was waited for. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
