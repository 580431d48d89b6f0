import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { Clock } from '#libs/identity';
import { TELEMETRY_LIMITS } from './reading-rules.js';
import { TelemetryPartitionsRepository } from './telemetry-partitions.repository.js';
import { BUCKET_MS, bucketStart } from './time-buckets.js';

/** Day partitions kept ready beyond today, so a reading never waits for DDL (and a stopped job has days of slack). */
export const PARTITION_DAYS_AHEAD = 3;

/**
 * Creates the day partitions of telemetry_readings ahead of time: at start
 * and every hour, every day a reading may be accepted for (7 days back,
 * 5 minutes ahead) and PARTITION_DAYS_AHEAD days more. A reading arriving
 * for a day without its partition lands in the default partition, and the
 * partition created for that day later takes it in. Dropping partitions is
 * retention's (TelemetryRetention, run by the hourly privacy retention).
 */
@Injectable()
export class TelemetryMaintenance implements OnApplicationBootstrap {
  private readonly logger = new Logger('TelemetryMaintenance');

  constructor(
    private readonly partitions: TelemetryPartitionsRepository,
    private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
  }

  @Cron(CronExpression.EVERY_HOUR, { name: 'telemetry-partitions' })
  async run(): Promise<void> {
    try {
      const created = await this.ensurePartitions(this.clock.now());
      if (created.length > 0) this.logger.log(`telemetry partitions created: ${created.length}`);
    } catch (error) {
      // The default partition takes readings meanwhile; the next run tries again.
      this.logger.warn(`telemetry partitions not created: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Creates the missing partitions around `now`; answers the days created (ms, UTC midnight). */
  async ensurePartitions(now: Date): Promise<number[]> {
    const existing = new Set(await this.partitions.days());
    const first = bucketStart('day', now.getTime() - TELEMETRY_LIMITS.maxAgeMs);
    const last = bucketStart('day', now.getTime() + TELEMETRY_LIMITS.maxAheadMs) + PARTITION_DAYS_AHEAD * BUCKET_MS.day;
    const created: number[] = [];
    for (let day = first; day <= last; day += BUCKET_MS.day) {
      if (existing.has(day)) continue;
      if (await this.partitions.create(day)) created.push(day);
    }
    return created;
  }
}
