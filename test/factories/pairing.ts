import type { MqttClient } from 'mqtt';
import type { NetworkInfo } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import type { TestBackend } from '../support/backend.js';
import { call, type HttpResult } from '../support/http.js';
import { connectDevice, nextMessage, registerDevices, type RegisteredDevice } from './devices.js';
import type { SignedIn } from './users.js';

export function newNetwork(overrides: NetworkInfo = {}): Required<NetworkInfo> {
  return {
    phoneModel: 'Pixel 8',
    osVersion: 'Android 15',
    routerMac: 'AA:BB:CC:00:11:22',
    hiddenSsid: false,
    networkId: 'net-42',
    wifiName: 'home-5G',
    ...overrides,
  };
}

/** POST /v1/pairings as the companion app does. */
export function startPairing(backend: TestBackend, user: SignedIn, body: Record<string, unknown>): Promise<HttpResult> {
  return call('POST', `${backend.provisioningUrl}/v1/pairings`, { token: user.accessToken, body });
}

/** POST /v1/pairings that must answer 201; returns {pairingId, sn, token, expiresAt}. */
export async function startedPairing(
  backend: TestBackend,
  user: SignedIn,
  body: Record<string, unknown>,
): Promise<{ pairingId: string; sn: string; token: string; expiresAt: string }> {
  const answer = await startPairing(backend, user, body);
  if (answer.status !== 201) throw new Error(`pairing failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

export async function pairingStatus(backend: TestBackend, user: SignedIn, pairingId: string): Promise<string> {
  const answer = await call('GET', `${backend.provisioningUrl}/v1/pairings/${pairingId}`, { token: user.accessToken });
  if (answer.status !== 200) throw new Error(`pairing status failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.status;
}

/** An appliance online and listening for its pairing results. */
export async function onlineDevice(backend: TestBackend, device: RegisteredDevice): Promise<MqttClient> {
  const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
  await client.subscribeAsync(topics.pairingResult(device.sn), { qos: 1 });
  return client;
}

/** The appliance presents a token and waits for its answer on devices/<sn>/pairing/result. */
export async function confirmOnDevice(client: MqttClient, sn: string, token: unknown): Promise<{ pairingId: string; status: string }> {
  const answer = nextMessage(client, (topic) => topic === topics.pairingResult(sn), 10_000);
  await client.publishAsync(topics.pairingConfirm(sn), typeof token === 'string' ? JSON.stringify({ token }) : JSON.stringify(token), {
    qos: 1,
  });
  return JSON.parse((await answer).payload.toString('utf8'));
}

/** Registers a device and binds it to `owner` end to end (QR, device confirmation); the device's MQTT client stays open. */
export async function ownedDevice(
  backend: TestBackend,
  adminToken: string,
  owner: SignedIn,
): Promise<RegisteredDevice & { client: MqttClient }> {
  const [device] = await registerDevices(backend, adminToken);
  const client = await onlineDevice(backend, device);
  const pairing = await startedPairing(backend, owner, { qr: device.qr });
  const result = await confirmOnDevice(client, device.sn, pairing.token);
  if (result.status !== 'bound') throw new Error(`device not bound: ${JSON.stringify(result)}`);
  return { ...device, client };
}

export { sql } from '../support/backend.js';
