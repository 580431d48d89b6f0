import { isISO8601 } from 'class-validator';
import { decodeObject } from './decode.js';
import { TELEMETRY_MAX_STRING, TelemetryReading } from './payloads.js';

/** A reading as read from a telemetry message, with its time in milliseconds (NaN when JavaScript cannot place an ISO 8601 form). */
export interface ReadReading {
  point: string;
  at: string;
  atMs: number;
  value: boolean | number | string;
}

const POINT = /^[a-z][a-z0-9_]{0,39}$/;
/** The form appliances send (and the only one the quick path decides): 2026-11-29T08:00:00[.sss](Z|+08:00). */
const COMMON_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * TelemetryReading's rules (payloads.ts), applied without class-transformer
 * and class-validator's walk: readings arrive by the hundred thousand a
 * second, and the walk, with its prototype swap and validator.js's general
 * ISO 8601 grammar, was the consumer's largest cost. The common time form is
 * decided here (digits, ranges, the day existing in its month); any other
 * form goes to class-validator's own isISO8601, so the verdict is always the
 * class's: telemetry-reading.spec.ts holds the two equal on random readings.
 * Null when the reading does not pass.
 */
export function readTelemetryReading(plain: unknown): ReadReading | null {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return null;
  const reading = plain as Record<string, unknown>;
  // Any other key (an unknown field, or one class-transformer treats specially): the class decides.
  for (const key in reading) if (key !== 'point' && key !== 'at' && key !== 'value') return byTheClass(plain);
  const { point, at, value } = reading;
  if (typeof point !== 'string' || !POINT.test(point)) return null;
  if (!(
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value.length <= TELEMETRY_MAX_STRING)
  )) {
    return null;
  }
  if (typeof at !== 'string') return null;
  const quick = commonTime(at);
  if (quick !== undefined) return { point, at, atMs: quick, value };
  return isISO8601(at, { strict: true }) ? { point, at, atMs: Date.parse(at), value } : null;
}

function byTheClass(plain: object): ReadReading | null {
  const decoded = decodeObject(TelemetryReading, plain);
  if (!decoded.ok) return null;
  const { point, at, value } = decoded.value;
  return { point, at, atMs: Date.parse(at), value };
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Milliseconds of a time in the common form, or undefined when the quick path does not decide it. */
function commonTime(at: string): number | undefined {
  const match = COMMON_TIME.exec(at);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((index) => Number(match[index]));
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && leap ? 29 : DAYS[month - 1];
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (match[8]) {
    const offsetHours = Number(match[9]);
    const offsetMinutes = Number(match[10]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (match[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  const millis = match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
}
