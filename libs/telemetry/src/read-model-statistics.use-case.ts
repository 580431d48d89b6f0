import { Injectable } from '@nestjs/common';
import { ModelCatalog, pointOf } from '#libs/devices';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { historyPoint } from './read-device-telemetry.use-case.js';
import { isNumeric } from './reading-rules.js';
import { timeRange } from './telemetry-range.js';
import { toBucketView } from './telemetry-privacy.js';
import { TelemetryStatisticsRepository } from './telemetry-statistics.repository.js';
import type { StatisticsBucketView, StatisticsQuery } from './telemetry.dto.js';
import { bucketStart } from './time-buckets.js';

/** A bucket of the maker's statistics is shown only when at least this many distinct devices are in it. */
export const MIN_DEVICES_PER_BUCKET = 5;

/**
 * GET /v1/admin/telemetry/aggregates: a model's point per hour or day, over
 * readings whose owner had product_improvement live when they arrived (so
 * decided at write time; nothing here looks at a person), leaving out every
 * bucket of fewer than five distinct devices. No SN, no person.
 */
@Injectable()
export class ReadModelStatistics {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly statistics: TelemetryStatisticsRepository,
    private readonly clock: Clock,
  ) {}

  async execute(query: StatisticsQuery): Promise<StatisticsBucketView[]> {
    const definition = await this.catalog.definitionOf(query.model);
    if (!definition) throw new DomainError('NOT_FOUND', 'No definition for this model');
    const point = historyPoint(pointOf(definition, query.point), query.point, query.model);
    if (!isNumeric(point))
      throw new DomainError('VALIDATION_FAILED', `point ${point.id} is ${point.type}: statistics are kept for numeric points`);
    const bucket = query.bucket ?? 'hour';
    const { from, to } = timeRange(query, bucket, this.clock.now());
    const rows = await this.statistics.buckets({
      model: query.model,
      point: point.id,
      bucket,
      from: new Date(bucketStart(bucket, from.getTime())),
      to,
      minDevices: MIN_DEVICES_PER_BUCKET,
    });
    return rows.map((row) => ({ ...toBucketView(row), devices: row.devices }));
  }
}
