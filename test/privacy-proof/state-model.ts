import type { ModelState } from './model.js';

/**
 * Appliance state and control as the proof models it, independently of
 * libs/devices: what a device reports and what its owner and members ask of
 * it are held for the device's owner of the moment. When the device leaves
 * that owner (unbind, factory reset, the owner's erasure) all of it goes, so
 * the next owner sees none of it; a member's erasure leaves the owner's
 * history, without saying who asked; restriction changes nothing (state is
 * under `service`). Each generated string value is followed from the moment
 * it is sent: once its holder no longer has it, the scans must find it
 * nowhere in the database.
 */

/** The proof's appliance model: PX1's points and two string points, so generated values are distinctive in the scans. */
export const PROOF_MODEL = 'PXP';
export const PROOF_MODEL_DEFINITION = {
  name: 'Water purifier PX1, with a label',
  points: [
    { id: 'power', type: 'boolean', writable: true, history: false },
    { id: 'mode', type: 'enum', writable: true, history: false, values: ['standard', 'eco', 'boost'] },
    { id: 'filter_life', type: 'integer', writable: false, history: false, unit: '%', min: 0, max: 100 },
    { id: 'tds', type: 'number', writable: false, history: true, unit: 'ppm', min: 0, max: 2000 },
    { id: 'water_drawn', type: 'number', writable: false, history: true, unit: 'L', min: 0 },
    { id: 'label', type: 'string', writable: true, history: false, maxLength: 40 },
    { id: 'display', type: 'string', writable: false, history: false, maxLength: 40 },
  ],
};
/** The points only state reports write (telemetry writes tds and water_drawn into `reported` too, with the readings' own times). */
export const STATE_POINTS = ['power', 'mode', 'filter_life', 'label', 'display'] as const;

export type PointValue = boolean | number | string;

export interface ControlRequestModel {
  sn: string;
  ownerId: string;
  version: number;
  asked: Record<string, PointValue>;
  merged: Record<string, PointValue>;
  status: 'pending' | 'applied' | 'rejected';
  requestedBy: string | null;
  role: 'owner' | 'member';
  rejected: Record<string, string> | null;
}

export interface GeneratedValue {
  value: string;
  /** The person it is held for (the device's owner when it was sent), and that binding. */
  ownerId: string;
  sn: string;
  boundAt: number;
}

export interface StateModel {
  /** `sn|point` → the newest reported value of a state point and whom it is held for. */
  reported: Map<string, { ownerId: string; value: PointValue }>;
  /** `sn|version` → the request. */
  requests: Map<string, ControlRequestModel>;
  /** Each device's desired version: rising across owners. */
  versions: Map<string, number>;
  /** sn → members of the current binding. */
  members: Map<string, Set<string>>;
  /** Values held for someone now. */
  live: GeneratedValue[];
  /** Values no one holds any longer (or that were never kept): the next scan must not find them. */
  dead: string[];
}

export const newStateModel = (): StateModel => ({
  reported: new Map(),
  requests: new Map(),
  versions: new Map(),
  members: new Map(),
  live: [],
  dead: [],
});

type World = ModelState & { state: StateModel };

export const roleOf = (world: World, userId: string, sn: string): 'owner' | 'member' | null =>
  world.owners.get(sn)?.userId === userId ? 'owner' : world.state.members.get(sn)?.has(userId) ? 'member' : null;

/** A string value was sent to the device or about it: held for its owner now, or for nobody. */
export function sent(world: World, sn: string, value: string, kept: boolean): void {
  const binding = world.owners.get(sn);
  if (kept && binding) world.state.live.push({ value, ownerId: binding.userId, sn, boundAt: binding.boundAt });
  else world.state.dead.push(value);
}

function letGo(world: World, gone: (value: GeneratedValue) => boolean): void {
  const state = world.state;
  state.dead.push(...state.live.filter(gone).map((value) => value.value));
  state.live = state.live.filter((value) => !gone(value));
}

/** The device left its owner: what it reported and its history go; members lose it. */
export function releaseStateInModel(world: World, sn: string): void {
  const state = world.state;
  for (const key of state.reported.keys()) if (key.startsWith(`${sn}|`)) state.reported.delete(key);
  for (const [key, request] of state.requests) if (request.sn === sn) state.requests.delete(key);
  state.members.delete(sn);
  letGo(world, (value) => value.sn === sn);
}

/** The person's account is erased (their devices already released): their memberships go, their requests on others' devices lose their name. */
export function eraseStateInModel(world: World, subject: string): void {
  const state = world.state;
  for (const members of state.members.values()) members.delete(subject);
  for (const request of state.requests.values()) if (request.requestedBy === subject) request.requestedBy = null;
  letGo(world, (value) => value.ownerId === subject);
}

/** The newest request of the device held for this owner (its current desired state). */
export function latestRequest(world: World, sn: string, ownerId: string): ControlRequestModel | undefined {
  return requestsOf(world, sn, ownerId).at(-1);
}

/** The device's requests held for this owner, oldest first. */
export function requestsOf(world: World, sn: string, ownerId: string): ControlRequestModel[] {
  return [...world.state.requests.values()]
    .filter((request) => request.sn === sn && request.ownerId === ownerId)
    .sort((a, b) => a.version - b.version);
}

/** A report settles the device's pending requests up to a version (or the newest pending): answers how many. */
export function settleInModel(
  world: World,
  sn: string,
  settlement: { status: 'applied'; upTo: number } | { status: 'rejected'; upTo: number | 'newest'; reasons: Record<string, string> },
): number {
  const pending = [...world.state.requests.values()].filter((request) => request.sn === sn && request.status === 'pending');
  const newest = Math.max(0, ...pending.map((request) => request.version));
  const upTo = settlement.upTo === 'newest' ? newest : settlement.upTo;
  let settled = 0;
  for (const request of pending) {
    if (request.version > upTo) continue;
    request.status = settlement.status;
    request.rejected = settlement.status === 'rejected' ? settlement.reasons : null;
    settled += 1;
  }
  return settled;
}

/** What the device's retained desired message must be: the newest pending request's values, or nothing. */
export function retainedInModel(world: World, sn: string): { version: number; values: Record<string, PointValue> } | null {
  const pending = [...world.state.requests.values()]
    .filter((request) => request.sn === sn && request.status === 'pending')
    .sort((a, b) => b.version - a.version)[0];
  return pending ? { version: pending.version, values: pending.merged } : null;
}
