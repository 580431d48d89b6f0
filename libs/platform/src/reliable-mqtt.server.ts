import { MqttContext, ServerMqtt } from '@nestjs/microservices';
import type { MqttClient } from 'mqtt';
import { finalize, isObservable, lastValueFrom } from 'rxjs';

type SendPacket = (packet: { cmd: string; messageId?: number }, callback?: () => void, ...rest: unknown[]) => void;
type IncomingPacket = { qos?: number; messageId?: number };

/**
 * Transport.MQTT whose PUBACK waits for the handler. Nest's stock server lets
 * mqtt.js acknowledge a QoS 1 message as soon as it arrives; here the PUBACK
 * is held until the event handler's promise (its database commit) resolves.
 * If the handler fails, the message is never acknowledged, so the broker keeps
 * it in the persistent session and delivers it again after a reconnect.
 *
 * mqtt.js reads packets one at a time and sends the PUBACK on the way; holding
 * that step would make ingestion serial. Instead the read goes on at once and
 * only the PUBACK packet itself is deferred, so many messages can be in work
 * (and batched into one commit) while each is acknowledged after its own.
 */
export class ReliableMqttServer extends ServerMqtt {
  override propagatesEventHandlerErrors = true;
  private readonly inWork = new Map<number, Promise<unknown>>();
  /** Messages whose handler failed; they stay unacknowledged until the broker redelivers them. */
  failedMessages = 0;
  /** Told of every message once its handler is done (metrics). */
  onSettled?: (channel: string, outcome: 'handled' | 'failed') => void;

  /** Connected to a broker node (for /health). */
  get connected(): boolean {
    return this.mqttClient?.connected ?? false;
  }

  override async createMqttClient(): Promise<MqttClient> {
    const client = await super.createMqttClient();
    const internals = client as unknown as { _sendPacket: SendPacket };
    const send = internals._sendPacket.bind(client);
    internals._sendPacket = (packet, callback, ...rest) => {
      const work = packet.cmd === 'puback' && packet.messageId !== undefined ? this.inWork.get(packet.messageId) : undefined;
      if (!work) return send(packet, callback, ...rest);
      this.inWork.delete(packet.messageId!);
      callback?.();
      work.then(
        () => send(packet),
        () => {
          this.failedMessages += 1;
        },
      );
    };
    return client;
  }

  override getMessageHandler(pub: MqttClient) {
    return async (channel: string, buffer: Buffer, originalPacket?: Record<string, unknown>) => {
      const work = this.handleMessage(channel, buffer, pub, originalPacket);
      work.then(
        () => this.onSettled?.(channel, 'handled'),
        () => this.onSettled?.(channel, 'failed'),
      );
      const { qos, messageId } = (originalPacket ?? {}) as IncomingPacket;
      if ((qos ?? 0) > 0 && messageId !== undefined) this.inWork.set(messageId, work);
      await work.catch((error: unknown) => this.handleError(String(error instanceof Error ? (error.stack ?? error.message) : error)));
    };
  }

  /**
   * Every message is an event for the handler of its topic. Nest would take a
   * JSON body with an `id` field for a request and publish a reply to
   * `<topic>/reply`, which no service account may do: the broker would drop
   * the connection and the message would come back forever. Payloads come
   * from devices, so their shape never chooses the path. The payload reaches
   * the handler as the raw bytes (@Payload() is a Buffer): handlers decode it
   * with mqtt-contract's decodePayload, so it is parsed once, not twice.
   */
  override async handleMessage(
    channel: string,
    buffer: Buffer,
    _pub: MqttClient,
    originalPacket?: Record<string, unknown>,
  ): Promise<unknown> {
    return this.handleEvent(channel, { data: buffer }, new MqttContext([channel, originalPacket as never]));
  }

  /**
   * Nest tries JSON.parse on every topic to support JSON patterns, and a
   * topic is never JSON: one thrown and caught exception per message was the
   * consumer's largest single cost under load (npm run bench, fault-ingestion).
   */
  override getRouteFromPattern(pattern: string): string {
    return pattern.startsWith('{') ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  /** Like Nest's Kafka server: wait for the handler's stream so its failure reaches us. */
  override async handleEvent(pattern: string, packet: { data: unknown }, context: MqttContext): Promise<void> {
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      this.logger.error(`No handler for MQTT topic pattern ${pattern}`);
      return;
    }
    // The default start hook returns the promise of the work it runs; the typing says void.
    const processing = this.runWithProcessingHooks(context, async (runEndHook: () => void) => {
      const resultOrStream = await handler(packet.data, context);
      if (isObservable(resultOrStream)) await lastValueFrom(resultOrStream.pipe(finalize(runEndHook)), { defaultValue: undefined });
      else runEndHook();
    }) as unknown as Promise<void> | undefined;
    await processing;
  }
}
