import 'reflect-metadata';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { POINT_ID_PATTERN } from '#libs/devices';
import { FORMATS } from '#libs/platform';
import { BUCKETS, type Bucket } from './time-buckets.js';

/** Query and answer shapes of the telemetry calls (OpenAPI and validation). */

const POINT = { message: 'point must be a point id like water_temp (^[a-z][a-z0-9_]{0,39}$)' };
const TIME = (field: string) => ({ message: `${field} must be an ISO 8601 time such as 2026-11-29T08:00:00Z` });

export const HISTORY_BUCKETS = ['raw', ...BUCKETS] as const;
export type HistoryBucket = (typeof HISTORY_BUCKETS)[number];

export class DeviceTelemetryQuery {
  @ApiProperty({ example: 'water_temp', description: "A `history` point of the device's model" })
  @Matches(POINT_ID_PATTERN, POINT)
  point!: string;

  @ApiPropertyOptional({
    example: '2026-11-28T08:00:00Z',
    description: 'Inclusive; default: `to` minus 24 hours (raw), 7 days (hour), 90 days (day)',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, TIME('from'))
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-29T08:00:00Z', description: 'Inclusive; default: now' })
  @IsOptional()
  @IsISO8601({ strict: true }, TIME('to'))
  to?: string;

  @ApiPropertyOptional({ enum: HISTORY_BUCKETS, default: 'raw', description: 'raw readings, or hourly / daily summaries (numeric points)' })
  @IsOptional()
  @IsIn(HISTORY_BUCKETS, { message: `bucket must be one of ${HISTORY_BUCKETS.join(', ')}` })
  bucket?: HistoryBucket;
}

export class StatisticsQuery {
  @ApiProperty({ example: 'HT1' })
  @Matches(FORMATS.model.pattern, { message: `model ${FORMATS.model.mustBe}` })
  model!: string;

  @ApiProperty({ example: 'water_temp', description: 'A numeric `history` point of the model' })
  @Matches(POINT_ID_PATTERN, POINT)
  point!: string;

  @ApiPropertyOptional({ example: '2026-11-22T00:00:00Z', description: 'Inclusive; default: `to` minus 7 days (hour), 90 days (day)' })
  @IsOptional()
  @IsISO8601({ strict: true }, TIME('from'))
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-29T00:00:00Z', description: 'Inclusive; default: now' })
  @IsOptional()
  @IsISO8601({ strict: true }, TIME('to'))
  to?: string;

  @ApiPropertyOptional({ enum: BUCKETS, default: 'hour' })
  @IsOptional()
  @IsIn(BUCKETS, { message: `bucket must be one of ${BUCKETS.join(', ')}` })
  bucket?: Bucket;
}

export class ReadingView {
  @ApiProperty({ example: '2026-11-29T07:59:00.000Z' }) at!: string;
  @ApiProperty({ oneOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'string' }], example: 41.5 }) value!: number | boolean | string;
}

export class BucketView {
  @ApiProperty({ example: '2026-11-29T07:00:00.000Z', description: 'Start of the hour or day (UTC)' }) at!: string;
  @ApiProperty({ example: 60 }) count!: number;
  @ApiProperty({ example: 38.5, nullable: true, type: Number }) min!: number | null;
  @ApiProperty({ example: 44, nullable: true, type: Number }) max!: number | null;
  @ApiProperty({ example: 41.2, nullable: true, type: Number }) avg!: number | null;
}

export class StatisticsBucketView extends BucketView {
  @ApiProperty({ example: 37, description: 'Distinct devices in the bucket (always at least 5)' }) devices!: number;
}

export class VisitPointView {
  @ApiProperty({ example: 'water_temp' }) point!: string;
  @ApiProperty({ example: 'number' }) type!: string;
  @ApiPropertyOptional({ example: '°C' }) unit?: string;
  @ApiProperty({ type: [ReadingView] }) readings!: ReadingView[];
}

export class VisitTelemetryView {
  @ApiProperty({ format: 'uuid' }) repairId!: string;
  @ApiProperty({ example: 'HT1-0001', nullable: true, type: String }) sn!: string | null;
  @ApiProperty({ example: 'HT1' }) model!: string;
  @ApiProperty({ example: '2026-11-28T08:00:00.000Z' }) from!: string;
  @ApiProperty({ example: '2026-11-29T08:00:00.000Z' }) to!: string;
  @ApiProperty({ type: [VisitPointView] }) points!: VisitPointView[];
}
