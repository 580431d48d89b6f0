import { checkPointValue, pointOf, type ModelDefinition, type PointDefinition, type PointValue, type ReportedValues } from '#libs/devices';
import { readTelemetryReading, TELEMETRY_MAX_READINGS } from '#libs/mqtt-contract';

/**
 * Which readings of a `devices/<sn>/telemetry` message are taken, and why the
 * others are dropped. Pure: the ingestion counts the reasons and stores what
 * is accepted; nothing here stops a message because of one bad reading.
 */

/** The contract's limits: a reading older than 7 days or more than 5 minutes ahead is dropped. */
export const TELEMETRY_LIMITS = {
  maxAgeMs: 7 * 24 * 3600_000,
  maxAheadMs: 5 * 60_000,
  maxReadings: TELEMETRY_MAX_READINGS,
} as const;

/** Why a reading was dropped, as counted in telemetry_readings_dropped_total{reason}. */
export const DROP_REASONS = ['malformed', 'unknown_point', 'wrong_type', 'out_of_range', 'too_old', 'too_far_ahead', 'over_limit'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface AcceptedReading {
  point: PointDefinition;
  /** Milliseconds since the epoch. */
  at: number;
  value: PointValue;
}

export interface JudgedMessage {
  /** Readings of known points with fitting values and times, in message order. */
  accepted: AcceptedReading[];
  /** The newest accepted value of each point: what `reported` is merged with. */
  newest: ReportedValues;
  dropped: Partial<Record<DropReason, number>>;
}

/**
 * Judges each reading on its own: its shape (TelemetryReading, read by
 * readTelemetryReading), its point
 * (known to the device's model), its value (checkPointValue, the one judge of
 * values) and its time (not older than 7 days, not more than 5 minutes ahead
 * of `now`). Readings beyond the 500th are dropped as `over_limit`.
 */
export function judgeReadings(readings: readonly unknown[], definition: ModelDefinition | null, now: number): JudgedMessage {
  const accepted: AcceptedReading[] = [];
  const newest: ReportedValues = {};
  const dropped: Partial<Record<DropReason, number>> = {};
  const drop = (reason: DropReason, count = 1) => {
    dropped[reason] = (dropped[reason] ?? 0) + count;
  };
  if (readings.length > TELEMETRY_LIMITS.maxReadings) drop('over_limit', readings.length - TELEMETRY_LIMITS.maxReadings);
  const taken = Math.min(readings.length, TELEMETRY_LIMITS.maxReadings);
  for (let index = 0; index < taken; index += 1) {
    const reading = readTelemetryReading(readings[index]);
    if (!reading) {
      drop('malformed');
      continue;
    }
    const point = pointOf(definition, reading.point);
    if (!point) {
      drop('unknown_point');
      continue;
    }
    const problem = checkPointValue(point, reading.value);
    if (problem) {
      drop(problem.kind);
      continue;
    }
    const at = reading.atMs;
    if (Number.isNaN(at)) {
      drop('malformed');
      continue;
    }
    if (at < now - TELEMETRY_LIMITS.maxAgeMs) {
      drop('too_old');
      continue;
    }
    if (at > now + TELEMETRY_LIMITS.maxAheadMs) {
      drop('too_far_ahead');
      continue;
    }
    accepted.push({ point, at, value: reading.value });
    const known = newest[point.id];
    if (!known || known.at.getTime() < at) newest[point.id] = { value: reading.value, at: new Date(at) };
  }
  return { accepted, newest, dropped };
}

/** Points whose readings have hourly and daily summaries (and feed the maker's statistics). */
export function isNumeric(point: PointDefinition): boolean {
  return point.type === 'integer' || point.type === 'number';
}
