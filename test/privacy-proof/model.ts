import type { FaultDiagnosticsValue } from '#libs/faults';
import type { PairingStatus } from '#libs/devices';
import type { Purpose } from '#libs/privacy';
import { count } from './stats.js';
import type { StateModel } from './state-model.js';
import { retainTelemetryInModel, settleTelemetry, type TelemetryModel } from './telemetry-model.js';

/**
 * The rules the proof checks, stated on a model of its own, independently of
 * the code: who has which live purposes, what each pairing, binding, device
 * history entry and fault report must hold after every step. The steps
 * update it as they call the real services; the checks compare the database
 * with it.
 */

export interface SubjectModel {
  exists: boolean;
  granted: Set<Purpose>;
  restricted: boolean;
}

/** The rule, stated independently of libs/privacy. */
export function modelLive(model: SubjectModel | undefined, purpose: Purpose): boolean {
  if (!model?.exists) return false;
  if (purpose === 'service') return true;
  return model.granted.has(purpose) && !model.restricted;
}

/** The network columns of a pairing, as stored. */
export type NetworkField = 'phoneModel' | 'osVersion' | 'routerMac' | 'hiddenSsid' | 'networkId' | 'wifiName';
export type StoredNetwork = Record<NetworkField, string | boolean | null>;
export const NO_NETWORK: StoredNetwork = {
  phoneModel: null,
  osVersion: null,
  routerMac: null,
  hiddenSsid: null,
  networkId: null,
  wifiName: null,
};

export interface DeviceModel {
  sn: string;
  mac: string;
  model: string;
  firmware: string | null;
  qr: string;
}

export interface PairingModel {
  id: string;
  sn: string;
  userId: string;
  token: string;
  status: PairingStatus;
  createdAt: number;
  expiresAt: number;
  endedAt: number;
  wrongTokens: number;
  network: StoredNetwork;
  /** Retention ended the SN (a year after the pairing ended): the row no longer names the device. */
  snErased: boolean;
  /** Account erasure deletes the person's pairings. */
  deleted: boolean;
}

export interface ReportModel {
  reportId: string;
  sn: string;
  mac: string;
  ownerId: string | null;
  stored: 'full' | 'deidentified';
  diagnostics: FaultDiagnosticsValue | null;
  receivedAt: number;
}

export interface HistoryModel {
  userId: string;
  sn: string;
  event: 'bound' | 'unbound' | 'factory_reset' | 'shared' | 'owner_left';
  at: number;
  snErased: boolean;
  deleted: boolean;
}

/** What the model follows across sequences (the database is not reset between them). */
export interface ModelState {
  config: { pairing: { maxWrongTokens: number } };
  model: Map<string, SubjectModel>;
  devices: Map<string, DeviceModel>;
  owners: Map<string, { userId: string; boundAt: number }>;
  pairingModels: Map<string, PairingModel>;
  reports: Map<string, ReportModel>;
  history: HistoryModel[];
  claimFailures: Map<string, number>;
  telemetry: TelemetryModel;
  state: StateModel;
}

export const DAY_MS = 24 * 3600_000;
/** The periods of config/privacy.yaml, restated: pairing network info 24 hours after the pairing ends; SNs, MACs, diagnostics and the owner link 365 days. */
export const NETWORK_INFO_MS = DAY_MS;
export const YEAR_MS = 365 * DAY_MS;
/** A used token is answered again (not counted as wrong) for this long after its pairing ended. */
export const REPLAY_WINDOW_MS = DAY_MS;

/**
 * What consent changes, restriction and erasure do to a person's device data,
 * by the rule: data under a purpose that is no longer live is gone, and stays
 * gone when the purpose comes back. A report so cut keeps no person, device
 * or diagnostics.
 */
export function settle(world: ModelState, subject: string): void {
  const person = world.model.get(subject);
  const networkLive = modelLive(person, 'network_setup');
  const diagnosticsLive = modelLive(person, 'fault_diagnostics');
  for (const pairing of world.pairingModels.values()) {
    if (pairing.userId !== subject || networkLive || !holdsNetwork(pairing)) continue;
    pairing.network = { ...NO_NETWORK };
    count('network info erased as its purpose ended');
  }
  for (const report of world.reports.values()) {
    if (report.ownerId !== subject || diagnosticsLive) continue;
    Object.assign(report, { stored: 'deidentified', ownerId: null });
    count('full report de-identified as its purpose ended');
  }
  settleTelemetry(world, subject);
}

export const holdsNetwork = (pairing: PairingModel) => !pairing.deleted && Object.values(pairing.network).some((value) => value !== null);

/** A retention run at `at`: each period counted from its reference time, with the strict `<` of "older than". */
export function retainInModel(world: ModelState, at: number): void {
  for (const pairing of world.pairingModels.values()) {
    if (pairing.endedAt >= at - NETWORK_INFO_MS) continue;
    if (holdsNetwork(pairing)) count('network info erased by retention');
    pairing.network = { ...NO_NETWORK };
    if (pairing.endedAt < at - YEAR_MS) pairing.snErased = true;
  }
  for (const report of world.reports.values()) {
    if (report.stored !== 'full' || report.receivedAt >= at - YEAR_MS) continue;
    Object.assign(report, { stored: 'deidentified', ownerId: null });
    count('full report de-identified by retention');
  }
  for (const entry of world.history) if (entry.at < at - YEAR_MS) entry.snErased = true;
  retainTelemetryInModel(world, at);
}

/** The appliance presents `token` at `now`: the pairing rules of the README, restated on the model. */
export function confirmInModel(
  world: ModelState,
  sn: string,
  token: string,
  now: number,
): { pairingId: string | null; status: PairingStatus } {
  const ofDevice = [...world.pairingModels.values()].filter((pairing) => pairing.sn === sn && !pairing.deleted && !pairing.snErased);
  const match = ofDevice.find((pairing) => pairing.endedAt > now - REPLAY_WINDOW_MS && pairing.token === token);
  if (!match) {
    const counted = ofDevice.filter((pairing) => pairing.status === 'pending' && pairing.expiresAt > now);
    for (const pairing of counted) {
      pairing.wrongTokens += 1;
      if (pairing.wrongTokens >= world.config.pairing.maxWrongTokens) Object.assign(pairing, { status: 'rejected', endedAt: now });
    }
    const newest = counted.sort((a, b) => b.createdAt - a.createdAt)[0];
    return newest ? { pairingId: newest.id, status: newest.status } : { pairingId: null, status: 'rejected' };
  }
  if (match.status !== 'pending') return { pairingId: match.id, status: match.status };
  const end = (status: Exclude<PairingStatus, 'pending'>) => {
    Object.assign(match, { status, endedAt: now });
    return { pairingId: match.id, status };
  };
  if (match.expiresAt <= now) return end('expired');
  const binding = world.owners.get(sn);
  if (!binding) {
    world.owners.set(sn, { userId: match.userId, boundAt: now });
    world.history.push({ userId: match.userId, sn, event: 'bound', at: now, snErased: false, deleted: false });
    return end('bound');
  }
  return end(binding.userId === match.userId ? 'bound' : 'rejected');
}
