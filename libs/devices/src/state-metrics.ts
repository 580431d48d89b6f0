import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { ServiceMetrics } from '#libs/platform';
import { REPORT_IGNORE_REASONS, type ReportIgnoreReason } from './desired-state.js';

/**
 * State reports' counters, served by provisioning at GET /metrics (they join
 * the app's ServiceMetrics registry; a registry of their own where no app
 * serves metrics).
 */
@Injectable()
export class StateMetrics {
  readonly registry: Registry;
  readonly reports: Counter;
  readonly ignored: Counter<'reason'>;
  readonly settled: Counter<'status'>;

  constructor(@Optional() @Inject(ServiceMetrics) service?: ServiceMetrics) {
    this.registry = service?.registry ?? new Registry();
    this.reports = new Counter({
      name: 'state_reports_total',
      help: 'devices/<sn>/state/reported messages received',
      registers: [this.registry],
    });
    this.ignored = new Counter({
      name: 'state_report_points_ignored_total',
      help: 'Points of state reports ignored (nothing changed for them), by reason: unknown_point, wrong_type, out_of_range',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.settled = new Counter({
      name: 'state_desired_settled_total',
      help: 'Control requests settled, by status: applied, rejected, expired',
      labelNames: ['status'],
      registers: [this.registry],
    });
    for (const reason of REPORT_IGNORE_REASONS) this.ignored.inc({ reason }, 0);
    for (const status of ['applied', 'rejected', 'expired']) this.settled.inc({ status }, 0);
  }

  countIgnored(ignored: Partial<Record<ReportIgnoreReason, number>>): void {
    for (const [reason, count] of Object.entries(ignored)) if (count) this.ignored.inc({ reason }, count);
  }
}
