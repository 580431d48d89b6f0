import { randomBytes } from 'node:crypto';
import { MqttContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { finalize, isObservable, lastValueFrom } from 'rxjs';
import type { EventBusConfig } from '#libs/config';
import { parseDeviceTopic, topicPatterns, type DeviceTopicKind } from '#libs/mqtt-contract';
import type { HealthCheck } from '../health.js';
import { redactText } from '../redact.js';
import { BusConnection } from './bus-connection.js';
import { CONSUMER_GROUPS, EventBusTopology, FAILURE_HEADER, TOPIC_HEADER } from './topology.js';

export interface RabbitMqServerOptions {
  config: EventBusConfig;
  /** The consumer group: which service this is (a key of CONSUMER_GROUPS). */
  group: string;
  log: Logger;
  /** How long a stopping replica lets messages in work finish before it lets go of them. */
  drainMs?: number;
}

/** What a handler failure may say in a log line or a dead letter: redacted, one line, short. */
function failureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactText(text.split('\n')[0] ?? '').slice(0, 200) || 'handler failed';
}

/**
 * The services' side of RabbitMQ, as a Nest transport: consumes every
 * partition of its group (single active consumer: RabbitMQ gives each
 * partition to one live replica) and hands each message to the
 * @EventPattern(topicPatterns.X) handler of its kind, in an MqttContext
 * holding the topic and the payload, so readDeviceMessage works as over MQTT.
 *
 * Handlers start in delivery order, and a partition holds many messages in
 * work at once (prefetch), so batching handlers batch and per-device order
 * is kept by the handlers' own per-SN queues (one partition, one consumer).
 * A message is acknowledged once its handler resolved (its commit). A failed
 * one goes back to the queue; after `deliveryLimit` attempts it is
 * dead-lettered with the reason, counted and logged, and the partition moves on.
 */
export class RabbitMqServer extends Server implements CustomTransportStrategy {
  override readonly propagatesEventHandlerErrors = true;
  /** Told of every message once its handler is done (metrics). */
  onSettled?: (topic: string, outcome: 'handled' | 'failed') => void;
  /** Told of every message put in the dead-letter queue. */
  onDeadLettered?: (kind: DeviceTopicKind | 'other', why: 'unreadable' | 'failed') => void;
  private readonly topology: EventBusTopology;
  private readonly kinds: ReadonlySet<DeviceTopicKind>;
  private readonly connection: BusConnection;
  private readonly inWork = new Set<Promise<unknown>>();
  private readonly consumerTags: string[] = [];
  private stopping = false;

  constructor(private readonly options: RabbitMqServerOptions) {
    super();
    const kinds = CONSUMER_GROUPS[options.group];
    if (!kinds) throw new Error(`no event bus consumer group named ${options.group}`);
    this.kinds = new Set(kinds);
    this.topology = new EventBusTopology(options.config);
    this.connection = new BusConnection({
      url: options.config.url,
      name: `${options.group}-${randomBytes(4).toString('hex')}`,
      log: options.log,
      setup: (channel) => this.consume(channel),
    });
  }

  /** Up while this replica is connected and consuming (it may be standby for some partitions: that is healthy). */
  get health(): HealthCheck {
    return { name: 'eventBus', isUp: async () => this.connection.ready };
  }

  listen(callback: (error?: unknown) => void): void {
    this.connection.start().then(
      () => callback(),
      (error: unknown) => callback(new Error(`event bus (EVENT_BUS_URL) not reachable: ${failureReason(error)}`)),
    );
  }

  async close(): Promise<void> {
    this.stopping = true;
    const channel = this.connection.channel;
    // Take no more, let what is in work commit and be acknowledged, then let go.
    if (channel) for (const tag of this.consumerTags.splice(0)) await channel.cancel(tag).catch(() => undefined);
    const drained = Promise.allSettled([...this.inWork]);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, this.options.drainMs ?? 5000).unref())]);
    await this.connection.close();
  }

  on(): never {
    throw new Error('RabbitMqServer has no events to listen to');
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private async consume(channel: ConfirmChannel): Promise<void> {
    await this.topology.declare(channel);
    await channel.prefetch(this.options.config.prefetch, false);
    this.consumerTags.length = 0;
    // From a random partition on: replicas that start together each come first on about their share of the queues.
    const first = Math.floor(Math.random() * this.topology.partitions);
    for (let step = 0; step < this.topology.partitions; step += 1) {
      const partition = (first + step) % this.topology.partitions;
      const queue = this.topology.queue(this.options.group, partition);
      const { consumerTag } = await channel.consume(queue, (message) => this.receive(channel, message), { noAck: false });
      this.consumerTags.push(consumerTag);
    }
  }

  private receive(channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (!message) {
      // RabbitMQ cancelled the consumer (its queue was deleted): start over, which declares the queues again.
      if (!this.stopping) void channel.close().catch(() => undefined);
      return;
    }
    const topic = message.properties.headers?.[TOPIC_HEADER];
    const parsed = typeof topic === 'string' ? parseDeviceTopic(topic) : undefined;
    if (!parsed) return this.deadLetter(channel, message, 'other', 'not a device message');
    if (!this.kinds.has(parsed.kind)) return this.deadLetter(channel, message, parsed.kind, `${parsed.kind} is not consumed here`);
    const handler = this.messageHandlers.get(topicPatterns[parsed.kind]);
    if (!handler) return this.deadLetter(channel, message, parsed.kind, `no handler for ${parsed.kind}`);
    const work = this.dispatch(handler, topic as string, message.content);
    this.inWork.add(work);
    work.then(
      () => {
        this.inWork.delete(work);
        this.onSettled?.(topic as string, 'handled');
        this.settle(channel, () => channel.ack(message));
      },
      (error: unknown) => {
        this.inWork.delete(work);
        this.onSettled?.(topic as string, 'failed');
        this.retryOrDeadLetter(channel, message, parsed.kind, error);
      },
    );
  }

  /** Acknowledges on the channel the message came on, if it is still open; else RabbitMQ delivers it again. */
  private settle(channel: ConfirmChannel, act: () => void): void {
    if (this.connection.channel !== channel) return;
    try {
      act();
    } catch {
      // closed meanwhile: the message is redelivered
    }
  }

  private retryOrDeadLetter(channel: ConfirmChannel, message: ConsumeMessage, kind: DeviceTopicKind, error: unknown): void {
    const reason = failureReason(error);
    const deliveries = Number(message.properties.headers?.['x-delivery-count'] ?? 0) + 1;
    if (deliveries >= this.options.config.deliveryLimit) return this.deadLetter(channel, message, kind, reason, 'failed');
    this.options.log.warn({ kind, delivery: deliveries, reason }, 'device message failed; delivered again shortly');
    // A short pause, so a failure that passes (a lock, a restart) is not retried in a tight loop.
    setTimeout(() => this.settle(channel, () => channel.nack(message, false, true)), Math.min(200 * deliveries, 2000)).unref();
  }

  /** Moves the message to the group's dead-letter queue with the reason, then lets its partition go on. */
  private deadLetter(
    channel: ConfirmChannel,
    message: ConsumeMessage,
    kind: DeviceTopicKind | 'other',
    reason: string,
    why: 'unreadable' | 'failed' = 'unreadable',
  ): void {
    const headers = { ...message.properties.headers, [FAILURE_HEADER]: reason, 'x-original-routing-key': message.fields.routingKey };
    try {
      channel.publish(
        this.topology.deadLetterExchange,
        this.options.group,
        message.content,
        { persistent: true, headers, messageId: message.properties.messageId as string | undefined },
        (error: unknown) => {
          if (error) return this.settle(channel, () => channel.nack(message, false, true));
          this.options.log.warn({ kind, reason }, 'device message dead-lettered');
          this.onDeadLettered?.(kind, why);
          this.settle(channel, () => channel.ack(message));
        },
      );
    } catch {
      // The channel closed: the message is delivered again on the next one.
    }
  }

  private dispatch(handler: MessageHandler, topic: string, payload: Buffer): Promise<void> {
    const context = new MqttContext([topic, { cmd: 'publish', topic, payload, qos: 1 } as never]);
    return new Promise<void>((resolve, reject) => {
      // The default start hook returns the promise of the work it runs; the typing says void.
      const processing = this.runWithProcessingHooks(context, async (runEndHook: () => void) => {
        const resultOrStream = await handler(payload, context);
        if (isObservable(resultOrStream)) await lastValueFrom(resultOrStream.pipe(finalize(runEndHook)), { defaultValue: undefined });
        else runEndHook();
      }) as unknown as Promise<void> | undefined;
      Promise.resolve(processing).then(resolve, reject);
    });
  }
}
