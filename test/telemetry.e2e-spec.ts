import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { startTestBackend, sql, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { bindDevice } from './factories/bindings.js';
import { eventually } from './factories/devices.js';
import { ago, connectedAppliance, historyReaches, metric, publishReadings, rawHistory, type Appliance } from './factories/telemetry.js';
import { signIn, type SignedIn } from './factories/users.js';
import { simulate } from '../scripts/device-simulator.js';

const ADMIN_PHONE = '+8613900001401';
const HOUR = 3600_000;

/** devices/<sn>/telemetry end to end: what is kept, what is dropped and counted, and the owner's history. */
describe('telemetry ingestion and history', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    admin = await signIn(backend, ADMIN_PHONE);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await backend?.stop();
  });

  async function appliance(options: { model?: string; consents?: string[] } = {}): Promise<Appliance> {
    const device = await connectedAppliance(backend, admin.accessToken, options);
    clients.push(device.client);
    return device;
  }

  const read = (user: SignedIn, sn: string, query: string) =>
    call('GET', `${backend.provisioningUrl}/v1/devices/${sn}/telemetry?${query}`, { token: user.accessToken });

  it('keeps readings of history points, oldest first, and merges the newest of each point into reported', async () => {
    const heater = await appliance();
    await publishReadings(heater.client, heater.sn, [
      { point: 'water_temp', at: ago(3), value: 41.5 },
      { point: 'water_temp', at: ago(5), value: 40 },
      { point: 'energy', at: ago(4), value: 12.25 },
      // Not a history point: it updates reported, and no history is kept of it.
      { point: 'target_temp', at: ago(4), value: 55 },
    ]);
    const readings = await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 2);
    expect(readings).toEqual([
      { at: expect.any(String), value: 40 },
      { at: expect.any(String), value: 41.5 },
    ]);
    expect(Date.parse(readings[0].at)).toBeLessThan(Date.parse(readings[1].at));
    expect(await rawHistory(backend, heater.owner, heater.sn, 'energy')).toEqual([{ at: expect.any(String), value: 12.25 }]);
    const reported = await sql<{ point: string; value: unknown }>(
      backend,
      'SELECT point, value FROM device_reported_points WHERE sn = $1 ORDER BY point',
      [heater.sn],
    );
    expect(reported).toEqual([
      { point: 'energy', value: 12.25 },
      { point: 'target_temp', value: 55 },
      { point: 'water_temp', value: 41.5 },
    ]);
    expect((await read(heater.owner, heater.sn, 'point=target_temp')).body).toEqual({
      statusCode: 400,
      error: 'VALIDATION_FAILED',
      message: 'point target_temp of model HT1 keeps no history',
    });
  });

  it('drops and counts bad readings by reason, keeps the good ones of the same message, and never stalls', async () => {
    const heater = await appliance();
    const reasons = ['malformed', 'unknown_point', 'wrong_type', 'out_of_range', 'too_old', 'too_far_ahead', 'over_limit'];
    const before = Object.fromEntries(
      await Promise.all(reasons.map(async (reason) => [reason, await metric(backend, 'telemetry_readings_dropped_total', { reason })])),
    );
    const refusedBefore = await metric(backend, 'telemetry_messages_refused_total', { reason: 'malformed' });
    const refusals = ['not_json', 'not_object', 'invalid'];
    const serviceRefused = (reason: string) => metric(backend, 'mqtt_messages_refused_total', { topic: 'telemetry', reason });
    const serviceBefore = Object.fromEntries(await Promise.all(refusals.map(async (reason) => [reason, await serviceRefused(reason)])));
    await publishReadings(heater.client, heater.sn, [
      { point: 'water_temp', at: ago(1), value: 39 },
      { point: 'water_temp', at: 'yesterday', value: 39 },
      { point: 'water_temp', at: ago(2), value: 39, extra: true },
      { point: 'colour', at: ago(2), value: 'red' },
      { point: 'water_temp', at: ago(2), value: 'hot' },
      { point: 'water_temp', at: ago(2), value: 140 },
      { point: 'water_temp', at: ago(8 * 24 * 60), value: 39 },
      { point: 'water_temp', at: ago(-10), value: 39 },
      { point: 'energy', at: ago(3), value: 1 },
    ]);
    // Over 500 in one message: the first 500 are judged, the rest dropped.
    const many = Array.from({ length: 503 }, (_, index) => ({
      point: 'energy',
      at: new Date(Date.now() - 3600_000 - index * 1000).toISOString(),
      value: index,
    }));
    await publishReadings(heater.client, heater.sn, many);
    // Whole messages that are not readings: refused, counted, and the device's next message still goes in.
    for (const junk of ['not json', '[]', '{"readings": 3}', '{"readings": [], "more": 1}'])
      await publishReadings(heater.client, heater.sn, junk);
    await publishReadings(heater.client, heater.sn, [{ point: 'water_temp', at: ago(0.5), value: 38 }]);

    await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 2);
    await historyReaches(backend, heater.owner, heater.sn, 'energy', 501);
    const delta = async (reason: string) => (await metric(backend, 'telemetry_readings_dropped_total', { reason })) - before[reason];
    expect({
      malformed: await delta('malformed'),
      unknown_point: await delta('unknown_point'),
      wrong_type: await delta('wrong_type'),
      out_of_range: await delta('out_of_range'),
      too_old: await delta('too_old'),
      too_far_ahead: await delta('too_far_ahead'),
      over_limit: await delta('over_limit'),
    }).toEqual({ malformed: 2, unknown_point: 1, wrong_type: 1, out_of_range: 1, too_old: 1, too_far_ahead: 1, over_limit: 3 });
    expect((await metric(backend, 'telemetry_messages_refused_total', { reason: 'malformed' })) - refusedBefore).toBe(4);
    // The same refusals in the services' common counter, by a fixed reason.
    expect(
      Object.fromEntries(
        await Promise.all(refusals.map(async (reason) => [reason, (await serviceRefused(reason)) - serviceBefore[reason]])),
      ),
    ).toEqual({
      not_json: 1,
      not_object: 1,
      invalid: 2,
    });
    expect((await rawHistory(backend, heater.owner, heater.sn, 'water_temp')).map((reading) => reading.value)).toEqual([39, 38]);
    expect(heater.client.connected).toBe(true);
  });

  it('stores a redelivered message once, and keeps nothing per device for a device nobody owns', async () => {
    const heater = await appliance();
    const message = [
      { point: 'water_temp', at: ago(10), value: 50 },
      { point: 'water_temp', at: ago(9), value: 51 },
    ];
    await publishReadings(heater.client, heater.sn, message);
    await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 2);
    const duplicates = await metric(backend, 'telemetry_readings_not_kept_total', { reason: 'duplicate' });
    await publishReadings(heater.client, heater.sn, message);
    await eventually(async () => (await metric(backend, 'telemetry_readings_not_kept_total', { reason: 'duplicate' })) >= duplicates + 2);
    const hour = await read(heater.owner, heater.sn, 'point=water_temp&bucket=hour');
    expect(hour.body.reduce((sum: number, bucket: { count: number }) => sum + bucket.count, 0)).toBe(2);
    expect(await rawHistory(backend, heater.owner, heater.sn, 'water_temp')).toHaveLength(2);

    expect((await call('DELETE', `${backend.provisioningUrl}/v1/devices/${heater.sn}`, { token: heater.owner.accessToken })).status).toBe(
      204,
    );
    const notOwned = await metric(backend, 'telemetry_readings_not_kept_total', { reason: 'not_owned' });
    await publishReadings(heater.client, heater.sn, [{ point: 'water_temp', at: ago(1), value: 60 }]);
    await eventually(async () => (await metric(backend, 'telemetry_readings_not_kept_total', { reason: 'not_owned' })) > notOwned);
    expect(await sql(backend, 'SELECT count(*)::int AS n FROM telemetry_series WHERE sn = $1', [heater.sn])).toEqual([{ n: 1 }]);
    expect(await sql(backend, 'SELECT count(*)::int AS n FROM device_reported_points WHERE sn = $1', [heater.sn])).toEqual([{ n: 0 }]);
  });

  it('answers hourly and daily summaries kept as readings arrive, for numeric points only', async () => {
    const heater = await appliance();
    const hourStart = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const at = (minutes: number) => new Date(hourStart + minutes * 60_000).toISOString();
    await publishReadings(heater.client, heater.sn, [
      { point: 'water_temp', at: at(5), value: 40 },
      { point: 'water_temp', at: at(25), value: 44 },
      { point: 'water_temp', at: at(65), value: 30 },
    ]);
    await publishReadings(heater.client, heater.sn, [{ point: 'water_temp', at: at(45), value: 42 }]);
    await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 4, `&from=${at(0)}`);
    const hours = await read(heater.owner, heater.sn, `point=water_temp&bucket=hour&from=${at(0)}`);
    expect(hours).toEqual({
      status: 200,
      body: [
        { at: at(0), count: 3, min: 40, max: 44, avg: 42 },
        { at: at(60), count: 1, min: 30, max: 30, avg: 30 },
      ],
    });
    const days = await read(heater.owner, heater.sn, `point=water_temp&bucket=day&from=${at(0)}`);
    expect(days.body.reduce((sum: number, bucket: { count: number }) => sum + bucket.count, 0)).toBe(4);
    expect(days.body[0].at).toMatch(/T00:00:00.000Z$/);

    // A boolean history point has raw readings but no summaries.
    const model = `BOOL-${Date.now().toString(36)}`;
    const defined = await call('PUT', `${backend.provisioningUrl}/v1/admin/models/${model}`, {
      token: admin.accessToken,
      body: { name: 'Valve', points: [{ id: 'open', type: 'boolean', writable: false, history: true }] },
    });
    expect(defined.status).toBe(200);
    const valve = await appliance({ model });
    await publishReadings(valve.client, valve.sn, [{ point: 'open', at: ago(2), value: true }]);
    expect(await historyReaches(backend, valve.owner, valve.sn, 'open', 1)).toEqual([{ at: expect.any(String), value: true }]);
    expect((await read(valve.owner, valve.sn, 'point=open&bucket=hour')).body).toMatchObject({
      error: 'VALIDATION_FAILED',
      message: 'bucket=hour needs a numeric point; open is boolean: ask for bucket=raw',
    });
  });

  it('refuses bad queries with a clear 400, strangers with 403, and lets members read', async () => {
    const heater = await appliance();
    const stranger = await signIn(backend);
    const member = await signIn(backend);
    await sql(backend, 'INSERT INTO device_members (sn, user_id) VALUES ($1, $2)', [heater.sn, member.userId]);
    await publishReadings(heater.client, heater.sn, [{ point: 'energy', at: ago(1), value: 3 }]);
    await historyReaches(backend, heater.owner, heater.sn, 'energy', 1);
    expect(await rawHistory(backend, member, heater.sn, 'energy')).toEqual([{ at: expect.any(String), value: 3 }]);
    expect((await read(stranger, heater.sn, 'point=energy')).body).toEqual({
      statusCode: 403,
      error: 'FORBIDDEN',
      message: "Only the device's owner and members see its readings",
    });
    const message = async (query: string) => (await read(heater.owner, heater.sn, query)).body.message;
    expect(await message('')).toBe('point must be a point id like water_temp (^[a-z][a-z0-9_]{0,39}$)');
    expect(await message('point=colour')).toBe('point colour is not a data point of model HT1');
    expect(await message('point=energy&bucket=minute')).toBe('bucket must be one of raw, hour, day');
    expect(await message('point=energy&from=yesterday')).toBe('from must be an ISO 8601 time such as 2026-11-29T08:00:00Z');
    expect(await message(`point=energy&from=${ago(0)}&to=${ago(60)}`)).toBe('from must not be after to');
    expect(await message('point=energy&limit=3')).toBe('unknown field limit');
    expect((await call('GET', `${backend.provisioningUrl}/v1/devices/${heater.sn}/telemetry?point=energy`)).status).toBe(401);
  });

  it('ties readings to the owner of the moment: the next owner sees none of the previous owner’s', async () => {
    const heater = await appliance();
    await publishReadings(heater.client, heater.sn, [{ point: 'water_temp', at: ago(20), value: 45 }]);
    await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 1);

    const unbound = await call('DELETE', `${backend.provisioningUrl}/v1/devices/${heater.sn}`, { token: heater.owner.accessToken });
    expect(unbound.status).toBe(204);
    const next = await signIn(backend);
    await bindDevice(backend, heater.sn, next.userId);
    expect(await rawHistory(backend, next, heater.sn, 'water_temp', `&from=${ago(60)}`)).toEqual([]);
    expect((await read(next, heater.sn, 'point=water_temp&bucket=hour')).body).toEqual([]);

    await publishReadings(heater.client, heater.sn, [{ point: 'water_temp', at: ago(2), value: 47 }]);
    expect(await historyReaches(backend, next, heater.sn, 'water_temp', 1)).toEqual([{ at: expect.any(String), value: 47 }]);
    // The previous owner's readings are still theirs (their export has them) until retention or erasure.
    const exported = (await call('GET', `${backend.provisioningUrl}/v1/me/export`, { token: heater.owner.accessToken })).body;
    expect(exported.telemetry).toEqual([{ sn: heater.sn, point: 'water_temp', at: expect.any(String), value: 45 }]);
    const nextExport = (await call('GET', `${backend.provisioningUrl}/v1/me/export`, { token: next.accessToken })).body;
    expect(nextExport.telemetry).toEqual([{ sn: heater.sn, point: 'water_temp', at: expect.any(String), value: 47 }]);
  });

  it('takes readings from the simulator at the rate it is given', async () => {
    const heaters = [await appliance(), await appliance()];
    await Promise.all(heaters.map((heater) => heater.client.endAsync()));
    const simulation = await simulate({
      url: backend.mqttUrl,
      devices: heaters.map((heater) => ({ sn: heater.sn, secret: heater.deviceSecret })),
      telemetry: { rate: 20, batch: 5, seconds: 1, points: ['water_temp', 'energy'] },
    });
    const sent = simulation.events.filter((event) => event.event === 'telemetry');
    // 20 readings a second for a second, 5 to a message, taking the two points in turn.
    expect(sent).toHaveLength(2);
    expect(sent).toEqual(
      expect.arrayContaining(heaters.map((heater) => ({ sn: heater.sn, event: 'telemetry', messages: 4, readings: 20 }))),
    );
    for (const heater of heaters) {
      expect(await historyReaches(backend, heater.owner, heater.sn, 'water_temp', 10)).toHaveLength(10);
      expect(await rawHistory(backend, heater.owner, heater.sn, 'energy')).toHaveLength(10);
    }
  });
});
