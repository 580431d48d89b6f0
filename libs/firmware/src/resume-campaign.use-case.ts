import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { AdvanceCampaign } from './advance-campaign.use-case.js';
import { CampaignRepository } from './campaign.repository.js';
import { FindCampaigns, type CampaignDetails } from './find-campaigns.use-case.js';

/**
 * Running again. If the current step has already ended, the next one starts
 * now; when the campaign had paused for that step's failures, resuming is the
 * admin's decision to go on despite them.
 */
@Injectable()
export class ResumeCampaign {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly advance: AdvanceCampaign,
    private readonly find: FindCampaigns,
    private readonly clock: Clock,
  ) {}

  async execute(id: string): Promise<CampaignDetails> {
    const pausedForFailures = await this.dataSource.transaction(async (manager) => {
      const campaign = await this.campaigns.lock(id, manager);
      if (!campaign) throw new DomainError('NOT_FOUND', 'No campaign with this id');
      if (campaign.status === 'completed' || campaign.status === 'cancelled') {
        throw new DomainError('CONFLICT', `The campaign is ${campaign.status}; it cannot be resumed`);
      }
      if (campaign.status === 'running') return false;
      await this.campaigns.setStatus(id, 'running', null, this.clock.now(), manager);
      return campaign.pauseReason === 'failureThreshold';
    });
    await this.advance.execute(id, { thresholdWaived: pausedForFailures });
    return this.find.one(id);
  }
}
