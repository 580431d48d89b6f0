import { Injectable } from '@nestjs/common';
import { Clock } from '#libs/identity';
import { AdvanceCampaign } from './advance-campaign.use-case.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository } from './job.repository.js';

/** Notified jobs whose message has not reached the broker after this long are sent again. */
export const REDELIVER_AFTER_MS = 30_000;
const REDELIVER_BATCH = 1000;

export interface SweepResult {
  timedOut: number;
  redelivered: number;
  released: number;
}

/**
 * The periodic sweep, safe on any number of replicas at once: jobs past their
 * deadline become timedOut in one UPDATE (each row goes to exactly one
 * replica), their retained job is cleared and their campaigns move on; jobs
 * whose message was lost are claimed with SKIP LOCKED and sent again; devices
 * of campaigns that are over are freed.
 */
@Injectable()
export class TimeOutJobs {
  constructor(
    private readonly jobs: JobRepository,
    private readonly delivery: JobDelivery,
    private readonly advance: AdvanceCampaign,
    private readonly clock: Clock,
  ) {}

  async execute(): Promise<SweepResult> {
    const now = this.clock.now();
    const timedOut = await this.jobs.timeOut(now);
    await this.delivery.withdraw(timedOut.map((job) => job.sn));
    for (const campaignId of new Set(timedOut.map((job) => job.campaignId))) await this.advance.execute(campaignId);
    const lost = await this.jobs.claimUnpublished(new Date(now.getTime() - REDELIVER_AFTER_MS), REDELIVER_BATCH);
    const redelivered = await this.delivery.redeliver(lost);
    const released = await this.jobs.releaseEndedOfClosedCampaigns(now);
    return { timedOut: timedOut.length, redelivered, released };
  }
}
