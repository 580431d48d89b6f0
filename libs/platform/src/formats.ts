import { Matches, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { SN_PATTERN } from '#libs/mqtt-contract';
import { DomainError } from './domain-error.js';

/** A value format the API accepts, with the one wording of its error: `<field> <mustBe>`. */
export interface Format {
  pattern: RegExp;
  mustBe: string;
}

/**
 * The formats of identifiers that cross the API, each stated once. SNs come
 * from the MQTT contract (they appear in topics, so never `/ + #` or spaces).
 */
export const FORMATS = {
  sn: { pattern: SN_PATTERN, mustBe: 'must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"' },
  uuid: { pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, mustBe: 'must be a UUID' },
  e164: { pattern: /^\+[1-9]\d{7,14}$/, mustBe: 'must be an E.164 number such as +8613800138000' },
  mac: { pattern: /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/, mustBe: 'must be six hex pairs, e.g. AA:BB:CC:DD:EE:FF' },
  model: { pattern: /^[\x20-\x7E]{1,64}$/, mustBe: 'must be 1-64 printable ASCII characters, as in the device registry' },
} as const satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;

export function formatMessage(format: FormatName, field: string): string {
  return `${field} ${FORMATS[format].mustBe}`;
}

export function matchesFormat(format: FormatName, value: unknown): value is string {
  return typeof value === 'string' && FORMATS[format].pattern.test(value);
}

/** The value when it has the format; otherwise 400 VALIDATION_FAILED naming the field. */
export function checkFormat(format: FormatName, field: string, value: unknown): string {
  if (!matchesFormat(format, value)) throw new DomainError('VALIDATION_FAILED', formatMessage(format, field));
  return value;
}

/** A class-validator decorator for one format, naming the property in its message. */
function formatDecorator(format: FormatName) {
  return (options: ValidationOptions = {}): PropertyDecorator =>
    Matches(FORMATS[format].pattern, { message: (args: ValidationArguments) => formatMessage(format, args.property), ...options });
}

/** DTO field: an appliance SN. */
export const IsSn = formatDecorator('sn');
/** DTO field: a UUID. */
export const IsUuidFormat = formatDecorator('uuid');
/** DTO field: an E.164 phone number. */
export const IsE164 = formatDecorator('e164');
/** DTO field: a MAC address (`:`, `-` or no separator). */
export const IsMac = formatDecorator('mac');
