import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { topicPatterns, topics } from '#libs/mqtt-contract';
import { connect, connectDevice, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { signIn } from './factories/users.js';
import { startTestBackend, type TestBackend } from './support/backend.js';

const ADMIN_PHONE = '+8613700000078';

/**
 * SIGTERM on a standalone broker (one container of docker-compose.yml): it
 * stops accepting at once, lets the QoS 1 delivery in flight be acknowledged,
 * and only then closes and exits 0.
 */
describe('broker shutdown on SIGTERM', () => {
  let backend: TestBackend;
  let device: RegisteredDevice;
  let broker: ChildProcess;
  let mqttUrl: string;
  /** Everything the broker logged so far (JSON lines). */
  let output = '';

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    const admin = await signIn(backend, ADMIN_PHONE);
    [device] = await registerDevices(backend, admin.accessToken, 1);
    broker = spawn(process.execPath, [join(process.cwd(), 'dist/apps/broker/src/main.js')], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: backend.databaseUrl,
        REDIS_URL: '',
        MQTT_PORT: '0',
        BROKER_HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      broker.stdout!.on('data', (chunk) => {
        output += chunk;
        const match = /"port":(\d+),"msg":"broker MQTT listening/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      broker.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
    });
    mqttUrl = `mqtt://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (broker && broker.exitCode === null) broker.kill('SIGKILL');
    await backend?.stop();
  });

  it('refuses new connections, waits for the in-flight QoS 1 acknowledgement, then exits 0', async () => {
    const account = backend.backend.config.mqtt.serviceAccounts.faultFeedback;
    const service: MqttClient = await connect(mqttUrl, {
      clientId: `${account.username}-shutdown`,
      username: account.username,
      password: account.password,
      clean: false,
    });
    await service.subscribeAsync(topicPatterns.faults, { qos: 1 });
    let acknowledgedAt = 0;
    const received = new Promise<void>((resolve) => {
      // The service takes its time to acknowledge, as one committing to a database would.
      service.handleMessage = (_packet, callback) => {
        resolve();
        setTimeout(() => {
          acknowledgedAt = Date.now();
          callback();
        }, 500);
      };
    });
    const appliance = await connectDevice(mqttUrl, device.sn, device.deviceSecret);
    const report = { reportId: randomUUID(), code: 'E1', severity: 'info', occurredAt: new Date().toISOString() };
    await appliance.publishAsync(topics.faults(device.sn), JSON.stringify(report), { qos: 1 });
    await received;

    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      broker.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    broker.kill('SIGTERM');
    // The listener closes in the same turn as the "stopping" line is written; no guessing at delays.
    while (!output.includes('"msg":"broker stopping"')) await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(connectDevice(mqttUrl, device.sn, device.deviceSecret, { connectTimeout: 1000 })).rejects.toThrow();

    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(acknowledgedAt).toBeGreaterThan(0);
    expect(at).toBeGreaterThanOrEqual(acknowledgedAt);
    service.end(true);
    appliance.end(true);
  });
});
