import { Injectable } from '@nestjs/common';
import { DomainError } from '#libs/platform';
import type { CampaignEntity } from './campaign.entity.js';
import type { CampaignStatus, JobCounts } from './campaign-rules.js';
import { CampaignRepository } from './campaign.repository.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';
import type { JobEntity } from './job.entity.js';
import { JobRepository, type JobListFilter } from './job.repository.js';

export interface CampaignDetails {
  campaign: CampaignEntity;
  image: { model: string; version: string } | null;
  counts: JobCounts;
}

/** What admins read of campaigns: each with its image and its jobs counted by state. */
@Injectable()
export class FindCampaigns {
  constructor(
    private readonly campaigns: CampaignRepository,
    private readonly jobRepository: JobRepository,
    private readonly images: FirmwareImageRepository,
  ) {}

  async one(id: string): Promise<CampaignDetails> {
    const campaign = await this.campaigns.findById(id);
    if (!campaign) throw new DomainError('NOT_FOUND', 'No campaign with this id');
    const [details] = await this.withCounts([campaign]);
    return details;
  }

  /** Newest first. */
  async list(limit: number, status?: CampaignStatus): Promise<CampaignDetails[]> {
    return this.withCounts(await this.campaigns.list(limit, status ? [status] : undefined));
  }

  async jobs(id: string, filter: JobListFilter): Promise<JobEntity[]> {
    if (!(await this.campaigns.findById(id))) throw new DomainError('NOT_FOUND', 'No campaign with this id');
    return this.jobRepository.list(id, filter);
  }

  private async withCounts(campaigns: CampaignEntity[]): Promise<CampaignDetails[]> {
    if (campaigns.length === 0) return [];
    const counts = await this.jobRepository.countByCampaign(campaigns.map((campaign) => campaign.id));
    const images = new Map<string, { model: string; version: string } | null>();
    for (const firmwareId of new Set(campaigns.map((campaign) => campaign.firmwareId))) {
      const image = await this.images.findById(firmwareId);
      images.set(firmwareId, image && { model: image.model, version: image.version });
    }
    return campaigns.map((campaign) => ({ campaign, image: images.get(campaign.firmwareId) ?? null, counts: counts.get(campaign.id)! }));
  }
}
