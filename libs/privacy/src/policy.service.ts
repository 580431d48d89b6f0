import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '#libs/platform';

export interface PolicyVersionView {
  version: string;
  effectiveAt: string;
  summary: string;
}

export interface PolicyOverview {
  current: PolicyVersionView;
  upcoming: PolicyVersionView[];
}

/** The statement announces changes 30 days ahead; a shorter notice is refused. */
export const POLICY_NOTICE_DAYS = 30;

interface PolicyRow {
  version: string;
  effective_at: Date;
  summary: string;
}

const toView = (row: PolicyRow): PolicyVersionView => ({
  version: row.version,
  effectiveAt: row.effective_at.toISOString(),
  summary: row.summary,
});

@Injectable()
export class PolicyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async overview(now = new Date()): Promise<PolicyOverview> {
    const rows = (await this.dataSource.query(
      'SELECT version, effective_at, summary FROM policy_versions ORDER BY effective_at',
    )) as PolicyRow[];
    const inForce = rows.filter((row) => row.effective_at.getTime() <= now.getTime());
    if (inForce.length === 0) throw new DomainError('UNAVAILABLE', 'No privacy policy is in force');
    return {
      current: toView(inForce[inForce.length - 1]),
      upcoming: rows.filter((row) => row.effective_at.getTime() > now.getTime()).map(toView),
    };
  }

  /** The version consents given now are given under. */
  async versionInForce(manager: EntityManager = this.dataSource.manager, now = new Date()): Promise<string> {
    const [row] = (await manager.query('SELECT version FROM policy_versions WHERE effective_at <= $1 ORDER BY effective_at DESC LIMIT 1', [
      now,
    ])) as Array<{ version: string }>;
    if (!row) throw new DomainError('UNAVAILABLE', 'No privacy policy is in force');
    return row.version;
  }

  async publish(input: { version: string; effectiveAt: Date; summary: string }, now = new Date()): Promise<PolicyVersionView> {
    const earliest = new Date(now.getTime() + POLICY_NOTICE_DAYS * 24 * 3600 * 1000);
    if (Number.isNaN(input.effectiveAt.getTime()) || input.effectiveAt.getTime() < earliest.getTime()) {
      throw new DomainError(
        'POLICY_NOTICE_TOO_SHORT',
        `A new policy needs ${POLICY_NOTICE_DAYS} days' notice: effectiveAt must be on or after ${earliest.toISOString()}`,
      );
    }
    const rows = (await this.dataSource.query(
      `INSERT INTO policy_versions (version, effective_at, summary) VALUES ($1, $2, $3)
       ON CONFLICT (version) DO NOTHING RETURNING version, effective_at, summary`,
      [input.version, input.effectiveAt, input.summary],
    )) as PolicyRow[];
    if (rows.length === 0)
      throw new DomainError('CONFLICT', `Policy version ${input.version} already exists; versions are never rewritten`);
    return toView(rows[0]);
  }
}
