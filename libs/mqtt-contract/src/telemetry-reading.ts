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
const ZERO = 48;

/** The number written by the `length` ASCII digits from `from`, or -1 when one of them is not a digit. */
function digits(text: string, from: number, length: number): number {
  let value = 0;
  for (let index = from; index < from + length; index += 1) {
    const digit = text.charCodeAt(index) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Milliseconds of a time in the form appliances send, and the only one the
 * quick path decides: YYYY-MM-DDTHH:MM:SS, a fraction of 1 to 9 digits or
 * none, then Z or ±HH:MM. Undefined when the quick path does not decide it.
 * Read by character codes, with nothing allocated: it runs once per reading.
 */
function commonTime(at: string): number | undefined {
  if (at.length < 20 || at.length > 35) return undefined;
  if (at[4] !== '-' || at[7] !== '-' || at[10] !== 'T' || at[13] !== ':' || at[16] !== ':') return undefined;
  const year = digits(at, 0, 4);
  const month = digits(at, 5, 2);
  const day = digits(at, 8, 2);
  const hour = digits(at, 11, 2);
  const minute = digits(at, 14, 2);
  const second = digits(at, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  let position = 19;
  let millis = 0;
  if (at[position] === '.') {
    const fractionStart = position + 1;
    position = fractionStart;
    while (position < at.length && position - fractionStart < 9 && digits(at, position, 1) >= 0) position += 1;
    const fractionLength = position - fractionStart;
    if (fractionLength === 0) return undefined;
    // Milliseconds: the first three digits, padded with zeros (as the regular expression's form was read).
    for (let index = 0; index < 3; index += 1) millis = millis * 10 + (index < fractionLength ? digits(at, fractionStart + index, 1) : 0);
  }
  let offset = 0;
  if (at[position] === 'Z') {
    position += 1;
  } else if (at[position] === '+' || at[position] === '-') {
    if (at[position + 3] !== ':') return undefined;
    const offsetHours = digits(at, position + 1, 2);
    const offsetMinutes = digits(at, position + 4, 2);
    if (offsetHours < 0 || offsetMinutes < 0 || offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (at[position] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
    position += 6;
  } else {
    return undefined;
  }
  if (position !== at.length) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 && leap ? 29 : DAYS[month - 1];
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis) - offset;
}
