import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { ReceiveStateReport } from '#libs/devices';
import { topicPatterns } from '#libs/mqtt-contract';
import { OrderedByKey, readDeviceMessage, ServiceMetrics } from '#libs/platform';

/**
 * devices/+/state/reported (QoS 1; the PUBACK waits for the commit): values
 * merge into `reported`, `version` / `rejected` settle the pending request.
 * Reports of one device are handled one after another in arrival order.
 * Bad input is counted in /metrics (points ignored by reason in
 * state_report_points_ignored_total; a message refused whole in
 * mqtt_messages_refused_total), never thrown.
 */
@Controller()
export class StateHandler {
  private readonly logger = new Logger('StateHandler');
  private readonly ordered = new OrderedByKey();

  constructor(
    private readonly reports: ReceiveStateReport,
    private readonly metrics: ServiceMetrics,
  ) {}

  @EventPattern(topicPatterns.stateReported)
  async receive(@Ctx() context: unknown): Promise<void> {
    const message = readDeviceMessage(context, 'stateReported');
    if (!message) return;
    const receipt = await this.ordered.run(message.sn, () => this.reports.execute(message.sn, message.payload));
    if (receipt.outcome !== 'refused') return;
    this.metrics.refused('stateReported', receipt.detail);
    this.logger.debug(`state report refused (${receipt.reason}): ${receipt.detail}`);
  }
}
