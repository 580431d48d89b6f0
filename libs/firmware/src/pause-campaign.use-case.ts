import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { CampaignRepository } from './campaign.repository.js';
import { FindCampaigns, type CampaignDetails } from './find-campaigns.use-case.js';

/** No further step starts until it is resumed; jobs already sent go on to their end. Pausing a paused campaign changes nothing. */
@Injectable()
export class PauseCampaign {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly find: FindCampaigns,
    private readonly clock: Clock,
  ) {}

  async execute(id: string): Promise<CampaignDetails> {
    await this.dataSource.transaction(async (manager) => {
      const campaign = await this.campaigns.lock(id, manager);
      if (!campaign) throw new DomainError('NOT_FOUND', 'No campaign with this id');
      if (campaign.status === 'completed' || campaign.status === 'cancelled') {
        throw new DomainError('CONFLICT', `The campaign is ${campaign.status}; it cannot be paused`);
      }
      if (campaign.status === 'running') await this.campaigns.setStatus(id, 'paused', 'admin', this.clock.now(), manager);
    });
    return this.find.one(id);
  }
}
