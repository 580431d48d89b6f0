import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Telemetry: appliance readings laid out for time series, their rollups and
 * the maker's anonymous statistics.
 *
 * - telemetry_series: one row per (owner, device, point); a reading belongs
 *   to its series, so it is tied to the owner of the moment (a new owner gets
 *   new series and sees none of the old ones).
 * - telemetry_readings: partitioned by day on `at` (partitions are created
 *   ahead by provisioning's maintenance; a reading outside them lands in the
 *   default partition, so nothing is lost); primary key (series, at) serves
 *   every read (one series over a time range) and makes a redelivered
 *   reading a duplicate; a BRIN index on `at` serves retention's deletes in
 *   the partition that straddles the cut-off. Raw retention drops whole
 *   partitions.
 * - telemetry_rollups: count/min/max/sum per series, hour and day, upserted
 *   as readings arrive. Series and rollups are updated by every batch: room
 *   left on their pages (fillfactor) and no index on what changes (last_at,
 *   the sums) keep those updates on the page, touching no index.
 * - telemetry_aggregates: per model, point and hour or day, only from readings
 *   whose owner had product_improvement live when they arrived; no SN, no
 *   person. telemetry_aggregate_contributors holds, while a bucket can still
 *   receive readings, one keyed hash per contributing device, so devices are
 *   counted once; it is deleted when the bucket closes, leaving the counts.
 */
export class Telemetry1764401400000 implements MigrationInterface {
  name = 'Telemetry1764401400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE telemetry_series (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        owner_id uuid NOT NULL REFERENCES users(id),
        sn varchar(64) NOT NULL,
        point varchar(40) NOT NULL CHECK (point ~ '^[a-z][a-z0-9_]{0,39}$'),
        last_at timestamptz NOT NULL,
        UNIQUE (owner_id, sn, point)
      ) WITH (fillfactor = 70)`);
    await queryRunner.query(`
      CREATE TABLE telemetry_readings (
        series_id integer NOT NULL,
        at timestamptz NOT NULL,
        owner_id uuid NOT NULL,
        value_num double precision,
        value_text text,
        value_bool boolean,
        PRIMARY KEY (series_id, at),
        CHECK ((value_num IS NOT NULL)::int + (value_text IS NOT NULL)::int + (value_bool IS NOT NULL)::int = 1)
      ) PARTITION BY RANGE (at)`);
    await queryRunner.query(`CREATE TABLE telemetry_readings_default PARTITION OF telemetry_readings DEFAULT`);
    await queryRunner.query(`CREATE INDEX telemetry_readings_at ON telemetry_readings USING brin (at)`);
    await queryRunner.query(`
      CREATE TABLE telemetry_rollups (
        series_id integer NOT NULL,
        bucket varchar(4) NOT NULL CHECK (bucket IN ('hour', 'day')),
        at timestamptz NOT NULL,
        owner_id uuid NOT NULL,
        count integer NOT NULL,
        min double precision NOT NULL,
        max double precision NOT NULL,
        sum double precision NOT NULL,
        PRIMARY KEY (series_id, bucket, at)
      ) WITH (fillfactor = 70)`);
    await queryRunner.query(`CREATE INDEX telemetry_rollups_at ON telemetry_rollups (at)`);
    await queryRunner.query(`
      CREATE TABLE telemetry_aggregates (
        model varchar(64) COLLATE "C" NOT NULL,
        point varchar(40) COLLATE "C" NOT NULL,
        bucket varchar(4) NOT NULL CHECK (bucket IN ('hour', 'day')),
        at timestamptz NOT NULL,
        devices integer NOT NULL,
        count bigint NOT NULL,
        min double precision,
        max double precision,
        sum double precision NOT NULL,
        PRIMARY KEY (model, point, bucket, at)
      )`);
    await queryRunner.query(`
      CREATE TABLE telemetry_aggregate_contributors (
        bucket varchar(4) NOT NULL,
        at timestamptz NOT NULL,
        device_key bytea NOT NULL,
        model varchar(64) COLLATE "C" NOT NULL,
        point varchar(40) COLLATE "C" NOT NULL,
        PRIMARY KEY (bucket, at, device_key, model, point)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE telemetry_aggregate_contributors`);
    await queryRunner.query(`DROP TABLE telemetry_aggregates`);
    await queryRunner.query(`DROP TABLE telemetry_rollups`);
    await queryRunner.query(`DROP TABLE telemetry_readings`);
    await queryRunner.query(`DROP TABLE telemetry_series`);
  }
}
