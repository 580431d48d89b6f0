import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { topics } from '#libs/mqtt-contract';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { closed, connectDevice, eventually } from './factories/devices.js';
import { confirmOnDevice, onlineDevice, ownedDevice, sql, startedPairing, startPairing } from './factories/pairing.js';
import { newPhone, signIn, type SignedIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900000502';

/** After pairing: listing, members, unbinding, factory resets (also late ones), history and account erasure. */
describe('devices of an account', () => {
  let backend: TestBackend;
  let adminToken: string;
  const clients: MqttClient[] = [];
  let url: string;

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] }, mqtt: { presenceFlushMs: 200 } });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
    url = backend.provisioningUrl;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await backend?.stop();
  });

  async function owned(owner: SignedIn) {
    const device = await ownedDevice(backend, adminToken, owner);
    clients.push(device.client);
    return device;
  }

  const devicesOf = async (user: SignedIn) =>
    (await call('GET', `${url}/v1/devices`, { token: user.accessToken })).body as Array<Record<string, unknown>>;
  const historyOf = async (user: SignedIn) =>
    (await call('GET', `${url}/v1/devices/history`, { token: user.accessToken })).body as Array<Record<string, unknown>>;
  const share = (owner: SignedIn, sn: string, phone: string) =>
    call('POST', `${url}/v1/devices/${sn}/members`, { token: owner.accessToken, body: { phone } });
  /** Shares with an account, which then signs in again: the share becomes a membership. */
  const shareWith = async (owner: SignedIn, sn: string, member: SignedIn) => {
    const shared = await share(owner, sn, member.phone);
    expect(shared.status).toBe(202);
    await signIn(backend, member.phone);
  };
  const membersOf = async (owner: SignedIn, sn: string) =>
    (await call('GET', `${url}/v1/devices/${sn}/members`, { token: owner.accessToken })).body as Array<Record<string, unknown>>;

  it('lists owned and shared devices with online and lastSeenAt from the broker', async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const device = await owned(owner);
    await shareWith(owner, device.sn, member);
    const seen = await eventually(async () => {
      const [entry] = await devicesOf(owner);
      return entry?.lastSeenAt ? entry : undefined;
    });
    expect(seen).toEqual({
      sn: device.sn,
      model: 'PURIFIER-X1',
      role: 'owner',
      online: true,
      lastSeenAt: expect.stringMatching(/^\d{4}-/),
    });
    expect(await devicesOf(member)).toEqual([{ ...seen, role: 'member' }]);

    await device.client.endAsync();
    const offline = await eventually(async () => {
      const [entry] = await devicesOf(member);
      return entry && entry.online === false ? entry : undefined;
    });
    expect(offline).toMatchObject({ sn: device.sn, online: false });
    expect(await devicesOf(await signIn(backend))).toEqual([]);
  });

  it('shares by phone: owner only; the share takes effect when that phone signs in; a member cannot unbind or share further', async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const third = await signIn(backend);
    const device = await owned(owner);

    const added = await share(owner, device.sn, member.phone);
    expect(added.status).toBe(202);
    expect(added.body).toEqual({ sn: device.sn, status: 'pending', expiresAt: expect.stringMatching(/^\d{4}-/) });
    expect((await share(owner, device.sn, member.phone)).status).toBe(202); // again: still one invitation
    expect(await sql(backend, 'SELECT sn FROM device_invitations WHERE owner_id = $1', [owner.userId])).toEqual([{ sn: device.sn }]);
    // Nothing changes for the invited account until it signs in.
    expect(await membersOf(owner, device.sn)).toEqual([]);
    expect(await devicesOf(member)).toEqual([]);
    await signIn(backend, member.phone);
    expect(await sql(backend, 'SELECT user_id FROM device_members WHERE sn = $1', [device.sn])).toEqual([{ user_id: member.userId }]);
    expect(await sql(backend, 'SELECT sn FROM device_invitations WHERE owner_id = $1', [owner.userId])).toEqual([]);
    expect(await devicesOf(member)).toEqual([expect.objectContaining({ sn: device.sn, role: 'member' })]);
    // Sharing with a member again waits for their next sign-in and still leaves one membership.
    await shareWith(owner, device.sn, member);
    expect(await sql(backend, 'SELECT user_id FROM device_members WHERE sn = $1', [device.sn])).toEqual([{ user_id: member.userId }]);

    const badPhone = await share(owner, device.sn, '12345');
    expect([badPhone.status, badPhone.body.error]).toEqual([400, 'VALIDATION_FAILED']);
    const self = await share(owner, device.sn, owner.phone);
    expect([self.status, self.body.error]).toEqual([409, 'CONFLICT']);

    const memberShares = await share(member, device.sn, third.phone);
    expect([memberShares.status, memberShares.body.error]).toEqual([403, 'FORBIDDEN']);
    const memberUnbinds = await call('DELETE', `${url}/v1/devices/${device.sn}`, { token: member.accessToken });
    expect([memberUnbinds.status, memberUnbinds.body.error]).toEqual([403, 'FORBIDDEN']);
    const memberRemovesOwner = await call('DELETE', `${url}/v1/devices/${device.sn}/members/${owner.userId}`, {
      token: member.accessToken,
    });
    expect(memberRemovesOwner.status).toBe(403);
    const strangerUnbinds = await call('DELETE', `${url}/v1/devices/${device.sn}`, { token: third.accessToken });
    expect([strangerUnbinds.status, strangerUnbinds.body.error]).toEqual([404, 'NOT_FOUND']);
    const strangerShares = await share(third, device.sn, third.phone);
    expect(strangerShares.status).toBe(404);
    expect(await sql(backend, 'SELECT owner_id FROM device_bindings WHERE sn = $1', [device.sn])).toEqual([{ owner_id: owner.userId }]);

    const list = await membersOf(owner, device.sn);
    expect(list).toEqual([{ sn: device.sn, userId: member.userId, addedAt: expect.any(String) }]);

    const removed = await call('DELETE', `${url}/v1/devices/${device.sn}/members/${member.userId}`, { token: owner.accessToken });
    expect(removed.status).toBe(204);
    expect(await devicesOf(member)).toEqual([]);
    const again = await call('DELETE', `${url}/v1/devices/${device.sn}/members/${member.userId}`, { token: owner.accessToken });
    expect(again.status).toBe(404);
    expect((await historyOf(member)).map((entry) => [entry.sn, entry.role, entry.event])).toEqual([
      [device.sn, 'member', 'unshared'],
      [device.sn, 'member', 'shared'],
    ]);
  });

  it('answers a share the same whether or not the phone has an account; a new phone becomes a member when it signs up', async () => {
    const owner = await signIn(backend);
    const existing = await signIn(backend);
    const device = await owned(owner);
    const newcomerPhone = newPhone();

    const toAccount = await share(owner, device.sn, existing.phone);
    const toNobody = await share(owner, device.sn, newcomerPhone);
    expect(toNobody.status).toBe(toAccount.status);
    expect(Object.keys(toNobody.body).sort()).toEqual(Object.keys(toAccount.body).sort());
    expect({ ...toNobody.body, expiresAt: 'x' }).toEqual({ ...toAccount.body, expiresAt: 'x' });
    // What the owner can read afterwards does not tell them apart either.
    expect(await membersOf(owner, device.sn)).toEqual([]);

    const newcomer = await signIn(backend, newcomerPhone);
    expect(await devicesOf(newcomer)).toEqual([expect.objectContaining({ sn: device.sn, role: 'member' })]);
    expect((await historyOf(newcomer)).map((entry) => entry.event)).toEqual(['shared']);
    expect(await membersOf(owner, device.sn)).toEqual([{ sn: device.sn, userId: newcomer.userId, addedAt: expect.any(String) }]);
  });

  it('an account already signed in becomes a member when it renews its login', async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const device = await owned(owner);
    expect((await share(owner, device.sn, member.phone)).status).toBe(202);
    expect(await devicesOf(member)).toEqual([]);
    const renewed = await call('POST', `${url}/v1/auth/refresh`, { body: { refreshToken: member.refreshToken } });
    expect(renewed.status).toBe(200);
    expect(await devicesOf(member)).toEqual([expect.objectContaining({ sn: device.sn, role: 'member' })]);
  });

  it("a share waiting for a phone goes with the device's unbinding, its factory reset and the owner's erasure; the owner's export lists it", async () => {
    const owner = await signIn(backend);
    const waiting = newPhone();
    const device = await owned(owner);
    await share(owner, device.sn, waiting);
    const exported = await call('GET', `${url}/v1/me/export`, { token: owner.accessToken });
    expect(exported.body.deviceInvitations).toEqual([
      { sn: device.sn, phone: waiting, createdAt: expect.any(String), expiresAt: expect.any(String) },
    ]);

    expect((await call('DELETE', `${url}/v1/devices/${device.sn}`, { token: owner.accessToken })).status).toBe(204);
    expect(await sql(backend, 'SELECT sn FROM device_invitations WHERE sn = $1', [device.sn])).toEqual([]);
    const invitee = await signIn(backend, waiting);
    expect(await devicesOf(invitee)).toEqual([]);

    const resetOne = await owned(owner);
    await share(owner, resetOne.sn, newPhone());
    await resetOne.client.publishAsync(topics.reset(resetOne.sn), '{}', { qos: 1 });
    await eventually(async () => (await sql(backend, 'SELECT sn FROM device_invitations WHERE sn = $1', [resetOne.sn])).length === 0);

    const kept = await owned(owner);
    await share(owner, kept.sn, newPhone());
    expect((await call('DELETE', `${url}/v1/me`, { token: owner.accessToken })).status).toBe(204);
    expect(await sql(backend, 'SELECT sn FROM device_invitations WHERE owner_id = $1', [owner.userId])).toEqual([]);
  });

  it('unbind: owner only; members lose access; the device keeps its credentials and can be paired again', async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const next = await signIn(backend);
    const device = await owned(owner);
    await shareWith(owner, device.sn, member);

    const unbound = await call('DELETE', `${url}/v1/devices/${device.sn}`, { token: owner.accessToken });
    expect(unbound.status).toBe(204);
    expect(await devicesOf(owner)).toEqual([]);
    expect(await devicesOf(member)).toEqual([]);
    const twice = await call('DELETE', `${url}/v1/devices/${device.sn}`, { token: owner.accessToken });
    expect(twice.status).toBe(404);

    // Credentials keep working: the device reconnects with the same secret and pairs with the next account.
    await device.client.endAsync();
    const reconnected = await onlineDevice(backend, device);
    clients.push(reconnected);
    const pairing = await startedPairing(backend, next, { qr: device.qr });
    expect(await confirmOnDevice(reconnected, device.sn, pairing.token)).toMatchObject({ status: 'bound' });
    expect(await devicesOf(next)).toEqual([expect.objectContaining({ sn: device.sn, role: 'owner' })]);

    const [left] = await historyOf(owner);
    expect(left).toEqual({ sn: device.sn, model: 'PURIFIER-X1', role: 'owner', event: 'unbound', at: expect.any(String) });
    expect((await historyOf(owner)).map((entry) => entry.event)).toEqual(['unbound', 'bound']);
    expect((await historyOf(member))[0]).toMatchObject({ sn: device.sn, role: 'member', event: 'owner_left' });
  });

  it('a factory reset reported by the device releases ownership and members; the history says so', async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const device = await owned(owner);
    await shareWith(owner, device.sn, member);
    await device.client.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
    await eventually(async () => (await sql(backend, 'SELECT sn FROM device_bindings WHERE sn = $1', [device.sn])).length === 0);
    expect(await sql(backend, 'SELECT sn FROM device_members WHERE sn = $1', [device.sn])).toEqual([]);
    expect(await devicesOf(owner)).toEqual([]);
    expect(await devicesOf(member)).toEqual([]);
    expect((await historyOf(owner))[0]).toMatchObject({ sn: device.sn, role: 'owner', event: 'factory_reset' });
    expect((await historyOf(member))[0]).toMatchObject({ sn: device.sn, role: 'member', event: 'factory_reset' });
    // Another account may now pair it.
    const other = await signIn(backend);
    expect((await startPairing(backend, other, { qr: device.qr })).status).toBe(201);
  });

  it('a reset sent late, after the device comes back online, still releases it', async () => {
    const owner = await signIn(backend);
    const device = await owned(owner);
    // The appliance is reset while offline: its client queues the QoS 1 message and sends it on reconnect.
    await device.client.endAsync();
    const late = await connectDevice(backend.mqttUrl, device.sn, device.deviceSecret, { reconnectPeriod: 200, clean: false });
    clients.push(late);
    late.stream.destroy();
    await closed(late);
    // Resolves once the broker acknowledged it, after the reconnect.
    await late.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
    await eventually(async () => (await sql(backend, 'SELECT sn FROM device_bindings WHERE sn = $1', [device.sn])).length === 0);
    expect((await historyOf(owner))[0]).toMatchObject({ sn: device.sn, event: 'factory_reset' });
    // A reset of a device nobody owns changes nothing and breaks nothing.
    await late.publishAsync(topics.reset(device.sn), '{}', { qos: 1 });
    await late.publishAsync(topics.reset(device.sn), 'not json', { qos: 1 });
    const again = await owned(owner);
    expect(await devicesOf(owner)).toEqual([expect.objectContaining({ sn: again.sn })]);
  });

  it("export lists devices, history and pairings; DELETE /v1/me unbinds the person's devices and memberships", async () => {
    const owner = await signIn(backend);
    const member = await signIn(backend);
    const device = await owned(owner);
    const theirs = await owned(member);
    await shareWith(owner, device.sn, member);
    await shareWith(member, theirs.sn, owner);

    const exported = await call('GET', `${url}/v1/me/export`, { token: owner.accessToken });
    expect(exported.body.devices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sn: device.sn, role: 'owner' }),
        expect.objectContaining({ sn: theirs.sn, role: 'member' }),
      ]),
    );
    expect(exported.body.deviceHistory).toEqual(expect.arrayContaining([expect.objectContaining({ sn: device.sn, event: 'bound' })]));
    expect(exported.body.pairings).toEqual([expect.objectContaining({ sn: device.sn, status: 'bound' })]);

    expect((await call('DELETE', `${url}/v1/me`, { token: owner.accessToken })).status).toBe(204);
    expect(await sql(backend, 'SELECT sn FROM device_bindings WHERE owner_id = $1', [owner.userId])).toEqual([]);
    expect(await sql(backend, 'SELECT sn FROM device_members WHERE user_id = $1', [owner.userId])).toEqual([]);
    expect(await sql(backend, 'SELECT id FROM pairings WHERE user_id = $1', [owner.userId])).toEqual([]);
    expect(await sql(backend, 'SELECT id FROM device_history WHERE user_id = $1', [owner.userId])).toEqual([]);
    // The member lost the erased owner's device, kept their own, and their history says the owner left.
    expect(await devicesOf(member)).toEqual([expect.objectContaining({ sn: theirs.sn, role: 'owner' })]);
    expect((await historyOf(member))[0]).toMatchObject({ sn: device.sn, role: 'member', event: 'owner_left' });
    // The released device can be paired by someone else.
    const next = await signIn(backend);
    expect((await startPairing(backend, next, { qr: device.qr })).status).toBe(201);
  });
});
