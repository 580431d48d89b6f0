import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DeviceAccess } from '#libs/devices';
import { DomainError } from '#libs/platform';
import { FAULT_PAGE_DEFAULT } from './dto.js';
import { FaultReportEntity } from './fault-report.entity.js';
import { toFaultReportView, type FaultReportView } from './views.js';

export interface FaultPage {
  items: FaultReportView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface CountRow {
  count: number;
}

export interface FaultStats {
  total: number;
  byModel: Array<{ model: string } & CountRow>;
  byFirmware: Array<{ firmware: string | null } & CountRow>;
  byCode: Array<{ code: string } & CountRow>;
  byDay: Array<{ day: string } & CountRow>;
  /** Every combination of the four, for a pivot table. */
  rows: Array<{ model: string; firmware: string | null; code: string; day: string } & CountRow>;
}

/** Reading fault reports: a device's own list for its people, and statistics for the maker. */
@Injectable()
export class FaultReportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: DeviceAccess,
  ) {}

  /**
   * The device's reports kept in full for its current owner, newest first,
   * for the owner and the members; anyone else is refused the same way
   * whether or not the device exists. De-identified reports carry no SN, so
   * they belong to no device and never show here.
   */
  async listForDevice(userId: string, sn: string, page: { limit?: number; before?: string }): Promise<FaultPage> {
    const role = await this.access.roleOf(userId, sn);
    const ownerId = role ? await this.access.ownerOf(sn) : null;
    if (!role || !ownerId) throw new DomainError('FORBIDDEN', "Only the device's owner and members see its fault reports");
    const limit = page.limit ?? FAULT_PAGE_DEFAULT;
    const cursor = page.before ? decodeCursor(page.before) : undefined;
    const query = this.dataSource
      .getRepository(FaultReportEntity)
      .createQueryBuilder('report')
      .where('report.sn = :sn AND report.ownerId = :ownerId', { sn, ownerId })
      .orderBy('report.occurredAt', 'DESC')
      .addOrderBy('report.reportId', 'DESC')
      .limit(limit + 1);
    if (cursor) query.andWhere('(report.occurredAt, report.reportId) < (:at, :id)', { at: cursor.at, id: cursor.id });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(toFaultReportView), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Counts by model, firmware, code and day (UTC) over full and de-identified reports alike; no SN, MAC or person. */
  async stats(range: { from?: string; to?: string }): Promise<FaultStats> {
    const rows = (await this.dataSource.query(
      `SELECT model, firmware, code, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS count
         FROM fault_reports
        WHERE ($1::date IS NULL OR occurred_at >= ($1::date)::timestamp AT TIME ZONE 'UTC')
          AND ($2::date IS NULL OR occurred_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC')
        GROUP BY 1, 2, 3, 4
        ORDER BY 4, 1, 2, 3`,
      [range.from ?? null, range.to ?? null],
    )) as FaultStats['rows'];
    const countBy = <K extends 'model' | 'firmware' | 'code' | 'day'>(
      key: K,
    ): Array<Record<K, FaultStats['rows'][number][K]> & CountRow> => {
      const counts = new Map<FaultStats['rows'][number][K], number>();
      for (const row of rows) counts.set(row[key], (counts.get(row[key]) ?? 0) + row.count);
      return [...counts.entries()].map(
        ([value, count]) => ({ [key]: value, count }) as unknown as Record<K, FaultStats['rows'][number][K]> & CountRow,
      );
    };
    const byCount = <T extends CountRow>(list: T[]) => list.sort((a, b) => b.count - a.count);
    return {
      total: rows.reduce((sum, row) => sum + row.count, 0),
      byModel: byCount(countBy('model')),
      byFirmware: byCount(countBy('firmware')),
      byCode: byCount(countBy('code')),
      byDay: countBy('day'),
      rows,
    };
  }
}

function encodeCursor(report: FaultReportEntity): string {
  return Buffer.from(JSON.stringify([report.occurredAt.toISOString(), report.reportId])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const when = typeof at === 'string' ? new Date(at) : new Date(Number.NaN);
    if (typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) && !Number.isNaN(when.getTime())) return { at: when, id };
  } catch {
    // fall through
  }
  throw new DomainError('VALIDATION_FAILED', 'before must be the X-Next-Cursor of a previous page');
}
