import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { sql, startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { addMember, bindDevice } from './factories/bindings.js';
import { closed, connectDevice, eventually, grantFor, nextMessage, registerDevices, type RegisteredDevice } from './factories/devices.js';
import { metric } from './factories/telemetry.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900001313';

interface Desired {
  version: number;
  values: Record<string, unknown>;
  expiresAt: string;
}

/**
 * Desired state and control end to end on the real apps: the app asks, the
 * appliance hears its retained desired state over MQTT and reports what it
 * did; owners and members control, technicians only read during a visit,
 * nobody else learns the device exists.
 */
describe('appliance state and control', () => {
  let backend: TestBackend;
  let admin: SignedIn;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] }, state: { sweepIntervalMs: 100 } });
    admin = await signIn(backend, ADMIN_PHONE);
  });

  afterAll(async () => {
    for (const client of clients) client.end(true);
    await backend?.stop();
  });

  const api = (method: string, path: string, user: SignedIn, body?: unknown) =>
    call(method, `${backend.provisioningUrl}${path}`, { token: user.accessToken, body });
  const state = async (user: SignedIn, sn: string) => (await api('GET', `/v1/devices/${sn}/state`, user)).body;
  const history = async (user: SignedIn, sn: string) => (await api('GET', `/v1/devices/${sn}/state/history`, user)).body;
  const setDesired = (user: SignedIn, sn: string, body: unknown) => api('PUT', `/v1/devices/${sn}/state/desired`, user, body);

  async function heater(): Promise<{ owner: SignedIn; device: RegisteredDevice }> {
    const owner = await signIn(backend);
    const [device] = await registerDevices(backend, admin.accessToken, 1, { model: 'HT1' });
    await bindDevice(backend, device.sn, owner.userId);
    return { owner, device };
  }

  async function online(device: RegisteredDevice): Promise<MqttClient> {
    const client = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret);
    clients.push(client);
    return client;
  }

  /** Subscribes to the device's desired topic and resolves with the first non-empty message (retained or live). */
  async function hearDesired(client: MqttClient, sn: string, subscribe = true): Promise<Desired & { retain: boolean }> {
    const message = nextMessage(client, (topic, payload) => topic === topics.stateDesired(sn) && payload.length > 0);
    if (subscribe) await client.subscribeAsync(topics.stateDesired(sn), { qos: 1 });
    const { payload, retain } = await message;
    return { ...(JSON.parse(payload.toString()) as Desired), retain };
  }

  const cleared = (client: MqttClient, sn: string) =>
    nextMessage(client, (topic, payload) => topic === topics.stateDesired(sn) && payload.length === 0);

  const report = (client: MqttClient, sn: string, body: unknown) =>
    client.publishAsync(topics.stateReported(sn), JSON.stringify(body), { qos: 1 });

  const settled = (user: SignedIn, sn: string, status: string) =>
    eventually(async () => {
      const now = await state(user, sn);
      return now.desired?.status === status ? now : undefined;
    }, 10_000);

  it('round trip online: the heater hears the request, applies it, and the app sees it applied', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const heard = hearDesired(client, device.sn, false);

    const accepted = await setDesired(owner, device.sn, { values: { power: true, target_temp: 55 } });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ version: 1, status: 'pending', expiresAt: expect.any(String) });
    const expiresIn = Date.parse(accepted.body.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);

    const message = await heard;
    expect(message).toMatchObject({ version: 1, values: { power: true, target_temp: 55 }, expiresAt: accepted.body.expiresAt });
    const pending = await state(owner, device.sn);
    expect(pending).toMatchObject({
      sn: device.sn,
      model: 'HT1',
      reported: {},
      desired: {
        version: 1,
        values: { power: true, target_temp: 55 },
        status: 'pending',
        requestedBy: { id: owner.userId, role: 'owner' },
        expiresAt: accepted.body.expiresAt,
      },
    });

    const clear = cleared(client, device.sn);
    await report(client, device.sn, { values: { power: true, target_temp: 55, water_temp: 21.5 }, version: 1 });
    const applied = await settled(owner, device.sn, 'applied');
    expect(applied.reported).toEqual({
      power: { value: true, at: expect.any(String) },
      target_temp: { value: 55, at: expect.any(String) },
      water_temp: { value: 21.5, at: expect.any(String) },
    });
    await clear;
    expect(await history(owner, device.sn)).toEqual([
      {
        version: 1,
        values: { power: true, target_temp: 55 },
        status: 'applied',
        requestedAt: pending.desired.requestedAt,
        requestedBy: { id: owner.userId, role: 'owner' },
        settledAt: expect.any(String),
      },
    ]);
    // Presence comes from the broker, written in batches.
    await eventually(async () => ((await state(owner, device.sn)).online === true ? true : undefined), 10_000);
  });

  it('delivers to a device that was offline when asked (retained), and clears it once applied', async () => {
    const { owner, device } = await heater();
    const accepted = await setDesired(owner, device.sn, { values: { power: true } });
    expect(accepted.status).toBe(202);

    const client = await online(device);
    const message = await hearDesired(client, device.sn);
    expect(message).toMatchObject({ version: 1, values: { power: true }, retain: true });
    await report(client, device.sn, { values: { power: true }, version: 1 });
    await settled(owner, device.sn, 'applied');

    // Connecting again, the first desired message it hears is the next request: version 1 was cleared.
    client.end(true);
    const again = await online(device);
    await again.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const next = hearDesired(again, device.sn, false);
    expect((await setDesired(owner, device.sn, { values: { target_temp: 40 } })).body.version).toBe(2);
    expect(await next).toMatchObject({ version: 2, values: { target_temp: 40 } });
  });

  it('expires a request the device never applied and takes it back from the broker', async () => {
    const { owner, device } = await heater();
    const accepted = await setDesired(owner, device.sn, { values: { power: true }, ttlSeconds: 60 });
    expect(accepted.body.version).toBe(1);
    expect(Date.parse(accepted.body.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    // Its deadline passes (as 60 seconds would).
    await sql(backend, `UPDATE device_desired_requests SET expires_at = now() - interval '1 second' WHERE sn = $1`, [device.sn]);
    const expired = await settled(owner, device.sn, 'expired');
    expect(expired.desired).toMatchObject({ version: 1, values: { power: true } });
    expect((await history(owner, device.sn))[0]).toMatchObject({ version: 1, status: 'expired', settledAt: expect.any(String) });

    const client = await online(device);
    await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const next = hearDesired(client, device.sn, false);
    await setDesired(owner, device.sn, { values: { power: false } });
    expect(await next).toMatchObject({ version: 2, values: { power: false } });
  });

  it('records a rejection with the reasons and clears the retained request', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const message = hearDesired(client, device.sn, false);
    await setDesired(owner, device.sn, { values: { target_temp: 75 } });
    expect((await message).version).toBe(1);

    const clear = cleared(client, device.sn);
    await report(client, device.sn, { version: 1, rejected: { target_temp: 'scald protection is on' } });
    const rejected = await settled(owner, device.sn, 'rejected');
    expect(rejected.desired).toMatchObject({
      version: 1,
      values: { target_temp: 75 },
      rejected: { target_temp: 'scald protection is on' },
    });
    await clear;
    expect((await history(owner, device.sn))[0]).toMatchObject({ status: 'rejected', rejected: { target_temp: 'scald protection is on' } });
  });

  it('refuses a stale ifVersion with 409 and merges a new request into the pending one under a new version', async () => {
    const { owner, device } = await heater();
    expect((await setDesired(owner, device.sn, { values: { power: true }, ifVersion: 0 })).body.version).toBe(1);
    const stale = await setDesired(owner, device.sn, { values: { target_temp: 50 }, ifVersion: 0 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ statusCode: 409, error: 'VERSION_CONFLICT' });
    const merged = await setDesired(owner, device.sn, { values: { target_temp: 50 }, ifVersion: 1 });
    expect(merged).toMatchObject({ status: 202, body: { version: 2, status: 'pending' } });
    expect((await state(owner, device.sn)).desired).toMatchObject({
      version: 2,
      values: { power: true, target_temp: 50 },
      status: 'pending',
    });
    expect((await history(owner, device.sn)).map((entry: { version: number; values: unknown }) => [entry.version, entry.values])).toEqual([
      [2, { target_temp: 50 }],
      [1, { power: true }],
    ]);

    // The device applies version 2: both requests settle with it.
    const client = await online(device);
    expect(await hearDesired(client, device.sn)).toMatchObject({ version: 2, values: { power: true, target_temp: 50 } });
    await report(client, device.sn, { values: { power: true, target_temp: 50 }, version: 2 });
    await settled(owner, device.sn, 'applied');
    expect((await history(owner, device.sn)).map((entry: { status: string }) => entry.status)).toEqual(['applied', 'applied']);
  });

  it('two family members setting at once: versions stay consistent and the device ends with the last accepted state', async () => {
    const { owner, device } = await heater();
    const member = await signIn(backend);
    await addMember(backend, device.sn, member.userId);
    for (let round = 0; round < 5; round += 1) {
      const [fromOwner, fromMember] = await Promise.all([
        setDesired(owner, device.sn, { values: { power: round % 2 === 0 } }),
        setDesired(member, device.sn, { values: { target_temp: 40 + round } }),
      ]);
      expect([fromOwner.status, fromMember.status]).toEqual([202, 202]);
      expect([fromOwner.body.version, fromMember.body.version].sort((a, b) => a - b)).toEqual([2 * round + 1, 2 * round + 2]);
    }
    const desired = (await state(member, device.sn)).desired;
    expect(desired).toMatchObject({ version: 10, values: { power: true, target_temp: 44 }, status: 'pending' });
    const versions = (await history(owner, device.sn)).map((entry: { version: number }) => entry.version);
    expect(versions).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);

    // What the broker retained is the last accepted state, whatever order the two requests committed in.
    const client = await online(device);
    expect(await hearDesired(client, device.sn)).toMatchObject({ version: 10, values: { power: true, target_temp: 44 } });
    await report(client, device.sn, { values: { power: true, target_temp: 44 }, version: 10 });
    const applied = await settled(owner, device.sn, 'applied');
    expect(applied.reported).toMatchObject({ power: { value: true }, target_temp: { value: 44 } });
    expect((await history(member, device.sn)).every((entry: { status: string }) => entry.status === 'applied')).toBe(true);
    expect((await history(member, device.sn)).some((entry: { requestedBy: { role: string } }) => entry.requestedBy.role === 'member')).toBe(
      true,
    );
  });

  it('refuses bad requests with 400 naming the point and sends nothing', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    await client.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const first = hearDesired(client, device.sn, false);
    const cases: Array<[unknown, string]> = [
      [{ values: { boost: true } }, 'boost'],
      [{ values: { power: 'on' } }, 'power'],
      [{ values: { target_temp: 90 } }, 'target_temp'],
      [{ values: { water_temp: 40 } }, 'water_temp'],
      [{ values: {} }, 'values'],
      [{ values: { power: true }, ttlSeconds: 10 }, 'ttlSeconds'],
    ];
    for (const [body, named] of cases) {
      const refused = await setDesired(owner, device.sn, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe('VALIDATION_FAILED');
      expect(refused.body.message).toContain(named);
    }
    expect((await state(owner, device.sn)).desired).toBeNull();
    expect(await history(owner, device.sn)).toEqual([]);
    // The first message the device hears is the first good request, version 1.
    await setDesired(owner, device.sn, { values: { power: true } });
    expect(await first).toMatchObject({ version: 1, values: { power: true } });
  });

  it('anyone but the owner and members gets 404, as for a device that does not exist', async () => {
    const { device } = await heater();
    const stranger = await signIn(backend);
    for (const answer of [
      await api('GET', `/v1/devices/${device.sn}/state`, stranger),
      await api('GET', `/v1/devices/${device.sn}/state/history`, stranger),
      await setDesired(stranger, device.sn, { values: { power: true } }),
      await setDesired(stranger, device.sn, { values: { bogus: true } }),
      await api('GET', '/v1/devices/NO-SUCH-DEVICE/state', stranger),
    ]) {
      expect(answer.status).toBe(404);
      expect(answer.body.error).toBe('NOT_FOUND');
    }
  });

  it('ignores unknown points and wrong values in reports, counting them by reason', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    const before = {
      unknown: await metric(backend, 'state_report_points_ignored_total', { reason: 'unknown_point' }),
      wrongType: await metric(backend, 'state_report_points_ignored_total', { reason: 'wrong_type' }),
      outOfRange: await metric(backend, 'state_report_points_ignored_total', { reason: 'out_of_range' }),
    };
    await report(client, device.sn, { values: { power: 'yes', bogus: 1, target_temp: 99, water_temp: 30 } });
    const now = await eventually(async () => {
      const current = await state(owner, device.sn);
      return current.reported.water_temp ? current : undefined;
    });
    expect(Object.keys(now.reported)).toEqual(['water_temp']);
    expect(await metric(backend, 'state_report_points_ignored_total', { reason: 'unknown_point' })).toBe(before.unknown + 1);
    expect(await metric(backend, 'state_report_points_ignored_total', { reason: 'wrong_type' })).toBe(before.wrongType + 1);
    expect(await metric(backend, 'state_report_points_ignored_total', { reason: 'out_of_range' })).toBe(before.outOfRange + 1);
  });

  it('a device may report only its own state and hear only its own desired state', async () => {
    const { owner: otherOwner, device: other } = await heater();
    const { device: mine } = await heater();
    const client = await online(mine);
    expect(await grantFor(client, topics.stateDesired(other.sn))).toBe(128);
    expect(await grantFor(client, 'devices/+/state/desired')).toBe(128);
    expect(await grantFor(client, topics.stateDesired(mine.sn))).toBe(1);
    const gone = closed(client);
    client.publish(topics.stateReported(other.sn), JSON.stringify({ values: { power: true } }), { qos: 1 });
    await gone;
    const theirs = await online(other);
    await report(theirs, other.sn, { values: { target_temp: 45 } });
    const now = await eventually(async () => {
      const current = await state(otherOwner, other.sn);
      return current.reported.target_temp ? current : undefined;
    });
    expect(now.reported.power).toBeUndefined();
  });

  it('a technician reads the reported state during an open visit, in the owner access log, and not after', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    await report(client, device.sn, { values: { power: true, water_temp: 52 } });
    await eventually(async () => ((await state(owner, device.sn)).reported.water_temp ? true : undefined));

    const faults = (method: string, path: string, user: SignedIn, body?: unknown) =>
      call(method, `${backend.faultsUrl}${path}`, { token: user.accessToken, body });
    const created = await faults('POST', '/v1/admin/technicians', admin, { phone: newPhone(), name: 'Li Wei' });
    const technician = await signIn(backend, created.body.phone);
    const opened = await faults('POST', '/v1/repairs', owner, { sn: device.sn, description: 'Lukewarm water' });
    await faults('POST', `/v1/admin/repairs/${opened.body.id}/assign`, admin, { technicianId: technician.userId });

    const visit = await faults('GET', `/v1/tech/visits/${opened.body.id}`, technician);
    expect(visit.status).toBe(200);
    expect(visit.body.reported).toEqual({
      power: { value: true, at: expect.any(String) },
      water_temp: { value: 52, at: expect.any(String) },
    });
    const log = (await api('GET', '/v1/me/access-log', owner)).body as Array<{ actorId: string; what: string }>;
    expect(log.some((entry) => entry.actorId === technician.userId && entry.what.includes('reported state'))).toBe(true);
    // Technicians have no control.
    expect((await setDesired(technician, device.sn, { values: { power: false } })).status).toBe(404);

    expect((await faults('POST', `/v1/tech/visits/${opened.body.id}/complete`, technician, { notes: 'Descaled' })).status).toBe(200);
    const after = await faults('GET', `/v1/tech/visits/${opened.body.id}`, technician);
    expect(after.status).not.toBe(200);
    expect(JSON.stringify(after.body)).not.toContain('water_temp');
  });

  it("control history is in the owner's export and goes with the account; a member's requests stay without their id", async () => {
    const { owner, device } = await heater();
    const member = await signIn(backend);
    await addMember(backend, device.sn, member.userId);
    await setDesired(owner, device.sn, { values: { power: true } });
    await setDesired(member, device.sn, { values: { target_temp: 42 } });

    const exported = (await (
      await fetch(`${backend.provisioningUrl}/v1/me/export`, { headers: { authorization: `Bearer ${owner.accessToken}` } })
    ).json()) as Record<string, Record<string, Array<{ version: number; values: unknown; requestedBy: { id: string | null } }>>>;
    expect(exported.deviceControl[device.sn].map((entry) => [entry.version, entry.values, entry.requestedBy.id])).toEqual([
      [1, { power: true }, owner.userId],
      [2, { target_temp: 42 }, member.userId],
    ]);

    expect((await call('DELETE', `${backend.provisioningUrl}/v1/me`, { token: member.accessToken })).status).toBe(204);
    expect((await history(owner, device.sn)).map((entry: { requestedBy: { id: string | null } }) => entry.requestedBy.id)).toEqual([
      null,
      owner.userId,
    ]);
    expect((await call('DELETE', `${backend.provisioningUrl}/v1/me`, { token: owner.accessToken })).status).toBe(204);
    const held = await sql<{ count: number }>(backend, 'SELECT count(*)::int AS count FROM device_desired_requests WHERE sn = $1', [
      device.sn,
    ]);
    expect(held[0].count).toBe(0);
  });

  it('after a factory reset the next owner sees none of the previous owner history', async () => {
    const { owner, device } = await heater();
    const client = await online(device);
    await setDesired(owner, device.sn, { values: { power: true } });
    expect((await hearDesired(client, device.sn)).version).toBe(1);
    await report(client, device.sn, { values: { power: true }, version: 1 });
    await settled(owner, device.sn, 'applied');
    await setDesired(owner, device.sn, { values: { target_temp: 65 } });
    expect(await history(owner, device.sn)).toHaveLength(2);

    await client.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
    await eventually(async () => ((await api('GET', `/v1/devices/${device.sn}/state`, owner)).status === 404 ? true : undefined));

    const next = await signIn(backend);
    await bindDevice(backend, device.sn, next.userId);
    expect(await history(next, device.sn)).toEqual([]);
    expect(await state(next, device.sn)).toMatchObject({ reported: {}, desired: null });
    const held = await sql<{ count: number }>(backend, 'SELECT count(*)::int AS count FROM device_desired_requests WHERE sn = $1', [
      device.sn,
    ]);
    expect(held[0].count).toBe(0);
    // The next owner's first request is a new version, and it is what the device hears.
    const again = await online(device);
    await again.subscribeAsync(topics.stateDesired(device.sn), { qos: 1 });
    const heard = hearDesired(again, device.sn, false);
    const accepted = await setDesired(next, device.sn, { values: { power: false } });
    expect(accepted.body.version).toBe(3);
    expect(await heard).toMatchObject({ version: 3, values: { power: false } });
  });
});
