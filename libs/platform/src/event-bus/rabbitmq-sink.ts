import { randomBytes } from 'node:crypto';
import type { ConfirmChannel, Message } from 'amqplib';
import type { Logger } from 'pino';
import type { EventBusConfig } from '#libs/config';
import type { DeviceTopicKind } from '#libs/mqtt-contract';
import { BusConnection } from './bus-connection.js';
import type { DeviceMessageSink, OutgoingDeviceMessage } from './device-message-sink.js';
import { EventBusTopology, TOPIC_HEADER } from './topology.js';

/** A confirm that takes longer means a link that is gone without saying so; the device sends the message again. */
const CONFIRM_TIMEOUT_MS = 10_000;

export class EventBusUnavailableError extends Error {
  override name = 'EventBusUnavailableError';
}

/**
 * The broker's side of RabbitMQ: each device message a service consumes is
 * published to its partition (by SN) with publisher confirms, and `put`
 * resolves only once RabbitMQ has confirmed it (so it is in the quorum
 * queue's log). Unroutable (no queue bound), nacked, or no connection: `put`
 * rejects, the broker refuses the publish and the device sends it again.
 */
export class RabbitMqSink implements DeviceMessageSink {
  private readonly topology: EventBusTopology;
  private readonly connection: BusConnection;
  /** Message ids RabbitMQ returned as unroutable; the confirm that follows then rejects. */
  private readonly returned = new Set<string>();
  private readonly idPrefix = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(config: EventBusConfig, log: Logger, name = 'broker') {
    this.topology = new EventBusTopology(config);
    this.connection = new BusConnection({
      url: config.url,
      name: `${name}-${this.idPrefix}`,
      log,
      setup: async (channel) => {
        await this.topology.declare(channel);
        channel.on('return', (message: Message) => {
          const id = message.properties.messageId as string | undefined;
          if (id) this.returned.add(id);
        });
      },
    });
  }

  start(): Promise<void> {
    return this.connection.start();
  }

  carries(kind: DeviceTopicKind): boolean {
    return this.topology.carries(kind);
  }

  get ready(): boolean {
    return this.connection.ready;
  }

  put(message: OutgoingDeviceMessage): Promise<void> {
    const channel = this.connection.channel;
    if (!channel) return Promise.reject(new EventBusUnavailableError('event bus not connected'));
    const messageId = `${this.idPrefix}-${(this.sequence += 1)}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new EventBusUnavailableError('event bus confirm timed out')), CONFIRM_TIMEOUT_MS);
      try {
        publish(channel, this.topology, message, messageId, (error) => {
          clearTimeout(timer);
          const wasReturned = this.returned.delete(messageId);
          if (error) reject(new EventBusUnavailableError('event bus did not confirm the message'));
          else if (wasReturned) reject(new EventBusUnavailableError(`no queue is bound for ${message.kind}`));
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        // The channel closed under us: amqplib throws synchronously.
        reject(new EventBusUnavailableError(error instanceof Error ? error.message : String(error)));
      }
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

function publish(
  channel: ConfirmChannel,
  topology: EventBusTopology,
  message: OutgoingDeviceMessage,
  messageId: string,
  confirmed: (error: unknown) => void,
): void {
  channel.publish(
    topology.exchange,
    topology.routingKey(message.kind, message.sn),
    message.payload,
    { persistent: true, mandatory: true, messageId, timestamp: Date.now(), headers: { [TOPIC_HEADER]: message.topic } },
    (error: unknown) => confirmed(error),
  );
}
