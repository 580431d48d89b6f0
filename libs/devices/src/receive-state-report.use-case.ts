import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { Clock } from '#libs/identity';
import { decodePayload, StateReportedPayload } from '#libs/mqtt-contract';
import { judgeReportedValues, settlementOf } from './desired-state.js';
import { DesiredStateNotifier } from './desired-state.notifier.js';
import { DesiredStateRepository } from './desired-state.repository.js';
import { ModelCatalog } from './model-catalog.js';
import { ReportedState } from './reported-state.js';
import { StateMetrics } from './state-metrics.js';

export type StateReportReceipt =
  | { outcome: 'handled'; kept: number; ignored: number; settled: number }
  | { outcome: 'refused'; reason: 'malformed' | 'unknown_device'; detail: string };

/**
 * `devices/<sn>/state/reported`: the values the model accepts merge into
 * `reported` (an unknown point or a wrong value changes nothing for that
 * point, and is counted by reason); `version` settles the pending requests
 * up to it as applied, `rejected` as rejected. Settling happens under the
 * device's version row lock, and when nothing is left pending the retained
 * desired message is cleared under the same lock, all in one transaction.
 */
@Injectable()
export class ReceiveStateReport {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly catalog: ModelCatalog,
    private readonly reported: ReportedState,
    private readonly desired: DesiredStateRepository,
    private readonly notifier: DesiredStateNotifier,
    private readonly metrics: StateMetrics,
    private readonly clock: Clock,
  ) {}

  async execute(sn: string, payload: Buffer): Promise<StateReportReceipt> {
    this.metrics.reports.inc();
    const decoded = decodePayload(StateReportedPayload, payload);
    if (!decoded.ok) return { outcome: 'refused', reason: 'malformed', detail: decoded.reason };
    const device = await this.catalog.definitionOfDevice(sn);
    if (!device) return { outcome: 'refused', reason: 'unknown_device', detail: 'unknown device' };
    const { accepted, ignored } = judgeReportedValues(device.definition, decoded.value.values);
    this.metrics.countIgnored(ignored);
    const settlement = settlementOf(decoded.value);
    const now = this.clock.now();
    const settled = await this.dataSource.transaction(async (manager) => {
      const entries = Object.entries(accepted);
      if (entries.length > 0) {
        await this.reported.merge(sn, Object.fromEntries(entries.map(([point, value]) => [point, { value, at: now }])), manager);
      }
      if (!settlement || !(await this.desired.lockDevice(manager, sn))) return 0;
      const count =
        settlement.status === 'applied'
          ? await this.desired.settle(manager, sn, settlement.upTo, 'applied', now)
          : await this.desired.settle(manager, sn, settlement.upTo, 'rejected', now, settlement.reasons);
      if (count > 0) {
        this.metrics.settled.inc({ status: settlement.status }, count);
        if (!(await this.desired.newestPending(manager, sn))) await this.notifier.clear(sn);
      }
      return count;
    });
    const ignoredCount = Object.values(ignored).reduce((sum, count) => sum + (count ?? 0), 0);
    return { outcome: 'handled', kept: Object.keys(accepted).length, ignored: ignoredCount, settled };
  }
}
