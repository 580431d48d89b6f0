import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { PrivacyCatalog } from '#libs/privacy';
import { TELEMETRY_LIMITS } from './reading-rules.js';
import { TelemetryPartitionsRepository } from './telemetry-partitions.repository.js';
import { TelemetrySeriesRepository } from './telemetry-series.repository.js';
import { TelemetryStatisticsRepository } from './telemetry-statistics.repository.js';
import { BUCKET_MS } from './time-buckets.js';

const HOUR_MS = 3600_000;
/** A bucket's contributor keys stay an hour past its last possible reading, for batches still waiting on the database. */
const CLOSE_GRACE_MS = HOUR_MS;

export interface TelemetryRetentionResult {
  partitionsDropped: number;
  readingsDeleted: number;
  rollupsDeleted: number;
  seriesDeleted: number;
  contributorKeysDeleted: number;
}

/**
 * Telemetry's retention, with the periods of config/privacy.yaml
 * (appliance_readings: raw, 30 days; appliance_summaries: rollups and series,
 * 365 days). Raw readings go by dropping whole day partitions once their
 * whole day is past the period; only the day straddling the cut-off (and the
 * default partition) is deleted row by row. Old rollups and series are
 * deleted. A bucket's contributor keys go once the bucket can no longer
 * receive readings (7 days after it ends): its counts stay, anonymous.
 * Last, a backstop: series whose owner has no live `service` are deleted
 * (erasure does it at once; this catches anything written around it).
 */
@Injectable()
export class TelemetryRetention {
  constructor(
    private readonly catalog: PrivacyCatalog,
    private readonly partitions: TelemetryPartitionsRepository,
    private readonly series: TelemetrySeriesRepository,
    private readonly statistics: TelemetryStatisticsRepository,
  ) {}

  /** The periods in force, in hours (null: kept while the purpose lives). */
  periods(): { readingsHours: number | null; summariesHours: number | null } {
    const hours = (category: string) => {
      const retention = this.catalog.config.categories[category]?.retention;
      return retention?.kind === 'period' ? retention.hours : null;
    };
    return { readingsHours: hours('appliance_readings'), summariesHours: hours('appliance_summaries') };
  }

  async apply(manager: EntityManager, now: Date): Promise<TelemetryRetentionResult> {
    const result: TelemetryRetentionResult = {
      partitionsDropped: 0,
      readingsDeleted: 0,
      rollupsDeleted: 0,
      seriesDeleted: 0,
      contributorKeysDeleted: 0,
    };
    const { readingsHours, summariesHours } = this.periods();
    if (readingsHours !== null) {
      const cutoff = now.getTime() - readingsHours * HOUR_MS;
      for (const day of await this.partitions.days(manager)) {
        if (day + BUCKET_MS.day > cutoff) continue;
        await this.partitions.drop(day);
        result.partitionsDropped += 1;
      }
      result.readingsDeleted = await this.partitions.deleteReadingsBefore(new Date(cutoff), manager);
    }
    if (summariesHours !== null) {
      const cutoff = new Date(now.getTime() - summariesHours * HOUR_MS);
      result.rollupsDeleted = await this.series.deleteRollupsBefore(manager, cutoff);
      const expired = await this.series.lastWrittenBefore(manager, cutoff);
      result.readingsDeleted += await this.series.deleteSeries(manager, expired);
      result.seriesDeleted += expired.length;
    }
    const orphaned = await this.series.withoutLiveService(manager);
    result.readingsDeleted += await this.series.deleteSeries(manager, orphaned);
    result.seriesDeleted += orphaned.length;
    for (const bucket of ['hour', 'day'] as const) {
      const closedBefore = new Date(now.getTime() - TELEMETRY_LIMITS.maxAgeMs - BUCKET_MS[bucket] - CLOSE_GRACE_MS);
      result.contributorKeysDeleted += await this.statistics.closeBucketsBefore(manager, bucket, closedBefore);
    }
    return result;
  }
}
