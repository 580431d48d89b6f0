import { modelLive, type ModelState } from './model.js';
import { count } from './stats.js';

/**
 * Telemetry as the proof models it, independently of libs/telemetry: every
 * reading is kept for the owner the device had WHEN IT ARRIVED; it counts in
 * the maker's statistics only when that owner had product_improvement live
 * at that moment; a bucket counts each device once while the device's key is
 * in it; erasure takes the person's readings, summaries and keys, withdrawal
 * and restriction take the keys only; what was counted stays counted.
 */

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;
/** config/privacy.yaml, restated: raw readings 30 days, summaries and series 365 days. */
export const RAW_MS = 30 * DAY_MS;
export const SUMMARY_MS = 365 * DAY_MS;
/** A bucket takes readings up to 7 days after it ends; its keys go an hour after that. */
export const CLOSED_AFTER_MS = 7 * DAY_MS + HOUR_MS;

export interface ReadingModel {
  ownerId: string;
  sn: string;
  point: string;
  at: number;
  value: number;
}

export interface BucketTotals {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface StatisticsModel extends BucketTotals {
  devices: number;
  /** SNs whose key is in the bucket now. */
  keys: Set<string>;
}

export interface TelemetryModel {
  /** `owner|sn|point|at` → the reading. */
  readings: Map<string, ReadingModel>;
  /** `owner|sn|point|bucket|at` → the owner's rollup. */
  rollups: Map<string, BucketTotals>;
  /** `owner|sn|point` → the newest reading's time. */
  series: Map<string, number>;
  /** `model|point|bucket|at` → the maker's statistics. */
  statistics: Map<string, StatisticsModel>;
}

export const newTelemetryModel = (): TelemetryModel => ({
  readings: new Map(),
  rollups: new Map(),
  series: new Map(),
  statistics: new Map(),
});

const start = (bucket: 'hour' | 'day', at: number) =>
  Math.floor(at / (bucket === 'hour' ? HOUR_MS : DAY_MS)) * (bucket === 'hour' ? HOUR_MS : DAY_MS);
const add = (totals: BucketTotals | undefined, value: number): BucketTotals =>
  totals
    ? { count: totals.count + 1, sum: totals.sum + value, min: Math.min(totals.min, value), max: Math.max(totals.max, value) }
    : { count: 1, sum: value, min: value, max: value };

/** A reading of `sn` (of appliance model `model`) arrives: what it leaves behind, by the rule. Answers whether it was kept. */
export function arriveInModel(
  world: ModelState & { telemetry: TelemetryModel },
  sn: string,
  model: string,
  reading: { point: string; at: number; value: number },
): boolean {
  const ownerId = world.owners.get(sn)?.userId;
  if (!ownerId) return false;
  const telemetry = world.telemetry;
  const key = `${ownerId}|${sn}|${reading.point}|${reading.at}`;
  if (telemetry.readings.has(key)) return false;
  telemetry.readings.set(key, { ownerId, sn, ...reading });
  const series = `${ownerId}|${sn}|${reading.point}`;
  telemetry.series.set(series, Math.max(telemetry.series.get(series) ?? 0, reading.at));
  const contributes = modelLive(world.model.get(ownerId), 'product_improvement');
  for (const bucket of ['hour', 'day'] as const) {
    const at = start(bucket, reading.at);
    const rollup = `${series}|${bucket}|${at}`;
    telemetry.rollups.set(rollup, add(telemetry.rollups.get(rollup), reading.value));
    if (!contributes) continue;
    const statistic = `${model}|${reading.point}|${bucket}|${at}`;
    const known = telemetry.statistics.get(statistic) ?? {
      devices: 0,
      keys: new Set<string>(),
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
    };
    const totals = add(known.count ? known : undefined, reading.value);
    if (!known.keys.has(sn)) {
      known.keys.add(sn);
      known.devices += 1;
    }
    telemetry.statistics.set(statistic, { ...known, ...totals });
  }
  count(contributes ? 'reading kept and counted in the statistics' : 'reading kept, not counted (no product_improvement)');
  return true;
}

/** Consent changes, restriction, erasure: a person without service loses their readings; without product_improvement, their devices' keys. */
export function settleTelemetry(world: ModelState & { telemetry: TelemetryModel }, subject: string): void {
  const person = world.model.get(subject);
  const telemetry = world.telemetry;
  const sns = new Set([...telemetry.series.keys()].filter((key) => key.startsWith(`${subject}|`)).map((key) => key.split('|')[1]));
  if (!modelLive(person, 'product_improvement')) {
    for (const statistic of telemetry.statistics.values()) for (const sn of sns) statistic.keys.delete(sn);
  }
  if (modelLive(person, 'service')) return;
  for (const map of [telemetry.readings, telemetry.rollups, telemetry.series] as Array<Map<string, unknown>>) {
    for (const key of map.keys()) if (key.startsWith(`${subject}|`)) map.delete(key);
  }
}

/** A retention run at `at`, with the strict `<` of "older than". */
export function retainTelemetryInModel(world: { telemetry: TelemetryModel }, at: number): void {
  const telemetry = world.telemetry;
  for (const [key, reading] of telemetry.readings) if (reading.at < at - RAW_MS) telemetry.readings.delete(key);
  for (const key of telemetry.rollups.keys()) if (Number(key.split('|')[4]) < at - SUMMARY_MS) telemetry.rollups.delete(key);
  for (const [series, newest] of telemetry.series) {
    if (newest >= at - SUMMARY_MS) continue;
    telemetry.series.delete(series);
    for (const key of telemetry.readings.keys()) if (key.startsWith(`${series}|`)) telemetry.readings.delete(key);
    for (const key of telemetry.rollups.keys()) if (key.startsWith(`${series}|`)) telemetry.rollups.delete(key);
  }
  for (const [key, statistic] of telemetry.statistics) {
    const [, , bucket, bucketAt] = key.split('|');
    if (Number(bucketAt) < at - CLOSED_AFTER_MS - (bucket === 'hour' ? HOUR_MS : DAY_MS)) statistic.keys.clear();
  }
}
