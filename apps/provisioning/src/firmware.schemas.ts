import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CAMPAIGN_STATUSES, JOB_STATES } from '#libs/firmware';

// OpenAPI response schemas of the firmware routes (the answers are built by #libs/firmware's views).

export class FirmwareSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'PX1' }) model!: string;
  @ApiProperty({ example: '1.4.0' }) version!: string;
  @ApiProperty({ example: 1048576, description: 'Bytes' }) size!: number;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', description: 'SHA-256, lowercase hex' })
  sha256!: string;
  @ApiProperty({ example: 'maker-2025', description: 'The signing key that verified the image' }) keyId!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class JobCountsSchema {
  @ApiProperty() pending!: number;
  @ApiProperty() notified!: number;
  @ApiProperty() downloading!: number;
  @ApiProperty() installing!: number;
  @ApiProperty() succeeded!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() timedOut!: number;
  @ApiProperty({ description: 'Withdrawn by a cancel before the device started' }) withdrawn!: number;
}

export class CampaignSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) firmwareId!: string;
  @ApiProperty({ nullable: true, example: 'PX1' }) model!: string | null;
  @ApiProperty({ nullable: true, example: '1.4.0' }) version!: string | null;
  @ApiProperty({ enum: CAMPAIGN_STATUSES }) status!: string;
  @ApiProperty({ enum: ['admin', 'failureThreshold'], nullable: true, description: 'Why it is paused' }) pauseReason!: string | null;
  @ApiProperty({ description: 'The current step, 1-based (an index into steps)' }) step!: number;
  @ApiProperty({ type: [Number], example: [5, 25, 100] }) steps!: number[];
  @ApiProperty({ description: 'Devices given a job' }) targeted!: number;
  @ApiProperty({ type: JobCountsSchema }) counts!: JobCountsSchema;
  @ApiProperty() failureThreshold!: number;
  @ApiProperty() jobTimeoutSeconds!: number;
  @ApiProperty() allowDowngrade!: boolean;
  @ApiProperty({ type: [String], nullable: true }) fromVersions!: string[] | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true }) endedAt!: string | null;
}

export class SkippedTargetsSchema {
  @ApiProperty() alreadyOnVersion!: number;
  @ApiProperty({ description: 'On a newer version (a downgrade needs allowDowngrade)' }) newerVersion!: number;
  @ApiProperty({ description: 'Firmware unknown or not x.y.z (targeted only with allowDowngrade)' }) unknownVersion!: number;
  @ApiProperty() notInFromVersions!: number;
  @ApiProperty({ description: 'Held by another campaign that is not over' }) inOtherCampaign!: number;
  @ApiProperty({ description: 'Of sns, not registered with the image model (or revoked)' }) notFound!: number;
}

export class CreatedCampaignSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['running'] }) status!: string;
  @ApiProperty() targeted!: number;
  @ApiProperty({ type: SkippedTargetsSchema }) skipped!: SkippedTargetsSchema;
}

export class JobSchema {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() sn!: string;
  @ApiProperty() step!: number;
  @ApiProperty({ enum: JOB_STATES }) state!: string;
  @ApiPropertyOptional({ nullable: true }) progress!: number | null;
  @ApiPropertyOptional({ nullable: true, description: "The device's reason for a failure" }) reason!: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'Firmware when targeted' }) fromVersion!: string | null;
  @ApiPropertyOptional({ nullable: true, description: 'Firmware the device last reported while the job ran' })
  reportedVersion!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) notifiedAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) deadline!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) endedAt!: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}
