import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { topicPatterns } from '#libs/mqtt-contract';
import { readDeviceMessage, ServiceMetrics } from '#libs/platform';
import { TelemetryIngestion } from '#libs/telemetry';

/**
 * devices/+/telemetry: a batch of readings per message, QoS 0 or 1. The
 * handler resolves only once the readings are committed (or judged and
 * dropped), and the consumer sends the PUBACK only then, as for fault
 * reports; while the database is unreachable it waits, so nothing unstored
 * is acknowledged. Bad input is counted in /metrics (telemetry's own counters
 * and, for a message refused whole, mqtt_messages_refused_total), never thrown.
 */
@Controller()
export class TelemetryHandler {
  private readonly logger = new Logger('TelemetryHandler');

  constructor(
    private readonly ingestion: TelemetryIngestion,
    private readonly metrics: ServiceMetrics,
  ) {}

  @EventPattern(topicPatterns.telemetry)
  async receive(@Ctx() context: unknown): Promise<void> {
    const message = readDeviceMessage(context, 'telemetry');
    if (!message) return;
    const receipt = await this.ingestion.receive(message.sn, message.payload);
    if (receipt.outcome !== 'refused') return;
    this.metrics.refused('telemetry', receipt.reason === 'unknown_device' ? 'unknown device' : receipt.detail);
    this.logger.debug(`telemetry message refused (${receipt.reason}): ${receipt.detail}`);
  }
}
