import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { DEVICE_DOWNSTREAM, DEVICE_UPSTREAM, topics } from '#libs/mqtt-contract';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { connectDevice, eventually, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { newFaultReport, reportingDevice } from './factories/faults.js';
import { startedPairing } from './factories/pairing.js';
import { signIn, type SignedIn } from './factories/users.js';

/**
 * Seeded fuzzing of every HTTP route (taken from the apps' OpenAPI documents,
 * so a new route is fuzzed without touching this file) and of every MQTT
 * topic a device may publish to or subscribe to (from mqtt-contract). The
 * seed is printed; `FUZZ_SEED=<seed>` replays a run, `FUZZ_CASES` sets the
 * cases per device topic (default 1,000), `FUZZ_HTTP_CASES` per HTTP route
 * (default 1,000; about three minutes for every route on two cores).
 * No answer may be a 5xx, no app may stop, and a legitimate device and user
 * are served afterwards.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261101);
const CASES = Number(process.env.FUZZ_CASES ?? 1000);
const HTTP_CASES = Number(process.env.FUZZ_HTTP_CASES ?? 1000);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 16);
const ADMIN_PHONE = '+8613900000711';

type Route = { app: string; base: string; method: string; path: string; authenticated: boolean };

/** Every operation of the app's OpenAPI document. */
async function routesOf(app: string, base: string): Promise<Route[]> {
  const answer = await call('GET', `${base}/docs-json`);
  expect(answer.status).toBe(200);
  const document = answer.body as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
      .map(([method, operation]) => ({
        app,
        base,
        method: method.toUpperCase(),
        path,
        authenticated: Boolean(operation.security?.length),
      })),
  );
}

/** Percent-encodes the UTF-8 bytes of any string, lone surrogates included (encodeURIComponent throws on those). */
function encodeBytes(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '$where', '__defineGetter__'];

/** Short hostile strings: the building blocks of values, keys and parameters. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom('', ' ', '\u0000', '\uD800', '\uDFFF', '\u202E', '💥', "' OR 1=1--", '../../etc/passwd', '%00', '{{7*7}}', '${x}', 'NaN'),
  fc.constantFrom(...POLLUTING_KEYS),
);

/** A long string, alone (inside values it would make every case slow to build). */
const hugeString = fc.integer({ min: 1000, max: 200_000 }).map((length) => 'a'.repeat(length));

const hostileJsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A body as bytes with the content type it claims. */
const hostileBody = fc.oneof(
  hostileJsonValue.map((value) => ({ type: 'application/json', body: JSON.stringify(value) ?? 'null' })),
  fc.dictionary(fc.constantFrom(...POLLUTING_KEYS), hostileJsonValue, { minKeys: 1 }).map((value) => ({
    type: 'application/json',
    body: JSON.stringify(value),
  })),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"polluted":1}}}', '[{"__proto__":[]}]').map((body) => ({
    type: 'application/json',
    body,
  })),
  fc.integer({ min: 20, max: 30_000 }).map((depth) => ({ type: 'application/json', body: '['.repeat(depth) + ']'.repeat(depth) })),
  fc.integer({ min: 20, max: 5_000 }).map((depth) => ({ type: 'application/json', body: '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) })),
  fc.string({ maxLength: 60 }).map((body) => ({ type: 'application/json', body })),
  fc.record({
    type: fc.constantFrom(
      'text/plain',
      'text/csv',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'image/png',
      '',
    ),
    body: fc.oneof(
      fc.string({ maxLength: 200 }),
      hostileJsonValue.map((value) => JSON.stringify(value) ?? ''),
    ),
  }),
  fc.constant({ type: 'application/json', body: '' }),
  hugeString.map((value) => ({ type: 'application/json', body: JSON.stringify({ phone: value, code: value, sn: value }) })),
  hugeString.map((value) => ({ type: 'text/plain', body: value })),
);

const hostileParam = fc.oneof(
  hostileString.map(encodeBytes),
  fc.constantFrom('%', '%zz', '%C0%AE', '%E0%A4%A', '..%2F..%2F', '%2e%2e', 'x%00y', 'PX1-0001', '00000000-0000-0000-0000-000000000000'),
);

const hostileQuery = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom('limit', 'before', 'from', 'to', 'point', 'bucket', 'model', 'status', '__proto__[x]', 'a[]', 'a[b][c]'),
      hostileParam,
    ),
    hostileParam,
  ),
  { maxLength: 4 },
);

const httpCase = fc.record({
  body: hostileBody,
  params: fc.array(hostileParam, { minLength: 4, maxLength: 4 }),
  query: hostileQuery,
  token: fc.constantFrom('admin', 'user', 'technician', 'none', 'garbage'),
});

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * One raw HTTP request (node:http, so a GET may carry a body and nothing is
 * tidied up on the way); status 0 with the reason when no answer came.
 */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  retried = false,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    // A body always framed by its length: node:http sends a GET's or DELETE's body unframed, and the server
    // rightly reads those bytes as the start of the next request on the connection (400, connection closed).
    const framed = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: framed, agent, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => resolve({ status: 0, text: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed as this request went out on it (Node's documented race,
      // `request.reusedSocket`): no request reached the server, so it is sent again, once, as clients do.
      if (req.reusedSocket && !retried && (error.code === 'ECONNRESET' || error.message === 'socket hang up')) {
        resolve(rawRequest(url, method, headers, body, true));
        return;
      }
      resolve({ status: 0, text: `${error.message}${req.reusedSocket ? ' (reused connection)' : ''}` });
    });
    req.end(body);
  });
}

/** Runs `work` over the items, `CONCURRENCY` at a time. */
async function pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

describe('seeded fuzzing of every HTTP route and every device topic', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  let user: SignedIn;
  let technician: SignedIn;
  let device: RegisteredDevice;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${HTTP_CASES} cases per HTTP route, ${CASES} per device topic`);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    admin = await signIn(backend, ADMIN_PHONE);
    user = await signIn(backend);
    technician = await signIn(backend);
    await call('POST', `${backend.faultsUrl}/v1/admin/technicians`, {
      token: admin.accessToken,
      body: { phone: technician.phone, name: 'Fuzz Tech' },
    });
    technician = await signIn(backend, technician.phone);
    [device] = await registerDevices(backend, admin.accessToken);
  });

  afterAll(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    agent.destroy();
    await backend?.stop();
  });

  /** Every app answers /health 200: none has stopped. */
  async function allAlive(): Promise<Record<string, number>> {
    const statuses: Record<string, number> = {};
    for (const [app, base] of [
      ['broker', backend.brokerHttpUrl],
      ['provisioning', backend.provisioningUrl],
      ['fault-feedback', backend.faultsUrl],
    ]) {
      statuses[app] = (await fetch(`${base}/health`).catch(() => ({ status: 0 }))).status;
    }
    return statuses;
  }

  it('answers every HTTP route of every app without a 5xx, whatever the body, parameters, query and content type', async () => {
    const routes = [
      ...(await routesOf('provisioning', backend.provisioningUrl)),
      ...(await routesOf('fault-feedback', backend.faultsUrl)),
      ...(await routesOf('broker', backend.brokerHttpUrl)),
    ];
    expect(routes.length).toBeGreaterThan(40);
    const only = process.env.FUZZ_ROUTES ? new RegExp(process.env.FUZZ_ROUTES) : undefined;
    if (only) routes.splice(0, routes.length, ...routes.filter((route) => only.test(`${route.method} ${route.path}`)));
    const tokens: Record<string, string | undefined> = {
      admin: admin.accessToken,
      user: user.accessToken,
      technician: technician.accessToken,
      none: undefined,
      garbage: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
    };
    const serverErrors: string[] = [];
    let sent = 0;
    for (const [index, route] of routes.entries()) {
      if (process.env.FUZZ_TRACE) process.stderr.write(`fuzzing ${route.method} ${route.path}\n`);
      const cases = fc.sample(httpCase, { seed: SEED + index, numRuns: HTTP_CASES });
      await pool(cases, async (sample) => {
        let param = 0;
        const path = route.path.replace(/\{[^}]+\}/g, () => sample.params[param++ % sample.params.length]);
        const query = sample.query.map(([key, value]) => `${key}=${value}`).join('&');
        // Erasing the caller's own account would end the run's logins: that route gets no valid token.
        const token = route.method === 'DELETE' && route.path === '/v1/me' ? tokens.garbage : tokens[sample.token];
        const headers: Record<string, string> = {};
        if (token) headers.authorization = `Bearer ${token}`;
        if (sample.body.type) headers['content-type'] = sample.body.type;
        const hasBody = !['GET', 'DELETE'].includes(route.method) || sample.body.body.length % 3 === 0;
        const answer = await rawRequest(
          `${route.base}${path}${query ? `?${query}` : ''}`,
          route.method,
          headers,
          hasBody ? sample.body.body : undefined,
        );
        sent++;
        if (answer.status >= 500 || answer.status === 0) {
          const sentAs = `${sample.body.type || 'no content type'}, ${hasBody ? sample.body.body.length : 'no'} body chars`;
          serverErrors.push(`${route.method} ${path} (${sentAs}) → ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      });
    }
    expect(sent).toBe(routes.length * HTTP_CASES);
    expect(serverErrors.slice(0, 20)).toEqual([]);
    expect(crashes).toEqual([]);
    expect(await allAlive()).toEqual({ broker: 200, provisioning: 200, 'fault-feedback': 200 });
  }, 900_000);

  it('takes hostile payloads on every topic a device publishes to, and hostile filters where it subscribes, without stopping', async () => {
    const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret, { reconnectPeriod: 200 });
    let closes = 0;
    client.on('close', () => closes++);
    const payload = fc.oneof(
      hostileJsonValue.map((value) => JSON.stringify(value) ?? ''),
      fc
        .dictionary(
          fc.constantFrom('token', 'reportId', 'code', 'severity', 'occurredAt', 'readings', 'jobId', 'state', 'values', ...POLLUTING_KEYS),
          hostileJsonValue,
          {
            maxKeys: 6,
          },
        )
        .map((value) => JSON.stringify(value)),
      fc.integer({ min: 20, max: 20_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.integer({ min: 4_000, max: 60_000 }).map((length) => JSON.stringify({ reportId: 'x', code: 'c'.repeat(length) })),
    );
    const upstream = DEVICE_UPSTREAM.map((kind) => topics[kind](device.sn));
    for (const [index, topic] of upstream.entries()) {
      if (process.env.FUZZ_TRACE) process.stderr.write(`fuzzing ${topic.replace(device.sn, '<sn>')}\n`);
      const cases = fc.sample(fc.record({ payload, qos: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1> }), {
        seed: SEED + 1000 + index,
        numRuns: CASES,
      });
      await pool(cases, async (sample) => {
        await client.publishAsync(topic, sample.payload, { qos: sample.qos });
      });
    }
    const filter = fc.oneof(
      fc.constantFrom(...DEVICE_DOWNSTREAM.map((kind) => topics[kind](device.sn))),
      fc.constantFrom('#', '+/#', 'devices/#', 'devices/+/faults', `devices/${device.sn}/#`, '$SYS/#', '$internal/#', 'devices/+/+/+'),
      hostileString.map((value) => `devices/${device.sn}/${value || 'x'}`),
      hostileString.map((value) => value || '+'),
    );
    if (process.env.FUZZ_TRACE) process.stderr.write(`fuzzing subscriptions\n`);
    // mqtt.js refuses some malformed filters before sending them; draw until CASES filters reached the broker.
    let subscribed = 0;
    const filters = fc.sample(filter, { seed: SEED + 2000, numRuns: CASES * 4 });
    await pool(filters, async (value) => {
      if (subscribed >= CASES) return;
      try {
        await client.subscribeAsync(value, { qos: 1 });
        subscribed++;
      } catch {
        // refused by the client library: not a case for the broker
      }
    });
    expect(subscribed).toBeGreaterThanOrEqual(CASES);
    // A last QoS 1 publish is acknowledged: the broker is still serving this very connection.
    await client.publishAsync(topics.status(device.sn), JSON.stringify({ online: true }), { qos: 1 });
    expect(closes).toBe(0);
    await client.endAsync();
    expect(crashes).toEqual([]);
    expect(await allAlive()).toEqual({ broker: 200, provisioning: 200, 'fault-feedback': 200 });
  }, 900_000);

  it('afterwards serves a legitimate user and device: sign-in, pairing, a fault report', async () => {
    const owner = await signIn(backend);
    expect((await call('GET', `${backend.provisioningUrl}/v1/me`, { token: owner.accessToken })).status).toBe(200);
    const [fresh] = await registerDevices(backend, admin.accessToken);
    const appliance = await reportingDevice(backend, fresh);
    try {
      const pairing = await startedPairing(backend, owner, { qr: fresh.qr });
      await appliance.client.publishAsync(topics.pairingConfirm(fresh.sn), JSON.stringify({ token: pairing.token }), { qos: 1 });
      const report = newFaultReport();
      await appliance.send(report);
      expect((await appliance.ackFor(report.reportId)).stored).not.toBe('rejected');
    } finally {
      await appliance.client.endAsync();
    }
    const owned = await eventually(async () => {
      const devices = await call('GET', `${backend.provisioningUrl}/v1/devices`, { token: owner.accessToken });
      return Array.isArray(devices.body) && devices.body.length > 0 ? devices.body : undefined;
    });
    expect(owned).toEqual([expect.objectContaining({ sn: fresh.sn, role: 'owner' })]);
    const again: MqttClient = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    await again.endAsync();
  });
});
