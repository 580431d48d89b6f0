import { Injectable } from '@nestjs/common';
import { DeviceAccess, ModelCatalog, pointOf, type PointDefinition } from '#libs/devices';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { isNumeric } from './reading-rules.js';
import { timeRange } from './telemetry-range.js';
import { toBucketView } from './telemetry-privacy.js';
import { TelemetrySeriesRepository } from './telemetry-series.repository.js';
import type { BucketView, DeviceTelemetryQuery, ReadingView } from './telemetry.dto.js';
import { bucketStart } from './time-buckets.js';

/** The most raw readings one answer carries. */
export const RAW_LIMIT = 10_000;

export type DeviceTelemetry =
  | {
      bucket: 'raw';
      readings: ReadingView[];
      /** The time of the first reading not returned (pass it as `from`), when there are more. */ nextFrom: string | null;
    }
  | { bucket: 'hour' | 'day'; buckets: BucketView[] };

/**
 * GET /v1/devices/:sn/telemetry: a point's history for the device's owner
 * and members, from what is held for the owner of the moment only (a
 * previous owner's series is another series). Raw readings oldest first, at
 * most 10,000; hourly and daily summaries come from the rollups kept as
 * readings arrive, never recomputed here.
 */
@Injectable()
export class ReadDeviceTelemetry {
  constructor(
    private readonly access: DeviceAccess,
    private readonly catalog: ModelCatalog,
    private readonly series: TelemetrySeriesRepository,
    private readonly clock: Clock,
  ) {}

  async execute(userId: string, sn: string, query: DeviceTelemetryQuery): Promise<DeviceTelemetry> {
    const role = await this.access.roleOf(userId, sn);
    const ownerId = role ? await this.access.ownerOf(sn) : null;
    if (!role || !ownerId) throw new DomainError('FORBIDDEN', "Only the device's owner and members see its readings");
    const device = await this.catalog.definitionOfDevice(sn);
    const point = historyPoint(device?.definition ? pointOf(device.definition, query.point) : undefined, query.point, device?.model ?? '');
    const bucket = query.bucket ?? 'raw';
    if (bucket !== 'raw' && !isNumeric(point)) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `bucket=${bucket} needs a numeric point; ${point.id} is ${point.type}: ask for bucket=raw`,
      );
    }
    const { from, to } = timeRange(query, bucket, this.clock.now());
    const series = await this.series.find(ownerId, sn, point.id);
    if (bucket === 'raw') {
      if (!series) return { bucket, readings: [], nextFrom: null };
      const rows = await this.series.raw(series.id, from, to, RAW_LIMIT + 1);
      const more = rows.length > RAW_LIMIT ? rows[RAW_LIMIT] : undefined;
      return {
        bucket,
        readings: rows.slice(0, RAW_LIMIT).map((row) => ({ at: row.at.toISOString(), value: row.value })),
        nextFrom: more ? more.at.toISOString() : null,
      };
    }
    if (!series) return { bucket, buckets: [] };
    const rows = await this.series.rollups(series.id, bucket, new Date(bucketStart(bucket, from.getTime())), to);
    return { bucket, buckets: rows.map(toBucketView) };
  }
}

/** The point when the model keeps its history; 400 naming the point otherwise. */
export function historyPoint(point: PointDefinition | undefined, id: string, model: string): PointDefinition {
  if (!point) throw new DomainError('VALIDATION_FAILED', `point ${id} is not a data point of model ${model}`);
  if (!point.history) throw new DomainError('VALIDATION_FAILED', `point ${id} of model ${model} keeps no history`);
  return point;
}
