import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { topics } from '#libs/mqtt-contract';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { connectDevice, nextMessage, registerDevices } from './factories/devices.js';
import { newFaultReport, reportingDevice } from './factories/faults.js';
import { startedPairing } from './factories/pairing.js';
import { signIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900000611';

/** Every route of an app's OpenAPI document that takes a JSON body, with its path parameters filled in. */
async function jsonRoutes(baseUrl: string): Promise<Array<{ method: string; path: string }>> {
  const document = (await call('GET', `${baseUrl}/docs-json`)).body as {
    paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>>;
  };
  const routes: Array<{ method: string; path: string }> = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['post', 'put', 'patch'].includes(method)) continue;
      if (operation.requestBody && !operation.requestBody.content?.['application/json']) continue;
      routes.push({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x1') });
    }
  }
  return routes;
}

describe('hostile input', () => {
  let backend: TestBackend;
  let adminToken: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('answers 400 VALIDATION_FAILED to a body nested 20,000 deep on every JSON route of both services', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const nestedObjects = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    const routes = [
      ...(await jsonRoutes(backend.provisioningUrl)).map((route) => ({ ...route, url: backend.provisioningUrl + route.path })),
      ...(await jsonRoutes(backend.faultsUrl)).map((route) => ({ ...route, url: backend.faultsUrl + route.path })),
    ];
    expect(routes.length).toBeGreaterThanOrEqual(12);
    for (const route of routes) {
      for (const body of [deep, nestedObjects]) {
        const answer = await call(route.method, route.url, { body, token: adminToken });
        expect({ route: `${route.method} ${route.url}`, status: answer.status, body: answer.body }).toEqual({
          route: `${route.method} ${route.url}`,
          status: 400,
          body: { statusCode: 400, error: 'VALIDATION_FAILED', message: expect.stringContaining('nested deeper than') },
        });
      }
    }
    // A body of ordinary depth still reaches the route.
    const fine = await call('POST', `${backend.provisioningUrl}/v1/auth/otp`, { body: { phone: '+8613900000612' } });
    expect(fine.status).toBe(202);
  });

  it('refuses deep and huge payloads on every device topic, and goes on serving the device', async () => {
    const owner = await signIn(backend);
    const [device] = await registerDevices(backend, adminToken);
    const appliance = await reportingDevice(backend, device);
    // Under fault reports' 4 KiB, so the nesting itself is what gets it refused; then one far deeper, and one near the broker's 64 KiB.
    const deep = `{"reportId":"r1","diagnostics":${'['.repeat(1_500)}${']'.repeat(1_500)}}`;
    const deeper = `{"reportId":"r2","diagnostics":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const huge = JSON.stringify(newFaultReport({ reportId: 'r3', code: 'x'.repeat(60_000) }));
    try {
      for (const payload of [deep, deeper, huge]) {
        for (const topic of [topics.pairingConfirm(device.sn), topics.reset(device.sn), topics.status(device.sn)]) {
          await appliance.client.publishAsync(topic, payload, { qos: 1 });
        }
        await appliance.send(payload);
      }
      await expect(nextAck(appliance.acks, 3)).resolves.toEqual([
        { reportId: 'r1', stored: 'rejected', reason: 'payload is nested deeper than 32 levels' },
        { reportId: 'r2', stored: 'rejected', reason: 'report exceeds 4096 bytes' },
        { reportId: 'r3', stored: 'rejected', reason: 'report exceeds 4096 bytes' },
      ]);

      // Afterwards the same device pairs and reports as usual.
      const report = newFaultReport();
      await appliance.send(report);
      expect((await appliance.ackFor(report.reportId)).stored).not.toBe('rejected');
      const pairing = await startedPairing(backend, owner, { qr: device.qr });
      const result = nextMessage(appliance.client, (topic) => topic === topics.pairingResult(device.sn));
      await appliance.client.subscribeAsync(topics.pairingResult(device.sn), { qos: 1 });
      await appliance.client.publishAsync(topics.pairingConfirm(device.sn), JSON.stringify({ token: pairing.token }), { qos: 1 });
      expect(JSON.parse((await result).payload.toString('utf8'))).toMatchObject({ status: 'bound' });
    } finally {
      await appliance.client.endAsync();
    }
    const again = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    await again.endAsync();
  });
});

async function nextAck<T>(acks: T[], count: number, timeoutMs = 10_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  while (acks.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${acks.length} of ${count} acks arrived`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return acks.slice(0, count);
}
