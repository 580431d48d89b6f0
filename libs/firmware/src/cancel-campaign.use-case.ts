import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { DomainError } from '#libs/platform';
import { CampaignRepository } from './campaign.repository.js';
import { FindCampaigns, type CampaignDetails } from './find-campaigns.use-case.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository } from './job.repository.js';

/**
 * Stops the campaign for good: every job not yet started (pending, or sent
 * with no word from the device yet) is withdrawn and its retained job
 * cleared, so its URL stops working. A device already downloading or
 * installing finishes (or fails, or times out) as it would have.
 */
@Injectable()
export class CancelCampaign {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly jobs: JobRepository,
    private readonly delivery: JobDelivery,
    private readonly find: FindCampaigns,
    private readonly clock: Clock,
  ) {}

  async execute(id: string): Promise<CampaignDetails> {
    const withdrawn = await this.dataSource.transaction(async (manager) => {
      const campaign = await this.campaigns.lock(id, manager);
      if (!campaign) throw new DomainError('NOT_FOUND', 'No campaign with this id');
      if (campaign.status === 'completed') throw new DomainError('CONFLICT', 'The campaign is completed; there is nothing to cancel');
      if (campaign.status === 'cancelled') return [];
      const now = this.clock.now();
      await this.campaigns.setStatus(id, 'cancelled', null, now, manager);
      const jobs = await this.jobs.withdrawUnstarted(id, now, manager);
      await this.jobs.releaseEnded(id, now, manager);
      return jobs;
    });
    await this.delivery.withdraw(withdrawn.filter((job) => job.wasNotified).map((job) => job.sn));
    return this.find.one(id);
  }
}
