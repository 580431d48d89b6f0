import { describe, expect, it } from '@jest/globals';
import {
  assignSteps,
  emptyCounts,
  progressFrom,
  selectTargets,
  shuffled,
  stepOutcome,
  stepsProblem,
  type JobCounts,
} from './campaign-rules.js';
import { compareVersions, parseVersion } from './firmware-version.js';

const device = (sn: string, firmware: string | null) => ({ sn, firmware });
const counts = (values: Partial<JobCounts>): JobCounts => ({ ...emptyCounts(), ...values });

describe('firmware versions', () => {
  it('compares x.y.z part by part, as numbers', () => {
    const v = (text: string) => parseVersion(text)!;
    expect(compareVersions(v('1.10.0'), v('1.9.0'))).toBeGreaterThan(0);
    expect(compareVersions(v('1.9.9'), v('2.0.0'))).toBeLessThan(0);
    expect(compareVersions(v('3.2.1'), v('3.2.1'))).toBe(0);
    expect(parseVersion('1.2')).toBeNull();
    expect(parseVersion(null)).toBeNull();
    expect(parseVersion('v1.2.3')).toBeNull();
  });
});

describe('selectTargets', () => {
  const fleet = [
    device('A', '1.0.0'),
    device('B', '1.9.0'),
    device('C', '2.0.0'),
    device('D', '1.10.0'),
    device('E', null),
    device('F', 'beta'),
    device('G', '1.2.0'),
  ];

  it('leaves out devices on the version, newer ones and unreadable ones; 1.10.0 counts as newer than 1.9.0', () => {
    const { targets, skipped } = selectTargets(fleet, { version: '1.9.0', allowDowngrade: false });
    expect(targets.map((target) => target.sn)).toEqual(['A', 'G']);
    expect(skipped).toEqual({ alreadyOnVersion: 1, newerVersion: 2, unknownVersion: 2, notInFromVersions: 0 });
  });

  it('downgrades (and takes unreadable versions) only when allowed', () => {
    const { targets, skipped } = selectTargets(fleet, { version: '1.9.0', allowDowngrade: true });
    expect(targets.map((target) => target.sn)).toEqual(['A', 'C', 'D', 'E', 'F', 'G']);
    expect(skipped.alreadyOnVersion).toBe(1);
  });

  it('keeps to fromVersions when given, compared numerically', () => {
    const { targets, skipped } = selectTargets(fleet, { version: '3.0.0', fromVersions: ['1.0.0', '1.10.0'], allowDowngrade: false });
    expect(targets.map((target) => target.sn)).toEqual(['A', 'D']);
    expect(skipped).toEqual({ alreadyOnVersion: 0, newerVersion: 0, unknownVersion: 0, notInFromVersions: 5 });
  });
});

describe('assignSteps', () => {
  it('gives each step up to its share of the targets, rounding up', () => {
    const steps = assignSteps(20, [25, 50, 100]);
    expect(steps.filter((step) => step === 1)).toHaveLength(5);
    expect(steps.filter((step) => step === 2)).toHaveLength(5);
    expect(steps.filter((step) => step === 3)).toHaveLength(10);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('always puts someone in the first step and may leave a middle step empty', () => {
    expect(assignSteps(3, [10, 20, 100])).toEqual([1, 3, 3]);
    expect(assignSteps(1, [1, 100])).toEqual([1]);
    expect(assignSteps(10_000, [100]).every((step) => step === 1)).toBe(true);
  });
});

describe('stepsProblem', () => {
  it.each([
    [[100], null],
    [[5, 25, 100], null],
    [[], /1 to 20/],
    [[50], /end at 100/],
    [[50, 50, 100], /rise/],
    [[0, 100], /1 to 100/],
    [[10.5, 100], /whole/],
  ])('%j → %s', (steps, problem) => {
    const found = stepsProblem(steps);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe('stepOutcome', () => {
  it('waits while any job of the step has not ended', () => {
    expect(stepOutcome(counts({ succeeded: 4, installing: 1 }), 0.2, false)).toBe('wait');
    expect(stepOutcome(counts({ succeeded: 4, pending: 1 }), 0.2, false)).toBe('wait');
  });

  it('goes on at or under the threshold and pauses above it, counting timeouts as failures', () => {
    expect(stepOutcome(counts({ succeeded: 4, failed: 1 }), 0.2, false)).toBe('advance');
    expect(stepOutcome(counts({ succeeded: 3, failed: 1, timedOut: 1 }), 0.2, false)).toBe('pause');
    expect(stepOutcome(counts({ succeeded: 3, failed: 1, timedOut: 1 }), 0.2, true)).toBe('advance');
    expect(stepOutcome(counts({ failed: 1 }), 0, false)).toBe('pause');
    expect(stepOutcome(counts({ failed: 1 }), 1, false)).toBe('advance');
  });

  it('does not count withdrawn jobs as failures, and an empty step goes on', () => {
    expect(stepOutcome(counts({ succeeded: 1, withdrawn: 9 }), 0.2, false)).toBe('advance');
    expect(stepOutcome(counts({}), 0.2, false)).toBe('advance');
  });
});

describe('progressFrom', () => {
  it('moves jobs forward only, never out of an ended state', () => {
    expect(progressFrom('downloading')).toEqual(['notified', 'downloading']);
    expect(progressFrom('installing')).not.toContain('succeeded');
    expect(progressFrom('failed')).not.toContain('pending');
  });
});

describe('shuffled', () => {
  it('keeps every item once', () => {
    const items = Array.from({ length: 100 }, (_, index) => index);
    const order = shuffled(items);
    expect([...order].sort((a, b) => a - b)).toEqual(items);
    expect(order).not.toEqual(items);
  });
});
