import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export interface PolicyRow {
  version: string;
  effective_at: Date;
  summary: string;
}

/** policy_versions: announced privacy policies, never rewritten. */
@Injectable()
export class PolicyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async all(): Promise<PolicyRow[]> {
    return (await this.dataSource.query('SELECT version, effective_at, summary FROM policy_versions ORDER BY effective_at')) as PolicyRow[];
  }

  /** The version whose effective date is the latest one not after `now`. */
  async versionAt(now: Date, manager: EntityManager = this.dataSource.manager): Promise<string | undefined> {
    const [row] = (await manager.query('SELECT version FROM policy_versions WHERE effective_at <= $1 ORDER BY effective_at DESC LIMIT 1', [
      now,
    ])) as Array<{ version: string }>;
    return row?.version;
  }

  /** Inserts a version unless one of that name exists; answers the row, or undefined when it existed. */
  async insertNew(row: PolicyRow): Promise<PolicyRow | undefined> {
    const rows = (await this.dataSource.query(
      `INSERT INTO policy_versions (version, effective_at, summary) VALUES ($1, $2, $3)
       ON CONFLICT (version) DO NOTHING RETURNING version, effective_at, summary`,
      [row.version, row.effective_at, row.summary],
    )) as PolicyRow[];
    return rows[0];
  }
}
