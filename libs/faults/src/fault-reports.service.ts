import { Injectable } from '@nestjs/common';
import { DeviceAccess } from '#libs/devices';
import { DomainError } from '#libs/platform';
import { FAULT_PAGE_DEFAULT } from './dto.js';
import type { FaultReportEntity } from './fault-report.entity.js';
import { FaultReportRepository } from './fault-report.repository.js';
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
    private readonly access: DeviceAccess,
    private readonly reports: FaultReportRepository,
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
    const rows = await this.reports.pageOf(sn, ownerId, limit + 1, cursor);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(toFaultReportView), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Counts by model, firmware, code and day (UTC) over full and de-identified reports alike; no SN, MAC or person. */
  async stats(range: { from?: string; to?: string }): Promise<FaultStats> {
    const rows: FaultStats['rows'] = await this.reports.countsBetween(range.from ?? null, range.to ?? null);
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
