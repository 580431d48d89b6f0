import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { startTestBackend, sql, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { setConsent, setRestriction } from './factories/consents.js';
import { ago, connectedAppliance, heldFor, historyReaches, publishReadings, type Appliance } from './factories/telemetry.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900001402';
const HOUR = 3600_000;

/**
 * The maker's statistics and the privacy of readings: only readings whose owner had product_improvement live
 * when they arrived, only buckets of five devices or more; withdrawal, restriction, export, erasure, and a
 * technician's view during a visit.
 */
describe('telemetry statistics and privacy', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  const clients: MqttClient[] = [];
  let models = 0;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    admin = await signIn(backend, ADMIN_PHONE);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await backend?.stop();
  });

  /** A model of its own per test, so each test's statistics are its own. */
  async function newModel(): Promise<string> {
    models += 1;
    const model = `FLOW-${process.pid % 1000}-${models}`;
    const defined = await call('PUT', `${backend.provisioningUrl}/v1/admin/models/${model}`, {
      token: admin.accessToken,
      body: {
        name: 'Flow meter',
        points: [
          { id: 'flow', type: 'number', writable: false, history: true, unit: 'L/min', min: 0 },
          { id: 'valve', type: 'boolean', writable: false, history: true },
        ],
      },
    });
    expect(defined.status).toBe(200);
    return model;
  }

  async function appliance(model: string, consents: string[] = ['product_improvement']): Promise<Appliance> {
    const device = await connectedAppliance(backend, admin.accessToken, { model, consents });
    clients.push(device.client);
    return device;
  }

  /** Sends readings of `flow` and waits until the owner's history has them all (so the batch, statistics included, committed). */
  async function send(device: Appliance, values: Array<[minute: number, value: number]>, hourStart: number) {
    const before = (
      await sql<{ n: number }>(backend, 'SELECT count(*)::int AS n FROM telemetry_readings WHERE owner_id = $1', [device.owner.userId])
    )[0].n;
    await publishReadings(
      device.client,
      device.sn,
      values.map(([minute, value]) => ({ point: 'flow', at: new Date(hourStart + minute * 60_000).toISOString(), value })),
    );
    await historyReaches(
      backend,
      device.owner,
      device.sn,
      'flow',
      before + values.length,
      `&from=${new Date(hourStart - 24 * HOUR).toISOString()}`,
    );
  }

  const statistics = (model: string, query = 'bucket=hour') =>
    call('GET', `${backend.provisioningUrl}/v1/admin/telemetry/aggregates?model=${model}&point=flow&${query}`, {
      token: admin.accessToken,
    });
  const lastHour = () => Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

  it('leaves out a bucket of four devices, shows it at five, and counts only readings under product_improvement', async () => {
    const model = await newModel();
    const hour = lastHour();
    const consenting = await Promise.all([1, 2, 3, 4].map(() => appliance(model)));
    const declining = await appliance(model, []);
    for (const [index, device] of consenting.entries())
      await send(
        device,
        [
          [10, 10 + index],
          [20, 20 + index],
        ],
        hour,
      );
    // Readings of an owner without product_improvement are kept for their charts, never counted.
    await send(declining, [[15, 1000]], hour);
    expect(await statistics(model)).toEqual({ status: 200, body: [] });
    expect((await statistics(model, 'bucket=day')).body).toEqual([]);

    const fifth = await appliance(model);
    await send(fifth, [[30, 5]], hour);
    // A device counts once however many readings it sends.
    await send(fifth, [[40, 6]], hour);
    const { body } = await statistics(model);
    expect(body).toEqual([
      {
        at: new Date(hour).toISOString(),
        devices: 5,
        count: 10,
        min: 5,
        max: 23,
        avg: (10 + 11 + 12 + 13 + 20 + 21 + 22 + 23 + 5 + 6) / 10,
      },
    ]);
    expect((await statistics(model, 'bucket=day')).body).toEqual([expect.objectContaining({ devices: 5, count: 10 })]);
    // No SN, no person: the answer has exactly these fields.
    expect(Object.keys(body[0]).sort()).toEqual(['at', 'avg', 'count', 'devices', 'max', 'min']);

    expect(
      (
        await call('GET', `${backend.provisioningUrl}/v1/admin/telemetry/aggregates?model=${model}&point=flow`, {
          token: fifth.owner.accessToken,
        })
      ).status,
    ).toBe(403);
    expect((await statistics(model, 'bucket=raw')).body.message).toBe('bucket must be one of hour, day');
    expect(
      (
        await call('GET', `${backend.provisioningUrl}/v1/admin/telemetry/aggregates?model=${model}&point=valve`, {
          token: admin.accessToken,
        })
      ).body,
    ).toMatchObject({
      error: 'VALIDATION_FAILED',
      message: 'point valve is boolean: statistics are kept for numeric points',
    });
    expect(
      (await call('GET', `${backend.provisioningUrl}/v1/admin/telemetry/aggregates?model=NOPE&point=flow`, { token: admin.accessToken }))
        .status,
    ).toBe(404);
  });

  it('on withdrawal and restriction keeps what is already counted and lets nothing new in; the owner keeps their charts', async () => {
    const model = await newModel();
    const hour = lastHour();
    const devices = await Promise.all([1, 2, 3, 4, 5].map(() => appliance(model)));
    for (const device of devices) await send(device, [[5, 10]], hour);
    const counted = { at: new Date(hour).toISOString(), devices: 5, count: 5, min: 10, max: 10, avg: 10 };
    expect((await statistics(model)).body).toEqual([counted]);
    const keys = async () =>
      (
        await sql<{ n: number }>(
          backend,
          "SELECT count(*)::int AS n FROM telemetry_aggregate_contributors WHERE model = $1 AND bucket = 'hour'",
          [model],
        )
      )[0].n;
    expect(await keys()).toBe(5);

    const [withdrawing, restricting, staying] = devices;
    await setConsent(backend, withdrawing.owner, 'product_improvement', false);
    await setRestriction(backend, restricting.owner, true);
    // What was counted stays; the two devices' keys are gone from the open bucket.
    expect((await statistics(model)).body).toEqual([counted]);
    expect(await keys()).toBe(3);

    await send(withdrawing, [[50, 99]], hour);
    await send(restricting, [[51, 98]], hour);
    expect((await statistics(model)).body).toEqual([counted]);
    await send(staying, [[52, 20]], hour);
    expect((await statistics(model)).body).toEqual([{ ...counted, count: 6, max: 20, avg: 70 / 6 }]);
    // Their own charts still have everything (service).
    for (const device of [withdrawing, restricting]) {
      const hours = await call(
        'GET',
        `${backend.provisioningUrl}/v1/devices/${device.sn}/telemetry?point=flow&bucket=hour&from=${new Date(hour).toISOString()}`,
        {
          token: device.owner.accessToken,
        },
      );
      expect(hours.body).toEqual([expect.objectContaining({ at: new Date(hour).toISOString(), count: 2 })]);
    }
  });

  it('exports readings and summaries as streamed JSON, and erases them with the account while the statistics stay', async () => {
    const model = await newModel();
    const hour = lastHour();
    const devices = await Promise.all([1, 2, 3, 4, 5].map(() => appliance(model)));
    for (const device of devices)
      await send(
        device,
        [
          [5, 10],
          [6, 12],
        ],
        hour,
      );
    const [leaving] = devices;
    await publishReadings(leaving.client, leaving.sn, [{ point: 'valve', at: ago(1), value: true }]);
    await historyReaches(backend, leaving.owner, leaving.sn, 'valve', 1);

    const response = await fetch(`${backend.provisioningUrl}/v1/me/export`, {
      headers: { authorization: `Bearer ${leaving.owner.accessToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    // Streamed: no length known in advance.
    expect(response.headers.get('content-length')).toBeNull();
    const exported = (await response.json()) as Record<string, unknown>;
    expect(exported.telemetry).toEqual([
      { sn: leaving.sn, point: 'flow', at: new Date(hour + 5 * 60_000).toISOString(), value: 10 },
      { sn: leaving.sn, point: 'flow', at: new Date(hour + 6 * 60_000).toISOString(), value: 12 },
      { sn: leaving.sn, point: 'valve', at: expect.any(String), value: true },
    ]);
    expect(exported.telemetrySummaries).toEqual(
      expect.arrayContaining([
        { sn: leaving.sn, point: 'flow', bucket: 'hour', at: new Date(hour).toISOString(), count: 2, min: 10, max: 12, avg: 11 },
        expect.objectContaining({ sn: leaving.sn, point: 'flow', bucket: 'day', count: 2 }),
      ]),
    );
    expect(exported).toMatchObject({ subjectId: leaving.owner.userId, consents: expect.any(Object), accessLog: [] });

    const before = (await statistics(model)).body;
    expect(before).toEqual([expect.objectContaining({ devices: 5, count: 10 })]);
    expect((await call('DELETE', `${backend.provisioningUrl}/v1/me`, { token: leaving.owner.accessToken })).status).toBe(204);
    expect(await heldFor(backend, leaving.owner.userId)).toEqual({ series: 0, readings: 0, rollups: 0 });
    expect((await statistics(model)).body).toEqual(before);
    expect(await heldFor(backend, devices[1].owner.userId)).toEqual({ series: 1, readings: 2, rollups: 2 });
  });

  it('shows a technician the last 24 hours of readings during an open visit, in the owner’s access log', async () => {
    const model = await newModel();
    const owner = await appliance(model, []);
    await publishReadings(owner.client, owner.sn, [
      { point: 'flow', at: ago(60), value: 3 },
      { point: 'flow', at: ago(30), value: 4 },
      { point: 'flow', at: ago(25 * 60), value: 9 },
      { point: 'valve', at: ago(10), value: false },
    ]);
    await historyReaches(backend, owner.owner, owner.sn, 'flow', 3, `&from=${ago(26 * 60)}`);
    await historyReaches(backend, owner.owner, owner.sn, 'valve', 1);
    const faults = (method: string, path: string, user: SignedIn, body?: unknown) =>
      call(method, `${backend.faultsUrl}${path}`, { token: user.accessToken, body });
    const technician = async () => {
      const created = await faults('POST', '/v1/admin/technicians', admin, { phone: newPhone(), name: 'Wang Fang' });
      return signIn(backend, created.body.phone);
    };
    const alice = await technician();
    const bob = await technician();
    const opened = await faults('POST', '/v1/repairs', owner.owner, { sn: owner.sn, description: 'Flow looks wrong' });
    await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: alice.userId });

    expect(await faults('GET', `/v1/tech/visits/${opened.body.id}/telemetry`, bob)).toMatchObject({
      status: 403,
      body: { message: 'This visit is not yours' },
    });
    const seen = await faults('GET', `/v1/tech/visits/${opened.body.id}/telemetry`, alice);
    expect(seen.status).toBe(200);
    expect(seen.body).toEqual({
      repairId: opened.body.id,
      sn: owner.sn,
      model,
      from: expect.any(String),
      to: expect.any(String),
      points: [
        {
          point: 'flow',
          type: 'number',
          unit: 'L/min',
          readings: [
            { at: expect.any(String), value: 3 },
            { at: expect.any(String), value: 4 },
          ],
        },
        { point: 'valve', type: 'boolean', readings: [{ at: expect.any(String), value: false }] },
      ],
    });
    const log = (await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: owner.owner.accessToken })).body as Array<
      Record<string, string>
    >;
    expect(log).toEqual([
      expect.objectContaining({
        actorId: alice.userId,
        actorRole: 'technician',
        purpose: 'service',
        what: `repair ${opened.body.id}: the appliance's readings of the last 24 hours (3)`,
      }),
    ]);

    await faults('POST', `/v1/tech/visits/${opened.body.id}/complete`, alice, { notes: 'Cleaned the sensor' });
    expect((await faults('GET', `/v1/tech/visits/${opened.body.id}/telemetry`, alice)).status).toBe(403);
    expect((await call('GET', `${backend.provisioningUrl}/v1/me/access-log`, { token: owner.owner.accessToken })).body).toHaveLength(1);
  });
});
