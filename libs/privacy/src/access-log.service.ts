import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { AccessLogRepository } from './access-log.repository.js';
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
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly log: AccessLogRepository,
  ) {}

  /** Call it in the same transaction as the read, so a read is never served unlogged. */
  async record(entry: AccessRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await this.log.insert(manager, {
      subject_id: entry.subjectId,
      actor_id: entry.actorId,
      actor_role: entry.actorRole,
      what: entry.what,
      purpose: entry.purpose,
    });
  }

  async list(subjectId: string, manager?: EntityManager): Promise<AccessLogEntry[]> {
    const rows = await this.log.listOf(subjectId, manager);
    return rows.map((row) => ({
      at: row.at.toISOString(),
      actorRole: row.actor_role,
      actorId: row.actor_id,
      what: row.what,
      purpose: row.purpose,
    }));
  }
}
