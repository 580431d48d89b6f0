import { expect } from '@jest/globals';
import fc from 'fast-check';
import { count } from '../stats.js';
import { latestRequest, retainedInModel, roleOf, sent, settleInModel, type PointValue } from '../state-model.js';
import { counters, pick, pickFrom, step, tick, type Step, type World } from '../world.js';
import { pairDevice } from './devices.js';
import { eraseAccountOf, signUpStep } from './people.js';

/** Appliance state and control: sharing with a member, state reports from the device, control requests from the app. */

/** A string no one else sends: the scans look for it in every table. */
const fresh = (world: World, tag: string): string => {
  counters.value += 1;
  return `${tag}${process.pid % 1000}x${counters.value}x${world.lastNow % 100000}`;
};

/** The owner shares a device with another person of the sequence, who then signs in (the share becomes a membership). */
export const shareDevice: fc.Arbitrary<Step> = fc.record({ device: fc.nat(), who: fc.nat() }).map(({ device, who }) =>
  step('shareDevice', { device, who }, async (world) => {
    const sn = pickFrom(
      world.runDevices.filter((candidate) => world.owners.has(candidate)),
      device,
    );
    const member = pick(world, who);
    if (!sn || !member || !world.model.get(member)?.exists) return;
    await shareWith(world, sn, member);
  }),
);

/** The owner of `sn` shares it by phone with `member`, who signs in: a membership, and a history entry for the member. */
async function shareWith(world: World, sn: string, member: string): Promise<void> {
  const owner = world.owners.get(sn)!.userId;
  if (member === owner) return;
  const now = tick(world);
  await world.ownership.addMember(owner, sn, world.phones.get(member)!, now);
  await world.dataSource.transaction((manager) => world.ownership.acceptInvitations(manager, member, world.phones.get(member)!, now));
  const members = world.state.members.get(sn) ?? new Set<string>();
  world.state.members.set(sn, members);
  if (members.has(member)) return count('shared with a member already');
  members.add(member);
  world.history.push({ userId: member, sn, event: 'shared', at: now.getTime(), snErased: false, deleted: false });
  count('shared with a member');
}

/** Most state and control steps act on an owned appliance: when the sequence has none yet, half of them run a pairing step first. */
async function ownedDevices(world: World, pairing: Step | undefined): Promise<string[]> {
  const owned = () => world.runDevices.filter((candidate) => world.owners.has(candidate));
  if (pairing && owned().length === 0) await pairing.apply(world);
  return owned();
}

/** `devices/<sn>/state/reported`: good values, values the model refuses, and sometimes a version applied or rejected. */
export const reportState: fc.Arbitrary<Step> = fc
  .record({
    device: fc.nat(),
    boundDevice: fc.constantFrom(true, true, true, false),
    power: fc.option(fc.constantFrom<unknown>(true, false, 'on'), { nil: undefined }),
    mode: fc.option(fc.constantFrom<unknown>('eco', 'boost', 'turbo'), { nil: undefined }),
    filterLife: fc.option(fc.constantFrom<unknown>(80, 101), { nil: undefined }),
    display: fc.constantFrom('none', 'fresh', 'fresh', 'tooLong'),
    label: fc.constantFrom('none', 'none', 'fresh'),
    unknown: fc.boolean(),
    settle: fc.constantFrom('none', 'none', 'applied', 'applied', 'appliedOlder', 'rejected', 'rejectedNewest'),
    pairing: fc.option(pairDevice, { nil: undefined, freq: 2 }),
  })
  .map((params) =>
    step('reportState', params, async (world) => {
      const bound = params.boundDevice ? await ownedDevices(world, params.pairing) : [];
      const sn = pickFrom(params.boundDevice && bound.length ? bound : world.runDevices, params.device);
      if (!sn) return;
      const values: Record<string, unknown> = {};
      const good: Record<string, PointValue> = {};
      let ignored = 0;
      const put = (point: string, value: unknown, accepted: boolean) => {
        values[point] = value;
        if (accepted) good[point] = value as PointValue;
        else ignored += 1;
      };
      if (params.power !== undefined) put('power', params.power, typeof params.power === 'boolean');
      if (params.mode !== undefined) put('mode', params.mode, params.mode !== 'turbo');
      if (params.filterLife !== undefined) put('filter_life', params.filterLife, params.filterLife === 80);
      if (params.unknown) put('colour', 'blue', false);
      const owned = world.owners.has(sn);
      for (const [point, variant] of [
        ['display', params.display],
        ['label', params.label],
      ] as const) {
        if (variant === 'none') continue;
        const value = variant === 'tooLong' ? fresh(world, 'long').padEnd(41, 'z') : fresh(world, point);
        put(point, value, variant === 'fresh');
        sent(world, sn, value, owned && variant === 'fresh');
      }
      const pending = [...world.state.requests.values()].filter((request) => request.sn === sn && request.status === 'pending');
      const newest = Math.max(0, ...pending.map((request) => request.version));
      const oldest = Math.min(...pending.map((request) => request.version));
      const payload: Record<string, unknown> = { values };
      let settlement: Parameters<typeof settleInModel>[2] | null = null;
      if (params.settle === 'applied' && newest > 0) settlement = { status: 'applied', upTo: newest };
      if (params.settle === 'appliedOlder' && pending.length > 1) settlement = { status: 'applied', upTo: oldest };
      if (params.settle === 'rejected' && newest > 0) settlement = { status: 'rejected', upTo: newest, reasons: { label: 'busy' } };
      if (params.settle === 'rejectedNewest') settlement = { status: 'rejected', upTo: 'newest', reasons: { power: 'locked' } };
      if (settlement && settlement.upTo !== 'newest') payload.version = settlement.upTo;
      if (settlement?.status === 'rejected') payload.rejected = settlement.reasons;
      const receipt = await world.receiveStateReport.execute(sn, Buffer.from(JSON.stringify(payload)));
      const binding = world.owners.get(sn);
      if (binding)
        for (const [point, value] of Object.entries(good)) world.state.reported.set(`${sn}|${point}`, { ownerId: binding.userId, value });
      const settled = settlement ? settleInModel(world, sn, settlement) : 0;
      expect(receipt).toEqual({ outcome: 'handled', kept: Object.keys(good).length, ignored, settled });
      expect(world.retained.get(sn) ?? null).toEqual(retainedInModel(world, sn));
      count(!binding ? 'state report of a device nobody owns' : settled ? `state report settling ${settlement!.status}` : 'state report');
    }),
  );

/**
 * `PUT /v1/devices/:sn/state/desired` by the owner, a member or someone
 * else: good values (a fresh label among them), a bad point, or an
 * `ifVersion` that is the current version or not.
 */
export const requestControl: fc.Arbitrary<Step> = fc
  .record({
    device: fc.nat(),
    who: fc.constantFrom('owner', 'owner', 'member', 'member', 'member', 'someone'),
    whom: fc.nat(),
    power: fc.option(fc.boolean(), { nil: undefined }),
    mode: fc.option(fc.constantFrom('standard', 'eco', 'boost'), { nil: undefined }),
    label: fc.constantFrom(true, true, false),
    bad: fc.constantFrom('none', 'none', 'none', 'none', 'unknown', 'notWritable', 'wrongType', 'outOfRange', 'tooLong', 'empty'),
    ifVersion: fc.constantFrom('none', 'none', 'current', 'stale'),
    // Sometimes the member who asked erases their account right after: the request stays in the owner's history, nameless.
    memberLeaves: fc.constantFrom(false, false, true),
    pairing: fc.option(pairDevice, { nil: undefined, freq: 2 }),
  })
  .map((params) =>
    step('requestControl', params, async (world) => {
      const bound = await ownedDevices(world, params.pairing);
      const sn = pickFrom(bound.length ? bound : world.runDevices, params.device);
      if (!sn) return;
      if (params.who === 'member' && world.owners.has(sn) && !world.state.members.get(sn)?.size) {
        // A member to ask: someone else of the sequence, or a new person, shared with first.
        const owner = world.owners.get(sn)!.userId;
        const others = world.run.filter((person) => person !== owner && world.model.get(person)?.exists);
        if (others.length === 0) await signUpStep.apply(world);
        await shareWith(world, sn, pickFrom(others, params.whom) ?? world.run[world.run.length - 1]);
      }
      const members = [...(world.state.members.get(sn) ?? [])];
      const requester =
        params.who === 'owner'
          ? world.owners.get(sn)?.userId
          : params.who === 'member'
            ? pickFrom(members, params.whom)
            : pick(world, params.whom);
      // An erased account cannot call the API (its tokens answer 401).
      if (!requester || !world.model.get(requester)?.exists) return;
      const values: Record<string, unknown> = {};
      if (params.power !== undefined) values.power = params.power;
      if (params.mode !== undefined) values.mode = params.mode;
      const strings: string[] = [];
      if (params.label || Object.keys(values).length === 0) strings.push((values.label = fresh(world, 'label')));
      if (params.bad === 'unknown') values.colour = 'blue';
      if (params.bad === 'notWritable') values.filter_life = 50;
      if (params.bad === 'wrongType') values.power = 'yes';
      if (params.bad === 'outOfRange') values.mode = 'turbo';
      if (params.bad === 'tooLong') strings.push((values.label = fresh(world, 'long').padEnd(41, 'z')));
      if (params.bad === 'empty') for (const point of Object.keys(values)) delete values[point];
      const role = roleOf(world, requester, sn);
      const ownerId = world.owners.get(sn)?.userId;
      const current = ownerId ? (latestRequest(world, sn, ownerId)?.version ?? 0) : 0;
      const body: Record<string, unknown> = { values };
      if (params.ifVersion === 'current') body.ifVersion = current;
      if (params.ifVersion === 'stale') body.ifVersion = current + 1;
      const refuse = async (code: string, outcome: string) => {
        await expect(world.setDesired.execute(requester, sn, body)).rejects.toMatchObject({ code });
        for (const value of strings) sent(world, sn, value, false);
        expect(world.retained.get(sn) ?? null).toEqual(retainedInModel(world, sn));
        count(outcome);
      };
      if (!role || !ownerId) return refuse('NOT_FOUND', 'control refused: not theirs');
      if (params.bad !== 'none') return refuse('VALIDATION_FAILED', 'control refused: bad point');
      if (params.ifVersion === 'stale') return refuse('VERSION_CONFLICT', 'control refused: version conflict');
      const answer = await world.setDesired.execute(requester, sn, body);
      const version = (world.state.versions.get(sn) ?? 0) + 1;
      world.state.versions.set(sn, version);
      expect(answer).toEqual({ version, status: 'pending', expiresAt: expect.any(String) });
      const latest = latestRequest(world, sn, ownerId);
      const asked = values as Record<string, PointValue>;
      world.state.requests.set(`${sn}|${version}`, {
        sn,
        ownerId,
        version,
        asked,
        merged: { ...(latest?.status === 'pending' ? latest.merged : {}), ...asked },
        status: 'pending',
        requestedBy: requester,
        role,
        rejected: null,
      });
      for (const value of strings) sent(world, sn, value, true);
      expect(world.retained.get(sn) ?? null).toEqual(retainedInModel(world, sn));
      count(`control requested by the ${role}${latest?.status === 'pending' ? ', merged into a pending one' : ''}`);
      if (role === 'member' && params.memberLeaves) {
        await eraseAccountOf(world, requester);
        count('control requested by a member who then erased their account');
      }
    }),
  );
