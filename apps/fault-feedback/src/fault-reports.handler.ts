import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { FaultIngestion } from '#libs/faults';
import { topicPatterns, topics, type FaultAckPayload } from '#libs/mqtt-contract';
import { MqttLink, readDeviceMessage, ServiceMetrics } from '#libs/platform';

/**
 * devices/+/faults: one report per message, QoS 1. The handler resolves only
 * once the report is committed (or refused), and the consumer sends the
 * PUBACK only then; the device's ack goes out at that point too. While the
 * database is unreachable the handler waits, so nothing unstored is acked.
 */
@Controller()
export class FaultReportsHandler {
  private readonly logger = new Logger('FaultReportsHandler');

  constructor(
    private readonly ingestion: FaultIngestion,
    private readonly mqtt: MqttLink,
    private readonly metrics: ServiceMetrics,
  ) {}

  @EventPattern(topicPatterns.faults)
  async receive(@Ctx() context: unknown): Promise<void> {
    // The raw bytes of the message, never Nest's parse of them.
    const device = readDeviceMessage(context, 'faults');
    if (!device) return;
    const answer = await this.ingestion.receive(device.sn, device.payload);
    if (answer.stored === 'rejected') this.metrics.refused('faults', answer.reason);
    const ack: FaultAckPayload =
      answer.stored === 'rejected'
        ? { reportId: answer.reportId, stored: 'rejected', reason: answer.reason }
        : { reportId: answer.reportId, stored: answer.stored };
    // The device's ack is information, not a condition of storage: it never holds the PUBACK, and it
    // goes at QoS 0. The report itself is safe once the broker acknowledged it (QoS 1 into our
    // persistent session); a device that missed the answer sends the report again and is told
    // `duplicate`. QoS 1 here cost a fifth of the ingestion rate in PUBACK round trips (npm run bench).
    this.mqtt
      .publish(topics.faultsAck(device.sn), ack, 0)
      .catch((error: unknown) => this.logger.warn(`fault ack not sent: ${String(error)}`));
  }
}
