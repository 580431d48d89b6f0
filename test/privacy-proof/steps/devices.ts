import { expect } from '@jest/globals';
import fc from 'fast-check';
import { formatQrPayload, generateClaimCode, normaliseMac, type NetworkInfo, type StartPairingInput } from '#libs/devices';
import { pairingAsStored, pairingFromRow, PAIRING_COLUMNS, type PairingRow } from '../checks.js';
import { confirmInModel, modelLive, NO_NETWORK, type PairingModel, type StoredNetwork } from '../model.js';
import { PROOF_MODEL, releaseStateInModel } from '../state-model.js';
import { count } from '../stats.js';
import { counters, pick, pickFrom, step, tick, type Step, type World } from '../world.js';

/** Appliances: registration, pairing with network info, confirmation by token, unbinding, factory reset. */

export const hexPair = fc.integer({ min: 0, max: 255 }).map((byte) => byte.toString(16).padStart(2, '0'));
/** A MAC as phones and appliances send it: colons, dashes or nothing between the pairs, either case. */
export const macArb = fc
  .record({ pairs: fc.array(hexPair, { minLength: 6, maxLength: 6 }), separator: fc.constantFrom(':', '-', ''), upper: fc.boolean() })
  .map(({ pairs, separator, upper }) => (upper ? pairs.join(separator).toUpperCase() : pairs.join(separator)));

/** The factory registers an appliance (as POST /v1/admin/devices does). */
export const registerDevice: fc.Arbitrary<Step> = fc
  .record({ mac: macArb, firmware: fc.option(fc.constantFrom('1.0.0', '2.3.1'), { nil: null }) })
  .map(({ mac, firmware }) =>
    step('registerDevice', { mac, firmware }, async (world) => {
      counters.sn += 1;
      const row = { sn: `PP${process.pid % 1000}-${counters.sn}`, mac: normaliseMac(mac), model: PROOF_MODEL, firmware };
      const result = await world.registry.register([row]);
      expect(result.issued.map((issued) => issued.sn)).toEqual([row.sn]);
      world.devices.set(row.sn, { ...row, qr: result.issued[0].qr });
      world.runDevices.push(row.sn);
    }),
  );

export const shortText = (maxLength: number) => fc.string({ minLength: 1, maxLength });
export const networkArb: fc.Arbitrary<NetworkInfo | undefined> = fc.option(
  fc.record(
    {
      phoneModel: shortText(16),
      osVersion: shortText(16),
      routerMac: macArb,
      hiddenSsid: fc.boolean(),
      networkId: shortText(16),
      wifiName: shortText(32),
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

/**
 * The companion app starts pairing (scanned label, typed SN, or a label with
 * a wrong claim code) with the phone's network info; the person may grant
 * network_setup / fault_diagnostics right before, as the app offers.
 */
export const pairDevice: fc.Arbitrary<Step> = fc
  .record({
    who: fc.nat(),
    device: fc.nat(),
    by: fc.constantFrom('qr', 'qr', 'qr', 'sn', 'sn', 'wrongClaim'),
    grants: fc.subarray(['network_setup', 'fault_diagnostics'] as const),
    network: networkArb,
    // Most appliances confirm at once, as in the walkthrough; the rest is left to confirmPairing steps.
    confirmNow: fc.constantFrom(true, true, false),
  })
  .map(({ who, device, by, grants, network, confirmNow }) =>
    step('pairDevice', { who, device, by, grants, network, confirmNow }, async (world) => {
      const subject = pick(world, who);
      const sn = pickFrom(world.runDevices, device);
      if (!subject || !sn) return;
      const person = world.model.get(subject)!;
      // An erased account cannot call the API (its tokens answer 401): it never reaches the use-case.
      if (!person.exists) return;
      for (const purpose of grants) {
        await world.consents.set(subject, purpose, true);
        person.granted.add(purpose);
      }
      const facts = world.devices.get(sn)!;
      const input: StartPairingInput =
        by === 'sn' ? { sn, network } : { qr: by === 'qr' ? facts.qr : formatQrPayload(sn, generateClaimCode()), network };
      const now = tick(world);
      if (by !== 'sn' && (world.claimFailures.get(subject) ?? 0) >= world.config.pairing.claimFailuresPerHour) {
        await expect(world.startPairing.execute(subject, input, now)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
        return count('pairing locked out');
      }
      if (by === 'wrongClaim') {
        await expect(world.startPairing.execute(subject, input, now)).rejects.toMatchObject({ code: 'FORBIDDEN' });
        world.claimFailures.set(subject, (world.claimFailures.get(subject) ?? 0) + 1);
        return count('pairing wrong claim code');
      }
      const binding = world.owners.get(sn);
      if (binding && binding.userId !== subject) {
        await expect(world.startPairing.execute(subject, input, now)).rejects.toMatchObject({ code: 'DEVICE_ALREADY_BOUND' });
        return count('pairing of a device bound to another');
      }
      const answer = await world.startPairing.execute(subject, input, now);
      if (binding) {
        const last = [...world.pairingModels.values()]
          .filter(
            (pairing) =>
              pairing.sn === sn && pairing.userId === subject && pairing.status === 'bound' && !pairing.deleted && !pairing.snErased,
          )
          .sort((a, b) => b.endedAt - a.endedAt)[0];
        expect(answer).toEqual({
          kind: 'already_yours',
          pairingId: last?.id ?? null,
          sn,
          status: 'bound',
          boundAt: new Date(binding.boundAt).toISOString(),
        });
        return count('pairing of a device already yours');
      }
      if (answer.kind !== 'started') throw new Error(`expected a new pairing, got ${JSON.stringify(answer)}`);
      const expiresAt = now.getTime() + world.config.pairing.tokenTtlSeconds * 1000;
      expect(answer).toEqual({
        kind: 'started',
        pairingId: expect.any(String),
        sn,
        token: expect.any(String),
        expiresAt: new Date(expiresAt).toISOString(),
      });
      // Network info is kept only under a live network_setup; the SN (service) always.
      const kept: StoredNetwork = modelLive(person, 'network_setup')
        ? {
            phoneModel: network?.phoneModel ?? null,
            osVersion: network?.osVersion ?? null,
            routerMac: network?.routerMac ? normaliseMac(network.routerMac) : null,
            hiddenSsid: network?.hiddenSsid ?? null,
            networkId: network?.networkId ?? null,
            wifiName: network?.wifiName ?? null,
          }
        : { ...NO_NETWORK };
      const pairing: PairingModel = {
        id: answer.pairingId,
        sn,
        userId: subject,
        token: answer.token,
        status: 'pending',
        createdAt: now.getTime(),
        expiresAt,
        endedAt: expiresAt,
        wrongTokens: 0,
        network: kept,
        snErased: false,
        deleted: false,
      };
      world.pairingModels.set(pairing.id, pairing);
      world.runPairings.push(pairing.id);
      const [row] = (await world.dataSource.query(`SELECT ${PAIRING_COLUMNS} FROM pairings WHERE id = $1`, [pairing.id])) as PairingRow[];
      expect(pairingFromRow(row)).toEqual(pairingAsStored(pairing));
      count(
        Object.values(kept).some((value) => value !== null) ? 'pairing started with network info' : 'pairing started without network info',
      );
      if (confirmNow) await confirmOnDevice(world, sn, pairing.token, tick(world));
    }),
  );

/** The appliance presents a token (the use-case provisioning's MQTT handler calls); the answer and the binding must be the model's. */
export async function confirmOnDevice(world: World, sn: string, token: string, now: Date): Promise<void> {
  const expected = confirmInModel(world, sn, token, now.getTime());
  expect(await world.confirmPairing.execute(sn, token, now)).toEqual(expected);
  const bindings = (await world.dataSource.query('SELECT owner_id FROM device_bindings WHERE sn = $1', [sn])) as Array<{
    owner_id: string;
  }>;
  expect(bindings.map((binding) => binding.owner_id)).toEqual(world.owners.has(sn) ? [world.owners.get(sn)!.userId] : []);
  count(`confirmation ${expected.status}`);
}

/**
 * The appliance confirms a pairing started earlier in the sequence: the
 * right token, a wrong one, or the right one after expiry.
 */
export const confirmPairing: fc.Arbitrary<Step> = fc
  .record({
    pairing: fc.nat(),
    token: fc.constantFrom('right', 'right', 'right', 'wrong', 'late'),
    lateSeconds: fc.integer({ min: 0, max: 3600 }),
  })
  .map(({ pairing: index, token: variant, lateSeconds }) =>
    step('confirmPairing', { pairing: index, token: variant, lateSeconds }, async (world) => {
      const id = pickFrom(world.runPairings, index);
      if (!id) return;
      const pairing = world.pairingModels.get(id)!;
      const token = variant === 'wrong' ? 'not-the-token-of-any-pairing' : pairing.token;
      const now = variant === 'late' ? new Date(pairing.expiresAt + lateSeconds * 1000) : tick(world);
      await confirmOnDevice(world, pairing.sn, token, now);
    }),
  );

/** The owner (or someone else, refused) unbinds a device. */
export const unbindDevice: fc.Arbitrary<Step> = fc
  .record({ who: fc.nat(), device: fc.nat(), byOwner: fc.boolean() })
  .map(({ who, device, byOwner }) =>
    step('unbind', { who, device, byOwner }, async (world) => {
      const sn = pickFrom(byOwner ? world.runDevices.filter((candidate) => world.owners.has(candidate)) : world.runDevices, device);
      const subject = byOwner && sn ? world.owners.get(sn)!.userId : pick(world, who);
      if (!subject || !sn || !world.model.get(subject)?.exists) return;
      const now = tick(world);
      if (world.owners.get(sn)?.userId !== subject) {
        // A member sees the device but may not unbind it; anyone else learns nothing of it.
        const code = world.state.members.get(sn)?.has(subject) ? 'FORBIDDEN' : 'NOT_FOUND';
        await expect(world.ownership.unbind(subject, sn, now)).rejects.toMatchObject({ code });
        return count('unbind refused');
      }
      await world.ownership.unbind(subject, sn, now);
      releaseInModel(world, sn, 'unbound', now.getTime());
      count('unbound');
    }),
  );

/** The appliance reports a factory reset (the use-case provisioning's handler calls). */
export const factoryReset: fc.Arbitrary<Step> = fc.nat().map((device) =>
  step('factoryReset', { device }, async (world) => {
    const sn = pickFrom(world.runDevices, device);
    if (!sn) return;
    const now = tick(world);
    const binding = world.owners.get(sn);
    expect(await world.ownership.releaseAfterFactoryReset(sn, now)).toEqual({ released: binding !== undefined });
    if (binding) releaseInModel(world, sn, 'factory_reset', now.getTime());
    count(binding ? 'factory reset of a bound device' : 'factory reset of an unbound device');
  }),
);

/**
 * The device leaves its owner (unbind or factory reset): the owner's history
 * says how, each member's says `owner_left` (or `factory_reset` after a
 * reset), and its reported state and control history go with the binding.
 */
export function releaseInModel(world: World, sn: string, event: 'unbound' | 'factory_reset', at: number): void {
  const binding = world.owners.get(sn)!;
  world.history.push({ userId: binding.userId, sn, event, at, snErased: false, deleted: false });
  for (const member of world.state.members.get(sn) ?? []) {
    const memberEvent = event === 'factory_reset' ? 'factory_reset' : 'owner_left';
    world.history.push({ userId: member, sn, event: memberEvent, at, snErased: false, deleted: false });
  }
  releaseStateInModel(world, sn);
  world.owners.delete(sn);
}
