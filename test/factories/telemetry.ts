import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { sql, type TestBackend } from '../support/backend.js';
import { call } from '../support/http.js';
import { bindDevice } from './bindings.js';
import { setConsent } from './consents.js';
import { connectDevice, eventually, registerDevices, type RegisteredDevice } from './devices.js';
import { signIn, type SignedIn } from './users.js';

export interface Reading {
  point: string;
  at: string;
  value: unknown;
}

export interface Appliance extends RegisteredDevice {
  owner: SignedIn;
  client: MqttClient;
}

/** A fresh account owning a freshly registered, connected appliance of `model`, having granted `consents` first. */
export async function connectedAppliance(
  backend: TestBackend,
  adminToken: string,
  options: { model?: string; consents?: string[]; owner?: SignedIn } = {},
): Promise<Appliance> {
  const owner = options.owner ?? (await signIn(backend));
  for (const purpose of options.consents ?? []) await setConsent(backend, owner, purpose, true);
  const [device] = await registerDevices(backend, adminToken, 1, { model: options.model ?? 'HT1' });
  await bindDevice(backend, device.sn, owner.userId);
  const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
  return { ...device, owner, client };
}

/** Publishes one telemetry message as an appliance would (QoS 1 by default). */
export async function publishReadings(client: MqttClient, sn: string, readings: unknown, qos: 0 | 1 = 1): Promise<void> {
  const payload = typeof readings === 'string' ? readings : JSON.stringify({ readings });
  await client.publishAsync(topics.telemetry(sn), payload, { qos });
}

/** `minutesAgo` minutes before now, as ISO 8601. */
export const ago = (minutes: number, from = Date.now()) => new Date(from - minutes * 60_000).toISOString();

/** A point's raw history as its owner reads it. */
export async function rawHistory(backend: TestBackend, user: SignedIn, sn: string, point: string, query = ''): Promise<Reading[]> {
  const answer = await call('GET', `${backend.provisioningUrl}/v1/devices/${sn}/telemetry?point=${point}${query}`, {
    token: user.accessToken,
  });
  if (answer.status !== 200) throw new Error(`telemetry read failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as Reading[];
}

/** Waits until the owner's raw history of a point holds `count` readings (the batch holding them has committed). */
export function historyReaches(backend: TestBackend, user: SignedIn, sn: string, point: string, count: number, query = '') {
  return eventually(async () => {
    const readings = await rawHistory(backend, user, sn, point, query);
    return readings.length >= count ? readings : undefined;
  }, 10_000);
}

/** One counter of provisioning's /metrics (0 when absent). */
export async function metric(backend: TestBackend, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await call('GET', `${backend.provisioningUrl}/metrics`)).body as string;
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  const line = text.split('\n').find((candidate) => candidate.startsWith(wanted ? `${name}{${wanted}}` : `${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Everything telemetry holds for a person (series, readings, rollups), straight from the database. */
export async function heldFor(backend: TestBackend, userId: string): Promise<{ series: number; readings: number; rollups: number }> {
  const [row] = await sql<{ series: number; readings: number; rollups: number }>(
    backend,
    `SELECT (SELECT count(*)::int FROM telemetry_series WHERE owner_id = $1) AS series,
            (SELECT count(*)::int FROM telemetry_readings WHERE owner_id = $1) AS readings,
            (SELECT count(*)::int FROM telemetry_rollups WHERE owner_id = $1) AS rollups`,
    [userId],
  );
  return row;
}
