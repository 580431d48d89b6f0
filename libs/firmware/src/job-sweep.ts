import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { TimeOutJobs } from './time-out-jobs.use-case.js';

/** Runs the job sweep every firmware.sweepIntervalMs on this replica; runs never overlap. */
@Injectable()
export class JobSweep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('FirmwareJobSweep');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly timeOutJobs: TimeOutJobs,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.firmware.sweepIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.timeOutJobs
      .execute()
      .then((result) => {
        if (result.timedOut || result.redelivered) this.logger.log(`jobs timed out: ${result.timedOut}, sent again: ${result.redelivered}`);
      })
      .catch((error: unknown) => this.logger.warn(`firmware job sweep failed, next run retries: ${String(error)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
