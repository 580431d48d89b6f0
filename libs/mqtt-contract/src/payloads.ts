import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
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
