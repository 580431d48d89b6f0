import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Bucket } from './time-buckets.js';

export interface SeriesRow {
  id: number;
  sn: string;
  point: string;
  lastAt: Date;
}

export interface RawReadingRow {
  at: Date;
  value: boolean | number | string;
}

export interface RollupRow {
  at: Date;
  count: number;
  min: number;
  max: number;
  sum: number;
}

type StoredReading = { at: Date; value_num: number | null; value_text: string | null; value_bool: boolean | null };
const valueOf = (row: StoredReading): boolean | number | string => row.value_num ?? row.value_bool ?? (row.value_text as string);

/** A person's series (device, point) and what they hold: raw readings and hourly/daily rollups. */
@Injectable()
export class TelemetrySeriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The series of this owner, device and point, or undefined when none was ever written. */
  async find(ownerId: string, sn: string, point: string, manager: EntityManager = this.dataSource.manager): Promise<SeriesRow | undefined> {
    const [row] = (await manager.query(
      'SELECT id, sn, point, last_at FROM telemetry_series WHERE owner_id = $1 AND sn = $2 AND point = $3',
      [ownerId, sn, point],
    )) as Array<{ id: number; sn: string; point: string; last_at: Date }>;
    return row ? { id: row.id, sn: row.sn, point: row.point, lastAt: row.last_at } : undefined;
  }

  /** Every series of the owner (of one device when `sn` is given), by device and point. */
  async ofOwner(ownerId: string, sn: string | null, manager: EntityManager = this.dataSource.manager): Promise<SeriesRow[]> {
    const rows = (await manager.query(
      `SELECT id, sn, point, last_at FROM telemetry_series WHERE owner_id = $1 AND ($2::varchar IS NULL OR sn = $2) ORDER BY sn, point`,
      [ownerId, sn],
    )) as Array<{ id: number; sn: string; point: string; last_at: Date }>;
    return rows.map((row) => ({ id: row.id, sn: row.sn, point: row.point, lastAt: row.last_at }));
  }

  /** Raw readings of a series in [from, to], oldest first, at most `limit` (partitions outside the range are not read). */
  async raw(
    seriesId: number,
    from: Date,
    to: Date,
    limit: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<RawReadingRow[]> {
    const rows = (await manager.query(
      `SELECT at, value_num, value_text, value_bool FROM telemetry_readings
        WHERE series_id = $1 AND at >= $2 AND at <= $3 ORDER BY at LIMIT $4`,
      [seriesId, from, to, limit],
    )) as StoredReading[];
    return rows.map((row) => ({ at: row.at, value: valueOf(row) }));
  }

  /** Readings of a series after `after`, oldest first: one page of an export. */
  async pageAfter(seriesId: number, after: Date | null, limit: number, manager: EntityManager): Promise<RawReadingRow[]> {
    const rows = (await manager.query(
      `SELECT at, value_num, value_text, value_bool FROM telemetry_readings
        WHERE series_id = $1 AND ($2::timestamptz IS NULL OR at > $2) ORDER BY at LIMIT $3`,
      [seriesId, after, limit],
    )) as StoredReading[];
    return rows.map((row) => ({ at: row.at, value: valueOf(row) }));
  }

  /** Rollups of a series whose bucket starts in [from, to], oldest first. */
  async rollups(
    seriesId: number,
    bucket: Bucket,
    from: Date,
    to: Date,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<RollupRow[]> {
    return (await manager.query(
      `SELECT at, count, min, max, sum FROM telemetry_rollups
        WHERE series_id = $1 AND bucket = $2 AND at >= $3 AND at <= $4 ORDER BY at`,
      [seriesId, bucket, from, to],
    )) as RollupRow[];
  }

  /** Rollups of a series after (bucket, at), in bucket then time order: one page of an export. */
  async rollupPageAfter(
    seriesId: number,
    after: { bucket: Bucket; at: Date } | null,
    limit: number,
    manager: EntityManager,
  ): Promise<Array<RollupRow & { bucket: Bucket }>> {
    return (await manager.query(
      `SELECT bucket, at, count, min, max, sum FROM telemetry_rollups
        WHERE series_id = $1 AND ($2::varchar IS NULL OR (bucket, at) > ($2::varchar, $3::timestamptz))
        ORDER BY bucket, at LIMIT $4`,
      [seriesId, after?.bucket ?? null, after?.at ?? null, limit],
    )) as Array<RollupRow & { bucket: Bucket }>;
  }

  /** Deletes everything of these series (readings, rollups, the series): erasure, or retention's backstop. */
  async deleteSeries(manager: EntityManager, seriesIds: readonly number[]): Promise<number> {
    if (seriesIds.length === 0) return 0;
    const [, readings] = (await manager.query('DELETE FROM telemetry_readings WHERE series_id = ANY($1::int[])', [seriesIds])) as [
      unknown,
      number,
    ];
    await manager.query('DELETE FROM telemetry_rollups WHERE series_id = ANY($1::int[])', [seriesIds]);
    await manager.query('DELETE FROM telemetry_series WHERE id = ANY($1::int[])', [seriesIds]);
    return readings;
  }

  /** Series whose owner has no live `service` (privacy_is_live, the SQL statement of the rule): what the backstop sweep deletes. */
  async withoutLiveService(manager: EntityManager): Promise<number[]> {
    const rows = (await manager.query(`SELECT id FROM telemetry_series WHERE NOT privacy_is_live(owner_id, 'service')`)) as Array<{
      id: number;
    }>;
    return rows.map((row) => row.id);
  }

  /** Series with no reading for `cutoff` and later: their last summaries have expired too. */
  async lastWrittenBefore(manager: EntityManager, cutoff: Date): Promise<number[]> {
    const rows = (await manager.query('SELECT id FROM telemetry_series WHERE last_at < $1', [cutoff])) as Array<{ id: number }>;
    return rows.map((row) => row.id);
  }

  /** Rollups of buckets that start before `cutoff` (retention of summaries). */
  async deleteRollupsBefore(manager: EntityManager, cutoff: Date): Promise<number> {
    const [, deleted] = (await manager.query('DELETE FROM telemetry_rollups WHERE at < $1', [cutoff])) as [unknown, number];
    return deleted;
  }
}
