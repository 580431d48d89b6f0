import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '#libs/config';
import { Clock } from '#libs/identity';
import { PeriodicTask } from '#libs/platform';
import { DesiredStateNotifier } from './desired-state.notifier.js';
import { DesiredStateRepository } from './desired-state.repository.js';
import { StateMetrics } from './state-metrics.js';

const EXPIRE_BATCH = 200;

/**
 * Control requests past their deadline become `expired` and the device's
 * retained desired message is cleared. Safe on any number of replicas: each
 * device's version row is taken FOR UPDATE SKIP LOCKED, so one replica
 * sweeps it while the others pass over it, and a request or report of that
 * device waits for the sweep (and the sweep for them).
 */
@Injectable()
export class ExpireDesiredState {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly desired: DesiredStateRepository,
    private readonly notifier: DesiredStateNotifier,
    private readonly metrics: StateMetrics,
    private readonly clock: Clock,
  ) {}

  /** Answers how many devices had requests expire. */
  async execute(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const swept = await this.dataSource.transaction(async (manager) => {
        const sns = await this.desired.lockExpiredDevices(manager, now, EXPIRE_BATCH);
        if (sns.length === 0) return 0;
        const expired = await this.desired.expire(manager, sns, now);
        this.metrics.settled.inc({ status: 'expired' }, expired);
        for (const sn of sns) if (!(await this.desired.newestPending(manager, sn))) await this.notifier.clear(sn);
        return sns.length;
      });
      total += swept;
      if (swept < EXPIRE_BATCH) return total;
    }
  }
}

/** Runs the expiry every state.sweepIntervalMs on this replica; runs never overlap. */
@Injectable()
export class DesiredStateSweep extends PeriodicTask {
  constructor(
    private readonly expire: ExpireDesiredState,
    private readonly config: AppConfig,
  ) {
    super('desired state sweep');
  }

  protected get intervalMs(): number {
    return this.config.state.sweepIntervalMs;
  }

  protected async work(): Promise<void> {
    const devices = await this.expire.execute();
    if (devices > 0) this.logger.log(`control requests expired on ${devices} device(s)`);
  }
}
