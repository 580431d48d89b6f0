import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { SN_PATTERN } from './topics.js';

/** Payload classes, one per topic of the contract's MQTT table (JSON bodies). */

export class PairingConfirmPayload {
  @IsString() @Length(8, 256) token!: string;
}

export const PAIRING_STATUSES = ['pending', 'bound', 'expired', 'rejected'] as const;
export class PairingResultPayload {
  @IsString() @Length(1, 64) pairingId!: string;
  @IsIn(PAIRING_STATUSES) status!: (typeof PAIRING_STATUSES)[number];
}

export class StatusPayload {
  @IsBoolean() online!: boolean;
  @IsOptional() @IsString() @Length(1, 32) firmware?: string;
}

const MAC = /^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$/;

export class FaultDiagnostics {
  @IsOptional() @Matches(MAC) mac?: string;
  @IsOptional() @Matches(MAC) routerMac?: string;
  @IsOptional() @IsString() @Length(0, 64) wifiName?: string;
  @IsOptional() @IsInt() @Min(-150) @Max(0) rssi?: number;
  @IsOptional() @IsString() @Length(2, 45) ip?: string;
}

export const FAULT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export class FaultReportPayload {
  @IsUUID() reportId!: string;
  @IsString() @Length(1, 64) code!: string;
  @IsIn(FAULT_SEVERITIES) severity!: (typeof FAULT_SEVERITIES)[number];
  @IsISO8601({ strict: true }) occurredAt!: string;
  @IsOptional() @IsString() @Length(1, 32) firmware?: string;
  @IsOptional() @ValidateNested() @Type(() => FaultDiagnostics) diagnostics?: FaultDiagnostics;
}

export const FAULT_STORED = ['full', 'deidentified', 'duplicate', 'rejected'] as const;
export class FaultAckPayload {
  @IsString() @Length(1, 64) reportId!: string;
  @IsIn(FAULT_STORED) stored!: (typeof FAULT_STORED)[number];
  @ValidateIf((ack: FaultAckPayload) => ack.stored === 'rejected') @IsString() @Length(1, 256) reason?: string;
}

/** `devices/<sn>/reset` carries an empty object. */
export class ResetPayload {}

export const CREDENTIAL_CHANGES = ['rotated', 'revoked'] as const;
/** Body of `$internal/devices/credentials`: a device's secret was rotated or revoked. */
export class DeviceCredentialsChangedPayload {
  @Matches(SN_PATTERN) sn!: string;
  @IsIn(CREDENTIAL_CHANGES) change!: (typeof CREDENTIAL_CHANGES)[number];
}

/** Firmware versions are `x.y.z`, each part a whole number without leading zeros, compared numerically. */
export const FIRMWARE_VERSION_PATTERN = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

/**
 * Body of `devices/<sn>/ota/job` (retained, QoS 1): the image to fetch from `url` (an HTTP GET
 * valid only for this job until it ends), its size, SHA-256 (lowercase hex) and Ed25519 signature
 * (base64) by the maker's key `keyId`. An empty retained message clears it: the job ended or was withdrawn.
 */
export class OtaJobPayload {
  @IsUUID() jobId!: string;
  @Matches(FIRMWARE_VERSION_PATTERN) version!: string;
  @IsString() @Length(1, 2048) @Matches(/^https?:\/\//) url!: string;
  @IsInt() @Min(1) size!: number;
  @Matches(/^[0-9a-f]{64}$/) sha256!: string;
  @IsString() @Length(1, 256) signature!: string;
  @IsString() @Length(1, 64) keyId!: string;
}

export const OTA_PROGRESS_STATES = ['downloading', 'installing', 'failed'] as const;
export type OtaProgressState = (typeof OTA_PROGRESS_STATES)[number];

/** Body of `devices/<sn>/ota/progress` (QoS 1): how the device's own job goes. Success is only ever its status report. */
export class OtaProgressPayload {
  @IsUUID() jobId!: string;
  @IsIn(OTA_PROGRESS_STATES) state!: OtaProgressState;
  @IsOptional() @IsInt() @Min(0) @Max(100) progress?: number;
  @IsOptional() @IsString() @Length(1, 256) reason?: string;
}

/** At most this many readings in one `devices/<sn>/telemetry` message; the rest are dropped. */
export const TELEMETRY_MAX_READINGS = 500;
/** The longest string value a reading may carry (a `string` point's maxLength is at most this). */
export const TELEMETRY_MAX_STRING = 1024;

/**
 * Body of `devices/<sn>/telemetry`. Each reading is judged on its own
 * (TelemetryReading), so one bad reading does not cost the message its good
 * ones: the message only has to be an object with a `readings` array.
 */
export class TelemetryPayload {
  @IsArray() readings!: unknown[];
}

/** A reading's value as JSON carries it: true/false, a finite number, or a string of at most TELEMETRY_MAX_STRING characters. */
export function IsReadingValue(): PropertyDecorator {
  return ValidateBy({
    name: 'isReadingValue',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && value.length <= TELEMETRY_MAX_STRING),
      defaultMessage: () => `value must be true, false, a finite number or a string of at most ${TELEMETRY_MAX_STRING} characters`,
    },
  });
}

/** One element of TelemetryPayload.readings: `{point, at (ISO 8601), value}`. */
export class TelemetryReading {
  @IsString() @Matches(/^[a-z][a-z0-9_]{0,39}$/) point!: string;
  @IsISO8601({ strict: true }) at!: string;
  @IsReadingValue() value!: boolean | number | string;
}

/** The longest reason a device may give for refusing a desired value (`rejected: {<point>: reason}`). */
export const STATE_REASON_MAX = 256;

/** `{<point>: value}`: an object whose keys and values are judged one point at a time against the model, not here. */
export function IsPlainObject(): PropertyDecorator {
  return ValidateBy({
    name: 'isPlainObject',
    validator: {
      validate: (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value),
      defaultMessage: (args) => `${args?.property ?? 'value'} must be an object`,
    },
  });
}

/** `rejected: {<point>: reason}`: each reason a string of 1-256 characters. */
export function IsRejectedMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isRejectedMap',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.values(value).every((reason) => typeof reason === 'string' && reason.length > 0 && reason.length <= STATE_REASON_MAX),
      defaultMessage: () => `rejected must be an object of point: reason (a string of 1-${STATE_REASON_MAX} characters)`,
    },
  });
}

/**
 * Body of `devices/<sn>/state/reported` (device →, QoS 1): `values` merge
 * into the reported state, one point at a time (an unknown point or a wrong
 * value is ignored for that point, never the message); `version` says the
 * device applied that desired version, `rejected` that it refused it.
 */
export class StateReportedPayload {
  @IsOptional() @IsPlainObject() values?: Record<string, unknown>;
  @IsOptional() @IsInt() @Min(1) version?: number;
  @IsOptional() @IsRejectedMap() rejected?: Record<string, string>;
}

/**
 * Body of `devices/<sn>/state/desired` (→ device, QoS 1, retained): all the
 * values pending under `version`, to apply before `expiresAt`. An empty
 * retained message clears it (applied, rejected or expired).
 */
export class StateDesiredPayload {
  @IsInt() @Min(1) version!: number;
  @IsPlainObject() values!: Record<string, boolean | number | string>;
  @IsISO8601({ strict: true }) expiresAt!: string;
}
