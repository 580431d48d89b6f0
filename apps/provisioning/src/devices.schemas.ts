import { ApiProperty } from '@nestjs/swagger';
import { HISTORY_EVENTS } from '#libs/devices';

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
