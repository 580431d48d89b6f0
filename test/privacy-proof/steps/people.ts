import { expect } from '@jest/globals';
import fc from 'fast-check';
import { DomainError } from '#libs/platform';
import { PURPOSES, type Purpose } from '#libs/privacy';
import { settle } from '../model.js';
import { eraseStateInModel, releaseStateInModel } from '../state-model.js';
import { text } from './notes.js';
import { counters, pick, step, type Step, type World } from '../world.js';

/** People: sign-up by OTP, consent decisions, restriction, profile writes, account erasure. */

export const signUpStep: Step = step('signUp', {}, async (world) => {
  counters.phone += 1;
  const phone = `+8615${String(process.pid % 1000).padStart(3, '0')}${String(counters.phone).padStart(6, '0')}`;
  await world.otp.requestCode(phone, `10.${(counters.phone >> 16) & 255}.${(counters.phone >> 8) & 255}.${counters.phone & 255}`);
  const login = await world.otp.login(phone, world.codes.get(phone)!);
  world.model.set(login.user.id, { exists: true, granted: new Set(['service']), restricted: false });
  world.phones.set(login.user.id, phone);
  world.run.push(login.user.id);
});
export const signUp: fc.Arbitrary<Step> = fc.constant(signUpStep);

// Half the decisions are about the purposes devices, faults and telemetry write under, so their data is often granted and then withdrawn.
export const purposeArb: fc.Arbitrary<Purpose> = fc.oneof(
  fc.constantFrom(...PURPOSES),
  fc.constantFrom<Purpose>('network_setup', 'fault_diagnostics', 'product_improvement'),
);
export const consent: fc.Arbitrary<Step> = fc
  .record({ who: fc.nat(), purpose: purposeArb, granted: fc.boolean() })
  .map(({ who, purpose, granted }) =>
    step(granted ? 'grant' : 'withdraw', { who, purpose }, async (world) => {
      const subject = pick(world, who);
      if (!subject) return;
      const model = world.model.get(subject)!;
      if (!model.exists) {
        await expect(world.consents.set(subject, purpose, granted)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        return;
      }
      if (purpose === 'service' && !granted) {
        await expect(world.consents.set(subject, purpose, granted)).rejects.toMatchObject({ code: 'CONFLICT' });
        return;
      }
      await world.consents.set(subject, purpose, granted);
      if (granted) model.granted.add(purpose);
      else model.granted.delete(purpose);
      settle(world, subject);
    }),
  );

export const restrict: fc.Arbitrary<Step> = fc.record({ who: fc.nat(), restricted: fc.boolean() }).map(({ who, restricted }) =>
  step('restrict', { who, restricted }, async (world) => {
    const subject = pick(world, who);
    if (!subject) return;
    const model = world.model.get(subject)!;
    if (!model.exists) {
      await expect(world.consents.restrict(subject, restricted)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      return;
    }
    await world.consents.restrict(subject, restricted);
    model.restricted = restricted;
    settle(world, subject);
  }),
);

export const writeProfile: fc.Arbitrary<Step> = fc
  .record({ who: fc.nat(), nickname: text, name: text, location: text, gender: fc.constantFrom('female', 'male', null) })
  .map(({ who, ...changes }) =>
    step('writeProfile', { who, changes }, async (world) => {
      const subject = pick(world, who);
      if (!subject) return;
      if (!world.model.get(subject)!.exists) {
        await expect(world.users.updateProfile(subject, changes)).rejects.toBeInstanceOf(DomainError);
        return;
      }
      const profile = await world.users.updateProfile(subject, changes);
      expect(profile).toMatchObject(changes);
    }),
  );

export const eraseAccount: fc.Arbitrary<Step> = fc.nat().map((who) =>
  step('eraseAccount', { who }, async (world) => {
    const subject = pick(world, who);
    if (!subject || !world.model.get(subject)!.exists) return;
    await eraseAccountOf(world, subject);
  }),
);

/** DELETE /v1/me: the account is erased; the model follows, and the state tables name the person nowhere. */
export async function eraseAccountOf(world: World, subject: string): Promise<void> {
  const before = Date.now();
  await world.eraseAccount.execute(subject);
  const after = Date.now();
  world.model.set(subject, { exists: false, granted: new Set(), restricted: false });
  // The person's devices are released (no history is written for a person who is gone), their pairings and history deleted;
  // each member of those devices reads `owner_left`, at the erasure's own instant (read back, within the call).
  for (const [sn, binding] of world.owners) {
    if (binding.userId !== subject) continue;
    for (const member of world.state.members.get(sn) ?? []) {
      const rows = (await world.dataSource.query(
        `SELECT at FROM device_history WHERE user_id = $1 AND sn = $2 AND event = 'owner_left' AND at >= $3 AND at <= $4`,
        [member, sn, new Date(before), new Date(after)],
      )) as Array<{ at: Date }>;
      expect(rows).toHaveLength(1);
      world.history.push({
        userId: member,
        sn,
        event: 'owner_left',
        at: new Date(rows[0].at).getTime(),
        snErased: false,
        deleted: false,
      });
    }
    releaseStateInModel(world, sn);
    world.owners.delete(sn);
  }
  eraseStateInModel(world, subject);
  for (const pairing of world.pairingModels.values()) if (pairing.userId === subject) pairing.deleted = true;
  for (const entry of world.history) if (entry.userId === subject) entry.deleted = true;
  world.claimFailures.delete(subject);
  settle(world, subject);
  // Not as owner, not as the member who asked: the person's id is in no row of the state tables.
  const named = (await world.dataSource.query(
    `SELECT 'device_reported_points' AS "table" FROM device_reported_points t WHERE t::text LIKE $1
       UNION ALL SELECT 'device_desired_requests' FROM device_desired_requests t WHERE t::text LIKE $1`,
    [`%${subject}%`],
  )) as Array<{ table: string }>;
  expect(named).toEqual([]);
}
