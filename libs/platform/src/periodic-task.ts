import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

/**
 * Work a replica runs every `intervalMs` (a sweep of expired rows, say): runs
 * never overlap, a failed run is logged and the next one retries, and the
 * app's shutdown waits for a run in progress. The work itself must be safe
 * with several replicas running it at once (SKIP LOCKED and the like).
 */
export abstract class PeriodicTask implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  protected constructor(private readonly what: string) {
    this.logger = new Logger(what);
  }

  protected abstract get intervalMs(): number;
  protected abstract work(): Promise<void>;

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(): Promise<void> {
    this.running ??= this.work()
      .catch((error: unknown) => this.logger.warn(`${this.what} failed, next run retries: ${String(error)}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
