import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, type MqttContext } from '@nestjs/microservices';
import { RecordProgress, SettleOnStatus } from '#libs/firmware';
import { OrderedByKey } from '#libs/platform';
import {
  decodePayload,
  OtaProgressPayload,
  parseDeviceTopic,
  StatusPayload,
  topicPatterns,
  type DeviceTopicKind,
} from '#libs/mqtt-contract';

/**
 * Firmware messages from appliances (QoS 1; the PUBACK waits for the commit):
 * progress on `ota/progress`, and the retained `status`, where the registry's
 * firmware follows what a device reports and a job succeeds only when the
 * restarted device reports its target version. Messages of one device are
 * handled one after another in arrival order (progress 0 then 100 must not
 * land as 100 then 0); jobs also only move forward.
 */
@Controller()
export class FirmwareEventsHandler {
  private readonly logger = new Logger('FirmwareEvents');
  private readonly ordered = new OrderedByKey();

  constructor(
    private readonly recordProgress: RecordProgress,
    private readonly settleOnStatus: SettleOnStatus,
  ) {}

  @EventPattern(topicPatterns.otaProgress)
  async progress(@Ctx() context: unknown): Promise<void> {
    const message = this.read(context as MqttContext, 'otaProgress');
    if (!message) return;
    const decoded = decodePayload(OtaProgressPayload, message.payload);
    if (!decoded.ok) {
      this.logger.warn(`firmware progress ignored: ${decoded.reason}`);
      return;
    }
    await this.ordered.run(message.sn, () => this.recordProgress.execute(message.sn, decoded.value));
  }

  /** The broker's own `{online:false}` on a drop, and a cleared retained status, carry no firmware and change nothing. */
  @EventPattern(topicPatterns.status)
  async status(@Ctx() context: unknown): Promise<void> {
    const message = this.read(context as MqttContext, 'status');
    if (!message || message.payload.length === 0) return;
    const decoded = decodePayload(StatusPayload, message.payload);
    if (!decoded.ok) {
      this.logger.warn(`status ignored: ${decoded.reason}`);
      return;
    }
    await this.ordered.run(message.sn, () => this.settleOnStatus.execute(message.sn, decoded.value));
  }

  private read(context: MqttContext, kind: DeviceTopicKind): { sn: string; payload: Buffer } | undefined {
    const parsed = parseDeviceTopic(context.getTopic());
    if (!parsed || parsed.kind !== kind) return undefined;
    const packet = context.getPacket() as { payload?: Buffer | string };
    return { sn: parsed.sn, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload ?? '') };
  }
}
