import { randomInt } from 'node:crypto';
import { compareVersions, parseVersion } from './firmware-version.js';

// The rules of a staged campaign, free of I/O: who is targeted, which step each
// target belongs to, and what happens when a step's jobs have all ended.

export const CAMPAIGN_STATUSES = ['running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export type PauseReason = 'admin' | 'failureThreshold';

export const JOB_STATES = ['pending', 'notified', 'downloading', 'installing', 'succeeded', 'failed', 'timedOut', 'withdrawn'] as const;
export type JobState = (typeof JOB_STATES)[number];
/** Sent to the device and not ended: its download URL works, its deadline runs. */
export const ACTIVE_JOB_STATES = ['notified', 'downloading', 'installing'] as const satisfies readonly JobState[];
export const ENDED_JOB_STATES = ['succeeded', 'failed', 'timedOut', 'withdrawn'] as const satisfies readonly JobState[];

export type JobCounts = Record<JobState, number>;

export function emptyCounts(): JobCounts {
  return Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as JobCounts;
}

export const DEFAULT_STEPS = [100];
export const DEFAULT_FAILURE_THRESHOLD = 0.2;
export const DEFAULT_JOB_TIMEOUT_SECONDS = 3600;

/** Why `steps` cannot be used, or null: whole percents, rising, ending at 100. */
export function stepsProblem(steps: readonly number[]): string | null {
  if (steps.length === 0 || steps.length > 20) return 'steps must list 1 to 20 percentages';
  if (!steps.every((step) => Number.isInteger(step) && step >= 1 && step <= 100)) return 'steps must be whole percentages from 1 to 100';
  if (!steps.every((step, index) => index === 0 || step > steps[index - 1])) return 'steps must rise (e.g. [10, 50, 100])';
  if (steps[steps.length - 1] !== 100) return 'steps must end at 100';
  return null;
}

export interface TargetRules {
  /** The image's version. */
  version: string;
  /** Only devices now on one of these (x.y.z, compared numerically). */
  fromVersions?: readonly string[];
  /** Devices on a newer version, or one that is not x.y.z, are targeted only with this. */
  allowDowngrade: boolean;
}

export interface SkippedTargets {
  /** Already on the image's version. */
  alreadyOnVersion: number;
  /** On a newer version than the image, without allowDowngrade. */
  newerVersion: number;
  /** Firmware unknown or not x.y.z, so newer cannot be ruled out, without allowDowngrade. */
  unknownVersion: number;
  /** Not on one of fromVersions. */
  notInFromVersions: number;
}

/**
 * Which devices of the image's model get a job. Versions compare numerically;
 * a device whose version cannot be read is treated like a newer one, so a
 * campaign never downgrades by accident.
 */
export function selectTargets<T extends { firmware: string | null }>(
  devices: readonly T[],
  rules: TargetRules,
): { targets: T[]; skipped: SkippedTargets } {
  const target = parseVersion(rules.version);
  if (!target) throw new Error(`not an x.y.z version: ${rules.version}`);
  const from = rules.fromVersions?.map((version) => parseVersion(version));
  const skipped: SkippedTargets = { alreadyOnVersion: 0, newerVersion: 0, unknownVersion: 0, notInFromVersions: 0 };
  const targets = devices.filter((device) => {
    const current = parseVersion(device.firmware);
    if (device.firmware === rules.version || (current && compareVersions(current, target) === 0)) {
      skipped.alreadyOnVersion += 1;
      return false;
    }
    if (from && !from.some((version) => version && current && compareVersions(version, current) === 0)) {
      skipped.notInFromVersions += 1;
      return false;
    }
    if (rules.allowDowngrade) return true;
    if (!current) {
      skipped.unknownVersion += 1;
      return false;
    }
    if (compareVersions(current, target) > 0) {
      skipped.newerVersion += 1;
      return false;
    }
    return true;
  });
  return { targets, skipped };
}

/**
 * The step (1-based) of each of `count` targets in order: step k takes the
 * targets up to ceil(steps[k]% of count). A step may come out empty for a
 * small campaign; it is skipped.
 */
export function assignSteps(count: number, steps: readonly number[]): number[] {
  const ends = steps.map((percent) => Math.floor((percent * count + 99) / 100));
  const assigned: number[] = [];
  let step = 0;
  for (let position = 0; position < count; position += 1) {
    while (position >= ends[step]) step += 1;
    assigned.push(step + 1);
  }
  return assigned;
}

/** A uniform random order (Fisher-Yates on crypto randomness): a step is a fair sample of the fleet, not one factory batch. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let index = out.length - 1; index > 0; index -= 1) {
    const other = randomInt(index + 1);
    [out[index], out[other]] = [out[other], out[index]];
  }
  return out;
}

export type StepOutcome = 'wait' | 'pause' | 'advance';

/**
 * After a job of the current step ended: wait while any of the step's jobs
 * has not ended; then pause when the failed and timed-out share of its ended
 * jobs is above the threshold (unless an admin resumed past it), else go on.
 */
export function stepOutcome(counts: JobCounts, failureThreshold: number, thresholdWaived: boolean): StepOutcome {
  const unended = counts.pending + counts.notified + counts.downloading + counts.installing;
  if (unended > 0) return 'wait';
  const judged = counts.succeeded + counts.failed + counts.timedOut;
  if (judged === 0 || thresholdWaived) return 'advance';
  return (counts.failed + counts.timedOut) / judged > failureThreshold ? 'pause' : 'advance';
}

const FORWARD: Record<'downloading' | 'installing' | 'failed', readonly JobState[]> = {
  downloading: ['notified', 'downloading'],
  installing: ['notified', 'downloading', 'installing'],
  failed: ['notified', 'downloading', 'installing'],
};

/** The states a device's progress report may move a job from: forward only, never out of an ended state. */
export function progressFrom(state: 'downloading' | 'installing' | 'failed'): readonly JobState[] {
  return FORWARD[state];
}
