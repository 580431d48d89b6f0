import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** processing_restrictions: one flag per person, set by POST /v1/me/restriction. */
@Injectable()
export class RestrictionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async set(manager: EntityManager, subjectId: string, restricted: boolean): Promise<void> {
    await manager.query(
      `INSERT INTO processing_restrictions (subject_id, restricted, changed_at) VALUES ($1, $2, now())
       ON CONFLICT (subject_id) DO UPDATE SET restricted = EXCLUDED.restricted, changed_at = EXCLUDED.changed_at`,
      [subjectId, restricted],
    );
  }

  async isRestricted(subjectId: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    const [row] = (await manager.query('SELECT restricted FROM processing_restrictions WHERE subject_id = $1', [subjectId])) as Array<{
      restricted: boolean;
    }>;
    return row?.restricted ?? false;
  }

  async deleteOf(manager: EntityManager, subjectId: string): Promise<void> {
    await manager.query('DELETE FROM processing_restrictions WHERE subject_id = $1', [subjectId]);
  }
}
