import { randomBytes } from 'node:crypto';
import type { Message } from 'amqplib';
import type { Logger } from 'pino';
import type { EventBusConfig } from '#libs/config';
import type { DeviceTopicKind } from '#libs/mqtt-contract';
import { BusConnection } from './bus-connection.js';
import type { DeviceMessageSink, OutgoingDeviceMessage } from './device-message-sink.js';
import { BATCH_HEADER, encodeBatch } from './device-batch.js';
import { EventBusTopology, TOPIC_HEADER } from './topology.js';

/** A confirm that takes longer means a link that is gone without saying so; the device sends the message again. */
const CONFIRM_TIMEOUT_MS = 10_000;
/** Device messages in one RabbitMQ message at most. */
const BATCH_MAX = 64;

export class EventBusUnavailableError extends Error {
  override name = 'EventBusUnavailableError';
}

interface Waiting {
  message: OutgoingDeviceMessage;
  partition: number;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The broker's side of RabbitMQ: each device message a service consumes is
 * published to its partition (by SN) with publisher confirms, and `put`
 * resolves only once RabbitMQ has confirmed it (so it is in the quorum
 * queue's log). The messages of one partition that arrive in one turn of the
 * event loop go as one RabbitMQ message (device-batch.ts, up to BATCH_MAX),
 * in arrival order; one alone goes as itself. Unroutable (no queue bound),
 * nacked, or no connection: `put` rejects, the broker refuses the publish
 * and the device sends it again.
 */
export class RabbitMqSink implements DeviceMessageSink {
  private readonly topology: EventBusTopology;
  private readonly connection: BusConnection;
  /** Message ids RabbitMQ returned as unroutable; the confirm that follows then rejects. */
  private readonly returned = new Set<string>();
  private readonly idPrefix = randomBytes(6).toString('hex');
  private sequence = 0;
  /** This turn's messages, by the batch routing key of their partition. */
  private pending = new Map<string, Waiting[]>();
  private flushing = false;

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
    if (!this.connection.channel) return Promise.reject(new EventBusUnavailableError('event bus not connected'));
    const group = this.topology.groupOf(message.kind);
    if (!group) return Promise.reject(new EventBusUnavailableError(`no queue is bound for ${message.kind}`));
    const partition = this.topology.partitionOf(message.sn);
    const key = this.topology.batchRoutingKey(group, partition);
    return new Promise<void>((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ message, partition, resolve, reject });
      else this.pending.set(key, [{ message, partition, resolve, reject }]);
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** Publishes this turn's messages, a RabbitMQ message per partition and BATCH_MAX. */
  private flush(): void {
    this.flushing = false;
    const pending = this.pending;
    this.pending = new Map();
    for (const [key, waiting] of pending) {
      for (let start = 0; start < waiting.length; start += BATCH_MAX) this.publish(key, waiting.slice(start, start + BATCH_MAX));
    }
  }

  private publish(batchKey: string, waiting: Waiting[]): void {
    const fail = (error: Error) => waiting.forEach((entry) => entry.reject(error));
    const channel = this.connection.channel;
    if (!channel) return fail(new EventBusUnavailableError('event bus not connected'));
    const messageId = `${this.idPrefix}-${(this.sequence += 1)}`;
    const timer = setTimeout(() => fail(new EventBusUnavailableError('event bus confirm timed out')), CONFIRM_TIMEOUT_MS);
    const confirmed = (error: unknown) => {
      clearTimeout(timer);
      const wasReturned = this.returned.delete(messageId);
      if (error) fail(new EventBusUnavailableError('event bus did not confirm the message'));
      else if (wasReturned) fail(new EventBusUnavailableError(`no queue is bound for ${waiting[0].message.kind}`));
      else waiting.forEach((entry) => entry.resolve());
    };
    const options = { persistent: true, mandatory: true, messageId, timestamp: Date.now() };
    try {
      if (waiting.length === 1) {
        const { message, partition } = waiting[0];
        const key = this.topology.kindRoutingKey(message.kind, partition);
        channel.publish(
          this.topology.exchange,
          key,
          message.payload,
          { ...options, headers: { [TOPIC_HEADER]: message.topic } },
          confirmed,
        );
      } else {
        const body = encodeBatch(waiting.map(({ message }) => message));
        channel.publish(this.topology.exchange, batchKey, body, { ...options, headers: { [BATCH_HEADER]: waiting.length } }, confirmed);
      }
    } catch (error) {
      clearTimeout(timer);
      // The channel closed under us: amqplib throws synchronously.
      fail(new EventBusUnavailableError(error instanceof Error ? error.message : String(error)));
    }
  }
}
