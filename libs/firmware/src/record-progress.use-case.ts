import { Injectable } from '@nestjs/common';
import type { OtaProgressPayload } from '#libs/mqtt-contract';
import { Clock } from '#libs/identity';
import { AdvanceCampaign } from './advance-campaign.use-case.js';
import { progressFrom } from './campaign-rules.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository } from './job.repository.js';

export type ProgressOutcome = 'recorded' | 'ignored';

/**
 * A device's report on its own job: downloading, installing (with a
 * percentage) or failed. A report for a job that is not this device's, or
 * that has ended, or that would move it backwards, changes nothing. A failure
 * ends the job: its retained job is cleared and the campaign looks at its step.
 */
@Injectable()
export class RecordProgress {
  constructor(
    private readonly jobs: JobRepository,
    private readonly delivery: JobDelivery,
    private readonly advance: AdvanceCampaign,
    private readonly clock: Clock,
  ) {}

  async execute(sn: string, report: OtaProgressPayload): Promise<ProgressOutcome> {
    const changed = await this.jobs.recordProgress(sn, report.jobId, report, progressFrom(report.state), this.clock.now());
    if (!changed) return 'ignored';
    if (report.state === 'failed') {
      await this.delivery.withdraw([sn]);
      await this.advance.execute(changed.campaignId);
    }
    return 'recorded';
  }
}
