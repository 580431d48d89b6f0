import { Injectable } from '@nestjs/common';
import type { Readable, Writable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';
import type { PointValue } from '#libs/devices';
import { BinaryCopyWriter, uuidBytes } from './copy-binary.js';
import type { Bucket } from './time-buckets.js';

/** One series of a batch: a device's point for its owner of the moment, with its readings. */
export interface SeriesInput {
  ownerId: string;
  sn: string;
  point: string;
  model: string;
  /** The owner had product_improvement live as the batch was written: its numeric readings feed the maker's statistics. */
  contributes: boolean;
  /** The newest reading's time. */
  lastAt: Date;
  readings: ReadonlyArray<{ at: number; value: PointValue }>;
}

/** A device counted once in a bucket of the statistics (see ContributorKeys). */
export interface ContributorInput {
  bucket: Bucket;
  at: string;
  deviceKey: Buffer;
  model: string;
  point: string;
}

/** Count, minimum, maximum and sum of some readings of one bucket. */
export interface Summary {
  bucket: Bucket;
  at: number;
  count: number;
  min: number;
  max: number;
  sum: number;
}

/** A copied reading's key was there already (a message delivered twice): the batch goes the slower way that skips them. */
export class DuplicateReadingsError extends Error {
  override name = 'DuplicateReadingsError';
}

const UPSERT_SERIES = `
INSERT INTO telemetry_series AS t (owner_id, sn, point, last_at)
SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::timestamptz[]) AS s(owner_id, sn, point, last_at)
ORDER BY owner_id, sn, point
ON CONFLICT (owner_id, sn, point) DO UPDATE SET last_at = GREATEST(t.last_at, EXCLUDED.last_at)
RETURNING id, owner_id, sn, point`;

/** Rollups, contributor keys and statistics of a batch whose readings all went in, summed beforehand. */
const ADD_SUMMARIES = `
WITH rolled AS (
  INSERT INTO telemetry_rollups AS t (series_id, bucket, at, owner_id, count, min, max, sum)
  SELECT * FROM unnest($1::int[], $2::varchar[], $3::timestamptz[], $4::uuid[], $5::int[], $6::float8[], $7::float8[], $8::float8[])
    AS r(series_id, bucket, at, owner_id, count, min, max, sum)
  ORDER BY series_id, bucket, at
  ON CONFLICT (series_id, bucket, at) DO UPDATE
    SET count = t.count + EXCLUDED.count, min = LEAST(t.min, EXCLUDED.min), max = GREATEST(t.max, EXCLUDED.max), sum = t.sum + EXCLUDED.sum
),
joined AS (
  INSERT INTO telemetry_aggregate_contributors (bucket, at, device_key, model, point)
  SELECT * FROM unnest($9::varchar[], $10::timestamptz[], $11::bytea[], $12::varchar[], $13::varchar[])
  ON CONFLICT DO NOTHING
  RETURNING model, point, bucket, at
),
newcomers AS (
  SELECT model, point, bucket, at, count(*)::int AS devices FROM joined GROUP BY model, point, bucket, at
),
contributed AS (
  SELECT * FROM unnest($14::varchar[], $15::varchar[], $16::varchar[], $17::timestamptz[], $18::bigint[], $19::float8[], $20::float8[], $21::float8[])
    AS c(model, point, bucket, at, count, min, max, sum)
)
INSERT INTO telemetry_aggregates AS a (model, point, bucket, at, devices, count, min, max, sum)
SELECT model, point, bucket, at, COALESCE(n.devices, 0), COALESCE(c.count, 0), c.min, c.max, COALESCE(c.sum, 0)
FROM contributed c FULL JOIN newcomers n USING (model, point, bucket, at)
ORDER BY model, point, bucket, at
ON CONFLICT (model, point, bucket, at) DO UPDATE
  SET devices = a.devices + EXCLUDED.devices, count = a.count + EXCLUDED.count,
      min = LEAST(a.min, EXCLUDED.min), max = GREATEST(a.max, EXCLUDED.max), sum = a.sum + EXCLUDED.sum`;

const COPY_READINGS = 'COPY telemetry_readings (series_id, at, owner_id, value_num, value_text, value_bool) FROM STDIN (FORMAT binary)';

/**
 * Writes of telemetry batches (readings, their series, rollups and
 * statistics); reads are in TelemetrySeriesRepository. The usual path is
 * three statements and a COPY: the series, the readings in PostgreSQL's
 * binary COPY format (what the benchmark compares with), then the rollups
 * and statistics summed beforehand. A COPY that meets a reading already
 * stored fails whole (DuplicateReadingsError), and the caller runs the batch
 * again through insertSkippingDuplicates.
 */
@Injectable()
export class TelemetryIngestRepository {
  /** Upserts the series; answers their ids, in input order. */
  async upsertSeries(manager: EntityManager, series: readonly SeriesInput[]): Promise<number[]> {
    const rows = (await manager.query(UPSERT_SERIES, [
      series.map((entry) => entry.ownerId),
      series.map((entry) => entry.sn),
      series.map((entry) => entry.point),
      series.map((entry) => entry.lastAt.toISOString()),
    ])) as Array<{ id: number; owner_id: string; sn: string; point: string }>;
    const ids = new Map(rows.map((row) => [`${row.owner_id}\u0000${row.sn}\u0000${row.point}`, row.id]));
    return series.map((entry) => ids.get(`${entry.ownerId}\u0000${entry.sn}\u0000${entry.point}`)!);
  }

  /** Copies every reading of the series (ids from upsertSeries) in the caller's transaction. */
  async copyReadings(manager: EntityManager, series: readonly SeriesInput[], ids: readonly number[]): Promise<number> {
    let count = 0;
    for (const entry of series) count += entry.readings.length;
    const rows = new BinaryCopyWriter(count * 64 + 64);
    series.forEach((entry, index) => {
      const owner = uuidBytes(entry.ownerId);
      for (const reading of entry.readings) {
        rows.row(6).int4(ids[index]).timestamptz(reading.at).uuid(owner);
        const value = reading.value;
        if (typeof value === 'number') rows.float8(value).null().null();
        else if (typeof value === 'boolean') rows.null().null().bool(value);
        else rows.null().text(value).null();
      }
    });
    const client = (await manager.queryRunner!.connect()) as { query(stream: unknown): Writable & Readable };
    const stream = client.query(copyFrom(COPY_READINGS));
    await new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', (error: { code?: string }) =>
        reject(error.code === '23505' ? new DuplicateReadingsError('a reading is stored already') : error),
      );
      stream.end(rows.finish());
    });
    return count;
  }

  /** Adds the batch's summed readings to the rollups and, for contributing owners, to the statistics. */
  async addSummaries(
    manager: EntityManager,
    rollups: ReadonlyArray<Summary & { seriesId: number; ownerId: string }>,
    contributors: readonly ContributorInput[],
    statistics: ReadonlyArray<Summary & { model: string; point: string }>,
  ): Promise<void> {
    if (rollups.length === 0 && contributors.length === 0) return;
    const iso = (at: number) => new Date(at).toISOString();
    await manager.query(ADD_SUMMARIES, [
      rollups.map((row) => row.seriesId),
      rollups.map((row) => row.bucket),
      rollups.map((row) => iso(row.at)),
      rollups.map((row) => row.ownerId),
      rollups.map((row) => row.count),
      rollups.map((row) => row.min),
      rollups.map((row) => row.max),
      rollups.map((row) => row.sum),
      contributors.map((entry) => entry.bucket),
      contributors.map((entry) => entry.at),
      contributors.map((entry) => entry.deviceKey),
      contributors.map((entry) => entry.model),
      contributors.map((entry) => entry.point),
      statistics.map((row) => row.model),
      statistics.map((row) => row.point),
      statistics.map((row) => row.bucket),
      statistics.map((row) => iso(row.at)),
      statistics.map((row) => row.count),
      statistics.map((row) => row.min),
      statistics.map((row) => row.max),
      statistics.map((row) => row.sum),
    ]);
  }

  /**
   * Inserts the readings of the series (ids from upsertSeries), skipping any
   * already stored (a message delivered twice): for a batch whose COPY met
   * one. Answers each series with only the readings that went in, to be summed.
   */
  async insertSkippingDuplicates(manager: EntityManager, series: readonly SeriesInput[], ids: readonly number[]): Promise<SeriesInput[]> {
    // Two readings of one point at one instant in the batch: the first in arrival order is the one kept (and summed below).
    const seen = new Set<string>();
    const rows = series.flatMap((entry, index) =>
      entry.readings
        .filter((reading) => {
          const key = `${ids[index]}\u0000${reading.at}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .map((reading) => ({ id: ids[index], ...valueColumns(reading) })),
    );
    if (rows.length === 0) return [];
    const inserted = (await manager.query(
      `INSERT INTO telemetry_readings (series_id, at, owner_id, value_num, value_text, value_bool)
       SELECT r.series_id, r.at, s.owner_id, r.num, r.txt, r.flag
         FROM unnest($1::int[], $2::timestamptz[], $3::float8[], $4::text[], $5::boolean[]) AS r(series_id, at, num, txt, flag)
         JOIN telemetry_series s ON s.id = r.series_id
       ON CONFLICT DO NOTHING
       RETURNING series_id, at`,
      [
        rows.map((row) => row.id),
        rows.map((row) => row.at),
        rows.map((row) => row.num),
        rows.map((row) => row.text),
        rows.map((row) => row.flag),
      ],
    )) as Array<{ series_id: number; at: Date }>;
    const went = new Set(inserted.map((row) => `${row.series_id}\u0000${new Date(row.at).getTime()}`));
    return series.map((entry, index) => ({
      ...entry,
      readings: entry.readings.filter((reading) => went.delete(`${ids[index]}\u0000${reading.at}`)),
    }));
  }
}

function valueColumns(reading: { at: number; value: PointValue }) {
  const at = new Date(reading.at).toISOString();
  const value = reading.value;
  if (typeof value === 'boolean') return { at, num: null, text: null, flag: value };
  if (typeof value === 'number') return { at, num: value, text: null, flag: null };
  return { at, num: null, text: value, flag: null };
}
