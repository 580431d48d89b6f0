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
import { BATCH_HEADER, decodeBatch, type BatchedMessage } from './device-batch.js';
import { CONSUMER_GROUPS, EventBusTopology, FAILURE_HEADER, TOPIC_HEADER } from './topology.js';

export interface RabbitMqServerOptions {
  config: EventBusConfig;
  /** The consumer group: which service this is (a key of CONSUMER_GROUPS). */
  group: string;
  log: Logger;
  /** How long a stopping replica lets messages in work finish before it lets go of them. */
  drainMs?: number;
  /** How often the replica compares the partitions it works on with its share (REBALANCE_EVERY_MS). */
  rebalanceEveryMs?: number;
  /** How long a partition stays with this replica before it may be handed on (SETTLED_MS). */
  settledMs?: number;
}

/** What a handler failure may say in a log line or a dead letter: redacted, one line, short. */
function failureReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactText(text.split('\n')[0] ?? '').slice(0, 200) || 'handler failed';
}

/** How often a replica compares the partitions it works on with its share. */
const REBALANCE_EVERY_MS = 2000;
/** A partition that delivered within this long counts as one this replica works on. */
const ACTIVE_WINDOW_MS = 5000;
/** A partition is given up only after this long with this replica: no partition goes back and forth. */
const SETTLED_MS = 10_000;
/** Header of a device message taken out of a batch and queued again alone: the deliveries it had in the batch. */
const PRIOR_DELIVERIES_HEADER = 'x-prior-deliveries';

/** How one device message of a batch went. */
type ItemOutcome = { handled: true } | { kind: DeviceTopicKind | 'other'; reason: string; why: 'unreadable' | 'failed' };

/**
 * One partition queue as this replica consumes it, on a channel of its own:
 * closing that channel hands the partition on together with every message it
 * holds, in one step (see `release`).
 */
interface Partition {
  readonly index: number;
  readonly queue: string;
  channel?: ConfirmChannel;
  /** Handlers running, dead letters being written: the partition's messages this replica still owes an answer. */
  readonly inWork: Set<Promise<unknown>>;
  /** While it is being handed on: deliveries are held, never started, so none overlaps the next replica's. */
  held?: ConsumeMessage[];
  lastDelivery: number;
  activeSince: number;
}

/**
 * The services' side of RabbitMQ, as a Nest transport: consumes every
 * partition of its group (single active consumer: RabbitMQ gives each
 * partition to one live replica and moves it when that one dies) and hands
 * each message to the @EventPattern(topicPatterns.X) handler of its kind, in
 * an MqttContext holding the topic and the payload, so readDeviceMessage
 * works as over MQTT.
 *
 * Handlers start in delivery order, and a partition holds many messages in
 * work at once (prefetch), so batching handlers batch and per-device order
 * is kept by the handlers' own per-SN queues (one partition, one consumer).
 * A message is acknowledged once its handler resolved (its commit). A failed
 * one goes back to the queue; after `deliveryLimit` attempts it is
 * dead-lettered with the reason, counted and logged, and the partition moves on.
 *
 * Sharing: RabbitMQ 3.10 gives a partition to its first consumer and moves it
 * only when that one goes, so a replica started later would get nothing. So
 * every replica also counts the group's replicas (the replicas queue) and,
 * working on more than its share of partitions, hands one on at a time: it
 * stops starting that partition's deliveries, lets the ones in work commit
 * and be acknowledged, then closes the partition's channel, which returns
 * what it held to the head of the queue and activates the next waiting
 * replica in one step; then it subscribes again, at the back. A device's
 * messages are never in two replicas' hands at once. A stopping replica lets
 * go of everything the same way.
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
  /** The partitions of the current connection (a new connection starts a new set). */
  private partitions: Partition[] = [];
  private openChannel?: () => Promise<ConfirmChannel>;
  private rebalancer?: NodeJS.Timeout;
  private rebalancing = false;
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
      setup: (channel, openChannel) => this.consume(channel, openChannel),
    });
  }

  /** Up while this replica is connected and consuming (it may be standby for some partitions: that is healthy). */
  get health(): HealthCheck {
    return { name: 'eventBus', isUp: async () => this.connection.ready };
  }

  /** Partitions this replica worked on in the last few seconds (the others are another replica's, or quiet). */
  get activePartitions(): number {
    const now = Date.now();
    return this.partitions.filter((partition) => isActive(partition, now)).length;
  }

  listen(callback: (error?: unknown) => void): void {
    this.connection.start().then(
      () => {
        this.rebalancer = setInterval(() => void this.rebalance(), this.options.rebalanceEveryMs ?? REBALANCE_EVERY_MS);
        this.rebalancer.unref();
        callback();
      },
      (error: unknown) => callback(new Error(`event bus (EVENT_BUS_URL) not reachable: ${failureReason(error)}`)),
    );
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.rebalancer);
    // Start nothing more, let what is in work commit and be acknowledged, then close each partition's channel:
    // a handshake, so RabbitMQ has taken the acknowledgements before it hands the rest on (a connection closed
    // at once lost a few, and the next replica handled those messages again).
    const partitions = this.partitions;
    for (const partition of partitions) partition.held ??= [];
    const drained = Promise.allSettled(partitions.flatMap((partition) => [...partition.inWork]));
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, this.options.drainMs ?? 5000).unref())]);
    for (const partition of partitions) await partition.channel?.close().catch(() => undefined);
    await this.connection.close();
  }

  on(): never {
    throw new Error('RabbitMqServer has no events to listen to');
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private async consume(channel: ConfirmChannel, openChannel: () => Promise<ConfirmChannel>): Promise<void> {
    await this.topology.declare(channel);
    // Counted among the group's replicas while this connection lives.
    await channel.consume(this.topology.replicasQueue(this.options.group), () => undefined, { noAck: true });
    const partitions: Partition[] = Array.from({ length: this.topology.partitions }, (_, index) => ({
      index,
      queue: this.topology.queue(this.options.group, index),
      inWork: new Set<Promise<unknown>>(),
      lastDelivery: 0,
      activeSince: 0,
    }));
    this.partitions = partitions;
    this.openChannel = openChannel;
    // From a random partition on: replicas that start together each come first on about their share of the queues.
    const first = Math.floor(Math.random() * partitions.length);
    for (let step = 0; step < partitions.length; step += 1) await this.subscribe(partitions[(first + step) % partitions.length]);
  }

  /** Consumes the partition on a new channel of its own: active at once if no other replica is, else next in line. */
  private async subscribe(partition: Partition): Promise<void> {
    const channel = await this.openChannel!();
    await channel.prefetch(this.options.config.prefetch, false);
    channel.on('close', () => {
      // Closed by RabbitMQ (a channel error) while the connection lives: consume again on a new one. A lost
      // connection closes every channel too; then those attempts fail and the reconnect starts a new set.
      if (partition.channel !== channel || this.stopping || !this.partitions.includes(partition)) return;
      partition.channel = undefined;
      // What it held went back to the queue with it (a hand-over in progress gives up).
      partition.held = undefined;
      void this.subscribe(partition).catch(() => undefined);
    });
    partition.channel = channel;
    await channel.consume(partition.queue, (message) => this.receive(partition, channel, message), { noAck: false });
  }

  private receive(partition: Partition, channel: ConfirmChannel, message: ConsumeMessage | null): void {
    if (!message) {
      // RabbitMQ cancelled the consumer (its queue was deleted): start over, which declares the queues again.
      if (!this.stopping) void this.connection.channel?.close().catch(() => undefined);
      return;
    }
    const now = Date.now();
    if (now - partition.lastDelivery >= ACTIVE_WINDOW_MS) partition.activeSince = now;
    partition.lastDelivery = now;
    if (partition.held) {
      partition.held.push(message);
      return;
    }
    this.start(partition, channel, message);
  }

  private start(partition: Partition, channel: ConfirmChannel, message: ConsumeMessage): void {
    const batched = message.properties.headers?.[BATCH_HEADER];
    if (batched !== undefined) return this.startBatch(partition, channel, message, Number(batched));
    const topic = message.properties.headers?.[TOPIC_HEADER];
    const route = this.route(topic);
    if ('reason' in route) return this.deadLetter(partition, channel, message, route.kind, route.reason);
    const work = this.dispatch(route.handler, topic as string, message.content);
    this.track(
      partition,
      work.then(
        () => {
          this.onSettled?.(topic as string, 'handled');
          this.settle(partition, channel, () => channel.ack(message));
        },
        (error: unknown) => {
          this.onSettled?.(topic as string, 'failed');
          this.retryOrDeadLetter(partition, channel, message, route.kind, error);
        },
      ),
    );
  }

  /** The handler of a device message's topic, or why there is none (then the message is dead-lettered as unreadable). */
  private route(topic: unknown): { kind: DeviceTopicKind; handler: MessageHandler } | { kind: DeviceTopicKind | 'other'; reason: string } {
    const parsed = typeof topic === 'string' ? parseDeviceTopic(topic) : undefined;
    if (!parsed) return { kind: 'other', reason: 'not a device message' };
    if (!this.kinds.has(parsed.kind)) return { kind: parsed.kind, reason: `${parsed.kind} is not consumed here` };
    const handler = this.messageHandlers.get(topicPatterns[parsed.kind]);
    if (!handler) return { kind: parsed.kind, reason: `no handler for ${parsed.kind}` };
    return { kind: parsed.kind, handler };
  }

  /**
   * A batch (device-batch.ts): its messages go to their handlers in order,
   * and the batch is acknowledged once each is answered. One that failed is
   * queued again alone at the end of the partition, after the same pause as a
   * single message, with the deliveries it had (PRIOR_DELIVERIES_HEADER), or
   * dead-lettered at the limit; one that cannot be handled is dead-lettered.
   * Only when those are confirmed is the batch acknowledged; else it comes
   * back whole, and the handlers see its other messages again (as after a
   * crash: they take a message twice as once).
   */
  private startBatch(partition: Partition, channel: ConfirmChannel, message: ConsumeMessage, count: number): void {
    const items = Number.isInteger(count) && count > 0 ? decodeBatch(message.content, count) : null;
    if (!items) return this.deadLetter(partition, channel, message, 'other', 'unreadable batch of device messages');
    const deliveries = deliveriesOf(message);
    const outcomes = items.map((item) => this.handleItem(item));
    this.track(
      partition,
      Promise.all(outcomes).then(async (results) => {
        const onward = results.flatMap((result, index) =>
          'handled' in result ? [] : [this.forwardItem(partition, channel, items[index], result, deliveries, message.fields.routingKey)],
        );
        const sent = await Promise.allSettled(onward);
        const allSent = sent.every((outcome) => outcome.status === 'fulfilled');
        this.settle(partition, channel, () => (allSent ? channel.ack(message) : channel.nack(message, false, true)));
      }),
    );
  }

  private handleItem(item: BatchedMessage): Promise<ItemOutcome> {
    const route = this.route(item.topic);
    if ('reason' in route) return Promise.resolve({ ...route, why: 'unreadable' });
    return this.dispatch(route.handler, item.topic, item.payload).then(
      () => {
        this.onSettled?.(item.topic, 'handled');
        return { handled: true };
      },
      (error: unknown) => {
        this.onSettled?.(item.topic, 'failed');
        return { kind: route.kind, reason: failureReason(error), why: 'failed' };
      },
    );
  }

  /** A batch's message that was not handled: dead-lettered, or (failed, under the limit) queued again alone. */
  private async forwardItem(
    partition: Partition,
    channel: ConfirmChannel,
    item: BatchedMessage,
    outcome: Exclude<ItemOutcome, { handled: true }>,
    deliveries: number,
    routingKey: string,
  ): Promise<void> {
    const { kind, reason, why } = outcome;
    if (why === 'unreadable' || deliveries >= this.options.config.deliveryLimit) {
      const headers = { [TOPIC_HEADER]: item.topic, [FAILURE_HEADER]: reason, 'x-original-routing-key': routingKey };
      return this.writeDeadLetter(channel, { content: item.payload, headers, messageId: undefined }, { kind, reason, why });
    }
    this.options.log.warn({ kind, delivery: deliveries, reason }, 'device message failed; delivered again shortly');
    await new Promise((resolve) => setTimeout(resolve, retryPauseMs(deliveries)).unref());
    await new Promise<void>((resolve, reject) => {
      const headers = { [TOPIC_HEADER]: item.topic, [PRIOR_DELIVERIES_HEADER]: deliveries };
      channel.sendToQueue(partition.queue, item.payload, { persistent: true, headers }, (error: unknown) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  private track(partition: Partition, work: Promise<unknown>): void {
    partition.inWork.add(work);
    void work.finally(() => partition.inWork.delete(work));
  }

  /**
   * Hands a partition on when this replica works on more than its share (the
   * partitions over the live replicas, rounded up): the one with the fewest
   * messages in work. One at a time, each only after SETTLED_MS with this replica.
   */
  private async rebalance(): Promise<void> {
    const channel = this.connection.channel;
    if (!channel || this.stopping || this.rebalancing) return;
    this.rebalancing = true;
    try {
      const { consumerCount: replicas } = await channel.checkQueue(this.topology.replicasQueue(this.options.group));
      if (replicas < 2) return;
      const now = Date.now();
      const active = this.partitions.filter((partition) => isActive(partition, now));
      if (active.length <= Math.ceil(this.partitions.length / replicas)) return;
      const candidate = active
        .filter((partition) => now - partition.activeSince >= (this.options.settledMs ?? SETTLED_MS))
        .sort((a, b) => a.inWork.size - b.inWork.size)[0];
      if (candidate) await this.release(candidate);
    } catch (error) {
      this.options.log.debug({ reason: failureReason(error) }, 'event bus rebalance skipped');
    } finally {
      this.rebalancing = false;
    }
  }

  /**
   * Gives a partition to the next replica in line: deliveries are held from
   * now on; once the ones in work are answered, the channel closes, which
   * returns the held ones (first in line for the next replica) and activates
   * it. If the ones in work do not finish within drainMs (the database is
   * away), nothing is handed on and the held deliveries start here after all.
   */
  private async release(partition: Partition): Promise<void> {
    const channel = partition.channel;
    if (!channel || partition.held) return;
    const held: ConsumeMessage[] = [];
    partition.held = held;
    const drained = await Promise.race([
      Promise.allSettled([...partition.inWork]).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), this.options.drainMs ?? 5000).unref()),
    ]);
    // Stopping: close() lets go of everything. The channel gone meanwhile: what it held went back with it.
    if (this.stopping || partition.channel !== channel) return;
    if (!drained) {
      partition.held = undefined;
      for (const message of held) this.start(partition, channel, message);
      return;
    }
    partition.channel = undefined;
    await channel.close().catch(() => undefined);
    partition.held = undefined;
    partition.lastDelivery = 0;
    partition.activeSince = 0;
    this.options.log.info({ partition: partition.index, returned: held.length }, 'event bus partition handed on to another replica');
    if (!this.stopping && this.partitions.includes(partition)) await this.subscribe(partition);
  }

  /** Acknowledges on the channel the message came on, if it is still open; else RabbitMQ delivers it again. */
  private settle(partition: Partition, channel: ConfirmChannel, act: () => void): void {
    if (partition.channel !== channel) return;
    try {
      act();
    } catch {
      // closed meanwhile: the message is redelivered
    }
  }

  private retryOrDeadLetter(
    partition: Partition,
    channel: ConfirmChannel,
    message: ConsumeMessage,
    kind: DeviceTopicKind,
    error: unknown,
  ): void {
    const reason = failureReason(error);
    const deliveries = deliveriesOf(message);
    if (deliveries >= this.options.config.deliveryLimit) return this.deadLetter(partition, channel, message, kind, reason, 'failed');
    this.options.log.warn({ kind, delivery: deliveries, reason }, 'device message failed; delivered again shortly');
    setTimeout(() => this.settle(partition, channel, () => channel.nack(message, false, true)), retryPauseMs(deliveries)).unref();
  }

  /** Moves the message to the group's dead-letter queue with the reason, then lets its partition go on. */
  private deadLetter(
    partition: Partition,
    channel: ConfirmChannel,
    message: ConsumeMessage,
    kind: DeviceTopicKind | 'other',
    reason: string,
    why: 'unreadable' | 'failed' = 'unreadable',
  ): void {
    const headers = { ...message.properties.headers, [FAILURE_HEADER]: reason, 'x-original-routing-key': message.fields.routingKey };
    const letter = { content: message.content, headers, messageId: message.properties.messageId as string | undefined };
    const written = this.writeDeadLetter(channel, letter, { kind, reason, why }).then(
      () => this.settle(partition, channel, () => channel.ack(message)),
      () => this.settle(partition, channel, () => channel.nack(message, false, true)),
    );
    this.track(partition, written);
  }

  /** Puts a message in the group's dead-letter queue; once RabbitMQ confirmed it, logs and counts it and resolves. */
  private writeDeadLetter(
    channel: ConfirmChannel,
    letter: { content: Buffer; headers: Record<string, unknown>; messageId: string | undefined },
    outcome: { kind: DeviceTopicKind | 'other'; reason: string; why: 'unreadable' | 'failed' },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      try {
        channel.publish(
          this.topology.deadLetterExchange,
          this.options.group,
          letter.content,
          { persistent: true, headers: letter.headers, messageId: letter.messageId },
          (error: unknown) => {
            if (error) return reject(error);
            this.options.log.warn({ kind: outcome.kind, reason: outcome.reason }, 'device message dead-lettered');
            this.onDeadLettered?.(outcome.kind, outcome.why);
            resolve();
          },
        );
      } catch (error) {
        // The channel closed: the message is delivered again on the next one.
        reject(error);
      }
    });
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

/** The deliveries a message has had, this one included: RabbitMQ's count, plus those it had in a batch before it was queued alone. */
function deliveriesOf(message: ConsumeMessage): number {
  const headers = message.properties.headers;
  return Number(headers?.['x-delivery-count'] ?? 0) + 1 + Number(headers?.[PRIOR_DELIVERIES_HEADER] ?? 0);
}

/** A short pause before a failed message is tried again, so a failure that passes (a lock, a restart) is not retried in a tight loop. */
function retryPauseMs(deliveries: number): number {
  return Math.min(200 * deliveries, 2000);
}

function isActive(partition: Partition, now: number): boolean {
  return partition.channel !== undefined && !partition.held && now - partition.lastDelivery < ACTIVE_WINDOW_MS;
}
