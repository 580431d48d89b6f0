import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { stepOutcome } from './campaign-rules.js';
import { CampaignRepository } from './campaign.repository.js';
import { FirmwareImageRepository } from './firmware-image.repository.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository, type JobAddress } from './job.repository.js';

export interface AdvanceOptions {
  /** An admin resumed a campaign paused for its failures: its current step goes on whatever its share. */
  thresholdWaived?: boolean;
}

/**
 * Called whenever a job of a campaign ends (and on resume): when every job of
 * the current step has ended, the campaign completes (and frees its devices)
 * if it was the last; otherwise it pauses if the step's failed and timed-out
 * share is above its threshold, else the next step starts. Replicas may call it at once for
 * the same campaign: the campaign row is locked while one of them decides.
 */
@Injectable()
export class AdvanceCampaign {
  constructor(
    private readonly dataSource: DataSource,
    private readonly campaigns: CampaignRepository,
    private readonly jobs: JobRepository,
    private readonly images: FirmwareImageRepository,
    private readonly delivery: JobDelivery,
    private readonly clock: Clock,
  ) {}

  async execute(campaignId: string, options: AdvanceOptions = {}): Promise<void> {
    // Most calls come from a job ending while others of its step still run: two cheap reads, no lock.
    const seen = await this.campaigns.findById(campaignId);
    if (!seen) return;
    if (seen.status === 'completed' || seen.status === 'cancelled') {
      await this.jobs.releaseEnded(campaignId, this.clock.now());
      return;
    }
    if (seen.status !== 'running' || (await this.jobs.stepHasUnended(campaignId, seen.step))) return;

    const started = await this.dataSource.transaction(async (manager) => {
      const campaign = await this.campaigns.lock(campaignId, manager);
      if (!campaign || campaign.status !== 'running') return null;
      const now = this.clock.now();
      const counts = await this.jobs.countStep(campaignId, campaign.step, manager);
      const outcome = stepOutcome(counts, campaign.failureThreshold, options.thresholdWaived ?? false);
      if (outcome === 'wait') return null;
      const next = await this.jobs.nextPendingStep(campaignId, campaign.step, manager);
      // After the last step there is nothing left to hold back: the campaign is over, whatever its failures.
      if (next === null) {
        await this.campaigns.setStatus(campaignId, 'completed', null, now, manager);
        await this.jobs.releaseEnded(campaignId, now, manager);
        return null;
      }
      if (outcome === 'pause') {
        await this.campaigns.setStatus(campaignId, 'paused', 'failureThreshold', now, manager);
        return null;
      }
      await this.campaigns.setStep(campaignId, next, now, manager);
      const deadline = new Date(now.getTime() + campaign.jobTimeoutSeconds * 1000);
      const notified: JobAddress[] = await this.jobs.notifyStep(campaignId, next, now, deadline, manager);
      return { notified, firmwareId: campaign.firmwareId };
    });
    if (!started) return;
    const image = await this.images.findById(started.firmwareId);
    if (image) await this.delivery.deliver(started.notified, image);
  }
}
