import { readFile } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import type { IssuedDevice } from '#libs/devices';
import { topics } from '#libs/mqtt-contract';
import { inParallel } from './support.js';

// The state bench's heaters in a process of their own, so their sockets and messages do not
// slow the HTTP side's schedule. argv: <mqttUrl> <devicesJsonFile>. Each heater applies its
// desired state at once and reports the version (as `npm run device:sim -- --state apply` does).
// Sends { connected } once every heater is subscribed, then { reported, version } for each report the
// broker acknowledged (its PUBACK waits for the backend's commit).
const [url, devicesFile] = process.argv.slice(2);
const devices = JSON.parse(await readFile(devicesFile, 'utf8')) as IssuedDevice[];
const clients: MqttClient[] = [];

async function heater(device: IssuedDevice): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    clientId: device.sn,
    username: device.sn,
    password: device.deviceSecret,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
  });
  client.on('message', (topic, payload) => {
    if (topic !== topics.stateDesired(device.sn) || payload.length === 0) return;
    const desired = JSON.parse(payload.toString()) as { version: number; values: Record<string, unknown> };
    void client
      .publishAsync(topics.stateReported(device.sn), JSON.stringify({ values: desired.values, version: desired.version }), { qos: 1 })
      .then(() => process.send?.({ reported: device.sn, version: desired.version }))
      .catch(() => undefined);
  });
  await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
  return client;
}

await inParallel(devices, 100, async (device) => {
  clients.push(await heater(device));
});
process.on('message', async (message: string) => {
  if (message !== 'stop') return;
  await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
  process.exit(0);
});
process.send?.({ connected: clients.length });
