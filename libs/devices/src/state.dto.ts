import 'reflect-metadata';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import type { PointValue } from './appliance-model.js';
import { DESIRED_STATUSES, DESIRED_TTL_SECONDS, type DesiredStatus } from './desired-state.js';
import type { DesiredRequestRow } from './desired-state.repository.js';

/**
 * OpenAPI shapes of a device's state and its control. The body of PUT
 * /v1/devices/:sn/state/desired is read by readDesiredRequest
 * (desired-state.ts), which names the point in each error; SetDesiredStateDto
 * only describes it.
 */
const pointValues = (description: string): ApiPropertyOptions => ({
  type: 'object',
  additionalProperties: { oneOf: [{ type: 'boolean' }, { type: 'number' }, { type: 'string' }] },
  example: { power: true, target_temp: 55 },
  description,
});

export class SetDesiredStateDto {
  @ApiProperty(pointValues('Writable points of the model and their new values (at least one)'))
  values!: Record<string, PointValue>;
  @ApiPropertyOptional({
    minimum: DESIRED_TTL_SECONDS.min,
    maximum: DESIRED_TTL_SECONDS.max,
    default: DESIRED_TTL_SECONDS.default,
    description: 'How long the device has to apply it',
  })
  ttlSeconds?: number;
  @ApiPropertyOptional({
    minimum: 0,
    description: 'Only if the current desired version is this one (0: none yet); else 409 VERSION_CONFLICT',
  })
  ifVersion?: number;
}

export class DesiredAcceptedView {
  @ApiProperty({ example: 4 }) version!: number;
  @ApiProperty({ enum: ['pending'] }) status!: 'pending';
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class RequesterView {
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'null once that account is erased' }) id!: string | null;
  @ApiProperty({ enum: ['owner', 'member'] }) role!: 'owner' | 'member';
}

export class DesiredView {
  @ApiProperty({ example: 4 }) version!: number;
  @ApiProperty(pointValues('Every value pending (or settled) under this version')) values!: Record<string, PointValue>;
  @ApiProperty({ enum: DESIRED_STATUSES }) status!: DesiredStatus;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'status rejected: the reason per point' })
  rejected?: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ type: RequesterView }) requestedBy!: RequesterView;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class ReportedPointView {
  @ApiProperty({ oneOf: [{ type: 'boolean' }, { type: 'number' }, { type: 'string' }] }) value!: PointValue;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class DeviceStateView {
  @ApiProperty({ example: 'HT1-000123' }) sn!: string;
  @ApiProperty({ example: 'HT1' }) model!: string;
  @ApiProperty() online!: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastSeenAt!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ReportedPointView' },
    example: { power: { value: true, at: '2026-12-01T10:00:00.000Z' } },
  })
  reported!: Record<string, ReportedPointView>;
  @ApiProperty({ type: DesiredView, nullable: true }) desired!: DesiredView | null;
}

export class StateHistoryEntryView {
  @ApiProperty({ example: 4 }) version!: number;
  @ApiProperty(pointValues('What this request asked')) values!: Record<string, PointValue>;
  @ApiProperty({ enum: DESIRED_STATUSES }) status!: DesiredStatus;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } }) rejected?: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ type: RequesterView }) requestedBy!: RequesterView;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When it was applied, rejected or expired' })
  settledAt!: string | null;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

export function toDesiredView(row: DesiredRequestRow): DesiredView {
  return {
    version: row.version,
    values: row.merged ?? {},
    status: row.status,
    ...(row.status === 'rejected' && row.rejected ? { rejected: row.rejected } : {}),
    requestedAt: iso(row.requestedAt) ?? row.expiresAt.toISOString(),
    requestedBy: { id: row.requestedBy, role: row.requestedByRole },
    expiresAt: row.expiresAt.toISOString(),
  };
}

export function toHistoryEntryView(row: DesiredRequestRow): StateHistoryEntryView {
  return {
    version: row.version,
    values: row.asked ?? {},
    status: row.status,
    ...(row.status === 'rejected' && row.rejected ? { rejected: row.rejected } : {}),
    requestedAt: iso(row.requestedAt) ?? row.expiresAt.toISOString(),
    requestedBy: { id: row.requestedBy, role: row.requestedByRole },
    settledAt: iso(row.settledAt),
  };
}
