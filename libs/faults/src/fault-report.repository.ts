import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { FaultReportEntity } from './fault-report.entity.js';
import { DEIDENTIFY_SET } from './fault-report-deidentification.js';

export interface FaultCountRow {
  model: string;
  firmware: string | null;
  code: string;
  day: string;
  count: number;
}

/** fault_reports: reads, and de-identification of stored reports. New reports are inserted through PersonalDataWriter. */
@Injectable()
export class FaultReportRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Full reports of the device kept for this owner, newest first, older than the cursor; `limit` of them at most. */
  async pageOf(sn: string, ownerId: string, limit: number, before?: { at: Date; id: string }): Promise<FaultReportEntity[]> {
    const query = this.dataSource
      .getRepository(FaultReportEntity)
      .createQueryBuilder('report')
      .where('report.sn = :sn AND report.ownerId = :ownerId', { sn, ownerId })
      .orderBy('report.occurredAt', 'DESC')
      .addOrderBy('report.reportId', 'DESC')
      .limit(limit);
    if (before) query.andWhere('(report.occurredAt, report.reportId) < (:at, :id)', { at: before.at, id: before.id });
    return query.getMany();
  }

  /** The newest `take` reports of the device kept for this owner (a visit's view). */
  forDevice(manager: EntityManager, sn: string, ownerId: string, take: number): Promise<FaultReportEntity[]> {
    return manager.find(FaultReportEntity, { where: { sn, ownerId }, order: { occurredAt: 'DESC' }, take });
  }

  ofOwner(manager: EntityManager, ownerId: string): Promise<FaultReportEntity[]> {
    return manager.find(FaultReportEntity, { where: { ownerId }, order: { occurredAt: 'DESC' } });
  }

  /** Counts by model, firmware, code and day (UTC, `from`/`to` inclusive) over full and de-identified reports alike. */
  async countsBetween(from: string | null, to: string | null): Promise<FaultCountRow[]> {
    return (await this.dataSource.query(
      `SELECT model, firmware, code, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS count
         FROM fault_reports
        WHERE ($1::date IS NULL OR occurred_at >= ($1::date)::timestamp AT TIME ZONE 'UTC')
          AND ($2::date IS NULL OR occurred_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC')
        GROUP BY 1, 2, 3, 4
        ORDER BY 4, 1, 2, 3`,
      [from, to],
    )) as FaultCountRow[];
  }

  /** Every report linked to this owner becomes de-identified (their `fault_diagnostics` ended). */
  async deidentifyOwnedBy(manager: EntityManager, ownerId: string): Promise<void> {
    await manager.query(`UPDATE fault_reports SET ${DEIDENTIFY_SET} WHERE owner_id = $1`, [ownerId]);
  }

  /** A full report that lost its owner link (retention) becomes de-identified. */
  async deidentifyUnlinked(manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE fault_reports SET ${DEIDENTIFY_SET} WHERE stored = 'full' AND owner_id IS NULL`);
  }
}
