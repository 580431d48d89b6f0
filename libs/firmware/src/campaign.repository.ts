import { Injectable } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { CampaignEntity } from './campaign.entity.js';
import type { CampaignStatus, PauseReason } from './campaign-rules.js';

export type NewCampaign = Omit<CampaignEntity, 'createdAt' | 'updatedAt' | 'endedAt' | 'pauseReason' | 'status' | 'step'>;

@Injectable()
export class CampaignRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(campaign: NewCampaign, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `INSERT INTO firmware_campaigns
         (id, firmware_id, status, steps, step, targeted, failure_threshold, job_timeout_seconds, allow_downgrade, from_versions, created_by)
       VALUES ($1, $2, 'running', $3, 1, $4, $5, $6, $7, $8, $9)`,
      [
        campaign.id,
        campaign.firmwareId,
        campaign.steps,
        campaign.targeted,
        campaign.failureThreshold,
        campaign.jobTimeoutSeconds,
        campaign.allowDowngrade,
        campaign.fromVersions,
        campaign.createdBy,
      ],
    );
  }

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<CampaignEntity | null> {
    return manager.getRepository(CampaignEntity).findOneBy({ id });
  }

  /** The campaign, locked until the caller's transaction ends: one writer at a time decides its next move. */
  lock(id: string, manager: EntityManager): Promise<CampaignEntity | null> {
    return manager.getRepository(CampaignEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Newest first. */
  list(limit: number, statuses?: CampaignStatus[], manager: EntityManager = this.dataSource.manager): Promise<CampaignEntity[]> {
    return manager
      .getRepository(CampaignEntity)
      .find({ where: statuses ? { status: In(statuses) } : {}, order: { createdAt: 'DESC' }, take: limit });
  }

  async setTargeted(id: string, targeted: number, manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE firmware_campaigns SET targeted = $2, updated_at = now() WHERE id = $1`, [id, targeted]);
  }

  async setStatus(id: string, status: CampaignStatus, pauseReason: PauseReason | null, at: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE firmware_campaigns
          SET status = $2::varchar, pause_reason = $3::varchar, updated_at = $4::timestamptz,
              ended_at = CASE WHEN $2::varchar IN ('completed', 'cancelled') THEN $4::timestamptz ELSE NULL END
        WHERE id = $1`,
      [id, status, pauseReason, at],
    );
  }

  async setStep(id: string, step: number, at: Date, manager: EntityManager): Promise<void> {
    await manager.query(`UPDATE firmware_campaigns SET step = $2, updated_at = $3 WHERE id = $1`, [id, step, at]);
  }
}
