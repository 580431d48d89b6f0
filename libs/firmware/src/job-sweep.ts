import { Injectable } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { PeriodicTask } from '#libs/platform';
import { TimeOutJobs } from './time-out-jobs.use-case.js';

/** Runs the job sweep every firmware.sweepIntervalMs on this replica; runs never overlap. */
@Injectable()
export class JobSweep extends PeriodicTask {
  constructor(
    private readonly timeOutJobs: TimeOutJobs,
    private readonly config: AppConfig,
  ) {
    super('firmware job sweep');
  }

  protected get intervalMs(): number {
    return this.config.firmware.sweepIntervalMs;
  }

  protected async work(): Promise<void> {
    const result = await this.timeOutJobs.execute();
    if (result.timedOut || result.redelivered) this.logger.log(`jobs timed out: ${result.timedOut}, sent again: ${result.redelivered}`);
  }
}
