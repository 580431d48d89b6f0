import mqtt, { type MqttClient } from 'mqtt';

/**
 * Connects as an appliance does (clientId = username = SN, password = its
 * secret); rejects with the broker's refusal. Once in, it reconnects by itself.
 */
export function connectAppliance(url: string, device: { sn: string; secret: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: device.sn,
      username: device.sn,
      password: device.secret,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    client.once('connect', () => {
      client.options.reconnectPeriod = 1000;
      resolve(client);
    });
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}
