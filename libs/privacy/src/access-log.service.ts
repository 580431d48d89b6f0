import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { Purpose } from './purposes.js';

export interface AccessRecord {
  /** Whose data was read. */
  subjectId: string;
  actorId: string;
  actorRole: 'technician' | 'admin';
  /** What was read, in words the person understands, e.g. "repair 5f2c…: contact and fault reports". */
  what: string;
  purpose: Purpose;
}

export interface AccessLogEntry {
  at: string;
  actorRole: string;
  actorId: string;
  what: string;
  purpose: string;
}

/** Every read of a person's data by staff; the person sees it at GET /v1/me/access-log. */
@Injectable()
export class AccessLogService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Call it in the same transaction as the read, so a read is never served unlogged. */
  async record(entry: AccessRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query('INSERT INTO access_log (subject_id, actor_id, actor_role, what, purpose) VALUES ($1, $2, $3, $4, $5)', [
      entry.subjectId,
      entry.actorId,
      entry.actorRole,
      entry.what,
      entry.purpose,
    ]);
  }

  async list(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<AccessLogEntry[]> {
    const rows = (await manager.query(
      'SELECT at, actor_role, actor_id, what, purpose FROM access_log WHERE subject_id = $1 ORDER BY at, id',
      [subjectId],
    )) as Array<{ at: Date; actor_role: string; actor_id: string; what: string; purpose: string }>;
    return rows.map((row) => ({
      at: row.at.toISOString(),
      actorRole: row.actor_role,
      actorId: row.actor_id,
      what: row.what,
      purpose: row.purpose,
    }));
  }
}
