import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface AccessLogRow {
  subject_id: string;
  actor_id: string;
  actor_role: string;
  what: string;
  purpose: string;
  at: Date;
}

/** access_log: staff reads of a person's data. */
@Injectable()
export class AccessLogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, row: Omit<AccessLogRow, 'at'>): Promise<void> {
    await manager.query('INSERT INTO access_log (subject_id, actor_id, actor_role, what, purpose) VALUES ($1, $2, $3, $4, $5)', [
      row.subject_id,
      row.actor_id,
      row.actor_role,
      row.what,
      row.purpose,
    ]);
  }

  async listOf(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<AccessLogRow[]> {
    return (await manager.query(
      'SELECT subject_id, actor_id, actor_role, what, purpose, at FROM access_log WHERE subject_id = $1 ORDER BY at, id',
      [subjectId],
    )) as AccessLogRow[];
  }

  async deleteOf(manager: EntityManager, subjectId: string): Promise<void> {
    await manager.query('DELETE FROM access_log WHERE subject_id = $1', [subjectId]);
  }
}
