import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

const DAY_MS = 24 * 3600_000;
const PARENT = 'telemetry_readings';
const DEFAULT_PARTITION = 'telemetry_readings_default';
const NAME = /^telemetry_readings_p(\d{4})(\d{2})(\d{2})$/;

/** The partition holding the UTC day starting at `dayStart` (ms): telemetry_readings_pYYYYMMDD. */
export function partitionName(dayStart: number): string {
  return `${PARENT}_p${new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/**
 * The daily partitions of telemetry_readings: created ahead (a day that
 * already has rows in the default partition gets them moved into its new
 * partition), dropped whole once every reading in them is past retention.
 * DDL here only; the schedule is TelemetryMaintenance's and retention's.
 */
@Injectable()
export class TelemetryPartitionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The day partitions that exist, by the start of their day (ms). */
  async days(manager: EntityManager = this.dataSource.manager): Promise<number[]> {
    const rows = (await manager.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`,
      [PARENT],
    )) as Array<{ name: string }>;
    return rows.flatMap((row) => {
      const match = NAME.exec(row.name);
      return match ? [Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))] : [];
    });
  }

  /**
   * Creates the partition of one day, in one transaction; readings of that
   * day already in the default partition move into it first (attaching
   * would otherwise be refused). Several replicas may try at once: one
   * creates it, the others find it there.
   */
  async create(dayStart: number): Promise<boolean> {
    const name = partitionName(dayStart);
    const from = new Date(dayStart).toISOString();
    const to = new Date(dayStart + DAY_MS).toISOString();
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('telemetry-partitions'))`);
      const [exists] = (await manager.query('SELECT to_regclass($1) AS found', [name])) as Array<{ found: string | null }>;
      if (exists?.found) return false;
      await manager.query(`SET LOCAL lock_timeout = '10s'`);
      await manager.query(`CREATE TABLE ${name} (LIKE ${PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
      await manager.query(
        `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE at >= $1 AND at < $2 RETURNING *) INSERT INTO ${name} SELECT * FROM moved`,
        [from, to],
      );
      await manager.query(`ALTER TABLE ${PARENT} ATTACH PARTITION ${name} FOR VALUES FROM ('${from}') TO ('${to}')`);
      return true;
    });
  }

  /** Drops the partition of one day: its readings go at once, with no row-by-row delete. */
  async drop(dayStart: number): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL lock_timeout = '10s'`);
      await manager.query(`DROP TABLE IF EXISTS ${partitionName(dayStart)}`);
    });
  }

  /** Deletes readings older than `cutoff` that no whole partition held (the day straddling the cut-off, the default partition). */
  async deleteReadingsBefore(cutoff: Date, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [, deleted] = (await manager.query(`DELETE FROM ${PARENT} WHERE at < $1`, [cutoff])) as [unknown, number];
    return deleted;
  }

  /** Table and index bytes of all partitions, and how many readings they hold (for the benchmark and operators). */
  async size(manager: EntityManager = this.dataSource.manager): Promise<{ bytes: number; heapBytes: number; readings: number }> {
    const [row] = (await manager.query(
      `SELECT COALESCE(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint AS bytes, COALESCE(sum(pg_relation_size(i.inhrelid)), 0)::bigint AS heap,
              (SELECT count(*) FROM ${PARENT})::bigint AS readings
         FROM pg_inherits i WHERE i.inhparent = $1::regclass`,
      [PARENT],
    )) as Array<{ bytes: string; heap: string; readings: string }>;
    return { bytes: Number(row.bytes), heapBytes: Number(row.heap), readings: Number(row.readings) };
  }
}
