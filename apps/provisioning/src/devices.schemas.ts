import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HISTORY_EVENTS, PAIRING_STATUS } from '#libs/devices';

// OpenAPI response schemas of the devices routes (the answers are built by #libs/devices' views).

export class DeviceSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ example: 'PURIFIER-X1' }) model!: string;
  @ApiProperty({ enum: ['owner', 'member'] }) role!: string;
  @ApiProperty() online!: boolean;
  @ApiProperty({ format: 'date-time', nullable: true }) lastSeenAt!: string | null;
}

export class DeviceHistorySchema {
  @ApiProperty({ example: 'PX1-0001', nullable: true, description: 'Erased a year after the event' }) sn!: string | null;
  @ApiProperty({ example: 'PURIFIER-X1' }) model!: string;
  @ApiProperty({ enum: ['owner', 'member'] }) role!: string;
  @ApiProperty({ enum: HISTORY_EVENTS }) event!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class MemberSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ format: 'date-time' }) addedAt!: string;
}

export class InvitationSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ enum: ['pending'], description: 'Always pending: the share takes effect when that phone next signs in' }) status!: string;
  @ApiProperty({ format: 'date-time', description: 'The share lapses if the phone has not signed in by then' }) expiresAt!: string;
}

export class RegisteredDeviceSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ enum: ['registered', 'already_registered', 'duplicate_in_batch'] }) status!: string;
  @ApiPropertyOptional({ description: 'Only when registered: shown this once' }) deviceSecret?: string;
  @ApiPropertyOptional({ example: 'APL1:PX1-0001:JHYR0XFC43DFMTAGE7AP', description: 'Only when registered' }) qr?: string;
}

export class RotatedSecretSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ description: 'Shown this once' }) deviceSecret!: string;
}

export class RevokedSchema {
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ format: 'date-time' }) revokedAt!: string;
}

export class PairingStartedSchema {
  @ApiProperty({ format: 'uuid' }) pairingId!: string;
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ description: 'Carry it to the appliance over the local setup channel' }) token!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
}

export class AlreadyYoursSchema {
  @ApiProperty({ format: 'uuid', nullable: true }) pairingId!: string | null;
  @ApiProperty({ example: 'PX1-0001' }) sn!: string;
  @ApiProperty({ enum: ['bound'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) boundAt!: string;
}

export class PairingStatusSchema {
  @ApiProperty({ enum: PAIRING_STATUS }) status!: string;
}
