import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '#libs/config';
import { Clock } from '#libs/identity';
import { ErasureHook, ExportSection, type Purpose } from '#libs/privacy';
import { ContributorKeys } from './contributor-key.js';
import { TELEMETRY_LIMITS } from './reading-rules.js';
import { TelemetryRetention } from './telemetry-retention.js';
import { TelemetrySeriesRepository } from './telemetry-series.repository.js';
import { TelemetryStatisticsRepository } from './telemetry-statistics.repository.js';
import { TELEMETRY_ERASURE } from './telemetry.entities.js';
import { BUCKET_MS, BUCKETS, bucketStart, type Bucket } from './time-buckets.js';

/** Rows read per query while an export streams. */
const EXPORT_PAGE = 5000;

/**
 * Telemetry's part of erasure, withdrawal and retention. Its tables'
 * rows are deleted whole (the tag's rowsErasedBy), never nulled column by
 * column: erasing the account deletes the person's series with their
 * readings and rollups; the end of `product_improvement` (withdrawal or
 * restriction) deletes the contributor keys of the person's devices from
 * every bucket still open, so nothing links them to the statistics (the
 * counts already made stay: they are anonymous); retention drops partitions.
 */
@ErasureHook(TELEMETRY_ERASURE)
@Injectable()
export class TelemetryErasure implements ErasureHook {
  private readonly keys: ContributorKeys;

  constructor(
    config: AppConfig,
    private readonly clock: Clock,
    private readonly series: TelemetrySeriesRepository,
    private readonly statistics: TelemetryStatisticsRepository,
    private readonly retention: TelemetryRetention,
  ) {
    this.keys = new ContributorKeys(config.devices.secretKey);
  }

  async onAccountErased(manager: EntityManager, subjectId: string): Promise<void> {
    await this.forgetContributions(manager, subjectId);
    const owned = await this.series.ofOwner(subjectId, null, manager);
    await this.series.deleteSeries(
      manager,
      owned.map((entry) => entry.id),
    );
  }

  async onPurposesEnded(manager: EntityManager, subjectId: string, ended: ReadonlySet<Purpose>): Promise<void> {
    if (ended.has('service')) return this.onAccountErased(manager, subjectId);
    if (ended.has('product_improvement')) await this.forgetContributions(manager, subjectId);
  }

  async onRetentionApplied(manager: EntityManager, now: Date): Promise<void> {
    await this.retention.apply(manager, now);
  }

  /** Deletes the keys of the person's devices from every bucket that may still hold them. */
  private async forgetContributions(manager: EntityManager, subjectId: string): Promise<void> {
    const sns = [...new Set((await this.series.ofOwner(subjectId, null, manager)).map((entry) => entry.sn))];
    if (sns.length === 0) return;
    const now = this.clock.now().getTime();
    const keys: Array<{ bucket: Bucket; at: Date; deviceKey: Buffer }> = [];
    for (const bucket of BUCKETS) {
      // Open buckets, and closed ones whose keys retention has not reached yet (it runs hourly): two days beyond the limit.
      const first = bucketStart(bucket, now - TELEMETRY_LIMITS.maxAgeMs - 2 * BUCKET_MS.day);
      const last = bucketStart(bucket, now + TELEMETRY_LIMITS.maxAheadMs);
      for (let at = first; at <= last; at += BUCKET_MS[bucket]) {
        for (const sn of sns) keys.push({ bucket, at: new Date(at), deviceKey: this.keys.of(bucket, at, sn) });
      }
    }
    await this.statistics.forgetContributors(manager, keys);
  }
}

/** `telemetry` in GET /v1/me/export: every reading held for the person, `{sn, point, at, value}`, streamed series by series. */
@ExportSection('telemetry')
@Injectable()
export class TelemetryReadingsExport implements ExportSection {
  constructor(private readonly series: TelemetrySeriesRepository) {}

  build(manager: EntityManager, subjectId: string): AsyncIterable<unknown> {
    const series = this.series;
    return (async function* () {
      for (const entry of await series.ofOwner(subjectId, null, manager)) {
        let after: Date | null = null;
        for (;;) {
          const page = await series.pageAfter(entry.id, after, EXPORT_PAGE, manager);
          for (const reading of page) yield { sn: entry.sn, point: entry.point, at: reading.at.toISOString(), value: reading.value };
          if (page.length < EXPORT_PAGE) break;
          after = page[page.length - 1].at;
        }
      }
    })();
  }
}

/** `telemetrySummaries` in GET /v1/me/export: the hourly and daily summaries held for the person, streamed. */
@ExportSection('telemetrySummaries')
@Injectable()
export class TelemetrySummariesExport implements ExportSection {
  constructor(private readonly series: TelemetrySeriesRepository) {}

  build(manager: EntityManager, subjectId: string): AsyncIterable<unknown> {
    const series = this.series;
    return (async function* () {
      for (const entry of await series.ofOwner(subjectId, null, manager)) {
        let after: { bucket: Bucket; at: Date } | null = null;
        for (;;) {
          const page = await series.rollupPageAfter(entry.id, after, EXPORT_PAGE, manager);
          for (const row of page) {
            yield { sn: entry.sn, point: entry.point, bucket: row.bucket, ...toBucketView(row) };
          }
          if (page.length < EXPORT_PAGE) break;
          const last = page[page.length - 1];
          after = { bucket: last.bucket, at: last.at };
        }
      }
    })();
  }
}

/** `{at, count, min, max, avg}` of a rollup or statistics bucket. */
export function toBucketView(row: { at: Date; count: number; min: number | null; max: number | null; sum: number }) {
  return { at: row.at.toISOString(), count: row.count, min: row.min, max: row.max, avg: row.count > 0 ? row.sum / row.count : null };
}
