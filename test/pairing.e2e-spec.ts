import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MqttClient } from 'mqtt';
import { RetentionService } from '#libs/privacy';
import { openPrivacyContext } from '../apps/provisioning/src/privacy-entities.js';
import { topics } from '#libs/mqtt-contract';
import { startTestBackend, type TestBackend } from './support/backend.js';
import { call } from './support/http.js';
import { newSn, registerDevices } from './factories/devices.js';
import { setConsent } from './factories/consents.js';
import { confirmOnDevice, newNetwork, onlineDevice, pairingStatus, sql, startedPairing, startPairing } from './factories/pairing.js';
import { signIn } from './factories/users.js';

const ADMIN_PHONE = '+8613900000501';

/**
 * Pairing end to end: the companion app over HTTP, appliances as real MQTT
 * clients with their own credentials, provisioning consuming confirmations
 * through the broker.
 */
describe('pairing an appliance', () => {
  let backend: TestBackend;
  let adminToken: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ auth: { adminPhones: [ADMIN_PHONE] } });
    adminToken = (await signIn(backend, ADMIN_PHONE)).accessToken;
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync().catch(() => undefined)));
    await backend?.stop();
  });

  async function device() {
    const [registered] = await registerDevices(backend, adminToken);
    const client = await onlineDevice(backend, registered);
    clients.push(client);
    return { ...registered, client };
  }

  const bindings = async (sn: string) => sql<{ owner_id: string }>(backend, 'SELECT owner_id FROM device_bindings WHERE sn = $1', [sn]);

  it('binds only when the appliance confirms the token: QR → 201, confirm → bound, listed as owner', async () => {
    const owner = await signIn(backend);
    const appliance = await device();
    const pairing = await startedPairing(backend, owner, { qr: appliance.qr });
    expect(pairing).toEqual({ pairingId: expect.any(String), sn: appliance.sn, token: expect.any(String), expiresAt: expect.any(String) });
    expect(Buffer.from(pairing.token, 'base64url').length).toBeGreaterThanOrEqual(16);
    const minutes = (Date.parse(pairing.expiresAt) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(9);
    expect(minutes).toBeLessThanOrEqual(10);
    // Knowing the label is not enough: nothing is bound before the appliance speaks.
    expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('pending');
    expect(await bindings(appliance.sn)).toEqual([]);

    expect(await confirmOnDevice(appliance.client, appliance.sn, pairing.token)).toEqual({ pairingId: pairing.pairingId, status: 'bound' });
    expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('bound');
    expect(await bindings(appliance.sn)).toEqual([{ owner_id: owner.userId }]);
    const list = await call('GET', `${backend.provisioningUrl}/v1/devices`, { token: owner.accessToken });
    // Presence (online, lastSeenAt) is written by the broker every few seconds; the devices suite checks it.
    expect(list.body).toEqual([
      { sn: appliance.sn, model: 'PURIFIER-X1', role: 'owner', online: expect.any(Boolean), lastSeenAt: list.body[0].lastSeenAt },
    ]);
    // The token is stored only as a hash.
    const [stored] = await sql<{ token_hash: string }>(backend, 'SELECT token_hash FROM pairings WHERE id = $1', [pairing.pairingId]);
    expect(stored.token_hash).not.toContain(pairing.token);
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('pairs by typed SN as well', async () => {
    const owner = await signIn(backend);
    const appliance = await device();
    const pairing = await startedPairing(backend, owner, { sn: appliance.sn });
    expect(await confirmOnDevice(appliance.client, appliance.sn, pairing.token)).toMatchObject({ status: 'bound' });
    expect(await bindings(appliance.sn)).toEqual([{ owner_id: owner.userId }]);
  });

  it('refuses bad input with the contract codes and creates nothing', async () => {
    const user = await signIn(backend);
    const [registered] = await registerDevices(backend, adminToken);
    const [, sn, code] = registered.qr.split(':');
    const cases: Array<[Record<string, unknown> | string, number, string]> = [
      [{ qr: 'not a label' }, 400, 'VALIDATION_FAILED'],
      [{ qr: `APL2:${sn}:${code}` }, 400, 'VALIDATION_FAILED'],
      [{ qr: `APL1:${sn}:${code.slice(0, 10)}` }, 400, 'VALIDATION_FAILED'],
      [{ qr: `APL1:bad/sn:${code}` }, 400, 'VALIDATION_FAILED'],
      [{ sn: 'no/slashes' }, 400, 'VALIDATION_FAILED'],
      [{}, 400, 'VALIDATION_FAILED'],
      [{ qr: registered.qr, sn }, 400, 'VALIDATION_FAILED'],
      [{ sn, owner: 'me' }, 400, 'VALIDATION_FAILED'],
      [{ sn, network: { wifiName: 'x', password: 'secret' } }, 400, 'VALIDATION_FAILED'],
      [{ sn, network: { routerMac: 'nope' } }, 400, 'VALIDATION_FAILED'],
      ['{"sn":', 400, 'VALIDATION_FAILED'],
      [{ sn: newSn() }, 404, 'NOT_FOUND'],
      [{ qr: `APL1:${newSn()}:${code}` }, 404, 'NOT_FOUND'],
    ];
    for (const [body, status, error] of cases) {
      const answer = await startPairing(backend, user, body as Record<string, unknown>);
      expect({ body, status: answer.status, error: answer.body.error }).toEqual({ body, status, error });
    }
    const unauthenticated = await call('POST', `${backend.provisioningUrl}/v1/pairings`, { body: { sn } });
    expect(unauthenticated.status).toBe(401);
    expect(await sql(backend, 'SELECT id FROM pairings WHERE user_id = $1', [user.userId])).toEqual([]);
  });

  it('counts wrong claim codes per account: 403 each, then 429 even with the right code; another account is not affected', async () => {
    const guesser = await signIn(backend);
    const other = await signIn(backend);
    const [registered] = await registerDevices(backend, adminToken);
    const [, sn, code] = registered.qr.split(':');
    const wrong = `APL1:${sn}:${code[0] === '0' ? '1' : '0'}${code.slice(1)}`;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const answer = await startPairing(backend, guesser, { qr: wrong });
      expect({ attempt, status: answer.status, error: answer.body.error }).toEqual({ attempt, status: 403, error: 'FORBIDDEN' });
    }
    const locked = await startPairing(backend, guesser, { qr: registered.qr });
    expect([locked.status, locked.body.error]).toEqual([429, 'TOO_MANY_REQUESTS']);
    expect(await sql(backend, 'SELECT id FROM pairings WHERE sn = $1', [sn])).toEqual([]);
    // The claim code is read case-insensitively, and other accounts keep their tries.
    const fine = await startPairing(backend, other, { qr: `APL1:${sn}:${code.toLowerCase()}` });
    expect(fine.status).toBe(201);
  });

  it('a wrong token leaves the pairing pending; the fifth rejects it, and the right token then binds nothing', async () => {
    const owner = await signIn(backend);
    const appliance = await device();
    const pairing = await startedPairing(backend, owner, { qr: appliance.qr });
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const result = await confirmOnDevice(appliance.client, appliance.sn, `wrong-token-${attempt}`);
      expect({ attempt, result }).toEqual({ attempt, result: { pairingId: pairing.pairingId, status: 'pending' } });
      expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('pending');
    }
    // A malformed confirmation counts like a wrong token.
    expect(await confirmOnDevice(appliance.client, appliance.sn, { token: 42 })).toEqual({
      pairingId: pairing.pairingId,
      status: 'rejected',
    });
    expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('rejected');
    expect(await confirmOnDevice(appliance.client, appliance.sn, pairing.token)).toEqual({
      pairingId: pairing.pairingId,
      status: 'rejected',
    });
    expect(await bindings(appliance.sn)).toEqual([]);
  });

  it("refuses a token from another device's pairing on this device's topic; that pairing still works on its own device", async () => {
    const alice = await signIn(backend);
    const mallory = await signIn(backend);
    const a = await device();
    const b = await device();
    const pairingA = await startedPairing(backend, alice, { qr: a.qr });
    const pairingB = await startedPairing(backend, mallory, { qr: b.qr });
    // Device B presents A's token on B's topic: it only counts on A's own topic.
    expect(await confirmOnDevice(b.client, b.sn, pairingA.token)).toEqual({ pairingId: pairingB.pairingId, status: 'pending' });
    expect(await bindings(a.sn)).toEqual([]);
    expect(await bindings(b.sn)).toEqual([]);
    expect(await pairingStatus(backend, alice, pairingA.pairingId)).toBe('pending');
    // With no pairing open at all, the device hears "rejected" with pairingId "none".
    const c = await device();
    expect(await confirmOnDevice(c.client, c.sn, pairingA.token)).toEqual({ pairingId: 'none', status: 'rejected' });
    expect(await confirmOnDevice(a.client, a.sn, pairingA.token)).toEqual({ pairingId: pairingA.pairingId, status: 'bound' });
    expect(await bindings(a.sn)).toEqual([{ owner_id: alice.userId }]);
  });

  it("another account's device answers 409; the owner asking again gets 200 bound, not a second binding; a used token binds nothing again", async () => {
    const owner = await signIn(backend);
    const stranger = await signIn(backend);
    const appliance = await device();
    const first = await startedPairing(backend, owner, { qr: appliance.qr });
    expect(await confirmOnDevice(appliance.client, appliance.sn, first.token)).toMatchObject({ status: 'bound' });
    const [{ bound_at: boundAt }] = await sql<{ bound_at: Date }>(backend, 'SELECT bound_at FROM device_bindings WHERE sn = $1', [
      appliance.sn,
    ]);

    const taken = await startPairing(backend, stranger, { qr: appliance.qr });
    expect([taken.status, taken.body.error]).toEqual([409, 'DEVICE_ALREADY_BOUND']);
    const takenBySn = await startPairing(backend, stranger, { sn: appliance.sn });
    expect([takenBySn.status, takenBySn.body.error]).toEqual([409, 'DEVICE_ALREADY_BOUND']);

    for (const body of [{ qr: appliance.qr }, { sn: appliance.sn }]) {
      const again = await startPairing(backend, owner, body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({
        pairingId: first.pairingId,
        sn: appliance.sn,
        status: 'bound',
        boundAt: new Date(boundAt).toISOString(),
      });
    }
    // Replaying the used token (e.g. a redelivered message) answers the same and binds nothing new.
    expect(await confirmOnDevice(appliance.client, appliance.sn, first.token)).toEqual({ pairingId: first.pairingId, status: 'bound' });
    expect(await sql(backend, 'SELECT sn FROM device_bindings WHERE sn = $1', [appliance.sn])).toHaveLength(1);
    expect(await sql(backend, 'SELECT id FROM pairings WHERE sn = $1', [appliance.sn])).toHaveLength(1);
    expect(await sql(backend, `SELECT id FROM device_history WHERE sn = $1 AND event = 'bound'`, [appliance.sn])).toHaveLength(1);
  });

  it('a confirmation after expiry answers expired, and the pairing shows expired; nothing is bound', async () => {
    const owner = await signIn(backend);
    const appliance = await device();
    const pairing = await startedPairing(backend, owner, { qr: appliance.qr });
    const other = await startedPairing(backend, owner, { sn: appliance.sn });
    // Move both past their expiry instead of waiting ten minutes.
    await sql(
      backend,
      `UPDATE pairings SET expires_at = now() - interval '1 second', ended_at = now() - interval '1 second' WHERE sn = $1`,
      [appliance.sn],
    );
    expect(await confirmOnDevice(appliance.client, appliance.sn, pairing.token)).toEqual({
      pairingId: pairing.pairingId,
      status: 'expired',
    });
    expect(await pairingStatus(backend, owner, pairing.pairingId)).toBe('expired');
    expect(await pairingStatus(backend, owner, other.pairingId)).toBe('expired');
    expect(await bindings(appliance.sn)).toEqual([]);
  });

  it('two accounts racing for one unbound device, confirmations in parallel: exactly one binding', async () => {
    for (let round = 0; round < 5; round += 1) {
      const alice = await signIn(backend);
      const bob = await signIn(backend);
      const appliance = await device();
      const [pa, pb] = await Promise.all([
        startedPairing(backend, alice, { qr: appliance.qr }),
        startedPairing(backend, bob, { sn: appliance.sn }),
      ]);
      const results: Array<{ pairingId: string; status: string }> = [];
      const collected = new Promise<void>((resolve) => {
        const onMessage = (topic: string, payload: Buffer) => {
          if (topic !== topics.pairingResult(appliance.sn)) return;
          results.push(JSON.parse(payload.toString('utf8')));
          if (results.length === 2) {
            appliance.client.off('message', onMessage);
            resolve();
          }
        };
        appliance.client.on('message', onMessage);
      });
      await Promise.all([
        appliance.client.publishAsync(topics.pairingConfirm(appliance.sn), JSON.stringify({ token: pa.token }), { qos: 1 }),
        appliance.client.publishAsync(topics.pairingConfirm(appliance.sn), JSON.stringify({ token: pb.token }), { qos: 1 }),
      ]);
      await collected;
      expect(results.map((result) => result.status).sort()).toEqual(['bound', 'rejected']);
      const owners = await bindings(appliance.sn);
      expect(owners).toHaveLength(1);
      const winner = owners[0].owner_id === alice.userId ? { user: alice, pairing: pa } : { user: bob, pairing: pb };
      const loser = winner.user === alice ? { user: bob, pairing: pb } : { user: alice, pairing: pa };
      expect(await pairingStatus(backend, winner.user, winner.pairing.pairingId)).toBe('bound');
      expect(await pairingStatus(backend, loser.user, loser.pairing.pairingId)).toBe('rejected');
    }
  });

  it('GET /v1/pairings/:id shows only the creator their pairing', async () => {
    const owner = await signIn(backend);
    const other = await signIn(backend);
    const [registered] = await registerDevices(backend, adminToken);
    const pairing = await startedPairing(backend, owner, { qr: registered.qr });
    const foreign = await call('GET', `${backend.provisioningUrl}/v1/pairings/${pairing.pairingId}`, { token: other.accessToken });
    expect([foreign.status, foreign.body.error]).toEqual([404, 'NOT_FOUND']);
    const malformed = await call('GET', `${backend.provisioningUrl}/v1/pairings/not-a-uuid`, { token: owner.accessToken });
    expect([malformed.status, malformed.body.error]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('a payload shaped like a framework message is just a wrong token; provisioning keeps consuming', async () => {
    const owner = await signIn(backend);
    const appliance = await device();
    const pairing = await startedPairing(backend, owner, { qr: appliance.qr });
    const disguised = [
      { pattern: topics.pairingConfirm(appliance.sn), data: { token: pairing.token }, id: '1' },
      { data: { token: pairing.token } },
    ];
    for (const payload of disguised) {
      expect(await confirmOnDevice(appliance.client, appliance.sn, payload)).toEqual({ pairingId: pairing.pairingId, status: 'pending' });
    }
    expect(await confirmOnDevice(appliance.client, appliance.sn, pairing.token)).toEqual({ pairingId: pairing.pairingId, status: 'bound' });
  });

  describe('network info (personal data under network_setup)', () => {
    const networkOf = async (pairingId: string) =>
      (
        await sql(backend, 'SELECT phone_model, os_version, router_mac, hidden_ssid, network_id, wifi_name FROM pairings WHERE id = $1', [
          pairingId,
        ])
      )[0];
    const NOTHING = { phone_model: null, os_version: null, router_mac: null, hidden_ssid: null, network_id: null, wifi_name: null };

    it('is stored only with network_setup consent; withdrawing erases it', async () => {
      const without = await signIn(backend);
      const [d1, d2] = await registerDevices(backend, adminToken, 2);
      const dropped = await startedPairing(backend, without, { qr: d1.qr, network: newNetwork() });
      expect(await networkOf(dropped.pairingId)).toEqual(NOTHING);

      const consenting = await signIn(backend);
      await setConsent(backend, consenting, 'network_setup', true);
      const kept = await startedPairing(backend, consenting, {
        qr: d2.qr,
        network: newNetwork({ routerMac: 'aa-bb-cc-00-11-22', hiddenSsid: true }),
      });
      expect(await networkOf(kept.pairingId)).toEqual({
        phone_model: 'Pixel 8',
        os_version: 'Android 15',
        router_mac: 'AA:BB:CC:00:11:22',
        hidden_ssid: true,
        network_id: 'net-42',
        wifi_name: 'home-5G',
      });
      const exported = await call('GET', `${backend.provisioningUrl}/v1/me/export`, { token: consenting.accessToken });
      expect(exported.body.pairings).toEqual([
        expect.objectContaining({
          pairingId: kept.pairingId,
          sn: d2.sn,
          status: 'pending',
          network: expect.objectContaining({ wifiName: 'home-5G', hiddenSsid: true }),
        }),
      ]);
      await setConsent(backend, consenting, 'network_setup', false);
      expect(await networkOf(kept.pairingId)).toEqual(NOTHING);
    });

    it('is erased 24 hours after the pairing ends (confirmed or left to expire), not before', async () => {
      const user = await signIn(backend);
      await setConsent(backend, user, 'network_setup', true);
      const appliance = await device();
      const [unconfirmed] = await registerDevices(backend, adminToken);
      const confirmed = await startedPairing(backend, user, { qr: appliance.qr, network: newNetwork() });
      const abandoned = await startedPairing(backend, user, { qr: unconfirmed.qr, network: newNetwork() });
      await confirmOnDevice(appliance.client, appliance.sn, confirmed.token);

      const privacy = await openPrivacyContext(backend.databaseUrl);
      try {
        const retention = privacy.get(RetentionService);
        const hours = (n: number) => new Date(Date.now() + n * 3600_000);
        await retention.apply(hours(23));
        expect((await networkOf(confirmed.pairingId)).wifi_name).toBe('home-5G');
        expect((await networkOf(abandoned.pairingId)).wifi_name).toBe('home-5G');
        // 24 h after the confirmation: gone; the abandoned one ends only when it expires (10 minutes later).
        await retention.apply(hours(24.05));
        expect(await networkOf(confirmed.pairingId)).toEqual(NOTHING);
        expect((await networkOf(abandoned.pairingId)).wifi_name).toBe('home-5G');
        await retention.apply(hours(24.25));
        expect(await networkOf(abandoned.pairingId)).toEqual(NOTHING);
        // The pairing itself and the binding stay.
        expect(await pairingStatus(backend, user, confirmed.pairingId)).toBe('bound');
      } finally {
        await privacy.close();
      }
    });
  });
});
