import { Injectable } from '@nestjs/common';
import { DeviceFirmwareRepository } from '#libs/devices';
import { Clock } from '#libs/identity';
import type { StatusPayload } from '#libs/mqtt-contract';
import { AdvanceCampaign } from './advance-campaign.use-case.js';
import { JobDelivery } from './job-delivery.js';
import { JobRepository } from './job.repository.js';

export type StatusOutcome = 'no_firmware' | 'recorded' | 'job_succeeded';

/**
 * A device's status report: the registry's firmware follows what it says, and
 * a job of this device for exactly that version succeeds. This is the only
 * way a job succeeds: a device that "installed" but came back on its old
 * version is not counted as updated; its job notes the version it reported
 * and stays as it was until it fails or times out.
 */
@Injectable()
export class SettleOnStatus {
  constructor(
    private readonly devices: DeviceFirmwareRepository,
    private readonly jobs: JobRepository,
    private readonly delivery: JobDelivery,
    private readonly advance: AdvanceCampaign,
    private readonly clock: Clock,
  ) {}

  async execute(sn: string, status: StatusPayload): Promise<StatusOutcome> {
    if (status.firmware === undefined) return 'no_firmware';
    await this.devices.recordReportedFirmware(sn, status.firmware);
    const settled = await this.jobs.settleOnReport(sn, status.firmware, this.clock.now());
    if (!settled?.succeeded) return 'recorded';
    await this.delivery.withdraw([sn]);
    await this.advance.execute(settled.campaignId);
    return 'job_succeeded';
  }
}
