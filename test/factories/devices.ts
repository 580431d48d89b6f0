import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { TestBackend } from '../support/backend.js';
import { call } from '../support/http.js';

let counter = 0;

/** A fresh, valid SN per call, unique within the run. */
export function newSn(prefix = 'SN'): string {
  counter += 1;
  return `${prefix}-${randomBytes(4).toString('hex').toUpperCase()}-${counter}`;
}

/** A fresh MAC per call. */
export function newMac(): string {
  return randomBytes(6).toString('hex').toUpperCase().match(/../g)!.join(':');
}

export interface DeviceRowInput {
  sn: string;
  mac: string;
  model: string;
  firmware?: string;
}

export function newDeviceRow(overrides: Partial<DeviceRowInput> = {}): DeviceRowInput {
  return { sn: newSn(), mac: newMac(), model: 'PURIFIER-X1', firmware: '1.0.0', ...overrides };
}

export interface RegisteredDevice {
  sn: string;
  deviceSecret: string;
  qr: string;
}

/** Registers devices through the admin API, as an operator would. */
export async function registerDevices(
  backend: TestBackend,
  adminToken: string,
  count = 1,
  overrides: Partial<DeviceRowInput> = {},
): Promise<RegisteredDevice[]> {
  const rows = Array.from({ length: count }, () => newDeviceRow(overrides));
  const response = await call('POST', `${backend.provisioningUrl}/v1/admin/devices`, { token: adminToken, body: rows });
  if (response.status !== 201) throw new Error(`device registration failed: ${response.status} ${JSON.stringify(response.body)}`);
  return (response.body as Array<RegisteredDevice & { status: string }>).filter((row) => row.status === 'registered');
}

/** Connects like an appliance: clientId = username = SN, password = secret. Rejects with the broker's refusal. */
export function connectDevice(url: string, sn: string, secret: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connect(url, { clientId: sn, username: sn, password: secret, ...options });
}

export function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return firstConnack(mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options }));
}

/**
 * Resolves with the client once its first CONNACK accepted it; an error or a close before that ends the
 * client and rejects. Only the first connection: an error later (a node killed mid-write resets the
 * socket) leaves the client to reconnect, as firmware would, instead of ending it.
 */
export function firstConnack(client: MqttClient): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      client.off('connect', onConnect).off('error', onError).off('close', onClose);
      if (!error) return resolve(client);
      client.end(true);
      reject(error);
    };
    const onConnect = () => settle();
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error('closed before CONNACK'));
    client.on('connect', onConnect).on('error', onError).on('close', onClose);
  });
}

/** Resolves with the first message on a topic matching the predicate. */
export function nextMessage(
  client: MqttClient,
  predicate: (topic: string, payload: Buffer) => boolean = () => true,
  timeoutMs = 5000,
): Promise<{ topic: string; payload: Buffer; retain: boolean; qos: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error('no message arrived'));
    }, timeoutMs);
    const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean; qos?: number }) => {
      if (!predicate(topic, payload)) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve({ topic, payload, retain: Boolean(packet.retain), qos: packet.qos ?? 0 });
    };
    client.on('message', onMessage);
  });
}

/** Resolves when the client's connection closes (or rejects after the timeout). */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error('connection stayed open')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Polls until the check passes (for effects that land asynchronously, like batched writes). */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The QoS the broker granted for one filter (128 = refused), as the SUBACK says. */
export async function grantFor(client: MqttClient, filter: string, qos: 0 | 1 | 2 = 1): Promise<number> {
  try {
    const [grant] = await client.subscribeAsync(filter, { qos });
    return grant.qos;
  } catch (error) {
    const granted = (error as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted) return granted[0];
    throw error;
  }
}
