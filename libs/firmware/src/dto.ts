import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { FIRMWARE_VERSION_PATTERN, SN_PATTERN } from '#libs/mqtt-contract';
import { CAMPAIGN_STATUSES, JOB_STATES, type CampaignStatus, type JobState } from './campaign-rules.js';

const PRINTABLE = /^[\x20-\x7E]+$/;
const VERSION_MESSAGE = '$property must be x.y.z (whole numbers, no leading zeros)';

export class UploadFirmwareQuery {
  @ApiProperty({ example: 'PX1', description: "The appliance model, as in the registry's devices" })
  @IsString()
  @Length(1, 64)
  @Matches(PRINTABLE, { message: 'model must be printable ASCII' })
  model!: string;

  @ApiProperty({ example: '1.4.0' })
  @Matches(FIRMWARE_VERSION_PATTERN, { message: VERSION_MESSAGE })
  version!: string;

  @ApiPropertyOptional({ example: 'maker-2025', description: 'The signing key; without it, any configured key that verifies' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  keyId?: string;

  @ApiPropertyOptional({ description: 'Base64 Ed25519 signature over the image bytes (required: an unsigned image is refused)' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  signature?: string;
}

export class ListFirmwareQuery {
  @ApiPropertyOptional({ example: 'PX1' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  model?: string;
}

export class CreateCampaignDto {
  @ApiProperty({ description: 'The image to roll out (POST /v1/admin/firmware answers its id)' })
  @IsUUID()
  firmwareId!: string;

  @ApiPropertyOptional({ type: [String], example: ['1.2.0', '1.3.0'], description: 'Only devices now on one of these versions' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(FIRMWARE_VERSION_PATTERN, { each: true, message: 'each of fromVersions must be x.y.z' })
  fromVersions?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Only these devices (at most 100,000)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100_000)
  @Matches(SN_PATTERN, { each: true, message: 'each of sns must be 4-64 characters of A-Z, a-z, 0-9, "-" or "_"' })
  sns?: string[];

  @ApiPropertyOptional({
    type: [Number],
    example: [5, 25, 100],
    description: 'Cumulative percentages of the targets, rising, ending at 100',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(100, { each: true })
  steps?: number[];

  @ApiPropertyOptional({ example: 0.2, description: 'Pause when the failed and timed-out share of a step is above this (0-1)' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  failureThreshold?: number;

  @ApiPropertyOptional({ example: 3600, description: 'A job not ended this long after it was sent is timedOut (60-604800)' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(604800)
  jobTimeoutSeconds?: number;

  @ApiPropertyOptional({ description: 'Also target devices on a newer (or unreadable) version' })
  @IsOptional()
  @IsBoolean()
  allowDowngrade?: boolean;
}

export class ListCampaignsQuery {
  @ApiPropertyOptional({ enum: CAMPAIGN_STATUSES })
  @IsOptional()
  @IsIn(CAMPAIGN_STATUSES)
  status?: CampaignStatus;

  @ApiPropertyOptional({ description: 'At most this many, newest first (1-200, default 50)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class ListJobsQuery {
  @ApiPropertyOptional({ enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiPropertyOptional({ description: 'Only the jobs of this step (1-based)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  step?: number;

  @ApiPropertyOptional({ description: 'At most this many, by SN (1-1000, default 100)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ description: 'The SN to continue after (the last of the previous page)' })
  @IsOptional()
  @Matches(SN_PATTERN)
  after?: string;
}
