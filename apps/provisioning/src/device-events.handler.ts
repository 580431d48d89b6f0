import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { ConfirmPairing, DeviceOwnership } from '#libs/devices';
import { decodePayload, PairingConfirmPayload, ResetPayload, topicPatterns, topics, type PairingResultPayload } from '#libs/mqtt-contract';
import { MqttLink, readDeviceMessage, ServiceMetrics } from '#libs/platform';

/**
 * Provisioning's device-message edge: pairing confirmations and factory
 * resets from appliances (QoS 1, persistent session; the acknowledgement
 * waits for the returned promise, so a message whose commit failed is
 * delivered again). Messages of one appliance are handled one after another,
 * in arrival order, so a late reset and a new confirmation cannot overtake
 * each other.
 */
@Controller()
export class DeviceEventsHandler {
  private readonly logger = new Logger('DeviceEvents');
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly confirm: ConfirmPairing,
    private readonly ownership: DeviceOwnership,
    private readonly mqtt: MqttLink,
    private readonly metrics: ServiceMetrics,
  ) {}

  @EventPattern(topicPatterns.pairingConfirm)
  async confirmPairing(@Ctx() context: unknown): Promise<void> {
    const message = readDeviceMessage(context, 'pairingConfirm');
    if (!message) return;
    await this.inOrder(message.sn, async () => {
      const decoded = decodePayload(PairingConfirmPayload, message.payload);
      if (!decoded.ok) this.metrics.refused('pairingConfirm', decoded.reason);
      // A malformed confirmation is a wrong token: it must not let an attacker probe for free.
      const outcome = await this.confirm.execute(message.sn, decoded.ok ? decoded.value.token : '');
      const result: PairingResultPayload = { pairingId: outcome.pairingId ?? 'none', status: outcome.status };
      await this.mqtt.publish(topics.pairingResult(message.sn), result, 1);
    });
  }

  @EventPattern(topicPatterns.reset)
  async factoryReset(@Ctx() context: unknown): Promise<void> {
    const message = readDeviceMessage(context, 'reset');
    if (!message) return;
    const decoded = decodePayload(ResetPayload, message.payload);
    if (!decoded.ok) {
      this.metrics.refused('reset', decoded.reason);
      this.logger.warn(`reset ignored: ${decoded.reason}`);
      return;
    }
    await this.inOrder(message.sn, () => this.ownership.releaseAfterFactoryReset(message.sn));
  }

  private inOrder<T>(sn: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(sn) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(sn, tail);
    void tail.then(() => {
      if (this.queues.get(sn) === tail) this.queues.delete(sn);
    });
    return next;
  }
}
