import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Bucket } from './time-buckets.js';

export interface AggregateRow {
  at: Date;
  devices: number;
  count: number;
  min: number | null;
  max: number | null;
  sum: number;
}

/** The maker's anonymous statistics (telemetry_aggregates) and the short-lived contributor keys that count their devices. */
@Injectable()
export class TelemetryStatisticsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Buckets of a model's point whose start is in [from, to] with at least `minDevices` devices, oldest first. */
  async buckets(
    query: { model: string; point: string; bucket: Bucket; from: Date; to: Date; minDevices: number },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AggregateRow[]> {
    const rows = (await manager.query(
      `SELECT at, devices, count, min, max, sum FROM telemetry_aggregates
        WHERE model = $1 AND point = $2 AND bucket = $3 AND at >= $4 AND at <= $5 AND devices >= $6 ORDER BY at`,
      [query.model, query.point, query.bucket, query.from, query.to, query.minDevices],
    )) as Array<Omit<AggregateRow, 'count'> & { count: string }>;
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** Deletes these devices' keys (a withdrawal): nothing of the person's devices stays linked to an open bucket. */
  async forgetContributors(manager: EntityManager, keys: ReadonlyArray<{ bucket: Bucket; at: Date; deviceKey: Buffer }>): Promise<number> {
    if (keys.length === 0) return 0;
    const [, deleted] = (await manager.query(
      `DELETE FROM telemetry_aggregate_contributors c
        USING unnest($1::varchar[], $2::timestamptz[], $3::bytea[]) AS k(bucket, at, device_key)
        WHERE c.bucket = k.bucket AND c.at = k.at AND c.device_key = k.device_key`,
      [keys.map((key) => key.bucket), keys.map((key) => key.at.toISOString()), keys.map((key) => key.deviceKey)],
    )) as [unknown, number];
    return deleted;
  }

  /** Deletes the keys of buckets that started before `cutoff` (they can no longer receive readings): only the counts stay. */
  async closeBucketsBefore(manager: EntityManager, bucket: Bucket, cutoff: Date): Promise<number> {
    const [, deleted] = (await manager.query('DELETE FROM telemetry_aggregate_contributors WHERE bucket = $1 AND at < $2', [
      bucket,
      cutoff,
    ])) as [unknown, number];
    return deleted;
  }
}
