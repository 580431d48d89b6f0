import { expect } from '@jest/globals';
import { differences } from './checks.js';
import type { World } from './world.js';

/**
 * telemetry_readings, telemetry_rollups, telemetry_series and the maker's
 * statistics hold exactly what the model says: above all, every bucket's
 * count and sum are those of the readings whose owner had
 * product_improvement live when they arrived, and no more.
 */
export async function expectTelemetryAsModelled(world: World): Promise<void> {
  const query = async <T>(sql: string) => (await world.dataSource.query(sql)) as T[];
  const readings = await query<{ owner_id: string; sn: string; point: string; at: Date; value: number }>(
    `SELECT r.owner_id, s.sn, s.point, r.at, r.value_num AS value FROM telemetry_readings r JOIN telemetry_series s ON s.id = r.series_id`,
  );
  const orphans = await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM telemetry_readings r WHERE NOT EXISTS (SELECT 1 FROM telemetry_series s WHERE s.id = r.series_id AND s.owner_id = r.owner_id)`,
  );
  const rollups = await query<{
    owner_id: string;
    sn: string;
    point: string;
    bucket: string;
    at: Date;
    count: number;
    sum: number;
    min: number;
    max: number;
  }>(
    `SELECT r.owner_id, s.sn, s.point, r.bucket, r.at, r.count, r.sum, r.min, r.max FROM telemetry_rollups r JOIN telemetry_series s ON s.id = r.series_id`,
  );
  const series = await query<{ owner_id: string; sn: string; point: string; last_at: Date }>(
    'SELECT owner_id, sn, point, last_at FROM telemetry_series',
  );
  const proofModels = [...new Set([...world.devices.values()].map((device) => device.model))];
  const statistics = (await world.dataSource.query(
    `SELECT a.model, a.point, a.bucket, a.at, a.devices, a.count::int AS count, a.sum, a.min, a.max,
            (SELECT count(*)::int FROM telemetry_aggregate_contributors c WHERE (c.model, c.point, c.bucket, c.at) = (a.model, a.point, a.bucket, a.at)) AS keys
       FROM telemetry_aggregates a WHERE a.model = ANY($1)`,
    [proofModels],
  )) as Array<{
    model: string;
    point: string;
    bucket: string;
    at: Date;
    devices: number;
    count: number;
    sum: number;
    min: number;
    max: number;
    keys: number;
  }>;
  const model = world.telemetry;
  const found = [
    ...(orphans[0].n > 0 ? [`${orphans[0].n} reading(s) without their series`] : []),
    ...differences(
      'telemetry_readings',
      new Map(readings.map((row) => [`${row.owner_id}|${row.sn}|${row.point}|${new Date(row.at).getTime()}`, row.value])),
      new Map([...model.readings].map(([key, reading]) => [key, reading.value])),
    ),
    ...differences(
      'telemetry_rollups',
      new Map(
        rollups.map((row) => [
          `${row.owner_id}|${row.sn}|${row.point}|${row.bucket}|${new Date(row.at).getTime()}`,
          { count: row.count, sum: row.sum, min: row.min, max: row.max },
        ]),
      ),
      model.rollups,
    ),
    ...differences(
      'telemetry_series',
      new Map(series.map((row) => [`${row.owner_id}|${row.sn}|${row.point}`, new Date(row.last_at).getTime()])),
      model.series,
    ),
    ...differences(
      'telemetry_aggregates',
      new Map(
        statistics.map((row) => [
          `${row.model}|${row.point}|${row.bucket}|${new Date(row.at).getTime()}`,
          { devices: row.devices, count: row.count, sum: row.sum, min: row.min, max: row.max, keys: row.keys },
        ]),
      ),
      new Map(
        [...model.statistics].map(([key, statistic]) => [
          key,
          {
            devices: statistic.devices,
            count: statistic.count,
            sum: statistic.sum,
            min: statistic.min,
            max: statistic.max,
            keys: statistic.keys.size,
          },
        ]),
      ),
    ),
  ];
  expect(found).toEqual([]);
}
